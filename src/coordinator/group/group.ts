/**
 * One group as its coordinator holds it (Kafka's classic GroupMetadata):
 * members, the generation, the chosen protocol, the leader, committed
 * offsets, and the state machine
 *
 *   Empty ──join──▶ PreparingRebalance ──all joined / rebalance timeout──▶ CompletingRebalance
 *     ▲                 ▲        │                                              │ leader's SyncGroup
 *     │                 │        └─ nobody left ─▶ Empty                        ▼  (stored)
 *     └─ last member ───┴──── join, leave, session expiry ─────────────────── Stable
 *   Dead: deleted, or its offsets partition moved to another coordinator.
 *
 * Plain data and small helpers; the transitions are in ./group-coordinator.ts.
 */
import type { TimerHandle } from '../../clock.ts';
import type { GroupState, JoinGroupResponse, SyncGroupResponse } from '../../protocol/types.ts';
import type { CommittedOffset } from './offsets-topic-records.ts';

export interface Member {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: { name: string; metadata: Uint8Array }[];
  /** What the leader assigned it in this generation (empty before). */
  assignment: Uint8Array;
  /** Set while its JoinGroup waits for the rebalance to complete. */
  joinWaiter: ((response: JoinGroupResponse) => void) | null;
  /** Set while its SyncGroup waits for the leader's assignment. */
  syncWaiter: ((response: SyncGroupResponse) => void) | null;
  /** Its session: removed from the group when this fires. */
  sessionTimer: TimerHandle | undefined;
}

export class Group {
  readonly groupId: string;
  readonly partition: number;
  state: GroupState = 'Empty';
  protocolType: string | null = null;
  protocolName: string | null = null;
  generationId = 0;
  leaderId: string | null = null;
  currentStateTimestampMs = -1n;
  readonly members = new Map<string, Member>();
  /** Member ids handed out with MEMBER_ID_REQUIRED, not yet joined with (KIP-394); each with its expiry. */
  readonly pendingMembers = new Map<string, TimerHandle>();
  /** groupInstanceId → memberId of static members. */
  readonly staticMembers = new Map<string, string>();
  /** Members of this generation that have not sent SyncGroup yet (removed when syncTimer fires). */
  readonly pendingSync = new Set<string>();
  /** topic\0partition → committed offset. */
  readonly offsets = new Map<string, CommittedOffset & { topic: string; partition: number }>();
  /**
   * Per producer id: offsets a transaction wrote (TxnOffsetCommit) and its
   * marker has not decided yet, each with the sequence of its write.
   */
  readonly pendingTxnOffsets = new Map<bigint, Map<string, CommittedOffset & { topic: string; partition: number; seq: number }>>();
  /** Per offset key: sequence of the latest commit applied (commits are applied in the order they were written). */
  readonly appliedCommitSeq = new Map<string, number>();
  /** Per offset key: commits written to the offsets topic and not answered yet. */
  readonly pendingCommits = new Map<string, number>();
  joinTimer: TimerHandle | undefined;
  syncTimer: TimerHandle | undefined;
  /** An Empty group's first rebalance waits until then for more members (group.initial.rebalance.delay.ms). */
  joinNotBeforeMs = 0;

  constructor(groupId: string, partition: number) {
    this.groupId = groupId;
    this.partition = partition;
  }

  is(...states: GroupState[]): boolean {
    return states.includes(this.state);
  }

  /** The longest rebalance timeout of its members: how long a rebalance waits for them to rejoin. */
  rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  allMembersJoined(): boolean {
    for (const m of this.members.values()) if (!m.joinWaiter) return false;
    return this.pendingMembers.size === 0;
  }

  /** The protocols every member supports, in no order. */
  candidateProtocols(): Set<string> {
    let common: Set<string> | null = null;
    for (const m of this.members.values()) {
      const names = new Set(m.protocols.map((p) => p.name));
      common = common === null ? names : new Set([...common].filter((n: string) => names.has(n)));
    }
    return common ?? new Set();
  }

  /** Whether a joining member's protocols fit the group's (type, and at least one protocol all support). */
  supportsProtocols(protocolType: string, names: readonly string[]): boolean {
    if (this.members.size === 0) return protocolType.length > 0 && names.length > 0;
    if (protocolType !== this.protocolType) return false;
    const common = this.candidateProtocols();
    return names.some((n) => common.has(n));
  }

  /** Kafka's vote: each member votes for its most preferred candidate; most votes wins (ties: the first counted). */
  selectProtocol(): string {
    const candidates = this.candidateProtocols();
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const choice = m.protocols.find((p) => candidates.has(p.name))?.name;
      if (choice !== undefined) votes.set(choice, (votes.get(choice) ?? 0) + 1);
    }
    let best = '';
    let bestVotes = -1;
    for (const [name, count] of votes) if (count > bestVotes) { best = name; bestVotes = count; }
    return best;
  }

  metadataOf(member: Member): Uint8Array {
    return member.protocols.find((p) => p.name === this.protocolName)?.metadata ?? new Uint8Array(0);
  }
}

export const offsetKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;
