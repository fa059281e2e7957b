// A fetch that reads a lot from synchronous storage (memory, files) gives the event loop turns.
import { afterEach, describe, expect, test } from 'vitest';
import { FETCH_TURN_BYTES } from '../../src/broker/broker.ts';
import type { FetchRequest } from '../../src/protocol/types.ts';
import { batchOf, produceTo, startTestCluster, type TestCluster } from './helpers.ts';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

describe('fetch turns', () => {
  test('a fetch reading more than FETCH_TURN_BYTES lets macrotasks run before it answers', async () => {
    cluster = await startTestCluster(1);
    const broker = cluster.brokers[0];
    const partitions = 4;
    await broker.createTopics({ topics: [{ topic: 't', numPartitions: partitions }] });
    const value = 'v'.repeat(1000);
    const batch = await batchOf(Array.from({ length: 200 }, () => value));
    const perPartitionBytes = FETCH_TURN_BYTES / 2 + batch.byteLength;
    for (let p = 0; p < partitions; p++) {
      for (let bytes = 0; bytes < perPartitionBytes; bytes += batch.byteLength) await broker.produce(produceTo('t', p, batch));
    }
    const fetchAll = (maxBytes: number): FetchRequest => ({
      maxWaitMs: 0, minBytes: 0, maxBytes, isolationLevel: 'read_uncommitted', replicaId: -1,
      topics: [{ topic: 't', partitions: Array.from({ length: partitions }, (_, partition) => ({ partition, fetchOffset: 0n, partitionMaxBytes: FETCH_TURN_BYTES })) }],
    });
    let macrotasks = 0;
    let probing = true;
    const probe = () => { if (!probing) return; macrotasks++; setImmediate(probe); };
    setImmediate(probe);
    const response = await broker.fetch(fetchAll(4 * FETCH_TURN_BYTES));
    probing = false;
    const bytes = response.topics[0].partitions.reduce((n, p) => n + (p.records?.byteLength ?? 0), 0);
    expect(bytes).toBeGreaterThan(2 * FETCH_TURN_BYTES);
    expect(macrotasks).toBeGreaterThanOrEqual(Math.floor(bytes / FETCH_TURN_BYTES) - 1);
  });
});
