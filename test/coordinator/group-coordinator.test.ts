import { describe, expect, it } from 'vitest';
import { WafkaError } from '../../src/errors.ts';
import { GroupCoordinator, type GroupCoordinatorConfig } from '../../src/coordinator/group/group-coordinator.ts';
import { decodeOffsetsTopicRecord, groupPartition, type OffsetsTopicRecord } from '../../src/coordinator/group/offsets-topic-records.ts';
import { encodeAssignment, encodeSubscription, decodeAssignment } from '../../src/protocol/consumer-protocol.ts';
import type { JoinGroupRequest, JoinGroupResponse } from '../../src/protocol/types.ts';
import { SimScheduler } from '../../src/sim/scheduler.ts';

/** The offsets topic as a list of raw records; `failNext` makes the next append fail as a lost leadership would. */
class MemoryOffsetsLog {
  readonly records: { partition: number; key: Uint8Array; value: Uint8Array | null; producerId?: bigint; marker?: { producerId: bigint; committed: boolean } }[] = [];
  failNext: WafkaError | null = null;
  async append(partition: number, records: { key: Uint8Array; value: Uint8Array | null }[]): Promise<void> {
    if (this.failNext) { const e = this.failNext; this.failNext = null; throw e; }
    for (const r of records) this.records.push({ partition, ...r });
  }
  async appendTransactional(partition: number, records: { key: Uint8Array; value: Uint8Array | null }[], producerId: bigint): Promise<void> {
    if (this.failNext) { const e = this.failNext; this.failNext = null; throw e; }
    for (const r of records) this.records.push({ partition, ...r, producerId });
  }
  /** A transaction's marker on a partition (the broker tells the coordinator at once, and replay meets it in the log). */
  marker(partition: number, producerId: bigint, committed: boolean): void {
    this.records.push({ partition, key: new Uint8Array(0), value: null, marker: { producerId, committed } });
  }
  async *replay(partition: number): AsyncIterable<OffsetsTopicRecord[]> {
    yield this.records.filter((r) => r.partition === partition).map((r, i): OffsetsTopicRecord => {
      if (r.marker) return { kind: 'marker', ...r.marker };
      const record = decodeOffsetsTopicRecord(r.key, r.value);
      return record.kind === 'offset' ? { ...record, logOffset: BigInt(i), transactionalProducerId: r.producerId ?? null } : record;
    });
  }
}

const GROUP = 'orders';
const PARTITIONS = 4;

async function setUp(config: Partial<GroupCoordinatorConfig> = {}) {
  const clock = new SimScheduler(7);
  const log = new MemoryOffsetsLog();
  const coordinator = new GroupCoordinator({ nodeId: 1, clock, log, config: { offsetsTopicNumPartitions: PARTITIONS, ...config } });
  for (let p = 0; p < PARTITIONS; p++) await coordinator.load(p, 0, log.replay(p));
  return { clock, log, coordinator };
}

const protocols = (topics: string[]) => [{ name: 'roundrobin', metadata: encodeSubscription({ topics }) }];
const joinRequest = (memberId = '', extra: Partial<JoinGroupRequest> = {}): JoinGroupRequest => ({
  groupId: GROUP, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 20_000, memberId, protocolType: 'consumer',
  protocols: protocols(['t']), clientId: 'c', ...extra,
});

/** Runs the clock until `promise` settles (timers the coordinator set may be what settles it). */
async function settle<T>(clock: SimScheduler, promise: Promise<T>): Promise<T> {
  return clock.settle(promise, 60_000);
}

/** A dynamic member's first join: MEMBER_ID_REQUIRED, then the join with the id it was given. */
async function join(clock: SimScheduler, c: GroupCoordinator, extra: Partial<JoinGroupRequest> = {}): Promise<{ wait: Promise<JoinGroupResponse> }> {
  const first = await c.joinGroup(joinRequest('', extra));
  expect(first.error?.type).toBe('MEMBER_ID_REQUIRED');
  return { wait: c.joinGroup(joinRequest(first.memberId, extra)) };
}

async function stableGroupOfOne(clock: SimScheduler, c: GroupCoordinator) {
  const joined = await settle(clock, (await join(clock, c)).wait);
  expect(joined.error).toBeUndefined();
  const assignment = encodeAssignment({ assignedPartitions: [{ topic: 't', partitions: [0, 1] }] });
  const synced = await settle(clock, c.syncGroup({ groupId: GROUP, generationId: joined.generationId, memberId: joined.memberId, assignments: [{ memberId: joined.memberId, assignment }] }));
  expect(synced.error).toBeUndefined();
  return { joined, synced };
}

describe('group coordinator', () => {
  it('puts a group on partition abs(String.hashCode) % n, as Kafka does', () => {
    // Java: "hello".hashCode() == 99162322; "polygenelubricants".hashCode() == Integer.MIN_VALUE (Utils.abs maps it to 0).
    expect(groupPartition('hello', 50)).toBe(99162322 % 50);
    expect(groupPartition('polygenelubricants', 50)).toBe(0);
    expect(groupPartition('', 7)).toBe(0);
  });

  it('a first join gets MEMBER_ID_REQUIRED, the second completes the rebalance; the leader sync makes the group Stable', async () => {
    const { clock, coordinator } = await setUp();
    const { joined, synced } = await stableGroupOfOne(clock, coordinator);
    expect(joined.generationId).toBe(1);
    expect(joined.leader).toBe(joined.memberId);
    expect(joined.members.map((m) => m.memberId)).toEqual([joined.memberId]);
    expect(joined.protocolName).toBe('roundrobin');
    expect(decodeAssignment(synced.assignment).assignedPartitions).toEqual([{ topic: 't', partitions: [0, 1] }]);
    const described = await coordinator.describeGroups({ groups: [GROUP] });
    expect(described.groups[0].groupState).toBe('Stable');
  });

  it('a second member makes the group rebalance: the first hears REBALANCE_IN_PROGRESS, both join generation 2', async () => {
    const { clock, coordinator: c } = await setUp();
    const { joined: a } = await stableGroupOfOne(clock, c);
    const bJoin = (await join(clock, c)).wait;
    const hb = await c.heartbeat({ groupId: GROUP, generationId: a.generationId, memberId: a.memberId });
    expect(hb.error?.type).toBe('REBALANCE_IN_PROGRESS');
    const aJoin = c.joinGroup(joinRequest(a.memberId));
    const [a2, b2] = await settle(clock, Promise.all([aJoin, bJoin]));
    expect(a2.generationId).toBe(2);
    expect(b2.generationId).toBe(2);
    expect(a2.leader).toBe(a.memberId);
    expect(a2.members).toHaveLength(2);
    expect(b2.members).toHaveLength(0);
    // The old generation is refused.
    const old = await c.heartbeat({ groupId: GROUP, generationId: 1, memberId: a.memberId });
    expect(old.error?.type).toBe('ILLEGAL_GENERATION');
  });

  it('a member that stops heartbeating is removed after its session timeout and the group rebalances', async () => {
    const { clock, coordinator: c } = await setUp();
    const { joined } = await stableGroupOfOne(clock, c);
    await clock.runFor(9_000);
    expect((await c.heartbeat({ groupId: GROUP, generationId: 1, memberId: joined.memberId })).error).toBeUndefined();
    await clock.runFor(10_001);
    const hb = await c.heartbeat({ groupId: GROUP, generationId: 1, memberId: joined.memberId });
    expect(hb.error?.type).toBe('UNKNOWN_MEMBER_ID');
    expect((await c.describeGroups({ groups: [GROUP] })).groups[0].groupState).toBe('Empty');
  });

  it('a member that leaves makes the rebalance happen at once', async () => {
    const { clock, coordinator: c } = await setUp();
    const { joined: a } = await stableGroupOfOne(clock, c);
    const bJoin = (await join(clock, c)).wait;
    const a2 = c.joinGroup(joinRequest(a.memberId));
    const [first, b] = await settle(clock, Promise.all([a2, bJoin]));
    await settle(clock, Promise.all([
      c.syncGroup({ groupId: GROUP, generationId: 2, memberId: first.memberId, assignments: [] }),
      c.syncGroup({ groupId: GROUP, generationId: 2, memberId: b.memberId, assignments: [] }),
    ]));
    const before = clock.nowMs();
    const left = await c.leaveGroup({ groupId: GROUP, members: [{ memberId: b.memberId }] });
    expect(left.members[0].error).toBeUndefined();
    const rejoined = await settle(clock, c.joinGroup(joinRequest(a.memberId)));
    expect(rejoined.generationId).toBe(3);
    expect(rejoined.members).toHaveLength(1);
    expect(clock.nowMs() - before).toBeLessThan(1_000);
  });

  it('a static member that restarts within its session gets its assignment back without a rebalance; the old instance is fenced', async () => {
    const { clock, coordinator: c } = await setUp();
    const first = await settle(clock, c.joinGroup(joinRequest('', { groupInstanceId: 'tab-1' })));
    expect(first.error).toBeUndefined();
    const assignment = encodeAssignment({ assignedPartitions: [{ topic: 't', partitions: [3] }] });
    await settle(clock, c.syncGroup({ groupId: GROUP, generationId: 1, memberId: first.memberId, groupInstanceId: 'tab-1', assignments: [{ memberId: first.memberId, assignment }] }));
    const again = await settle(clock, c.joinGroup(joinRequest('', { groupInstanceId: 'tab-1' })));
    expect(again.error).toBeUndefined();
    expect(again.generationId).toBe(1);
    expect(again.memberId).not.toBe(first.memberId);
    expect(again.skipAssignment).toBe(true);
    const synced = await settle(clock, c.syncGroup({ groupId: GROUP, generationId: 1, memberId: again.memberId, groupInstanceId: 'tab-1', assignments: [] }));
    expect(decodeAssignment(synced.assignment).assignedPartitions).toEqual([{ topic: 't', partitions: [3] }]);
    const fenced = await c.heartbeat({ groupId: GROUP, generationId: 1, memberId: first.memberId, groupInstanceId: 'tab-1' });
    expect(fenced.error?.type).toBe('FENCED_INSTANCE_ID');
    expect((await c.describeGroups({ groups: [GROUP] })).groups[0].groupState).toBe('Stable');
  });

  it('commits: acknowledged once written, fetched back; bad ones get typed errors and change nothing', async () => {
    const { clock, log, coordinator: c } = await setUp({ offsetMetadataMaxBytes: 8 });
    const { joined } = await stableGroupOfOne(clock, c);
    const ok = await c.offsetCommit({ groupId: GROUP, generationId: 1, memberId: joined.memberId, topics: [{ topic: 't', partitions: [{ partition: 0, committedOffset: 42n }] }] });
    expect(ok.topics[0].partitions[0].error).toBeUndefined();
    const stored = log.records.length;
    const cases: [Parameters<GroupCoordinator['offsetCommit']>[0], string][] = [
      [{ groupId: GROUP, generationId: 9, memberId: joined.memberId, topics: [{ topic: 't', partitions: [{ partition: 0, committedOffset: 1n }] }] }, 'ILLEGAL_GENERATION'],
      [{ groupId: GROUP, generationId: 1, memberId: 'someone-else', topics: [{ topic: 't', partitions: [{ partition: 0, committedOffset: 1n }] }] }, 'UNKNOWN_MEMBER_ID'],
      [{ groupId: GROUP, generationId: 1, memberId: joined.memberId, topics: [{ topic: 't', partitions: [{ partition: 0, committedOffset: 1n, committedMetadata: 'much too long' }] }] }, 'OFFSET_METADATA_TOO_LARGE'],
      [{ groupId: GROUP, generationId: -1, memberId: '', topics: [{ topic: 't', partitions: [{ partition: 0, committedOffset: 1n }] }] }, 'UNKNOWN_MEMBER_ID'],
      [{ groupId: 'no-such-group', generationId: 3, memberId: joined.memberId, topics: [{ topic: 't', partitions: [{ partition: 0, committedOffset: 1n }] }] }, 'ILLEGAL_GENERATION'],
    ];
    for (const [request, type] of cases) {
      const response = await c.offsetCommit(request);
      expect(response.topics[0].partitions[0].error?.type, type).toBe(type);
    }
    expect(log.records.length).toBe(stored);
    const fetched = await c.offsetFetch({ groupId: GROUP, topics: [{ topic: 't', partitions: [0, 1] }] });
    expect(fetched.topics[0].partitions.map((p) => p.committedOffset)).toEqual([42n, -1n]);
    await expect(c.offsetCommit({ groupId: GROUP, generationId: 1, memberId: joined.memberId, topics: [{ topic: 't', partitions: [{ partition: 0, committedOffset: 5 as unknown as bigint }] }] }))
      .rejects.toMatchObject({ type: 'INVALID_REQUEST' });
  });

  it('a commit whose write fails is not acknowledged and not applied', async () => {
    const { clock, log, coordinator: c } = await setUp();
    const { joined } = await stableGroupOfOne(clock, c);
    log.failNext = new WafkaError('NOT_LEADER_OR_FOLLOWER', 'moved');
    const r = await c.offsetCommit({ groupId: GROUP, generationId: 1, memberId: joined.memberId, topics: [{ topic: 't', partitions: [{ partition: 0, committedOffset: 7n }] }] });
    expect(r.topics[0].partitions[0].error?.type).toBe('NOT_COORDINATOR');
    const fetched = await c.offsetFetch({ groupId: GROUP, topics: [{ topic: 't', partitions: [0] }] });
    expect(fetched.topics[0].partitions[0].committedOffset).toBe(-1n);
  });

  it('another coordinator replaying the partition has the group and its offsets; meanwhile COORDINATOR_LOAD_IN_PROGRESS; unloaded: NOT_COORDINATOR', async () => {
    const { clock, log, coordinator: c } = await setUp();
    const { joined } = await stableGroupOfOne(clock, c);
    await c.offsetCommit({ groupId: GROUP, generationId: 1, memberId: joined.memberId, topics: [{ topic: 't', partitions: [{ partition: 1, committedOffset: 9n, committedMetadata: 'm' }] }] });
    c.unload(groupPartition(GROUP, PARTITIONS));
    expect((await c.heartbeat({ groupId: GROUP, generationId: 1, memberId: joined.memberId })).error?.type).toBe('NOT_COORDINATOR');

    const next = new GroupCoordinator({ nodeId: 2, clock, log, config: { offsetsTopicNumPartitions: PARTITIONS } });
    const partition = groupPartition(GROUP, PARTITIONS);
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const loading = next.load(partition, 1, (async function* () { await gate; yield* log.replay(partition); })());
    expect((await next.heartbeat({ groupId: GROUP, generationId: 1, memberId: joined.memberId })).error?.type).toBe('COORDINATOR_LOAD_IN_PROGRESS');
    release();
    await loading;
    expect((await next.heartbeat({ groupId: GROUP, generationId: 1, memberId: joined.memberId })).error).toBeUndefined();
    const fetched = await next.offsetFetch({ groupId: GROUP, topics: null });
    expect(fetched.topics).toEqual([{ topic: 't', partitions: [{ partition: 1, committedOffset: 9n, committedLeaderEpoch: -1, metadata: 'm' }] }]);
    const d = (await next.describeGroups({ groups: [GROUP] })).groups[0];
    expect(d.groupState).toBe('Stable');
    expect(decodeAssignment(d.members[0].memberAssignment).assignedPartitions).toEqual([{ topic: 't', partitions: [0, 1] }]);
  });

  it('deleteGroups: NON_EMPTY_GROUP while members remain, GROUP_ID_NOT_FOUND for none; a deleted group has no offsets after replay', async () => {
    const { clock, log, coordinator: c } = await setUp();
    const { joined } = await stableGroupOfOne(clock, c);
    await c.offsetCommit({ groupId: GROUP, generationId: 1, memberId: joined.memberId, topics: [{ topic: 't', partitions: [{ partition: 0, committedOffset: 3n }] }] });
    expect((await c.deleteGroups({ groupsNames: [GROUP, 'nope'] })).results.map((r) => r.error?.type)).toEqual(['NON_EMPTY_GROUP', 'GROUP_ID_NOT_FOUND']);
    await c.leaveGroup({ groupId: GROUP, members: [{ memberId: joined.memberId }] });
    await clock.runFor(1);
    expect((await c.deleteGroups({ groupsNames: [GROUP] })).results[0].error).toBeUndefined();
    expect((await c.listGroups({})).groups).toEqual([]);
    const next = new GroupCoordinator({ nodeId: 2, clock, log, config: { offsetsTopicNumPartitions: PARTITIONS } });
    const partition = groupPartition(GROUP, PARTITIONS);
    await next.load(partition, 1, log.replay(partition));
    expect((await next.offsetFetch({ groupId: GROUP, topics: null })).topics).toEqual([]);
    expect((await next.listGroups({})).groups).toEqual([]);
  });

  it('limits: members per group, metadata bytes, session timeout bounds, group id', async () => {
    const { clock, coordinator: c } = await setUp({ groupMaxSize: 1, groupMemberMetadataBytesMax: 64 });
    await stableGroupOfOne(clock, c);
    expect((await c.joinGroup(joinRequest(''))).error?.type).toBe('GROUP_MAX_SIZE_REACHED');
    const big = await c.joinGroup(joinRequest('', { groupId: 'other', protocols: [{ name: 'x', metadata: new Uint8Array(65) }] }));
    expect(big.error?.type).toBe('MESSAGE_TOO_LARGE');
    expect((await c.joinGroup(joinRequest('', { groupId: 'other', sessionTimeoutMs: 10 }))).error?.type).toBe('INVALID_SESSION_TIMEOUT');
    expect((await c.joinGroup(joinRequest('', { groupId: '' }))).error?.type).toBe('INVALID_GROUP_ID');
    expect((await c.listGroups({})).groups.map((g) => g.groupId)).toEqual([GROUP]);
  });

  it('a member id from another group is UNKNOWN_MEMBER_ID, and a sync of a wrong generation ILLEGAL_GENERATION', async () => {
    const { clock, coordinator: c } = await setUp();
    const { joined } = await stableGroupOfOne(clock, c);
    const other = await c.joinGroup(joinRequest(joined.memberId, { groupId: 'payments' }));
    expect(other.error?.type).toBe('UNKNOWN_MEMBER_ID');
    const sync = await c.syncGroup({ groupId: GROUP, generationId: 5, memberId: joined.memberId, assignments: [] });
    expect(sync.error?.type).toBe('ILLEGAL_GENERATION');
  });

  describe('offset retention (offsetsRetentionMinutes, checked every offsetsRetentionCheckIntervalMs)', () => {
    const RETENTION = { offsetsRetentionMinutes: 60, offsetsRetentionCheckIntervalMs: 60_000 };
    const MINUTE_MS = 60_000;
    const committed = async (c: GroupCoordinator) =>
      (await c.offsetFetch({ groupId: GROUP, topics: null })).topics.flatMap((t) => t.partitions.map((p) => `${t.topic}-${p.partition}=${p.committedOffset}`));
    /** Runs the clock `ms` on, the member heartbeating every 5 s so that it stays in the group. */
    const heartbeatFor = async (clock: SimScheduler, c: GroupCoordinator, memberId: string, ms: number) => {
      for (let t = 0; t < ms; t += 5_000) {
        expect((await c.heartbeat({ groupId: GROUP, generationId: 1, memberId })).error).toBeUndefined();
        await clock.runFor(5_000);
      }
    };

    it("a Stable group keeps its subscribed topics' offsets, loses the others' after the retention; once Empty all expire the retention after, and the group goes; tombstones keep them gone after a replay", async () => {
      const { clock, log, coordinator: c } = await setUp(RETENTION);
      const { joined } = await stableGroupOfOne(clock, c);
      await c.offsetCommit({ groupId: GROUP, generationId: 1, memberId: joined.memberId, topics: [
        { topic: 't', partitions: [{ partition: 0, committedOffset: 3n }] },
        { topic: 'u', partitions: [{ partition: 0, committedOffset: 7n }] },
      ] });
      await heartbeatFor(clock, c, joined.memberId, 59 * MINUTE_MS);
      expect(await committed(c)).toEqual(['t-0=3', 'u-0=7']);
      await heartbeatFor(clock, c, joined.memberId, 3 * MINUTE_MS);
      // 'u' is no member's subscription: its offset expired; 't' is subscribed: kept however old.
      expect(await committed(c)).toEqual(['t-0=3']);

      await c.leaveGroup({ groupId: GROUP, members: [{ memberId: joined.memberId }] });
      await clock.runFor(1);
      expect((await c.describeGroups({ groups: [GROUP] })).groups[0].groupState).toBe('Empty');
      await clock.runFor(58 * MINUTE_MS);
      expect(await committed(c)).toEqual(['t-0=3']);
      await clock.runFor(3 * MINUTE_MS);
      expect(await committed(c)).toEqual([]);
      expect((await c.listGroups({})).groups).toEqual([]);
      expect((await c.describeGroups({ groups: [GROUP] })).groups[0].groupState).toBe('Dead');

      // Another coordinator replaying the partition: the tombstones hold.
      const next = new GroupCoordinator({ nodeId: 2, clock, log, config: { offsetsTopicNumPartitions: PARTITIONS, ...RETENTION } });
      const partition = groupPartition(GROUP, PARTITIONS);
      await next.load(partition, 1, log.replay(partition));
      expect(await committed(next)).toEqual([]);
      expect((await next.listGroups({})).groups).toEqual([]);
      next.close();
      c.close();
    });

    it('offsets committed outside a generation expire the retention after their own commit; a failed write keeps them for the next check; a group with none left is removed', async () => {
      // Checked by hand here: the periodic check would run first.
      const config = { offsetsRetentionMinutes: 60, offsetsRetentionCheckIntervalMs: 30 * 24 * 60 * MINUTE_MS };
      const { clock, log, coordinator: c } = await setUp(config);
      const commit = (partition: number, offset: bigint) => c.offsetCommit({ groupId: GROUP, generationId: -1, memberId: '', topics: [{ topic: 'x', partitions: [{ partition, committedOffset: offset }] }] });
      await commit(0, 1n);
      await clock.runFor(30 * MINUTE_MS);
      await commit(1, 2n);
      await clock.runFor(31 * MINUTE_MS);
      expect(await c.expireOffsets()).toEqual({ offsetsExpired: 1, groupsRemoved: 0, failedAppends: 0 });
      expect(await committed(c)).toEqual(['x-1=2']);
      // The same offset committed again: counted from the new commit.
      await clock.runFor(28 * MINUTE_MS);
      await commit(1, 3n);
      await clock.runFor(59 * MINUTE_MS);
      expect(await c.expireOffsets()).toEqual({ offsetsExpired: 0, groupsRemoved: 0, failedAppends: 0 });
      await clock.runFor(2 * MINUTE_MS);
      log.failNext = new WafkaError('NOT_ENOUGH_REPLICAS', 'the ISR is too small');
      expect(await c.expireOffsets()).toEqual({ offsetsExpired: 0, groupsRemoved: 0, failedAppends: 1 });
      // The write failed: the group is gone here, and the log still has the offset, which a replay brings back.
      const partition = groupPartition(GROUP, PARTITIONS);
      const next = new GroupCoordinator({ nodeId: 2, clock, log, config: { offsetsTopicNumPartitions: PARTITIONS, ...config } });
      await next.load(partition, 1, log.replay(partition));
      expect(await committed(next)).toEqual(['x-1=3']);
      expect(await next.expireOffsets()).toEqual({ offsetsExpired: 1, groupsRemoved: 1, failedAppends: 0 });
      expect(await committed(next)).toEqual([]);
      expect((await next.listGroups({})).groups).toEqual([]);
      const third = new GroupCoordinator({ nodeId: 3, clock, log, config: { offsetsTopicNumPartitions: PARTITIONS, ...config } });
      await third.load(partition, 2, log.replay(partition));
      expect(await committed(third)).toEqual([]);
      expect((await third.listGroups({})).groups).toEqual([]);
      for (const x of [c, next, third]) x.close();
    });
  });

  describe('transactional offset commits (TxnOffsetCommit, KIP-447)', () => {
    const txnCommit = (c: GroupCoordinator, offset: bigint, extra: { producerId?: bigint; generationId?: number; memberId?: string } = {}) => c.txnOffsetCommit({
      transactionalId: 'tx', groupId: GROUP, producerId: extra.producerId ?? 9n, producerEpoch: 0, generationId: extra.generationId ?? -1, memberId: extra.memberId ?? '',
      topics: [{ topic: 't', partitions: [{ partition: 0, committedOffset: offset }] }],
    });
    const fetch = async (c: GroupCoordinator, requireStable: boolean) => (await c.offsetFetch({ groupId: GROUP, topics: [{ topic: 't', partitions: [0] }], requireStable })).topics[0].partitions[0];

    it('are held pending until the COMMIT marker (requireStable: UNSTABLE_OFFSET_COMMIT meanwhile); an ABORT drops them', async () => {
      const { coordinator: c, log } = await setUp();
      const partition = c.partitionFor(GROUP);
      const plain = await c.offsetCommit({ groupId: GROUP, generationId: -1, memberId: '', topics: [{ topic: 't', partitions: [{ partition: 0, committedOffset: 5n }] }] });
      expect(plain.topics[0].partitions[0].error).toBeUndefined();
      expect((await txnCommit(c, 10n)).topics[0].partitions[0].error).toBeUndefined();
      expect(log.records.at(-1)?.producerId).toBe(9n);
      expect((await fetch(c, false)).committedOffset).toBe(5n);
      expect((await fetch(c, true)).error?.type).toBe('UNSTABLE_OFFSET_COMMIT');
      c.transactionMarker(partition, 9n, true);
      expect((await fetch(c, true)).committedOffset).toBe(10n);
      await txnCommit(c, 20n);
      c.transactionMarker(partition, 9n, false);
      expect((await fetch(c, true)).committedOffset).toBe(10n);
      // A marker of another producer decides nothing of this one's.
      await txnCommit(c, 30n);
      c.transactionMarker(partition, 8n, true);
      expect((await fetch(c, true)).error?.type).toBe('UNSTABLE_OFFSET_COMMIT');
    });

    it('a coordinator failover keeps them right: replay holds what has no marker yet and applies what has', async () => {
      const { coordinator: c, log, clock } = await setUp();
      const partition = c.partitionFor(GROUP);
      await txnCommit(c, 10n, { producerId: 1n });
      log.marker(partition, 1n, true);
      await txnCommit(c, 20n, { producerId: 2n });
      log.marker(partition, 2n, false);
      await txnCommit(c, 30n, { producerId: 3n });
      const next = new GroupCoordinator({ nodeId: 2, clock, log, config: { offsetsTopicNumPartitions: PARTITIONS } });
      await next.load(partition, 1, log.replay(partition));
      expect((await fetch(next, false)).committedOffset).toBe(10n);
      expect((await fetch(next, true)).error?.type).toBe('UNSTABLE_OFFSET_COMMIT');
      next.transactionMarker(partition, 3n, true);
      expect((await fetch(next, true)).committedOffset).toBe(30n);
    });

    it('a plain commit written after a transaction\'s offsets wins when that transaction commits later', async () => {
      const { coordinator: c, log, clock } = await setUp();
      const partition = c.partitionFor(GROUP);
      await txnCommit(c, 10n);
      await c.offsetCommit({ groupId: GROUP, generationId: -1, memberId: '', topics: [{ topic: 't', partitions: [{ partition: 0, committedOffset: 50n }] }] });
      c.transactionMarker(partition, 9n, true);
      log.marker(partition, 9n, true);
      expect((await fetch(c, true)).committedOffset).toBe(50n);
      const next = new GroupCoordinator({ nodeId: 2, clock, log, config: { offsetsTopicNumPartitions: PARTITIONS } });
      await next.load(partition, 1, log.replay(partition));
      expect((await fetch(next, true)).committedOffset).toBe(50n);
    });

    it('checks the member and generation when the request names them (a zombie copier is refused)', async () => {
      const { clock, coordinator: c } = await setUp();
      const { joined } = await stableGroupOfOne(clock, c);
      expect((await txnCommit(c, 1n, { generationId: joined.generationId + 1, memberId: joined.memberId })).topics[0].partitions[0].error?.type).toBe('ILLEGAL_GENERATION');
      expect((await txnCommit(c, 1n, { generationId: joined.generationId, memberId: 'stranger' })).topics[0].partitions[0].error?.type).toBe('UNKNOWN_MEMBER_ID');
      expect((await txnCommit(c, 1n, { generationId: joined.generationId, memberId: joined.memberId })).topics[0].partitions[0].error).toBeUndefined();
      // Without a generation (KafkaJS's sendOffsets({ consumerGroupId })), as Kafka accepts it.
      expect((await txnCommit(c, 2n)).topics[0].partitions[0].error).toBeUndefined();
    });
  });
});
