/** Broker edge cases from review: parked fetches, fetch budgets, per-partition errors, partition growth. */
import { afterEach, describe, expect, test } from 'vitest';
import type { FetchRequest, ProduceRequest } from '../../src/protocol/types.ts';
import { batchOf, readRecords, startTestCluster, type TestCluster } from './helpers.ts';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const produce = (topic: string, partition: number, records: Uint8Array): ProduceRequest =>
  ({ acks: 1, timeoutMs: 1000, topics: [{ topic, partitions: [{ partition, records }] }] });

const fetchReq = (parts: { topic: string; partition: number; fetchOffset: bigint; partitionMaxBytes?: number }[], more: Partial<FetchRequest> = {}): FetchRequest => ({
  maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 'read_uncommitted',
  topics: [...new Set(parts.map((p) => p.topic))].map((topic) => ({
    topic,
    partitions: parts.filter((p) => p.topic === topic).map((p) => ({ partition: p.partition, fetchOffset: p.fetchOffset, partitionMaxBytes: p.partitionMaxBytes ?? 1 << 20 })),
  })),
  ...more,
});

describe('broker review', () => {
  test('DeleteTopics answers a fetch parked on the topic at once, with UNKNOWN_TOPIC_OR_PARTITION', async () => {
    cluster = await startTestCluster(2);
    const [b0, b1] = cluster.brokers;
    await b0.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    const leader = (await b0.metadata({ topics: ['t'] })).topics[0].partitions[0].leader;
    const t0 = Date.now();
    const parked = cluster.brokers[leader].fetch(fetchReq([{ topic: 't', partition: 0, fetchOffset: 0n }], { minBytes: 1, maxWaitMs: 10_000 }));
    await new Promise((r) => setTimeout(r, 30));
    await (leader === 0 ? b1 : b0).deleteTopics({ topics: ['t'] });
    const answer = await parked;
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(answer.topics[0].partitions[0].error).toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
  });

  test('fetch budget: an empty first partition does not use up minOneMessage; later partitions only what fits', async () => {
    cluster = await startTestCluster(1);
    const broker = cluster.brokers[0];
    await broker.createTopics({ topics: [{ topic: 't', numPartitions: 3 }] });
    const big = await batchOf(['v'.repeat(1000)]);
    await broker.produce(produce('t', 1, big));
    await broker.produce(produce('t', 2, await batchOf(['small'])));
    const r = await broker.fetch(fetchReq([
      { topic: 't', partition: 0, fetchOffset: 0n },
      { topic: 't', partition: 1, fetchOffset: 0n },
      { topic: 't', partition: 2, fetchOffset: 0n },
    ], { maxBytes: 100 }));
    const [p0, p1, p2] = r.topics[0].partitions;
    expect(p0.records).toBeNull();
    expect(await readRecords(p1.records)).toHaveLength(1);
    expect(p2.records).toBeNull();
    expect(p2.highWatermark).toBe(1n);
  });

  test('errors stay per partition: one bad offset, one unknown partition, one good', async () => {
    cluster = await startTestCluster(1);
    const broker = cluster.brokers[0];
    await broker.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    await broker.produce(produce('t', 0, await batchOf(['a'])));
    await broker.produce(produce('t', 1, await batchOf(['b'])));
    const r = await broker.fetch(fetchReq([
      { topic: 't', partition: 0, fetchOffset: 5n },
      { topic: 't', partition: 1, fetchOffset: 0n },
      { topic: 't', partition: 7, fetchOffset: 0n },
    ]));
    const [p0, p1, p7] = r.topics[0].partitions;
    expect(p0.error).toMatchObject({ type: 'OFFSET_OUT_OF_RANGE' });
    expect((await readRecords(p1.records)).map((x) => x.value)).toEqual(['b']);
    expect(p7.error).toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
  });

  test('fetch at the log end is empty, not an error; after DeleteRecords below the start is OFFSET_OUT_OF_RANGE', async () => {
    cluster = await startTestCluster(1);
    const broker = cluster.brokers[0];
    await broker.createTopics({ topics: [{ topic: 't' }] });
    for (let i = 0; i < 3; i++) await broker.produce(produce('t', 0, await batchOf([`v${i}`])));
    const atEnd = await broker.fetch(fetchReq([{ topic: 't', partition: 0, fetchOffset: 3n }]));
    expect(atEnd.topics[0].partitions[0]).toMatchObject({ records: null, highWatermark: 3n });
    expect(atEnd.topics[0].partitions[0].error).toBeUndefined();
    await broker.deleteRecords({ timeoutMs: 1000, topics: [{ topic: 't', partitions: [{ partition: 0, offset: 2n }] }] });
    const below = await broker.fetch(fetchReq([{ topic: 't', partition: 0, fetchOffset: 1n }]));
    expect(below.topics[0].partitions[0].error).toMatchObject({ type: 'OFFSET_OUT_OF_RANGE' });
  });

  test('CreatePartitions keeps the existing partitions, their leaders and their data; a parked fetch still wakes', async () => {
    cluster = await startTestCluster(2);
    const [b0] = cluster.brokers;
    await b0.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    const before = (await b0.metadata({ topics: ['t'] })).topics[0].partitions;
    for (const p of before) await cluster.brokers[p.leader].produce(produce('t', p.partitionId, await batchOf([`p${p.partitionId}`])));
    const leader0 = before[0].leader;
    const parked = cluster.brokers[leader0].fetch(fetchReq([{ topic: 't', partition: 0, fetchOffset: 1n }], { minBytes: 1, maxWaitMs: 10_000 }));
    await new Promise((r) => setTimeout(r, 20));
    expect((await b0.createPartitions({ topicPartitions: [{ topic: 't', count: 4 }] })).topics[0].error).toBeUndefined();
    const after = (await b0.metadata({ topics: ['t'] })).topics[0].partitions;
    expect(after.slice(0, 2)).toEqual(before);
    await cluster.brokers[leader0].produce(produce('t', 0, await batchOf(['later'])));
    expect((await readRecords((await parked).topics[0].partitions[0].records)).map((x) => x.value)).toEqual(['later']);
    for (const p of before) {
      const r = await cluster.brokers[p.leader].fetch(fetchReq([{ topic: 't', partition: p.partitionId, fetchOffset: 0n }]));
      expect((await readRecords(r.topics[0].partitions[0].records))[0].value).toBe(`p${p.partitionId}`);
    }
  });
});
