import { afterEach, describe, expect, test } from 'vitest';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, type FetchRequest, type ProduceRequest } from '../../src/protocol/types.ts';
import { batchOf, concat, readRecords, startTestCluster, type TestCluster } from './helpers.ts';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

async function oneBroker(config = {}) {
  cluster = await startTestCluster(1, config);
  return cluster.brokers[0];
}

const produce = (topic: string, partition: number, records: Uint8Array, acks: 0 | 1 | -1 = 1): ProduceRequest =>
  ({ acks, timeoutMs: 1000, topics: [{ topic, partitions: [{ partition, records }] }] });

const fetchOf = (topic: string, partition: number, fetchOffset: bigint, more: Partial<FetchRequest> = {}, partitionMaxBytes = 1 << 20): FetchRequest => ({
  maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 'read_uncommitted',
  topics: [{ topic, partitions: [{ partition, fetchOffset, partitionMaxBytes }] }], ...more,
});

describe('produce and fetch', () => {
  test('round trip: offsets assigned per batch, whole batches fetched back', async () => {
    const broker = await oneBroker();
    expect((await broker.createTopics({ topics: [{ topic: 't', numPartitions: 3 }] })).topics).toEqual([{ topic: 't' }]);
    const first = await broker.produce(produce('t', 1, concat(await batchOf(['a', 'b']), await batchOf(['c']))));
    expect(first.topics[0].partitions[0]).toMatchObject({ partition: 1, baseOffset: 0n, logStartOffset: 0n });
    expect(first.topics[0].partitions[0].error).toBeUndefined();
    const second = await broker.produce(produce('t', 1, await batchOf(['d'])));
    expect(second.topics[0].partitions[0].baseOffset).toBe(3n);

    const response = await broker.fetch(fetchOf('t', 1, 0n));
    const p = response.topics[0].partitions[0];
    expect(p).toMatchObject({ partition: 1, highWatermark: 4n, lastStableOffset: 4n, logStartOffset: 0n });
    expect(await readRecords(p.records)).toEqual([
      { offset: 0n, value: 'a', key: null }, { offset: 1n, value: 'b', key: null },
      { offset: 2n, value: 'c', key: null }, { offset: 3n, value: 'd', key: null },
    ]);
    // From the middle of a batch: the containing batch comes back whole, as Kafka does.
    expect((await readRecords((await broker.fetch(fetchOf('t', 1, 1n))).topics[0].partitions[0].records)).map((r) => r.offset)).toEqual([0n, 1n, 2n, 3n]);
    // At the log end: nothing, no error.
    expect((await broker.fetch(fetchOf('t', 1, 4n))).topics[0].partitions[0]).toMatchObject({ records: null, highWatermark: 4n });
  });

  test('acks=0 answers before the append, which still happens in order; acks=-1 is the leader append (RF=1)', async () => {
    const broker = await oneBroker();
    await broker.createTopics({ topics: [{ topic: 't' }] });
    const none = await broker.produce(produce('t', 0, await batchOf(['x']), 0));
    expect(none.topics[0].partitions[0].baseOffset).toBe(-1n);
    const all = await broker.produce(produce('t', 0, await batchOf(['y']), -1));
    expect(all.topics[0].partitions[0].baseOffset).toBe(1n);
    await expect(broker.produce({ ...produce('t', 0, await batchOf(['z'])), acks: 2 as 1 })).rejects.toMatchObject({ type: 'INVALID_REQUIRED_ACKS' });
  });

  test('fetch sizes: partitionMaxBytes and maxBytes, but at least one batch for the first partition with data', async () => {
    const broker = await oneBroker();
    await broker.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    const big = 'v'.repeat(1000);
    for (const p of [0, 1]) for (let i = 0; i < 3; i++) await broker.produce(produce('t', p, await batchOf([big])));
    const batchBytes = (await broker.fetch(fetchOf('t', 0, 0n, {}, 1))).topics[0].partitions[0].records!.byteLength;
    expect(batchBytes).toBeGreaterThan(1000);
    // Limit below one batch: one batch anyway (minOneMessage).
    expect((await readRecords((await broker.fetch(fetchOf('t', 0, 0n, {}, 10))).topics[0].partitions[0].records))).toHaveLength(1);
    // Limit of two and a half batches: two.
    expect(await readRecords((await broker.fetch(fetchOf('t', 0, 0n, {}, Math.floor(batchBytes * 2.5)))).topics[0].partitions[0].records)).toHaveLength(2);
    // maxBytes across partitions: the first partition takes the budget, the second gets nothing.
    const both = await broker.fetch({
      maxWaitMs: 0, minBytes: 0, maxBytes: batchBytes + 10, isolationLevel: 'read_uncommitted',
      topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }, { partition: 1, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
    });
    expect(await readRecords(both.topics[0].partitions[0].records)).toHaveLength(1);
    expect(both.topics[0].partitions[1]).toMatchObject({ records: null, highWatermark: 3n });
  });

  test('long poll: an append wakes a parked fetch; with no data it ends at maxWaitMs', async () => {
    const broker = await oneBroker();
    await broker.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    const startedMs = Date.now();
    const parked = broker.fetch(fetchOf('t', 1, 0n, { minBytes: 1, maxWaitMs: 10_000 }));
    await new Promise((r) => setTimeout(r, 50));
    await broker.produce(produce('t', 1, await batchOf(['wake'])));
    const woken = await parked;
    expect(Date.now() - startedMs).toBeLessThan(2000);
    expect((await readRecords(woken.topics[0].partitions[0].records)).map((r) => r.value)).toEqual(['wake']);

    // An append to another partition does not answer it; maxWaitMs does.
    const t0 = Date.now();
    const timedOut = broker.fetch(fetchOf('t', 1, 1n, { minBytes: 1, maxWaitMs: 300 }));
    await broker.produce(produce('t', 0, await batchOf(['elsewhere'])));
    const answer = await timedOut;
    const waitedMs = Date.now() - t0;
    expect(waitedMs).toBeGreaterThanOrEqual(290);
    expect(waitedMs).toBeLessThan(2000);
    expect(answer.topics[0].partitions[0]).toMatchObject({ records: null, highWatermark: 1n });
  });

  test('minBytes: waits until enough bytes arrived over several appends', async () => {
    const broker = await oneBroker();
    await broker.createTopics({ topics: [{ topic: 't' }] });
    const one = await batchOf(['12345']);
    const parked = broker.fetch(fetchOf('t', 0, 0n, { minBytes: one.byteLength * 3, maxWaitMs: 10_000 }));
    for (let i = 0; i < 3; i++) await broker.produce(produce('t', 0, await batchOf(['12345'])));
    expect(await readRecords((await parked).topics[0].partitions[0].records)).toHaveLength(3);
  });

  test('parked fetches are bounded: beyond waitingFetchesMax a fetch answers at once', async () => {
    const broker = await oneBroker({ waitingFetchesMax: 2 });
    await broker.createTopics({ topics: [{ topic: 't' }] });
    const long = () => broker.fetch(fetchOf('t', 0, 0n, { minBytes: 1, maxWaitMs: 5_000 }));
    const parked = [long(), long()];
    await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    await long();
    expect(Date.now() - t0).toBeLessThan(1000);
    await broker.produce(produce('t', 0, await batchOf(['go'])));
    await Promise.all(parked);
  });

  test('a fetch names at most requestPartitionsMax partitions', async () => {
    const broker = await oneBroker({ requestPartitionsMax: 3 });
    const request = fetchOf('t', 0, 0n);
    request.topics[0].partitions = [0, 1, 2, 3].map((partition) => ({ partition, fetchOffset: 0n, partitionMaxBytes: 1 }));
    await expect(broker.fetch(request)).rejects.toMatchObject({ type: 'INVALID_REQUEST' });
  });
});

describe('list offsets, delete records', () => {
  test('earliest, latest, by timestamp; DeleteRecords moves the log start', async () => {
    const broker = await oneBroker();
    await broker.createTopics({ topics: [{ topic: 't' }] });
    await broker.produce(produce('t', 0, await batchOf(['a', 'b'], { timestamp: 1000 })));
    await broker.produce(produce('t', 0, await batchOf(['c'], { timestamp: 2000 })));
    const list = async (timestamp: bigint) => (await broker.listOffsets({
      isolationLevel: 'read_uncommitted', topics: [{ topic: 't', partitions: [{ partition: 0, timestamp }] }],
    })).topics[0].partitions[0];
    expect(await list(EARLIEST_TIMESTAMP)).toMatchObject({ offset: 0n });
    expect(await list(LATEST_TIMESTAMP)).toMatchObject({ offset: 3n });
    expect(await list(500n)).toMatchObject({ offset: 0n, timestamp: 1000n });
    expect(await list(1500n)).toMatchObject({ offset: 2n, timestamp: 2000n });
    expect(await list(3000n)).toMatchObject({ offset: -1n, timestamp: -1n });

    const deleted = await broker.deleteRecords({ topics: [{ topic: 't', partitions: [{ partition: 0, offset: 2n }] }] });
    expect(deleted.topics[0].partitions[0]).toEqual({ partition: 0, lowWatermark: 2n });
    expect(await list(EARLIEST_TIMESTAMP)).toMatchObject({ offset: 2n });
    const below = await broker.fetch(fetchOf('t', 0, 0n));
    expect(below.topics[0].partitions[0].error).toMatchObject({ type: 'OFFSET_OUT_OF_RANGE', code: 1 });
    const beyond = await broker.deleteRecords({ topics: [{ topic: 't', partitions: [{ partition: 0, offset: 9n }] }] });
    expect(beyond.topics[0].partitions[0].error).toMatchObject({ type: 'OFFSET_OUT_OF_RANGE' });
  });
});

describe('admin', () => {
  test('create topics: round-robin over brokers, any broker answers metadata, per-topic errors', async () => {
    cluster = await startTestCluster(3);
    const [b0, b1, b2] = cluster.brokers;
    const created = await b0.createTopics({
      topics: [
        { topic: 'orders', numPartitions: 6 },
        { topic: 'orders', numPartitions: 1 },
        { topic: 'bad name!' },
        { topic: 'rf2', replicationFactor: 2 },
        { topic: 'cfg', configEntries: [{ name: 'retention.ms', value: 'soon' }] },
        { topic: 'zero', numPartitions: 0 },
      ],
    });
    expect(created.topics.map((t) => t.error?.type)).toEqual([
      'INVALID_REQUEST', 'INVALID_REQUEST', 'INVALID_TOPIC_EXCEPTION', 'INVALID_REPLICATION_FACTOR', 'INVALID_CONFIG', 'INVALID_PARTITIONS',
    ]);
    expect((await b0.createTopics({ topics: [{ topic: 'orders', numPartitions: 6 }] })).topics[0].error).toBeUndefined();
    expect((await b1.createTopics({ topics: [{ topic: 'orders' }] })).topics[0].error).toMatchObject({ type: 'TOPIC_ALREADY_EXISTS', code: 36 });

    const metadata = await b2.metadata({ topics: ['orders', 'missing'], allowAutoTopicCreation: false });
    expect(metadata.clusterId).toBe('test');
    expect(metadata.brokers.map((b) => b.nodeId)).toEqual([0, 1, 2]);
    const leaders = metadata.topics[0].partitions.map((p) => p.leader);
    expect(leaders).toEqual([0, 1, 2, 0, 1, 2].map((_, i) => leaders[0] === 0 ? i % 3 : (leaders[0] + i) % 3));
    expect(new Set(leaders).size).toBe(3);
    expect(metadata.topics[0].partitions[0]).toMatchObject({ replicas: [leaders[0]], isr: [leaders[0]], leaderEpoch: 0 });
    expect(metadata.topics[1]).toMatchObject({ name: 'missing', partitions: [], error: { type: 'UNKNOWN_TOPIC_OR_PARTITION' } });

    // Each leader takes produce for its partitions; the others say NOT_LEADER_OR_FOLLOWER.
    for (const p of metadata.topics[0].partitions) {
      const leader = cluster.brokers[p.leader];
      const other = cluster.brokers[(p.leader + 1) % 3];
      expect((await leader.produce(produce('orders', p.partitionId, await batchOf(['x'])))).topics[0].partitions[0].error).toBeUndefined();
      expect((await other.produce(produce('orders', p.partitionId, await batchOf(['x'])))).topics[0].partitions[0].error)
        .toMatchObject({ type: 'NOT_LEADER_OR_FOLLOWER', code: 6, retriable: true });
    }
  });

  test('delete topics removes the logs; a re-created topic starts empty', async () => {
    const broker = await oneBroker();
    await broker.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    await broker.produce(produce('t', 0, await batchOf(['old'])));
    expect((await broker.deleteTopics({ topics: ['t', 'nope'] })).topics.map((t) => t.error?.type)).toEqual([undefined, 'UNKNOWN_TOPIC_OR_PARTITION']);
    expect((await broker.produce(produce('t', 0, await batchOf(['x'])))).topics[0].partitions[0].error).toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect(await cluster!.backends[0].list('t-0')).toEqual([]);
    await broker.createTopics({ topics: [{ topic: 't' }] });
    const fresh = await broker.produce(produce('t', 0, await batchOf(['new'])));
    expect(fresh.topics[0].partitions[0].baseOffset).toBe(0n);
    expect((await readRecords((await broker.fetch(fetchOf('t', 0, 0n))).topics[0].partitions[0].records)).map((r) => r.value)).toEqual(['new']);
  });

  test('create partitions: only more, new ones usable at once', async () => {
    cluster = await startTestCluster(2);
    const [b0, b1] = cluster.brokers;
    await b0.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    expect((await b1.createPartitions({ topicPartitions: [{ topic: 't', count: 2 }] })).topics[0].error).toMatchObject({ type: 'INVALID_PARTITIONS' });
    expect((await b1.createPartitions({ topicPartitions: [{ topic: 'x', count: 2 }] })).topics[0].error).toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect((await b1.createPartitions({ topicPartitions: [{ topic: 't', count: 5 }] })).topics[0].error).toBeUndefined();
    const partitions = (await b0.metadata({ topics: ['t'] })).topics[0].partitions;
    expect(partitions.map((p) => p.partitionId)).toEqual([0, 1, 2, 3, 4]);
    for (const p of partitions) {
      const r = await cluster.brokers[p.leader].produce(produce('t', p.partitionId, await batchOf(['v'])));
      expect(r.topics[0].partitions[0].error).toBeUndefined();
    }
  });

  test('describe and alter topic configs: defaults, overrides, Kafka names, validation', async () => {
    const broker = await oneBroker({ topicDefaults: { retentionMs: 60_000 } });
    await broker.createTopics({ topics: [{ topic: 't', configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] });
    const describe = async (configNames?: string[]) => (await broker.describeConfigs({ resources: [{ type: 'topic', name: 't', configNames }] })).resources[0];
    const all = await describe();
    expect(all.configEntries.find((e) => e.name === 'cleanupPolicy')).toMatchObject({ value: 'compact', isDefault: false });
    expect(all.configEntries.find((e) => e.name === 'retentionMs')).toMatchObject({ value: '60000', isDefault: true });
    expect((await describe(['max.message.bytes'])).configEntries).toEqual([
      { name: 'max.message.bytes', value: '1048588', isDefault: true, readOnly: false, isSensitive: false },
    ]);

    const altered = await broker.alterConfigs({ resources: [
      { type: 'topic', name: 't', configEntries: [{ name: 'maxMessageBytes', value: '5000' }] },
      { type: 'topic', name: 'nope', configEntries: [] },
      { type: 'topic', name: 't', configEntries: [{ name: 'segment.bytes', value: '-5' }] },
      { type: 'broker', name: '0', configEntries: [] },
    ] });
    expect(altered.resources.map((r) => r.error?.type)).toEqual([undefined, 'UNKNOWN_TOPIC_OR_PARTITION', 'INVALID_CONFIG', 'INVALID_REQUEST']);
    // AlterConfigs replaces the overrides (Kafka's non-incremental semantics): cleanupPolicy is back to default.
    const after = await describe(['maxMessageBytes', 'cleanupPolicy']);
    expect(after.configEntries).toMatchObject([{ value: '5000', isDefault: false }, { value: 'delete', isDefault: true }]);
    // The new maxMessageBytes applies to the open log.
    const tooBig = await broker.produce(produce('t', 0, await batchOf(['x'.repeat(6000)])));
    expect(tooBig.topics[0].partitions[0].error).toMatchObject({ type: 'MESSAGE_TOO_LARGE', code: 10 });

    const brokerConfig = (await broker.describeConfigs({ resources: [{ type: 'broker', name: '0' }] })).resources[0];
    expect(brokerConfig.configEntries.find((e) => e.name === 'allowAutoTopicCreation')).toMatchObject({ value: 'true', readOnly: true });
  });

  test('auto-creation (Kafka auto.create.topics.enable): on by default, by Metadata only, numPartitions partitions, refusable', async () => {
    const on = await oneBroker({ numPartitions: 2 });
    // As in Kafka, a produce request does not create a topic; the client's Metadata request does.
    expect((await on.produce(produce('auto', 0, await batchOf(['x'])))).topics[0].partitions[0].error).toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect((await on.metadata({ topics: ['refused'], allowAutoTopicCreation: false })).topics[0].error).toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect((await on.metadata({ topics: ['auto'] })).topics[0].partitions).toHaveLength(2);
    expect((await on.produce(produce('auto', 1, await batchOf(['x'])))).topics[0].partitions[0]).toMatchObject({ baseOffset: 0n });
    // Listing all topics (topics: null) creates nothing; a bad name is answered, not created.
    expect((await on.metadata({ topics: null })).topics.map((t) => t.name)).toEqual(['auto']);
    expect((await on.metadata({ topics: ['bad/name'] })).topics[0].error).toMatchObject({ type: 'INVALID_TOPIC_EXCEPTION' });
    expect((await on.metadata({ topics: null })).topics.map((t) => t.name)).toEqual(['auto']);
    await cluster!.close();

    const off = await oneBroker({ allowAutoTopicCreation: false });
    expect((await off.metadata({ topics: ['auto'] })).topics[0].error).toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect((await off.metadata({ topics: null })).topics).toEqual([]);
  });

  test('auto-created topics take the default of 1 partition (Kafka num.partitions)', async () => {
    const broker = await oneBroker();
    expect((await broker.metadata({ topics: ['first-use'] })).topics[0].partitions).toHaveLength(1);
  });

  test('limits: topics, partitions per topic, partitions in the cluster', async () => {
    const broker = await oneBroker({ topicsMax: 2, partitionsPerTopicMax: 4, partitionsTotalMax: 6 });
    const r = await broker.createTopics({ topics: [{ topic: 'a', numPartitions: 5 }, { topic: 'b', numPartitions: 4 }, { topic: 'c', numPartitions: 3 }, { topic: 'd' }] });
    expect(r.topics.map((t) => t.error?.type)).toEqual(['INVALID_PARTITIONS', undefined, 'POLICY_VIOLATION', undefined]);
    expect((await broker.createTopics({ topics: [{ topic: 'e' }] })).topics[0].error).toMatchObject({ type: 'POLICY_VIOLATION' });
  });

  test('metrics count requests, batches, records and bytes', async () => {
    const broker = await oneBroker();
    await broker.createTopics({ topics: [{ topic: 't' }] });
    const records = concat(await batchOf(['a', 'b', 'c']), await batchOf(['d']));
    const size = records.byteLength;
    await broker.produce(produce('t', 0, records));
    await broker.produce(produce('t', 0, await batchOf(['e'])));
    await broker.produce(produce('nope', 0, await batchOf(['e'])));
    await broker.fetch(fetchOf('t', 0, 0n));
    const m = await broker.metrics();
    expect(m).toMatchObject({ nodeId: 0, produceRequests: 3, batchesAppended: 3, recordsAppended: 5, fetchRequests: 1 });
    expect(m.bytesAppended).toBeGreaterThan(size);
    expect(m.bytesFetched).toBe(m.bytesAppended);
    expect(m.errors).toEqual({ UNKNOWN_TOPIC_OR_PARTITION: 1 });
  });
});

describe('restart on the same storage', () => {
  test('topics, data and offsets come back', async () => {
    cluster = await startTestCluster(2);
    await cluster.brokers[0].createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    const leaders = (await cluster.brokers[0].metadata({ topics: ['t'] })).topics[0].partitions.map((p) => p.leader);
    for (const [p, leader] of leaders.entries()) await cluster.brokers[leader].produce(produce('t', p, await batchOf([`p${p}-a`, `p${p}-b`])));
    await cluster.restart(0);
    await cluster.restart(1);
    for (const [p, leader] of leaders.entries()) {
      const broker = cluster.brokers[leader];
      expect((await readRecords((await broker.fetch(fetchOf('t', p, 0n))).topics[0].partitions[0].records)).map((r) => r.value)).toEqual([`p${p}-a`, `p${p}-b`]);
      expect((await broker.produce(produce('t', p, await batchOf(['c'])))).topics[0].partitions[0].baseOffset).toBe(2n);
    }
  });

  test('a closed broker refuses requests', async () => {
    const broker = await oneBroker();
    await broker.close();
    await expect(broker.metadata({})).rejects.toMatchObject({ type: 'BROKER_NOT_AVAILABLE' });
  });
});

describe('maintenance', () => {
  test('retention by size runs on the maintenance pass and moves the log start', async () => {
    const broker = await oneBroker();
    await broker.createTopics({ topics: [{ topic: 't', configEntries: [
      { name: 'segment.bytes', value: '1024' }, { name: 'retention.bytes', value: '2048' },
    ] }] });
    for (let i = 0; i < 20; i++) await broker.produce(produce('t', 0, await batchOf(['r'.repeat(300)])));
    const earliest = async () => (await broker.listOffsets({
      isolationLevel: 'read_uncommitted', topics: [{ topic: 't', partitions: [{ partition: 0, timestamp: EARLIEST_TIMESTAMP }] }],
    })).topics[0].partitions[0].offset;
    expect(await earliest()).toBe(0n);
    await broker.runMaintenance();
    expect(await earliest()).toBeGreaterThan(10n);
    expect((await broker.fetch(fetchOf('t', 0, 0n))).topics[0].partitions[0].error).toMatchObject({ type: 'OFFSET_OUT_OF_RANGE' });
  });
});
