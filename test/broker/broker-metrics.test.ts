import { afterEach, describe, expect, test } from 'vitest';
import { recordsInBatches } from '../../src/broker/broker-metrics.ts';
import { startCluster, type Cluster } from '../../src/index.ts';
import { loadCore } from '../../src/core/index.ts';
import { batchOf, concat } from './helpers.ts';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition not reached after 500 polls');
}

describe('broker metrics', () => {
  test('records in whole batches: counted from the headers, a partial trailing batch left out', async () => {
    await loadCore();
    const two = concat(await batchOf(['a', 'b', 'c']), await batchOf(['d']));
    expect(recordsInBatches(two)).toBe(4);
    expect(recordsInBatches(two.subarray(0, two.byteLength - 1))).toBe(3);
    expect(recordsInBatches(new Uint8Array(0))).toBe(0);
  });

  test('per topic traffic counts leader appends and consumer fetches only; replicas show offsets, segments and bytes', async () => {
    cluster = await startCluster({ storage: 'memory', brokers: 2 });
    const [b0] = cluster.brokers;
    await b0.createTopics({ topics: [{ topic: 't', numPartitions: 1, replicationFactor: 2 }] });
    const { topics: [{ partitions: [p] }] } = await until(() => b0.metadata({ topics: ['t'] }), (m) => m.topics[0].partitions[0]?.isr.length === 2);
    const leader = cluster.broker(p.leader);
    const follower = cluster.broker(p.replicas.find((r) => r !== p.leader)!);
    const records = concat(await batchOf(['a', 'b', 'c']), await batchOf(['d']));
    const produced = await leader.produce({ acks: -1, timeoutMs: 5000, topics: [{ topic: 't', partitions: [{ partition: 0, records }] }] });
    expect(produced.topics[0].partitions[0].error).toBeUndefined();
    const fetched = await leader.fetch({
      maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 'read_uncommitted',
      topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
    });
    const fetchedBytes = fetched.topics[0].partitions[0].records!.byteLength;

    const m = await leader.metrics();
    expect(m.storage).toBe('memory');
    expect(m.host).toBe('in-process');
    expect(m.topics).toEqual([{ topic: 't', recordsAppended: 4, bytesAppended: records.byteLength, recordsFetched: 4, bytesFetched: fetchedBytes }]);
    expect(m.replicas).toEqual([expect.objectContaining({
      topic: 't', partition: 0, role: 'leader', logStartOffset: '0', logEndOffset: '4', highWatermark: '4', segmentCount: 1, sizeBytes: records.byteLength,
    })]);
    expect(m.cluster.brokers.map((b) => [b.nodeId, b.fenced])).toEqual([[0, false], [1, false]]);
    expect(m.cluster.metadataVersion).toBeGreaterThan(0);

    // The follower appended the same batches, but produced nothing and served no consumer.
    const f = await until(() => follower.metrics(), (x) => x.replicas[0]?.logEndOffset === '4');
    expect(f.recordsAppended).toBe(4);
    expect(f.topics).toEqual([]);
    expect(f.replicas[0]).toMatchObject({ role: 'follower', segmentCount: 1, sizeBytes: records.byteLength });

    // A deleted topic's traffic and replicas are gone.
    await b0.deleteTopics({ topics: ['t'] });
    const after = await until(() => leader.metrics(), (x) => x.replicas.length === 0);
    expect(after.topics).toEqual([]);
  });
});
