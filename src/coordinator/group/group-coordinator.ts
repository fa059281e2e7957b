/**
 * The group coordinator (Kafka's classic protocol): a plain class a broker
 * calls for the groups whose partition of __consumer_offsets it leads.
 *
 * State lives in the offsets topic, written through `GroupLog.append`, which
 * resolves once the partition's ISR has the records (the broker's acks=-1
 * path): an offset commit is acknowledged only then, and the group's
 * assignment takes effect only once stored. When the broker becomes leader
 * of an offsets partition it replays it (`load`; requests for its groups get
 * COORDINATOR_LOAD_IN_PROGRESS meanwhile); when it stops leading it drops
 * those groups (`unload`; requests get NOT_COORDINATOR, waiting joins and
 * syncs are answered with it), so a group survives a coordinator failover
 * and a restart of the whole cluster.
 *
 * Kafka's semantics and error codes: MEMBER_ID_REQUIRED on a first dynamic
 * join (KIP-394), static membership with FENCED_INSTANCE_ID (KIP-345),
 * session timeouts (a member that stops heartbeating is removed), rebalance
 * timeouts (a member that does not rejoin or sync in time is removed),
 * ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS. Offsets are
 * kept for offsetsRetentionMinutes as Kafka keeps them (KIP-211), and expired
 * with tombstones (`expireOffsets`). All time and timers come from the
 * injected clock.
 */
import type { Clock, TimerHandle } from '../../clock.ts';
import { WafkaError, type KafkaErrorType, type WafkaErrorJSON } from '../../errors.ts';
import { CONSUMER_PROTOCOL_TYPE, decodeSubscription } from '../../protocol/consumer-protocol.ts';
import type {
  DeleteGroupsRequest, DeleteGroupsResponse, DescribeGroupsRequest, DescribeGroupsResponse, DescribedGroup,
  HeartbeatRequest, HeartbeatResponse, JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest, LeaveGroupResponse,
  ListGroupsRequest, ListGroupsResponse, OffsetCommitRequest, OffsetCommitResponse, OffsetDeleteRequest,
  OffsetDeleteResponse, OffsetFetchPartition, OffsetFetchRequest, OffsetFetchResponse, SyncGroupRequest, SyncGroupResponse,
  TxnOffsetCommitRequest, TxnOffsetCommitResponse,
} from '../../protocol/types.ts';
import { Group, offsetKey, type Member } from './group.ts';
import {
  groupMetadataKey, groupMetadataValue, groupPartition, offsetCommitKey, offsetCommitValue,
  type OffsetsTopicRecord, type StoredGroup,
} from './offsets-topic-records.ts';

export interface GroupCoordinatorConfig {
  /**
   * Kafka: offsets.topic.num.partitions. Kafka's default is 50; each partition
   * is a log with its own files (OPFS handles, IndexedDB stores) on every
   * replica, which a browser pays for at start, so 10 here.
   */
  offsetsTopicNumPartitions: number;
  /** Kafka: group.min.session.timeout.ms / group.max.session.timeout.ms. */
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  /** Kafka: group.max.size. */
  groupMaxSize: number;
  /** Kafka: group.initial.rebalance.delay.ms. */
  groupInitialRebalanceDelayMs: number;
  /** Groups one coordinator holds (over all its offsets partitions); more are refused with POLICY_VIOLATION. */
  groupsPerCoordinatorMax: number;
  /** A member's protocol metadata (all its protocols), and an assignment, at most this many bytes. */
  groupMemberMetadataBytesMax: number;
  /** Kafka: offset.metadata.max.bytes. */
  offsetMetadataMaxBytes: number;
  /** Committed offsets one group holds; more are refused with POLICY_VIOLATION. */
  offsetsPerGroupMax: number;
  /**
   * Kafka: offsets.retention.minutes (7 days). An Empty group's committed offsets are expired this long after
   * it became Empty; a Stable consumer group's offsets of topics no member subscribes to, and offsets
   * committed outside any group generation, this long after their commit. A group that is Empty and has no
   * offsets left is removed.
   */
  offsetsRetentionMinutes: number;
  /** Kafka: offsets.retention.check.interval.ms (10 min): how often expired offsets are looked for. */
  offsetsRetentionCheckIntervalMs: number;
}

export const DEFAULT_GROUP_COORDINATOR_CONFIG: Readonly<GroupCoordinatorConfig> = Object.freeze({
  offsetsTopicNumPartitions: 10,
  groupMinSessionTimeoutMs: 1_000,
  groupMaxSessionTimeoutMs: 1_800_000,
  groupMaxSize: 256,
  groupInitialRebalanceDelayMs: 0,
  groupsPerCoordinatorMax: 10_000,
  groupMemberMetadataBytesMax: 16 * 1024,
  offsetMetadataMaxBytes: 4096,
  offsetsPerGroupMax: 100_000,
  offsetsRetentionMinutes: 7 * 24 * 60,
  offsetsRetentionCheckIntervalMs: 600_000,
});

/** What the coordinator needs of its broker: durable, replicated appends to an offsets partition. */
export interface GroupLog {
  /**
   * Appends `records` to partition `partition` of __consumer_offsets as one
   * batch; resolves once the partition's ISR has them. Rejects with the
   * broker's error (NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS, ...) otherwise.
   */
  append(partition: number, records: { key: Uint8Array; value: Uint8Array | null }[]): Promise<void>;
  /**
   * The same as one transactional batch of producer `producerId` at
   * `producerEpoch` (a TxnOffsetCommit): decided by that transaction's
   * marker on the partition.
   */
  appendTransactional(partition: number, records: { key: Uint8Array; value: Uint8Array | null }[], producerId: bigint, producerEpoch: number): Promise<void>;
}

const GROUP_ID_BYTES_MAX = 255;
/** Markers kept while a partition loads (each is one transaction's end; more than this many in one replay is not expected). */
const LATE_MARKERS_MAX = 100_000;
/** Tombstones in one append of the retention check (a group's are written in appends of at most this many). */
const TOMBSTONES_PER_APPEND_MAX = 1_000;
const MEMBERS_PER_REQUEST_MAX = 10_000;

/** What one retention check did. */
export interface RetentionCheckResult { offsetsExpired: number; groupsRemoved: number; failedAppends: number }

type PartitionLoad = {
  state: 'loading' | 'active'; epoch: number; groups: Map<string, Group>;
  /** Markers written while the replay ran (past where it reads to): applied once it ends. */
  lateMarkers: { producerId: bigint; committed: boolean }[];
};

const errorJSON = (type: KafkaErrorType, message: string): WafkaErrorJSON => new WafkaError(type, message).toJSON();

export class GroupCoordinator {
  readonly config: GroupCoordinatorConfig;
  readonly #clock: Clock;
  readonly #log: GroupLog;
  readonly #nodeId: number;
  readonly #partitions = new Map<number, PartitionLoad>();
  #groupCount = 0;
  #commitSeq = 0;
  #retentionTimer: TimerHandle | undefined;
  #retentionCheck: Promise<RetentionCheckResult> | null = null;

  constructor(options: { config?: Partial<GroupCoordinatorConfig>; clock: Clock; log: GroupLog; nodeId: number }) {
    this.config = { ...DEFAULT_GROUP_COORDINATOR_CONFIG, ...options.config };
    for (const key of ['offsetsRetentionMinutes', 'offsetsRetentionCheckIntervalMs'] as const) {
      const value = this.config[key];
      if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`group coordinator config ${key} = ${value}: expected a positive integer`);
    }
    this.#clock = options.clock;
    this.#log = options.log;
    this.#nodeId = options.nodeId;
  }

  partitionFor(groupId: string): number {
    return groupPartition(groupId, this.config.offsetsTopicNumPartitions);
  }

  /** Offsets partitions this coordinator serves now (loaded), for tests and the console. */
  activePartitions(): number[] {
    return [...this.#partitions].filter(([, p]) => p.state === 'active').map(([n]) => n).sort((a, b) => a - b);
  }

  // ------------------------------------------------------------------ Loading

  /**
   * Becomes the coordinator of `partition` at leader epoch `epoch`: replays
   * its records in log order, then serves its groups. A newer load or an
   * unload meanwhile wins (this one's result is dropped).
   */
  async load(partition: number, epoch: number, records: AsyncIterable<OffsetsTopicRecord[]>): Promise<void> {
    const current = this.#partitions.get(partition);
    if (current && current.epoch === epoch) return;
    if (current) this.unload(partition);
    const load: PartitionLoad = { state: 'loading', epoch, groups: new Map(), lateMarkers: [] };
    this.#partitions.set(partition, load);
    const groups = load.groups;
    for await (const chunk of records) {
      if (this.#partitions.get(partition) !== load) return;
      for (const record of chunk) this.#replay(groups, partition, record);
    }
    if (this.#partitions.get(partition) !== load) return;
    for (const m of load.lateMarkers) for (const g of groups.values()) applyTransactionMarker(g, m.producerId, m.committed);
    load.lateMarkers.length = 0;
    for (const group of groups.values()) {
      if (group.members.size > 0) group.state = 'Stable';
      for (const member of group.members.values()) this.#scheduleSession(group, member);
    }
    this.#groupCount += groups.size;
    load.state = 'active';
    this.#retentionTimer ??= this.#clock.setTimeout(() => this.#retentionTick(), this.config.offsetsRetentionCheckIntervalMs);
  }

  #replay(groups: Map<string, Group>, partition: number, record: OffsetsTopicRecord): void {
    if (record.kind === 'other') return;
    if (record.kind === 'marker') {
      for (const g of groups.values()) applyTransactionMarker(g, record.producerId, record.committed);
      return;
    }
    let group = groups.get(record.groupId);
    // Replayed commits are ordered by their log offsets; commits made after the load continue past them.
    const seq = record.logOffset === undefined ? ++this.#commitSeq : Number(record.logOffset);
    if (record.logOffset !== undefined && seq >= this.#commitSeq) this.#commitSeq = seq + 1;
    if (record.kind === 'offset') {
      const key = offsetKey(record.topic, record.partition);
      if (record.transactionalProducerId !== undefined && record.transactionalProducerId !== null) {
        if (!group) groups.set(record.groupId, (group = new Group(record.groupId, partition)));
        let pending = group.pendingTxnOffsets.get(record.transactionalProducerId);
        if (!pending) group.pendingTxnOffsets.set(record.transactionalProducerId, (pending = new Map()));
        if (record.value !== null) pending.set(key, { ...record.value, topic: record.topic, partition: record.partition, seq });
        return;
      }
      if (record.value === null) {
        group?.offsets.delete(key);
        group?.appliedCommitSeq.set(key, seq);
        return;
      }
      if (!group) groups.set(record.groupId, (group = new Group(record.groupId, partition)));
      group.offsets.set(key, { ...record.value, topic: record.topic, partition: record.partition });
      group.appliedCommitSeq.set(key, seq);
      return;
    }
    if (record.value === null) {
      // A group tombstone is written with its offsets' tombstones: the group is gone.
      groups.delete(record.groupId);
      return;
    }
    if (!group) groups.set(record.groupId, (group = new Group(record.groupId, partition)));
    restoreGroup(group, record.value);
  }

  /** Stops coordinating `partition`: its groups are dropped here, waiting requests answered NOT_COORDINATOR. */
  unload(partition: number): void {
    const load = this.#partitions.get(partition);
    if (!load) return;
    this.#partitions.delete(partition);
    if (load.state === 'active') this.#groupCount -= load.groups.size;
    const error = errorJSON('NOT_COORDINATOR', `broker ${this.#nodeId} no longer coordinates partition ${partition} of __consumer_offsets`);
    for (const group of load.groups.values()) {
      this.#clearTimers(group);
      group.state = 'Dead';
      for (const member of group.members.values()) this.#answerWaiters(group, member, error);
    }
  }

  /** Stops everything (the broker closes). */
  close(): void {
    for (const partition of [...this.#partitions.keys()]) this.unload(partition);
    this.#clock.clearTimeout(this.#retentionTimer);
    this.#retentionTimer = undefined;
  }

  // ------------------------------------------------------------------ Lookup

  /** The partition's groups, or why this broker cannot answer for `groupId`. */
  #serving(groupId: string): { groups: Map<string, Group>; partition: number } | WafkaErrorJSON {
    const partition = this.partitionFor(groupId);
    const load = this.#partitions.get(partition);
    if (!load) return errorJSON('NOT_COORDINATOR', `broker ${this.#nodeId} is not the coordinator of group '${groupId}' (partition ${partition} of __consumer_offsets)`);
    if (load.state === 'loading') return errorJSON('COORDINATOR_LOAD_IN_PROGRESS', `broker ${this.#nodeId} is loading partition ${partition} of __consumer_offsets`);
    return { groups: load.groups, partition };
  }

  #newGroup(groups: Map<string, Group>, groupId: string, partition: number): Group | WafkaErrorJSON {
    if (this.#groupCount >= this.config.groupsPerCoordinatorMax) {
      return errorJSON('POLICY_VIOLATION', `broker ${this.#nodeId} coordinates ${this.#groupCount} groups, the limit (groupsPerCoordinatorMax ${this.config.groupsPerCoordinatorMax})`);
    }
    const group = new Group(groupId, partition);
    groups.set(groupId, group);
    this.#groupCount++;
    return group;
  }

  #dropGroup(groups: Map<string, Group>, group: Group): void {
    this.#clearTimers(group);
    group.state = 'Dead';
    if (groups.get(group.groupId) === group) {
      groups.delete(group.groupId);
      this.#groupCount--;
    }
  }

  // ------------------------------------------------------------------ JoinGroup

  joinGroup(request: JoinGroupRequest): Promise<JoinGroupResponse> {
    checkGroupId(request.groupId);
    checkString(request.memberId, 'memberId');
    checkNullableString(request.groupInstanceId, 'groupInstanceId');
    checkString(request.protocolType, 'protocolType');
    if (!Array.isArray(request.protocols) || request.protocols.length > 64) throw invalid('protocols must be an array of at most 64');
    let metadataBytes = 0;
    for (const p of request.protocols) {
      if (!p || typeof p.name !== 'string' || !(p.metadata instanceof Uint8Array)) throw invalid('each protocol needs a name (string) and metadata (Uint8Array)');
      metadataBytes += p.metadata.byteLength;
    }
    const failed = (type: KafkaErrorType, message: string) => Promise.resolve(joinError(request.memberId, errorJSON(type, message)));
    if (metadataBytes > this.config.groupMemberMetadataBytesMax) {
      return failed('MESSAGE_TOO_LARGE', `member metadata of ${metadataBytes} B over the ${this.config.groupMemberMetadataBytesMax} B limit (groupMemberMetadataBytesMax)`);
    }
    if (request.groupId === '') return failed('INVALID_GROUP_ID', 'the group id is empty');
    if (!Number.isSafeInteger(request.sessionTimeoutMs) || request.sessionTimeoutMs < this.config.groupMinSessionTimeoutMs || request.sessionTimeoutMs > this.config.groupMaxSessionTimeoutMs) {
      return failed('INVALID_SESSION_TIMEOUT', `sessionTimeout ${request.sessionTimeoutMs} ms outside [${this.config.groupMinSessionTimeoutMs}, ${this.config.groupMaxSessionTimeoutMs}]`);
    }
    if (!Number.isSafeInteger(request.rebalanceTimeoutMs) || request.rebalanceTimeoutMs <= 0 || request.rebalanceTimeoutMs > 0x7fffffff) {
      return failed('INVALID_REQUEST', `rebalanceTimeout ${request.rebalanceTimeoutMs} ms: expected a positive int32`);
    }
    if (request.protocolType === '' || request.protocols.length === 0) return failed('INCONSISTENT_GROUP_PROTOCOL', 'a join needs a protocol type and at least one protocol');
    const serving = this.#serving(request.groupId);
    if ('code' in serving) return Promise.resolve(joinError(request.memberId, serving));
    let group = serving.groups.get(request.groupId);
    if (!group) {
      if (request.memberId !== '') return failed('UNKNOWN_MEMBER_ID', `member '${request.memberId}' is not in group '${request.groupId}' (the group does not exist)`);
      const created = this.#newGroup(serving.groups, request.groupId, serving.partition);
      if ('code' in created) return Promise.resolve(joinError(request.memberId, created));
      group = created;
    }
    if (group.is('Dead')) return failed('COORDINATOR_NOT_AVAILABLE', `group '${group.groupId}' is being removed`);
    if (!group.supportsProtocols(request.protocolType, request.protocols.map((p) => p.name))) {
      return failed('INCONSISTENT_GROUP_PROTOCOL', `protocol type '${request.protocolType}' with [${request.protocols.map((p) => p.name)}] does not fit group '${group.groupId}' (type '${group.protocolType}', protocols all members support: [${[...group.candidateProtocols()]}])`);
    }
    const instanceId = request.groupInstanceId ?? null;
    if (request.memberId === '') {
      if (instanceId !== null) return this.#joinStaticUnknown(group, request, instanceId);
      if (group.members.size + group.pendingMembers.size >= this.config.groupMaxSize) {
        return failed('GROUP_MAX_SIZE_REACHED', `group '${group.groupId}' has ${group.members.size} members and ${group.pendingMembers.size} joining, the limit (groupMaxSize ${this.config.groupMaxSize})`);
      }
      const memberId = this.#newMemberId(request.clientId ?? '');
      // KIP-394: the member joins again with this id; until then it holds a place for one session timeout.
      const g = group;
      g.pendingMembers.set(memberId, this.#clock.setTimeout(() => {
        if (!g.pendingMembers.delete(memberId)) return;
        if (g.is('PreparingRebalance')) this.#tryCompleteJoin(g);
      }, request.sessionTimeoutMs));
      return Promise.resolve(joinError(memberId, errorJSON('MEMBER_ID_REQUIRED', `join group '${group.groupId}' again with member id '${memberId}'`)));
    }
    if (group.pendingMembers.has(request.memberId)) {
      this.#clock.clearTimeout(group.pendingMembers.get(request.memberId));
      group.pendingMembers.delete(request.memberId);
      return this.#addMemberAndRebalance(group, request, request.memberId, null);
    }
    const member = group.members.get(request.memberId);
    if (!member) return failed('UNKNOWN_MEMBER_ID', `member '${request.memberId}' is not in group '${group.groupId}'`);
    if (member.groupInstanceId !== instanceId) {
      return failed('FENCED_INSTANCE_ID', `member '${request.memberId}' of group '${group.groupId}' is instance '${member.groupInstanceId}', not '${instanceId}'`);
    }
    return this.#joinKnown(group, member, request);
  }

  #joinKnown(group: Group, member: Member, request: JoinGroupRequest): Promise<JoinGroupResponse> {
    if (group.is('PreparingRebalance')) {
      const wait = this.#awaitJoin(group, member, request);
      this.#tryCompleteJoin(group);
      return wait;
    }
    const same = sameProtocols(member.protocols, request.protocols);
    if (group.is('CompletingRebalance') && same) {
      // A retried join of this generation: the same answer again.
      this.#scheduleSession(group, member);
      return Promise.resolve(this.#joinResult(group, member));
    }
    if (group.is('Stable') && same && group.leaderId !== member.memberId) {
      this.#scheduleSession(group, member);
      return Promise.resolve(this.#joinResult(group, member));
    }
    const wait = this.#awaitJoin(group, member, request);
    this.#prepareRebalance(group, `member '${member.memberId}' rejoined${same ? '' : ' with new metadata'}`);
    return wait;
  }

  /** A static member joining without its member id: a new instance of it replaces the old one (KIP-345). */
  #joinStaticUnknown(group: Group, request: JoinGroupRequest, instanceId: string): Promise<JoinGroupResponse> {
    const oldId = group.staticMembers.get(instanceId);
    const newId = this.#newMemberId(request.clientId ?? '');
    if (oldId === undefined) {
      if (group.members.size + group.pendingMembers.size >= this.config.groupMaxSize) {
        return Promise.resolve(joinError('', errorJSON('GROUP_MAX_SIZE_REACHED', `group '${group.groupId}' has ${group.members.size} members, the limit (groupMaxSize ${this.config.groupMaxSize})`)));
      }
      return this.#addMemberAndRebalance(group, request, newId, instanceId);
    }
    const old = group.members.get(oldId)!;
    // The old instance is fenced: whatever it waits for is answered with FENCED_INSTANCE_ID.
    this.#answerWaiters(group, old, errorJSON('FENCED_INSTANCE_ID', `instance '${instanceId}' of group '${group.groupId}' joined again as member '${newId}'`));
    this.#clock.clearTimeout(old.sessionTimer);
    group.members.delete(oldId);
    const replacement: Member = {
      ...old, memberId: newId, clientId: request.clientId ?? old.clientId, clientHost: request.clientHost ?? old.clientHost,
      sessionTimeoutMs: request.sessionTimeoutMs, rebalanceTimeoutMs: request.rebalanceTimeoutMs, joinWaiter: null, syncWaiter: null, sessionTimer: undefined,
    };
    group.members.set(newId, replacement);
    group.staticMembers.set(instanceId, newId);
    if (group.leaderId === oldId) group.leaderId = newId;
    if (group.pendingSync.delete(oldId)) group.pendingSync.add(newId);
    const same = sameProtocols(old.protocols, request.protocols);
    if (group.is('Stable') && same) {
      // No rebalance: store the new member id, then answer with the current generation; its SyncGroup gets the old assignment.
      replacement.protocols = request.protocols.map((p) => ({ name: p.name, metadata: p.metadata.slice() }));
      const generationId = group.generationId;
      return this.#store(group).then(
        () => {
          this.#scheduleSession(group, replacement);
          const result = this.#joinResult(group, replacement);
          // The leader keeps the assignment it has and computes none (KIP-814).
          return group.leaderId === newId ? { ...result, skipAssignment: true } : result;
        },
        (error) => {
          if (group.generationId === generationId && group.members.get(newId) === replacement) {
            this.#removeMember(group, replacement);
            this.#prepareRebalance(group, `storing static member '${instanceId}' failed`);
          }
          return joinError(newId, coordinatorError(error));
        },
      );
    }
    const wait = this.#awaitJoin(group, replacement, request);
    if (group.is('PreparingRebalance')) this.#tryCompleteJoin(group);
    else this.#prepareRebalance(group, `static member '${instanceId}' joined again${same ? '' : ' with new metadata'}`);
    return wait;
  }

  #addMemberAndRebalance(group: Group, request: JoinGroupRequest, memberId: string, instanceId: string | null): Promise<JoinGroupResponse> {
    const member: Member = {
      memberId, groupInstanceId: instanceId, clientId: request.clientId ?? '', clientHost: request.clientHost ?? '',
      sessionTimeoutMs: request.sessionTimeoutMs, rebalanceTimeoutMs: request.rebalanceTimeoutMs,
      protocolType: request.protocolType, protocols: [], assignment: new Uint8Array(0),
      joinWaiter: null, syncWaiter: null, sessionTimer: undefined,
    };
    if (group.members.size === 0) group.protocolType = request.protocolType;
    group.members.set(memberId, member);
    if (instanceId !== null) group.staticMembers.set(instanceId, memberId);
    group.leaderId ??= memberId;
    const wait = this.#awaitJoin(group, member, request);
    if (group.is('PreparingRebalance')) this.#tryCompleteJoin(group);
    else this.#prepareRebalance(group, `member '${memberId}' joined`);
    return wait;
  }

  #awaitJoin(group: Group, member: Member, request: JoinGroupRequest): Promise<JoinGroupResponse> {
    member.protocols = request.protocols.map((p) => ({ name: p.name, metadata: p.metadata.slice() }));
    member.sessionTimeoutMs = request.sessionTimeoutMs;
    member.rebalanceTimeoutMs = request.rebalanceTimeoutMs;
    // A second join of the same member replaces the first (its answer says so).
    member.joinWaiter?.(joinError(member.memberId, errorJSON('UNKNOWN_MEMBER_ID', `member '${member.memberId}' sent another JoinGroup`)));
    return new Promise((resolve) => { member.joinWaiter = resolve; });
  }

  #prepareRebalance(group: Group, reason: string): void {
    if (group.is('CompletingRebalance')) {
      const error = errorJSON('REBALANCE_IN_PROGRESS', `group '${group.groupId}' rebalances: ${reason}`);
      for (const m of group.members.values()) {
        m.assignment = new Uint8Array(0);
        const waiter = m.syncWaiter;
        m.syncWaiter = null;
        waiter?.({ error, protocolType: group.protocolType, protocolName: group.protocolName, assignment: new Uint8Array(0) });
      }
    }
    this.#clock.clearTimeout(group.syncTimer);
    group.pendingSync.clear();
    const wasEmpty = group.is('Empty');
    group.state = 'PreparingRebalance';
    group.currentStateTimestampMs = BigInt(this.#clock.nowMs());
    this.#clock.clearTimeout(group.joinTimer);
    const nowMs = this.#clock.nowMs();
    group.joinNotBeforeMs = wasEmpty ? nowMs + this.config.groupInitialRebalanceDelayMs : nowMs;
    const timeoutMs = Math.max(group.rebalanceTimeoutMs(), wasEmpty ? this.config.groupInitialRebalanceDelayMs : 0);
    group.joinTimer = this.#clock.setTimeout(() => { group.joinTimer = undefined; this.#completeJoin(group); }, timeoutMs);
    if (wasEmpty && this.config.groupInitialRebalanceDelayMs > 0) {
      this.#clock.setTimeout(() => this.#tryCompleteJoin(group), this.config.groupInitialRebalanceDelayMs);
    }
    this.#tryCompleteJoin(group);
  }

  #tryCompleteJoin(group: Group): void {
    if (!group.is('PreparingRebalance')) return;
    if (group.allMembersJoined() && this.#clock.nowMs() >= group.joinNotBeforeMs) this.#completeJoin(group);
  }

  /** Ends the join phase: members that did not rejoin are removed, the generation moves on, every waiting join is answered. */
  #completeJoin(group: Group): void {
    if (!group.is('PreparingRebalance')) return;
    this.#clock.clearTimeout(group.joinTimer);
    group.joinTimer = undefined;
    for (const m of [...group.members.values()]) if (!m.joinWaiter) this.#removeMember(group, m);
    for (const timer of group.pendingMembers.values()) this.#clock.clearTimeout(timer);
    group.pendingMembers.clear();
    group.generationId++;
    group.currentStateTimestampMs = BigInt(this.#clock.nowMs());
    if (group.members.size === 0) {
      group.state = 'Empty';
      group.protocolName = null;
      group.protocolType = group.offsets.size > 0 ? group.protocolType : null;
      group.leaderId = null;
      void this.#store(group).catch(() => {});
      return;
    }
    group.state = 'CompletingRebalance';
    group.protocolName = group.selectProtocol();
    if (!group.leaderId || !group.members.has(group.leaderId)) group.leaderId = group.members.keys().next().value!;
    for (const m of group.members.values()) {
      const waiter = m.joinWaiter!;
      m.joinWaiter = null;
      m.assignment = new Uint8Array(0);
      group.pendingSync.add(m.memberId);
      this.#scheduleSession(group, m);
      waiter(this.#joinResult(group, m));
    }
    // As Kafka's pending-sync check: members that do not sync within the rebalance timeout are removed.
    const generationId = group.generationId;
    group.syncTimer = this.#clock.setTimeout(() => {
      group.syncTimer = undefined;
      if (group.generationId !== generationId || !group.is('CompletingRebalance', 'Stable') || group.pendingSync.size === 0) return;
      for (const memberId of [...group.pendingSync]) {
        const m = group.members.get(memberId);
        if (m) this.#removeMember(group, m);
      }
      group.pendingSync.clear();
      this.#membersChanged(group, 'members did not sync in time');
    }, group.rebalanceTimeoutMs());
  }

  #joinResult(group: Group, member: Member): JoinGroupResponse {
    const isLeader = group.leaderId === member.memberId;
    return {
      generationId: group.generationId, protocolType: group.protocolType, protocolName: group.protocolName,
      leader: group.leaderId ?? '', skipAssignment: false, memberId: member.memberId,
      members: isLeader
        ? [...group.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: group.metadataOf(m) }))
        : [],
    };
  }

  // ------------------------------------------------------------------ SyncGroup

  syncGroup(request: SyncGroupRequest): Promise<SyncGroupResponse> {
    checkGroupId(request.groupId);
    checkString(request.memberId, 'memberId');
    checkInt32(request.generationId, 'generationId');
    checkNullableString(request.groupInstanceId, 'groupInstanceId');
    if (!Array.isArray(request.assignments) || request.assignments.length > MEMBERS_PER_REQUEST_MAX) throw invalid(`assignments must be an array of at most ${MEMBERS_PER_REQUEST_MAX}`);
    for (const a of request.assignments) {
      if (!a || typeof a.memberId !== 'string' || !(a.assignment instanceof Uint8Array)) throw invalid('each assignment needs memberId (string) and assignment (Uint8Array)');
    }
    const fail = (error: WafkaErrorJSON): Promise<SyncGroupResponse> => Promise.resolve({ error, protocolType: null, protocolName: null, assignment: new Uint8Array(0) });
    const found = this.#memberOf(request.groupId, request.memberId, request.groupInstanceId ?? null, request.generationId);
    if ('code' in found) return fail(found);
    const { group, member } = found;
    if ((request.protocolType != null && request.protocolType !== group.protocolType) || (request.protocolName != null && request.protocolName !== group.protocolName)) {
      return fail(errorJSON('INCONSISTENT_GROUP_PROTOCOL', `group '${group.groupId}' uses ${group.protocolType}/${group.protocolName}, not ${request.protocolType}/${request.protocolName}`));
    }
    const oversized = request.assignments.find((a) => a.assignment.byteLength > this.config.groupMemberMetadataBytesMax);
    if (oversized) return fail(errorJSON('MESSAGE_TOO_LARGE', `assignment for '${oversized.memberId}' of ${oversized.assignment.byteLength} B over the ${this.config.groupMemberMetadataBytesMax} B limit`));
    if (group.is('PreparingRebalance')) return fail(errorJSON('REBALANCE_IN_PROGRESS', `group '${group.groupId}' is rebalancing: join again`));
    this.#scheduleSession(group, member);
    if (group.is('Stable')) {
      group.pendingSync.delete(member.memberId);
      return Promise.resolve({ protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment });
    }
    // CompletingRebalance: wait for the leader's assignment, stored.
    group.pendingSync.delete(member.memberId);
    member.syncWaiter?.({ error: errorJSON('UNKNOWN_MEMBER_ID', `member '${member.memberId}' sent another SyncGroup`), protocolType: null, protocolName: null, assignment: new Uint8Array(0) });
    const answer = new Promise<SyncGroupResponse>((resolve) => { member.syncWaiter = resolve; });
    if (group.leaderId === member.memberId) {
      const assignments = new Map<string, Uint8Array>();
      for (const a of request.assignments) if (group.members.has(a.memberId)) assignments.set(a.memberId, a.assignment.slice());
      const generationId = group.generationId;
      this.#store(group, assignments).then(
        () => {
          if (group.generationId !== generationId || !group.is('CompletingRebalance')) return;
          for (const m of group.members.values()) m.assignment = assignments.get(m.memberId) ?? new Uint8Array(0);
          group.state = 'Stable';
          group.currentStateTimestampMs = BigInt(this.#clock.nowMs());
          for (const m of group.members.values()) {
            const waiter = m.syncWaiter;
            m.syncWaiter = null;
            waiter?.({ protocolType: group.protocolType, protocolName: group.protocolName, assignment: m.assignment });
          }
        },
        (error) => {
          if (group.generationId !== generationId || !group.is('CompletingRebalance')) return;
          const e = coordinatorError(error);
          for (const m of group.members.values()) {
            const waiter = m.syncWaiter;
            m.syncWaiter = null;
            waiter?.({ error: e, protocolType: null, protocolName: null, assignment: new Uint8Array(0) });
          }
          this.#prepareRebalance(group, `storing the assignment failed: ${e.message}`);
        },
      );
    }
    return answer;
  }

  // ------------------------------------------------------------------ Heartbeat, LeaveGroup

  async heartbeat(request: HeartbeatRequest): Promise<HeartbeatResponse> {
    checkGroupId(request.groupId);
    checkString(request.memberId, 'memberId');
    checkInt32(request.generationId, 'generationId');
    checkNullableString(request.groupInstanceId, 'groupInstanceId');
    const found = this.#memberOf(request.groupId, request.memberId, request.groupInstanceId ?? null, request.generationId);
    if ('code' in found) return { error: found };
    const { group, member } = found;
    this.#scheduleSession(group, member);
    if (group.is('PreparingRebalance')) return { error: errorJSON('REBALANCE_IN_PROGRESS', `group '${group.groupId}' is rebalancing: join again`) };
    return {};
  }

  async leaveGroup(request: LeaveGroupRequest): Promise<LeaveGroupResponse> {
    checkGroupId(request.groupId);
    if (!Array.isArray(request.members) || request.members.length === 0 || request.members.length > MEMBERS_PER_REQUEST_MAX) {
      throw invalid(`members must be an array of 1 to ${MEMBERS_PER_REQUEST_MAX}`);
    }
    for (const m of request.members) {
      checkString(m?.memberId, 'memberId');
      checkNullableString(m.groupInstanceId, 'groupInstanceId');
    }
    const serving = this.#serving(request.groupId);
    const echo = (error?: WafkaErrorJSON) => request.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId ?? null, ...(error ? { error } : {}) }));
    if ('code' in serving) return { error: serving, members: echo() };
    const group = serving.groups.get(request.groupId);
    if (!group || group.is('Dead')) return { error: errorJSON('UNKNOWN_MEMBER_ID', `group '${request.groupId}' does not exist`), members: echo() };
    let changed = false;
    const members = request.members.map((leaving) => {
      const instanceId = leaving.groupInstanceId ?? null;
      const result = { memberId: leaving.memberId, groupInstanceId: instanceId };
      if (instanceId !== null) {
        const current = group.staticMembers.get(instanceId);
        if (current === undefined) return { ...result, error: errorJSON('UNKNOWN_MEMBER_ID', `no static member '${instanceId}' in group '${group.groupId}'`) };
        if (leaving.memberId !== '' && leaving.memberId !== current) {
          return { ...result, error: errorJSON('FENCED_INSTANCE_ID', `instance '${instanceId}' of group '${group.groupId}' is member '${current}', not '${leaving.memberId}'`) };
        }
        this.#removeMember(group, group.members.get(current)!);
        changed = true;
        return { ...result, memberId: current };
      }
      if (group.pendingMembers.has(leaving.memberId)) {
        this.#clock.clearTimeout(group.pendingMembers.get(leaving.memberId));
        group.pendingMembers.delete(leaving.memberId);
        changed = true;
        return result;
      }
      const member = group.members.get(leaving.memberId);
      if (!member) return { ...result, error: errorJSON('UNKNOWN_MEMBER_ID', `member '${leaving.memberId}' is not in group '${group.groupId}'`) };
      if (member.groupInstanceId !== null) {
        return { ...result, error: errorJSON('FENCED_INSTANCE_ID', `member '${leaving.memberId}' is static ('${member.groupInstanceId}'): leave with its groupInstanceId`) };
      }
      this.#removeMember(group, member);
      changed = true;
      return result;
    });
    if (changed) this.#membersChanged(group, 'members left');
    return { members };
  }

  /** The member of a request, checked as Kafka does (unknown group or member, fenced instance, generation). */
  #memberOf(groupId: string, memberId: string, instanceId: string | null, generationId: number): { group: Group; member: Member } | WafkaErrorJSON {
    const serving = this.#serving(groupId);
    if ('code' in serving) return serving;
    const group = serving.groups.get(groupId);
    if (!group || group.is('Dead', 'Empty')) return errorJSON('UNKNOWN_MEMBER_ID', `member '${memberId}' is not in group '${groupId}' (${group ? group.state : 'no such group'})`);
    if (instanceId !== null) {
      const current = group.staticMembers.get(instanceId);
      if (current !== undefined && current !== memberId) return errorJSON('FENCED_INSTANCE_ID', `instance '${instanceId}' of group '${groupId}' is member '${current}', not '${memberId}'`);
    }
    const member = group.members.get(memberId);
    if (!member) return errorJSON('UNKNOWN_MEMBER_ID', `member '${memberId}' is not in group '${groupId}'`);
    if (generationId !== group.generationId) return errorJSON('ILLEGAL_GENERATION', `generation ${generationId} of member '${memberId}' is not group '${groupId}''s generation ${group.generationId}`);
    return { group, member };
  }

  #removeMember(group: Group, member: Member): void {
    this.#clock.clearTimeout(member.sessionTimer);
    member.sessionTimer = undefined;
    this.#answerWaiters(group, member, errorJSON('UNKNOWN_MEMBER_ID', `member '${member.memberId}' was removed from group '${group.groupId}'`));
    group.members.delete(member.memberId);
    group.pendingSync.delete(member.memberId);
    if (member.groupInstanceId !== null && group.staticMembers.get(member.groupInstanceId) === member.memberId) group.staticMembers.delete(member.groupInstanceId);
    if (group.leaderId === member.memberId) group.leaderId = group.members.keys().next().value ?? null;
  }

  /** After members left or expired: the group rebalances (or, mid-join, may complete the join now). */
  #membersChanged(group: Group, reason: string): void {
    if (group.is('Stable', 'CompletingRebalance')) this.#prepareRebalance(group, reason);
    else if (group.is('PreparingRebalance')) this.#tryCompleteJoin(group);
  }

  #answerWaiters(group: Group, member: Member, error: WafkaErrorJSON): void {
    const join = member.joinWaiter;
    const sync = member.syncWaiter;
    member.joinWaiter = null;
    member.syncWaiter = null;
    join?.(joinError(member.memberId, error));
    sync?.({ error, protocolType: group.protocolType, protocolName: group.protocolName, assignment: new Uint8Array(0) });
  }

  /** (Re)starts a member's session; when it runs out the member is removed (unless it waits on a join or sync). */
  #scheduleSession(group: Group, member: Member): void {
    this.#clock.clearTimeout(member.sessionTimer);
    member.sessionTimer = this.#clock.setTimeout(() => {
      member.sessionTimer = undefined;
      if (group.members.get(member.memberId) !== member || group.is('Dead')) return;
      // Kafka keeps members alive while their join or sync waits on the coordinator.
      if (member.joinWaiter || member.syncWaiter) { this.#scheduleSession(group, member); return; }
      this.#removeMember(group, member);
      this.#membersChanged(group, `member '${member.memberId}' timed out (sessionTimeout ${member.sessionTimeoutMs} ms)`);
    }, member.sessionTimeoutMs);
  }

  #clearTimers(group: Group): void {
    this.#clock.clearTimeout(group.joinTimer);
    this.#clock.clearTimeout(group.syncTimer);
    for (const m of group.members.values()) this.#clock.clearTimeout(m.sessionTimer);
    for (const t of group.pendingMembers.values()) this.#clock.clearTimeout(t);
  }

  #newMemberId(clientId: string): string {
    let id = '';
    for (let i = 0; i < 4; i++) id += Math.floor(this.#clock.random() * 0x100000000).toString(16).padStart(8, '0');
    const uuid = `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`;
    return `${clientId.slice(0, 200)}-${uuid}`;
  }

  /** Writes the group's metadata record (with `assignments` when given, else the members' current ones). */
  #store(group: Group, assignments?: Map<string, Uint8Array>): Promise<void> {
    const value: StoredGroup = {
      protocolType: group.protocolType ?? '', generationId: group.generationId, protocolName: group.protocolName,
      leaderId: group.leaderId, currentStateTimestampMs: group.currentStateTimestampMs,
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs, sessionTimeoutMs: m.sessionTimeoutMs,
        subscription: group.metadataOf(m), assignment: assignments?.get(m.memberId) ?? m.assignment,
      })),
    };
    return this.#log.append(group.partition, [{ key: groupMetadataKey(group.groupId), value: groupMetadataValue(value) }]);
  }

  // ------------------------------------------------------------------ Offsets

  offsetCommit(request: OffsetCommitRequest): Promise<OffsetCommitResponse> {
    return this.#commitOffsets(request, null);
  }

  /**
   * A transactional producer's offsets for the group (KIP-98, KIP-447): the
   * member and generation are checked as OffsetCommit checks them (when the
   * request names them), the offsets are written as a transactional batch
   * of the producer, and held pending: OffsetFetch sees them only once the
   * transaction's COMMIT marker is written on the group's offsets partition
   * (`transactionMarker`); an ABORT drops them.
   */
  async txnOffsetCommit(request: TxnOffsetCommitRequest): Promise<TxnOffsetCommitResponse> {
    if (typeof request.producerId !== 'bigint' || request.producerId < 0n) throw invalid('producerId must be a non-negative bigint');
    if (!Number.isInteger(request.producerEpoch) || request.producerEpoch < 0 || request.producerEpoch > 0x7fff) throw invalid('producerEpoch must be an int16 ≥ 0');
    if (typeof request.transactionalId !== 'string' || request.transactionalId === '') throw invalid('transactionalId must be a non-empty string');
    return this.#commitOffsets(request, { producerId: request.producerId, producerEpoch: request.producerEpoch });
  }

  /**
   * The markers of a transaction reached partition `partition` of the
   * offsets topic: the producer's pending offsets there become the
   * committed ones (COMMIT) or are dropped (ABORT).
   */
  transactionMarker(partition: number, producerId: bigint, committed: boolean): void {
    const load = this.#partitions.get(partition);
    if (!load) return;
    if (load.state === 'loading') {
      if (load.lateMarkers.length < LATE_MARKERS_MAX) load.lateMarkers.push({ producerId, committed });
      return;
    }
    for (const group of load.groups.values()) applyTransactionMarker(group, producerId, committed);
  }

  async #commitOffsets(request: OffsetCommitRequest, transactional: { producerId: bigint; producerEpoch: number } | null): Promise<OffsetCommitResponse> {
    checkGroupId(request.groupId);
    checkString(request.memberId, 'memberId');
    checkInt32(request.generationId, 'generationId');
    checkNullableString(request.groupInstanceId, 'groupInstanceId');
    checkTopics<OffsetCommitRequest['topics'][number]['partitions'][number]>(request.topics, (p) => {
      if (typeof p.committedOffset !== 'bigint') throw invalid('committedOffset must be a bigint');
      if (p.committedLeaderEpoch !== undefined) checkInt32(p.committedLeaderEpoch, 'committedLeaderEpoch');
      checkNullableString(p.committedMetadata, 'committedMetadata');
    });
    const all = (error: WafkaErrorJSON): OffsetCommitResponse => ({
      topics: request.topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, error })) })),
    });
    if (request.groupId === '') return all(errorJSON('INVALID_GROUP_ID', 'the group id is empty'));
    const serving = this.#serving(request.groupId);
    if ('code' in serving) return all(serving);
    let group = serving.groups.get(request.groupId);
    const outsider = request.generationId < 0 && request.memberId === '';
    if (!group) {
      if (!outsider) return all(errorJSON('ILLEGAL_GENERATION', `group '${request.groupId}' does not exist (generation ${request.generationId}, member '${request.memberId}')`));
      const created = this.#newGroup(serving.groups, request.groupId, serving.partition);
      if ('code' in created) return all(created);
      group = created;
    } else if (group.is('Dead')) {
      return all(errorJSON('COORDINATOR_NOT_AVAILABLE', `group '${group.groupId}' is being removed`));
    } else if (!(outsider && (group.is('Empty') || transactional))) {
      // A transactional commit without a generation (a client before KIP-447) is not checked against the members, as in Kafka.
      if (group.is('CompletingRebalance')) return all(errorJSON('REBALANCE_IN_PROGRESS', `group '${group.groupId}' is completing a rebalance: commit after SyncGroup`));
      const found = this.#memberOf(request.groupId, request.memberId, request.groupInstanceId ?? null, request.generationId);
      if ('code' in found) return all(found);
      this.#scheduleSession(group, found.member);
    }
    const nowMs = BigInt(this.#clock.nowMs());
    const records: { key: Uint8Array; value: Uint8Array }[] = [];
    const accepted: { topic: string; partition: number; offset: bigint; leaderEpoch: number; metadata: string; seq: number }[] = [];
    const errors = new Map<string, WafkaErrorJSON>();
    let newKeys = 0;
    for (const t of request.topics) {
      for (const p of t.partitions) {
        const key = offsetKey(t.topic, p.partition);
        const metadata = p.committedMetadata ?? '';
        const metadataBytes = new TextEncoder().encode(metadata).byteLength;
        if (metadataBytes > this.config.offsetMetadataMaxBytes) {
          errors.set(key, errorJSON('OFFSET_METADATA_TOO_LARGE', `metadata of ${metadataBytes} B for ${t.topic}-${p.partition} over the ${this.config.offsetMetadataMaxBytes} B limit (offsetMetadataMaxBytes)`));
          continue;
        }
        if (p.committedOffset < 0n || p.committedOffset > INT64_MAX) {
          errors.set(key, errorJSON('INVALID_COMMIT_OFFSET_SIZE', `offset ${p.committedOffset} for ${t.topic}-${p.partition}: expected [0, 2^63-1]`));
          continue;
        }
        if (!group.offsets.has(key) && group.offsets.size + ++newKeys > this.config.offsetsPerGroupMax) {
          errors.set(key, errorJSON('POLICY_VIOLATION', `group '${group.groupId}' holds ${group.offsets.size} committed offsets, the limit (offsetsPerGroupMax ${this.config.offsetsPerGroupMax})`));
          continue;
        }
        const leaderEpoch = p.committedLeaderEpoch ?? -1;
        records.push({ key: offsetCommitKey(group.groupId, t.topic, p.partition), value: offsetCommitValue({ offset: p.committedOffset, leaderEpoch, metadata, commitTimestampMs: nowMs }) });
        accepted.push({ topic: t.topic, partition: p.partition, offset: p.committedOffset, leaderEpoch, metadata, seq: ++this.#commitSeq });
      }
    }
    if (records.length > 0) {
      // Offsets with a commit under way are not expired (Kafka's pendingOffsetCommits).
      const pendingKeys = accepted.map((a) => offsetKey(a.topic, a.partition));
      for (const key of pendingKeys) group.pendingCommits.set(key, (group.pendingCommits.get(key) ?? 0) + 1);
      try {
        if (transactional) await this.#log.appendTransactional(group.partition, records, transactional.producerId, transactional.producerEpoch);
        else await this.#log.append(group.partition, records);
      } catch (error) {
        const e = coordinatorError(error);
        for (const a of accepted) errors.set(offsetKey(a.topic, a.partition), e);
        accepted.length = 0;
      } finally {
        for (const key of pendingKeys) {
          const n = group.pendingCommits.get(key)! - 1;
          if (n > 0) group.pendingCommits.set(key, n);
          else group.pendingCommits.delete(key);
        }
      }
      if (transactional) {
        let pending = group.pendingTxnOffsets.get(transactional.producerId);
        if (!pending && accepted.length > 0) group.pendingTxnOffsets.set(transactional.producerId, (pending = new Map()));
        for (const a of accepted) {
          pending!.set(offsetKey(a.topic, a.partition), { topic: a.topic, partition: a.partition, offset: a.offset, leaderEpoch: a.leaderEpoch, metadata: a.metadata, commitTimestampMs: nowMs, seq: a.seq });
        }
        accepted.length = 0;
      }
      for (const a of accepted) {
        const key = offsetKey(a.topic, a.partition);
        // Commits are applied in the order they were written: a slower, older commit does not overwrite a newer one.
        if ((group.appliedCommitSeq.get(key) ?? 0) > a.seq) continue;
        group.appliedCommitSeq.set(key, a.seq);
        group.offsets.set(key, { topic: a.topic, partition: a.partition, offset: a.offset, leaderEpoch: a.leaderEpoch, metadata: a.metadata, commitTimestampMs: nowMs });
      }
    }
    return {
      topics: request.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p) => {
          const error = errors.get(offsetKey(t.topic, p.partition));
          return error ? { partition: p.partition, error } : { partition: p.partition };
        }),
      })),
    };
  }

  async offsetFetch(request: OffsetFetchRequest): Promise<OffsetFetchResponse> {
    checkGroupId(request.groupId);
    if (request.topics !== null) checkTopics(request.topics, (p) => p);
    const serving = this.#serving(request.groupId);
    if ('code' in serving) return { error: serving, topics: [] };
    const group = serving.groups.get(request.groupId);
    const pendingKeys = new Set<string>();
    if (request.requireStable && group) for (const pending of group.pendingTxnOffsets.values()) for (const k of pending.keys()) pendingKeys.add(k);
    const entry = (topic: string, partition: number): OffsetFetchPartition => {
      // KIP-447: a consumer that needs stable offsets waits (retriable) while a transaction's offsets for the partition are undecided.
      if (pendingKeys.has(offsetKey(topic, partition))) {
        return { partition, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', error: errorJSON('UNSTABLE_OFFSET_COMMIT', `a transaction holds offsets of ${topic}-${partition} for group '${request.groupId}' not yet committed or aborted`) };
      }
      const o = group?.offsets.get(offsetKey(topic, partition));
      return o ? { partition, committedOffset: o.offset, committedLeaderEpoch: o.leaderEpoch, metadata: o.metadata }
        : { partition, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '' };
    };
    if (request.topics !== null) {
      return { topics: request.topics.map((t) => ({ topic: t.topic, partitions: (t.partitions as unknown as number[]).map((p) => entry(t.topic, p)) })) };
    }
    const byTopic = new Map<string, OffsetFetchPartition[]>();
    for (const o of group?.offsets.values() ?? []) {
      if (!byTopic.has(o.topic)) byTopic.set(o.topic, []);
      byTopic.get(o.topic)!.push(entry(o.topic, o.partition));
    }
    return { topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a.partition - b.partition) })) };
  }

  async offsetDelete(request: OffsetDeleteRequest): Promise<OffsetDeleteResponse> {
    checkGroupId(request.groupId);
    checkTopics(request.topics, (p) => p);
    const none = (error: WafkaErrorJSON): OffsetDeleteResponse => ({ error, topics: [] });
    const serving = this.#serving(request.groupId);
    if ('code' in serving) return none(serving);
    const group = serving.groups.get(request.groupId);
    if (!group || group.is('Dead')) return none(errorJSON('GROUP_ID_NOT_FOUND', `group '${request.groupId}' does not exist`));
    const subscribed = group.is('Empty') ? new Set<string>() : this.#subscribedTopics(group);
    const errors = new Map<string, WafkaErrorJSON>();
    const records: { key: Uint8Array; value: null }[] = [];
    const deleted: string[] = [];
    for (const t of request.topics) {
      for (const partition of t.partitions as unknown as number[]) {
        const key = offsetKey(t.topic, partition);
        if (subscribed.has(t.topic)) {
          errors.set(key, errorJSON('GROUP_SUBSCRIBED_TO_TOPIC', `group '${group.groupId}' has members subscribed to '${t.topic}'`));
          continue;
        }
        if (!group.offsets.has(key)) continue;
        records.push({ key: offsetCommitKey(group.groupId, t.topic, partition), value: null });
        deleted.push(key);
      }
    }
    if (records.length > 0) {
      try {
        await this.#log.append(group.partition, records);
        for (const key of deleted) { group.offsets.delete(key); group.appliedCommitSeq.set(key, ++this.#commitSeq); }
      } catch (error) {
        return none(coordinatorError(error));
      }
    }
    return {
      topics: request.topics.map((t) => ({
        topic: t.topic,
        partitions: (t.partitions as unknown as number[]).map((partition) => {
          const error = errors.get(offsetKey(t.topic, partition));
          return error ? { partition, error } : { partition };
        }),
      })),
    };
  }

  #subscribedTopics(group: Group): Set<string> {
    const topics = new Set<string>();
    if (group.protocolType !== CONSUMER_PROTOCOL_TYPE) return topics;
    for (const m of group.members.values()) {
      try {
        for (const t of decodeSubscription(group.metadataOf(m)).topics) topics.add(t);
      } catch {
        // Metadata that is not the consumer protocol's subscribes to nothing we can name.
      }
    }
    return topics;
  }

  // ------------------------------------------------------------------ Offset retention

  #retentionTick(): void {
    this.#retentionTimer = undefined;
    if (this.#partitions.size === 0) return; // the next load starts it again
    void this.expireOffsets().finally(() => {
      if (this.#partitions.size > 0) this.#retentionTimer ??= this.#clock.setTimeout(() => this.#retentionTick(), this.config.offsetsRetentionCheckIntervalMs);
    });
  }

  /**
   * Kafka's cleanupGroupMetadata, run every offsetsRetentionCheckIntervalMs: expires the offsets that are past
   * offsetsRetentionMinutes (see the config) and removes groups that are Empty with no offsets left. Each
   * is written as tombstones to the group's offsets partition first, so the expiry holds after a failover
   * or a restart replays the partition. One check at a time; a call during one waits for it.
   */
  expireOffsets(): Promise<RetentionCheckResult> {
    this.#retentionCheck ??= this.#expireOffsets().finally(() => { this.#retentionCheck = null; });
    return this.#retentionCheck;
  }

  async #expireOffsets(): Promise<RetentionCheckResult> {
    const result: RetentionCheckResult = { offsetsExpired: 0, groupsRemoved: 0, failedAppends: 0 };
    const retentionMs = this.config.offsetsRetentionMinutes * 60_000;
    for (const [partition, load] of [...this.#partitions]) {
      if (load.state !== 'active') continue;
      for (const group of [...load.groups.values()]) {
        if (this.#partitions.get(partition) !== load) break;
        if (load.groups.get(group.groupId) !== group || group.is('Dead')) continue;
        const nowMs = this.#clock.nowMs();
        const expired = this.#expiredOffsets(group, nowMs, retentionMs);
        // A member that was given an id (MEMBER_ID_REQUIRED) and joins again next keeps the group.
        const removeGroup = group.is('Empty') && group.pendingCommits.size === 0 && group.pendingTxnOffsets.size === 0
          && group.pendingMembers.size === 0 && expired.length === group.offsets.size;
        if (expired.length === 0 && !removeGroup) continue;
        // Commits accepted after this point are written after these tombstones, and win.
        const seq = ++this.#commitSeq;
        const records: { key: Uint8Array; value: null }[] = expired.map((o) => ({ key: offsetCommitKey(group.groupId, o.topic, o.partition), value: null }));
        if (removeGroup) {
          // As Kafka: Dead at once, so a join meanwhile makes a new group, written after the tombstone.
          records.push({ key: groupMetadataKey(group.groupId), value: null });
          this.#dropGroup(load.groups, group);
        }
        try {
          for (let i = 0; i < records.length; i += TOMBSTONES_PER_APPEND_MAX) await this.#log.append(group.partition, records.slice(i, i + TOMBSTONES_PER_APPEND_MAX));
        } catch {
          // Kept in memory (a removed group stays removed here); the next check writes them again.
          result.failedAppends++;
          continue;
        }
        for (const o of expired) {
          const key = offsetKey(o.topic, o.partition);
          if ((group.appliedCommitSeq.get(key) ?? 0) > seq || group.pendingCommits.has(key)) continue;
          group.offsets.delete(key);
          group.appliedCommitSeq.set(key, seq);
          result.offsetsExpired++;
        }
        if (removeGroup) result.groupsRemoved++;
      }
    }
    return result;
  }

  /** Kafka's GroupMetadata.removeExpiredOffsets: which of the group's offsets are past the retention now. */
  #expiredOffsets(group: Group, nowMs: number, retentionMs: number): { topic: string; partition: number }[] {
    let since: (o: { commitTimestampMs: bigint }) => number;
    let keep = new Set<string>();
    if (group.protocolType !== null && group.is('Empty')) {
      // No member: counted from when the group became Empty (from the commit when that is not known).
      const emptySinceMs = Number(group.currentStateTimestampMs);
      since = (o) => (emptySinceMs >= 0 ? emptySinceMs : Number(o.commitTimestampMs));
    } else if (group.protocolType === null) {
      // Offsets committed outside any group generation (a standalone consumer): counted from each commit.
      since = (o) => Number(o.commitTimestampMs);
    } else if (group.protocolType === CONSUMER_PROTOCOL_TYPE && group.is('Stable')) {
      // Members consume: only topics none of them subscribes to, counted from each commit.
      const subscribed = this.#subscribedTopicsIfKnown(group);
      if (subscribed === null) return [];
      keep = subscribed;
      since = (o) => Number(o.commitTimestampMs);
    } else {
      return [];
    }
    // Offsets a transaction wrote and its marker has not decided yet are kept, as commits under way are.
    const pendingTxn = new Set<string>();
    for (const pending of group.pendingTxnOffsets.values()) for (const key of pending.keys()) pendingTxn.add(key);
    const expired: { topic: string; partition: number }[] = [];
    for (const [key, o] of group.offsets) {
      if (keep.has(o.topic) || group.pendingCommits.has(key) || pendingTxn.has(key)) continue;
      if (nowMs - since(o) >= retentionMs) expired.push({ topic: o.topic, partition: o.partition });
    }
    return expired;
  }

  /** Every member's subscribed topics, or null when one member's metadata is not the consumer protocol's. */
  #subscribedTopicsIfKnown(group: Group): Set<string> | null {
    const topics = new Set<string>();
    for (const m of group.members.values()) {
      try {
        for (const t of decodeSubscription(group.metadataOf(m)).topics) topics.add(t);
      } catch {
        return null;
      }
    }
    return topics;
  }

  // ------------------------------------------------------------------ Describe, list, delete

  async describeGroups(request: DescribeGroupsRequest): Promise<DescribeGroupsResponse> {
    if (!request || !Array.isArray(request.groups) || request.groups.length > MEMBERS_PER_REQUEST_MAX) throw invalid(`groups must be an array of at most ${MEMBERS_PER_REQUEST_MAX}`);
    for (const g of request.groups) checkGroupId(g);
    return {
      groups: request.groups.map((groupId): DescribedGroup => {
        const serving = this.#serving(groupId);
        const dead: DescribedGroup = { groupId, groupState: 'Dead', protocolType: '', protocolData: '', members: [] };
        if ('code' in serving) return { ...dead, error: serving };
        const group = serving.groups.get(groupId);
        if (!group) return dead;
        return {
          groupId, groupState: group.state, protocolType: group.protocolType ?? '', protocolData: group.protocolName ?? '',
          members: [...group.members.values()].map((m) => ({
            memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost,
            memberMetadata: group.metadataOf(m), memberAssignment: m.assignment,
          })),
        };
      }),
    };
  }

  async listGroups(request: ListGroupsRequest = {}): Promise<ListGroupsResponse> {
    const filter = request?.statesFilter?.length ? new Set(request.statesFilter) : null;
    const groups: ListGroupsResponse['groups'] = [];
    for (const load of this.#partitions.values()) {
      if (load.state !== 'active') continue;
      for (const g of load.groups.values()) {
        if (g.is('Dead') || (filter && !filter.has(g.state))) continue;
        groups.push({ groupId: g.groupId, protocolType: g.protocolType ?? '', groupState: g.state });
      }
    }
    return { groups: groups.sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0)) };
  }

  async deleteGroups(request: DeleteGroupsRequest): Promise<DeleteGroupsResponse> {
    if (!request || !Array.isArray(request.groupsNames) || request.groupsNames.length > MEMBERS_PER_REQUEST_MAX) throw invalid(`groupsNames must be an array of at most ${MEMBERS_PER_REQUEST_MAX}`);
    for (const g of request.groupsNames) checkGroupId(g);
    const results = await Promise.all(request.groupsNames.map(async (groupId) => {
      const serving = this.#serving(groupId);
      if ('code' in serving) return { groupId, error: serving };
      const group = serving.groups.get(groupId);
      if (!group || group.is('Dead')) return { groupId, error: errorJSON('GROUP_ID_NOT_FOUND', `group '${groupId}' does not exist`) };
      if (!group.is('Empty')) return { groupId, error: errorJSON('NON_EMPTY_GROUP', `group '${groupId}' has ${group.members.size} members (${group.state})`) };
      const records: { key: Uint8Array; value: null }[] = [...group.offsets.values()].map((o) => ({ key: offsetCommitKey(groupId, o.topic, o.partition), value: null }));
      records.push({ key: groupMetadataKey(groupId), value: null });
      try {
        await this.#log.append(group.partition, records);
      } catch (error) {
        return { groupId, error: coordinatorError(error) };
      }
      if (group.is('Empty')) this.#dropGroup(serving.groups, group);
      return { groupId };
    }));
    return { results };
  }
}

/** A transaction's marker on the group's offsets partition: its pending offsets are committed (unless a later commit won) or dropped. */
function applyTransactionMarker(group: Group, producerId: bigint, committed: boolean): void {
  const pending = group.pendingTxnOffsets.get(producerId);
  if (!pending) return;
  group.pendingTxnOffsets.delete(producerId);
  if (!committed) return;
  for (const [key, o] of pending) {
    if ((group.appliedCommitSeq.get(key) ?? -1) > o.seq) continue;
    group.appliedCommitSeq.set(key, o.seq);
    const { seq: _seq, ...offset } = o;
    group.offsets.set(key, offset);
  }
}

function restoreGroup(group: Group, stored: StoredGroup): void {
  group.protocolType = stored.protocolType || null;
  group.generationId = stored.generationId;
  group.protocolName = stored.protocolName;
  group.leaderId = stored.leaderId;
  group.currentStateTimestampMs = stored.currentStateTimestampMs;
  group.members.clear();
  group.staticMembers.clear();
  for (const m of stored.members) {
    group.members.set(m.memberId, {
      memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost,
      sessionTimeoutMs: m.sessionTimeoutMs, rebalanceTimeoutMs: m.rebalanceTimeoutMs, protocolType: stored.protocolType,
      protocols: stored.protocolName === null ? [] : [{ name: stored.protocolName, metadata: m.subscription }],
      assignment: m.assignment, joinWaiter: null, syncWaiter: null, sessionTimer: undefined,
    });
    if (m.groupInstanceId !== null) group.staticMembers.set(m.groupInstanceId, m.memberId);
  }
  group.state = group.members.size > 0 ? 'Stable' : 'Empty';
}

const INT64_MAX = (1n << 63n) - 1n;

function joinError(memberId: string, error: WafkaErrorJSON): JoinGroupResponse {
  return { error, generationId: -1, protocolType: null, protocolName: null, leader: '', skipAssignment: false, memberId, members: [] };
}

function sameProtocols(a: readonly { name: string; metadata: Uint8Array }[], b: readonly { name: string; metadata: Uint8Array }[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i].name !== b[i].name || a[i].metadata.byteLength !== b[i].metadata.byteLength) return false;
    for (let j = 0; j < a[i].metadata.byteLength; j++) if (a[i].metadata[j] !== b[i].metadata[j]) return false;
  }
  return true;
}

/**
 * What a member hears when a write to the offsets topic failed, as Kafka
 * maps it: leadership lost → NOT_COORDINATOR; not enough replicas or a
 * timeout → COORDINATOR_NOT_AVAILABLE; too large → INVALID_COMMIT_OFFSET_SIZE.
 */
export function coordinatorError(error: unknown): WafkaErrorJSON {
  const e = error instanceof WafkaError ? error : new WafkaError('UNKNOWN_SERVER_ERROR', String((error as Error)?.message ?? error));
  const why = e.message.startsWith(`${e.type}: `) ? e.message.slice(e.type.length + 2) : e.message;
  switch (e.type) {
    case 'NOT_LEADER_OR_FOLLOWER': case 'KAFKA_STORAGE_ERROR': case 'FENCED_LEADER_EPOCH': case 'BROKER_NOT_AVAILABLE':
      return errorJSON('NOT_COORDINATOR', `the offsets partition moved: ${e.type}: ${why}`);
    case 'UNKNOWN_TOPIC_OR_PARTITION': case 'NOT_ENOUGH_REPLICAS': case 'NOT_ENOUGH_REPLICAS_AFTER_APPEND': case 'REQUEST_TIMED_OUT': case 'LEADER_NOT_AVAILABLE':
      return errorJSON('COORDINATOR_NOT_AVAILABLE', `the offsets partition cannot take the write now: ${e.type}: ${why}`);
    case 'MESSAGE_TOO_LARGE': case 'RECORD_LIST_TOO_LARGE':
      return errorJSON('INVALID_COMMIT_OFFSET_SIZE', `${e.type}: ${why}`);
    default:
      return errorJSON('UNKNOWN_SERVER_ERROR', why);
  }
}

const invalid = (message: string) => new WafkaError('INVALID_REQUEST', message);

function checkGroupId(value: unknown): asserts value is string {
  if (typeof value !== 'string') throw invalid('groupId must be a string');
  if (new TextEncoder().encode(value).byteLength > GROUP_ID_BYTES_MAX) throw new WafkaError('INVALID_GROUP_ID', `group id of more than ${GROUP_ID_BYTES_MAX} B`);
}

function checkString(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string' || value.length > 0x7fff) throw invalid(`${what} must be a string of at most 32767 characters`);
}

function checkNullableString(value: unknown, what: string): void {
  if (value !== undefined && value !== null) checkString(value, what);
}

function checkInt32(value: unknown, what: string): void {
  if (!Number.isInteger(value) || (value as number) < -0x80000000 || (value as number) > 0x7fffffff) throw invalid(`${what} must be an int32`);
}

function checkTopics<P>(topics: unknown, check: (p: P) => void): void {
  if (!Array.isArray(topics) || topics.length > MEMBERS_PER_REQUEST_MAX) throw invalid(`topics must be an array of at most ${MEMBERS_PER_REQUEST_MAX}`);
  let count = 0;
  for (const t of topics) {
    if (!t || typeof t.topic !== 'string' || !Array.isArray(t.partitions)) throw invalid('each topic needs topic (string) and partitions (array)');
    count += t.partitions.length;
    if (count > 100_000) throw invalid('more than 100000 partitions in one request');
    for (const p of t.partitions as unknown[]) {
      const partition = typeof p === 'number' ? p : (p as { partition?: unknown } | null)?.partition;
      if (typeof partition !== 'number' || !Number.isInteger(partition) || partition < 0 || partition > 0x7fffffff) throw invalid(`partition ${String(partition)} of '${t.topic}'`);
      check(p as P);
    }
  }
}
