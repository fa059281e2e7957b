/**
 * One partition replica hosted by a broker (Kafka's Partition): its log, the
 * assignment this broker last applied (leader, leader epoch, replicas, ISR,
 * partition epoch), and, while this broker leads it, what the leader knows of
 * its followers and the produce requests waiting for them.
 *
 * The high watermark is owned here, not by the storage adapter: a leader
 * moves it to the lowest log end offset of its ISR (with one replica, that is
 * its own log end, as before replication); a follower takes the leader's,
 * capped at its own log end. It never moves back.
 *
 * ISR changes are proposed by the leader (shrink: a follower that stopped
 * catching up; expand: one that caught up) and take effect only once the
 * controller stored them and the broker applied the new metadata. Until then
 * the high watermark is computed over the larger of the two sets, so that a
 * record counts as committed only when every replica that may lead next has
 * it (Kafka's "maximal ISR").
 */
import type { Clock } from '../clock.ts';
import type { PartitionState } from '../metadata/metadata.ts';
import type { ResolvedTopicConfig } from '../metadata/topic-config.ts';
import { WafkaError } from '../errors.ts';
import type { PartitionKey } from './fetch-waiters.ts';
import { FollowerProgress } from './follower-progress.ts';
import { PartitionProducers } from './partition-producers.ts';
import type { PartitionRef, ReplicaLog } from './replica-log.ts';

export type ReplicaRole = 'leader' | 'follower' | 'offline';

export class Partition {
  readonly nodeId: number;
  readonly key: PartitionKey;
  readonly ref: PartitionRef;
  readonly config: ResolvedTopicConfig;
  /** Settles once the log is open (created or recovered). */
  opening!: Promise<ReplicaLog>;
  log: ReplicaLog | null = null;
  /** Appends, truncations and maintenance run one at a time, in arrival order. */
  chain: Promise<unknown> = Promise.resolve();
  /** Bumped on every append: lets a fetch see an append that raced with its read. */
  appendCount = 0;
  /** Idempotent producers' sequences, kept in step with the log. */
  readonly producers = new PartitionProducers();
  closed = false;
  #state: PartitionState;
  /** While leading: the followers' progress; null as a follower. */
  #progress: FollowerProgress | null = null;
  /** The log end offset when this broker became leader: where its leader epoch starts. */
  #leaderEpochStartOffset = 0n;
  /**
   * An ISR change sent to the controller and not yet seen in the metadata. It
   * stays until the metadata shows the outcome (this ISR, or a newer
   * partition epoch) or the controller refuses it outright: an answer that was
   * lost may hide a change the controller did store, and until this leader
   * knows, a replica it may have added must count for the high watermark.
   */
  #proposedIsr: number[] | null = null;
  /** The partition epoch the proposal was made against. */
  #proposedAgainstEpoch = -1;
  #proposalInFlight = false;
  /** Waiting for the next change of this replica's state (applyState) or its close. */
  readonly #stateWaiters = new Set<() => void>();
  #waitsStopped = false;

  constructor(nodeId: number, key: PartitionKey, ref: PartitionRef, config: ResolvedTopicConfig, state: PartitionState) {
    this.nodeId = nodeId;
    this.key = key;
    this.ref = ref;
    this.config = config;
    this.#state = state;
  }

  get state(): Readonly<PartitionState> {
    return this.#state;
  }

  get role(): ReplicaRole {
    if (this.#state.leader === this.nodeId) return 'leader';
    return this.#state.leader >= 0 ? 'follower' : 'offline';
  }

  get leaderEpoch(): number {
    return this.#state.leaderEpoch;
  }

  get replicated(): boolean {
    return this.#state.replicas.length > 1;
  }

  /** The ISR the high watermark is computed over: the stored one, plus members a pending expansion adds. */
  get maximalIsr(): number[] {
    const isr = [...this.#state.isr];
    for (const id of this.#proposedIsr ?? []) if (!isr.includes(id)) isr.push(id);
    return isr;
  }

  get proposedIsr(): readonly number[] | null {
    return this.#proposedIsr;
  }

  get progress(): FollowerProgress | null {
    return this.#progress;
  }

  /**
   * Takes a newer assignment of this partition from the metadata. Returns
   * what changed for this broker: it became leader (of a new leader epoch),
   * became a follower (or leaderless), or kept its role.
   *
   * An assignment older than the one held (a lower leader epoch, or a lower
   * partition epoch in the same leader epoch) is ignored: the controller's
   * answer to an ISR change is applied before the metadata that carries it,
   * so metadata published before that change can still arrive after it, and
   * taking its smaller ISR would let the high watermark pass a replica that
   * the controller may elect next.
   */
  applyState(next: PartitionState, nowMs: number): 'became-leader' | 'became-follower' | 'same-role' {
    if (olderState(next, this.#state)) return 'same-role';
    const wasLeader = this.role === 'leader';
    const epochChanged = next.leaderEpoch !== this.#state.leaderEpoch;
    const left = this.#state.isr.filter((id) => !next.isr.includes(id));
    this.#state = { ...next, replicas: [...next.replicas], isr: [...next.isr] };
    this.#progress?.forgetFetches(left);
    this.#wakeStateWaiters();
    if (this.#proposedIsr && (epochChanged || sameMembers(this.#proposedIsr, next.isr) || (next.partitionEpoch ?? 0) > this.#proposedAgainstEpoch)) {
      this.#proposedIsr = null;
      this.#proposalInFlight = false;
    }
    const isLeader = this.role === 'leader';
    if (isLeader && (!wasLeader || epochChanged || !this.#progress)) {
      this.#becomeLeader(nowMs);
      return 'became-leader';
    }
    if (!isLeader && (wasLeader || epochChanged)) {
      this.#progress = null;
      this.#proposedIsr = null;
      this.#proposalInFlight = false;
      return 'became-follower';
    }
    return 'same-role';
  }

  /** Called once the log is open: a leader starts its term at the log's end. */
  logOpened(nowMs: number): void {
    if (this.role === 'leader') this.#becomeLeader(nowMs);
  }

  #becomeLeader(nowMs: number): void {
    const log = this.log;
    if (!log) return; // logOpened() finishes the job
    this.#leaderEpochStartOffset = log.logEndOffset;
    this.#progress = new FollowerProgress(this.#state.replicas.filter((r) => r !== this.nodeId), log.highWatermark, nowMs);
    this.#proposedIsr = null;
    this.#proposalInFlight = false;
    this.advanceHighWatermark();
  }

  /** Checks that this broker leads the partition in `leaderEpoch` (when given), as a leader-only request needs. */
  checkLeader(leaderEpoch?: number): ReplicaLog {
    this.checkEpoch(leaderEpoch);
    if (this.role !== 'leader' || !this.log || !this.#progress) {
      throw new WafkaError('NOT_LEADER_OR_FOLLOWER', `broker ${this.nodeId} is not the leader of ${this.ref.topic}-${this.ref.partition}: the leader is broker ${this.#state.leader} (leaderEpoch ${this.#state.leaderEpoch})`);
    }
    return this.log;
  }

  /** FENCED_LEADER_EPOCH for a request from an older leader epoch, UNKNOWN_LEADER_EPOCH for one from a newer. */
  checkEpoch(leaderEpoch: number | undefined): void {
    if (leaderEpoch === undefined || leaderEpoch < 0) return;
    if (leaderEpoch < this.#state.leaderEpoch) {
      throw new WafkaError('FENCED_LEADER_EPOCH', `${this.ref.topic}-${this.ref.partition}: leader epoch ${leaderEpoch} is older than ${this.#state.leaderEpoch}`);
    }
    if (leaderEpoch > this.#state.leaderEpoch) {
      throw new WafkaError('UNKNOWN_LEADER_EPOCH', `${this.ref.topic}-${this.ref.partition}: leader epoch ${leaderEpoch} is newer than ${this.#state.leaderEpoch} known to broker ${this.nodeId}`);
    }
  }

  /** Resolves at the next state change (applyState) or stopWaiting(); at the latest after `timeoutMs`. */
  nextStateChange(clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clock.clearTimeout(timer);
        this.#stateWaiters.delete(wake);
        resolve();
      };
      const timer = clock.setTimeout(wake, timeoutMs);
      this.#stateWaiters.add(wake);
    });
  }

  #wakeStateWaiters(): void {
    for (const wake of [...this.#stateWaiters]) wake();
  }

  /** The replica is being closed: nothing waits for its ISR any more. */
  stopWaiting(): void {
    this.#waitsStopped = true;
    this.#wakeStateWaiters();
  }

  get hasEnoughReplicas(): boolean {
    return this.#state.isr.length >= this.config.minInsyncReplicas;
  }

  /**
   * The ISR is short of minInsyncReplicas, yet enough replicas are up (`eligible`)
   * that followers catching up would complete it: the case right after a start,
   * or a follower's restart, where the ISR regrows within a fetch or two.
   */
  isrMayRegrow(eligible: (id: number) => boolean): boolean {
    if (this.#waitsStopped || this.role !== 'leader' || this.hasEnoughReplicas) return false;
    const up = this.#state.replicas.filter((id) => id === this.nodeId || eligible(id)).length;
    return up >= this.config.minInsyncReplicas;
  }

  /** NOT_ENOUGH_REPLICAS before an acks=-1 append when the ISR is smaller than minInsyncReplicas. */
  checkEnoughReplicas(): void {
    const isrSize = this.#state.isr.length;
    if (isrSize < this.config.minInsyncReplicas) {
      throw new WafkaError('NOT_ENOUGH_REPLICAS', `${this.ref.topic}-${this.ref.partition} has ${isrSize} in-sync replicas [${this.#state.isr}], fewer than minInsyncReplicas ${this.config.minInsyncReplicas}`);
    }
  }

  /**
   * A leader's high watermark: the lowest log end offset in the maximal ISR.
   * Returns true when it moved.
   */
  advanceHighWatermark(): boolean {
    const log = this.log;
    if (!log || !this.#progress) return false;
    if (!this.#progress.updateHighWatermark(this.maximalIsr, this.nodeId, log.logEndOffset)) {
      // The log may lag the tracker after a reopen: never leave the log's own mark below it.
      if (log.highWatermark < this.#progress.highWatermark) log.highWatermark = this.#progress.highWatermark;
      return false;
    }
    const moved = this.#progress.highWatermark > log.highWatermark;
    log.highWatermark = this.#progress.highWatermark;
    return moved;
  }

  /** A follower's high watermark: the leader's, capped at its own end; never back. */
  followHighWatermark(leaderHighWatermark: bigint): void {
    const log = this.log;
    if (!log) return;
    const capped = leaderHighWatermark < log.logEndOffset ? leaderHighWatermark : log.logEndOffset;
    if (capped > log.highWatermark) log.highWatermark = capped;
  }

  /**
   * The ISR change this leader should ask for now, if any: drop members that
   * have not caught up within replicaLagTimeMaxMs, add followers that reached
   * the high watermark and this leader epoch's start. Never drops the leader.
   */
  isrChangeToPropose(nowMs: number, replicaLagTimeMaxMs: number, eligible: (id: number) => boolean): number[] | null {
    if (this.role !== 'leader' || !this.#progress || this.#proposalInFlight) return null;
    // A proposal whose outcome is unknown is sent again as it was (the same partition epoch: at most one of them applies).
    if (this.#proposedIsr) return this.#proposedIsr;
    const isr = this.#state.isr;
    const lagging = this.#progress.laggingIsrMembers(isr, this.nodeId, nowMs, replicaLagTimeMaxMs);
    const ready = this.#progress.followersReadyToJoin(isr, this.#leaderEpochStartOffset).filter(eligible);
    if (lagging.length === 0 && ready.length === 0) return null;
    return [...isr.filter((id) => !lagging.includes(id)), ...ready];
  }

  proposeIsr(isr: number[]): void {
    if (!this.#proposedIsr || !sameMembers(this.#proposedIsr, isr)) this.#proposedAgainstEpoch = this.#state.partitionEpoch ?? 0;
    this.#proposedIsr = isr;
    this.#proposalInFlight = true;
  }

  /**
   * The proposal got no answer or an error. Refusals that prove it was not
   * stored (checked against the current partition epoch) drop it; anything
   * else keeps it counted until the metadata tells (see #proposedIsr).
   */
  proposalFailed(errorType: string): void {
    this.#proposalInFlight = false;
    if (['INELIGIBLE_REPLICA', 'INVALID_REQUEST', 'UNKNOWN_TOPIC_OR_PARTITION', 'NOT_LEADER_OR_FOLLOWER'].includes(errorType)) this.#proposedIsr = null;
  }

  /** The controller stored the proposal (its answer is applied as the new state). */
  proposalDone(): void {
    this.#proposalInFlight = false;
  }
}

function olderState(next: PartitionState, held: PartitionState): boolean {
  if (next.leaderEpoch !== held.leaderEpoch) return next.leaderEpoch < held.leaderEpoch;
  return (next.partitionEpoch ?? 0) < (held.partitionEpoch ?? 0);
}

function sameMembers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
