/**
 * How the controller changes one partition's leadership and in-sync replica
 * set (ISR), after Kafka's KRaft controller (PartitionChangeBuilder):
 *
 * - Election keeps a current leader that is still eligible and in the ISR;
 *   otherwise it takes the first replica, in assignment order, that is in the
 *   ISR and eligible (registered, not fenced, not shutting down). Only when
 *   none is, and the topic allows unclean election, does it take the first
 *   eligible replica outside the ISR, which then becomes the whole ISR. With
 *   no candidate the partition has no leader (-1) until one comes back.
 * - Every change bumps the partition epoch; a change of leader also bumps the
 *   leader epoch, which is what fences the old leader's late requests.
 * - A fenced broker leaves every ISR, except that the ISR never becomes empty:
 *   its last member stays recorded as the one replica known to hold every
 *   committed record, so that clean election can wait for it.
 * - A leader asks to change the ISR with the leader epoch and partition epoch
 *   it knows; stale ones are refused, so two leaders cannot both win.
 *
 * Pure functions over one PartitionState: the controller applies them inside
 * a compare-and-set of the metadata document.
 */
import type { PartitionState } from '../metadata/metadata.ts';
import { WafkaError } from '../errors.ts';

/** -1: the partition has no leader. */
export const NO_LEADER = -1;

export interface ElectionRules {
  /** May this broker lead or join an ISR now? (registered, unfenced, not shutting down) */
  eligible(brokerId: number): boolean;
  /** Topic config `uncleanLeaderElectionEnable`: elect outside the ISR rather than stay leaderless. */
  uncleanLeaderElectionEnable: boolean;
}

export interface Election {
  leader: number;
  /** The leader was taken from outside the ISR: committed records may be lost. */
  unclean: boolean;
}

export const partitionEpochOf = (p: PartitionState): number => p.partitionEpoch ?? 0;

/** The leader `p` should have under `rules`, given its current ISR. */
export function electLeader(p: PartitionState, rules: ElectionRules): Election {
  if (p.leader !== NO_LEADER && p.isr.includes(p.leader) && rules.eligible(p.leader)) return { leader: p.leader, unclean: false };
  for (const replica of p.replicas) if (p.isr.includes(replica) && rules.eligible(replica)) return { leader: replica, unclean: false };
  if (rules.uncleanLeaderElectionEnable) {
    for (const replica of p.replicas) if (rules.eligible(replica)) return { leader: replica, unclean: true };
  }
  return { leader: NO_LEADER, unclean: false };
}

/**
 * `p` with `isr` and then a fresh election applied; epochs bumped as Kafka
 * does. Returns null when nothing would change.
 */
export function changePartition(p: PartitionState, isr: readonly number[], rules: ElectionRules): PartitionState | null {
  const candidate: PartitionState = { ...p, isr: [...isr] };
  const { leader, unclean } = electLeader(candidate, rules);
  if (unclean) candidate.isr = [leader];
  candidate.leader = leader;
  if (leader === p.leader && sameMembers(candidate.isr, p.isr)) return null;
  if (leader !== p.leader) candidate.leaderEpoch = p.leaderEpoch + 1;
  candidate.partitionEpoch = partitionEpochOf(p) + 1;
  return candidate;
}

/**
 * A broker was fenced (its session expired or its lock was freed): it leaves
 * the ISR unless it is the last member, and loses leadership.
 */
export function fenceReplica(p: PartitionState, brokerId: number, rules: ElectionRules): PartitionState | null {
  if (!p.replicas.includes(brokerId)) return null;
  const isr = p.isr.length > 1 ? p.isr.filter((r) => r !== brokerId) : p.isr;
  return changePartition(p, isr, rules);
}

/** A broker is eligible again (registered and unfenced): a leaderless partition it can lead gets it back. */
export function unfenceReplica(p: PartitionState, brokerId: number, rules: ElectionRules): PartitionState | null {
  if (!p.replicas.includes(brokerId) || p.leader !== NO_LEADER) return null;
  return changePartition(p, p.isr, rules);
}

/**
 * A broker shuts down cleanly: leadership moves to another ISR member first,
 * and the broker leaves the ISR if another member remains to lead.
 */
export function shutDownReplica(p: PartitionState, brokerId: number, rules: ElectionRules): PartitionState | null {
  return fenceReplica(p, brokerId, rules);
}

export interface AlterIsrRequest {
  /** The broker asking: it must be the current leader. */
  brokerId: number;
  leaderEpoch: number;
  partitionEpoch: number;
  newIsr: readonly number[];
}

/**
 * A leader's request to shrink or expand the ISR (Kafka's AlterPartition).
 * Refused with a typed error when the leader or its view is stale, or the
 * new ISR is not a valid one; otherwise the new partition state (the leader
 * stays: it is in the new ISR by construction).
 */
export function alterIsr(p: PartitionState, request: AlterIsrRequest, rules: ElectionRules): PartitionState {
  if (request.leaderEpoch < p.leaderEpoch) {
    throw new WafkaError('FENCED_LEADER_EPOCH', `leader epoch ${request.leaderEpoch} < current ${p.leaderEpoch}`);
  }
  if (request.leaderEpoch > p.leaderEpoch) {
    throw new WafkaError('UNKNOWN_LEADER_EPOCH', `leader epoch ${request.leaderEpoch} > current ${p.leaderEpoch}`);
  }
  if (request.brokerId !== p.leader) {
    throw new WafkaError('NOT_LEADER_OR_FOLLOWER', `broker ${request.brokerId} is not the leader (${p.leader})`);
  }
  if (request.partitionEpoch !== partitionEpochOf(p)) {
    throw new WafkaError('INVALID_UPDATE_VERSION', `partition epoch ${request.partitionEpoch} is not the current ${partitionEpochOf(p)}`);
  }
  const isr = [...new Set(request.newIsr)];
  if (isr.length !== request.newIsr.length || !isr.includes(p.leader) || isr.some((r) => !p.replicas.includes(r))) {
    throw new WafkaError('INVALID_REQUEST', `ISR [${request.newIsr}] must hold the leader ${p.leader}, once each, and only replicas [${p.replicas}]`);
  }
  const added = isr.filter((r) => !p.isr.includes(r));
  const ineligible = added.filter((r) => !rules.eligible(r));
  if (ineligible.length > 0) {
    throw new WafkaError('INELIGIBLE_REPLICA', `replicas [${ineligible}] are fenced or shutting down and cannot join the ISR`);
  }
  return changePartition(p, isr, { ...rules, eligible: (r) => r === p.leader || rules.eligible(r) })
    ?? p;
}

function sameMembers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
