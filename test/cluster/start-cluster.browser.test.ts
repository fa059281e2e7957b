// A cluster of broker dedicated workers in real Chromium, on OPFS and on
// IndexedDB: produce, fetch, typed errors and transferred bytes across the
// worker boundary (and handed back once written), stop, restart on the same storage, read again.
import { afterEach, describe, expect, test } from 'vitest';
import { removeClusterStorage } from './browser-cluster-storage.ts';
import { startCluster, type Cluster } from '../../src/cluster/start-cluster.ts';
import { connectCluster } from '../../src/cluster/connect-cluster.ts';
import { loadCore } from '../../src/core/index.ts';
import { WafkaError } from '../../src/errors.ts';
import { pooledBufferBytes } from '../../src/buffer-pool.ts';
import { batchOf, produceTo, valuesAt } from '../broker/helpers.ts';

const BROKERS = 3;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

describe.each(['opfs', 'indexeddb'] as const)('broker workers on %s', (storage) => {
  test('produce, fetch, errors and transfer through workers; restart on the same storage', async () => {
    await loadCore();
    const clusterId = `browser-${storage}-${crypto.randomUUID().slice(0, 8)}`;
    cleanups.push(() => removeClusterStorage(clusterId, BROKERS));
    let cluster: Cluster = await startCluster({ brokers: BROKERS, storage, clusterId });
    cleanups.push(() => cluster.stop());
    expect(cluster.bootstrap).toEqual({ clusterId, nodeIds: [0, 1, 2], transport: 'worker' });

    await cluster.brokers[0].createTopics({ topics: [{ topic: 'clicks', numPartitions: 3 }] });
    const leaders = (await cluster.brokers[2].metadata({ topics: ['clicks'] })).topics[0].partitions.map((p) => p.leader);
    expect(new Set(leaders).size).toBe(3);
    for (const [p, leader] of leaders.entries()) {
      const records = await batchOf([`c${p}-0`, `c${p}-1`, `c${p}-2`]);
      const buffer = records.buffer;
      const size = buffer.byteLength;
      const pooled = pooledBufferBytes();
      const pending = cluster.broker(leader).produce(produceTo('clicks', p, records));
      expect(buffer.byteLength).toBe(0); // transferred to the worker, not cloned
      expect((await pending).topics[0].partitions[0]).toMatchObject({ baseOffset: 0n });
      // Once written, the worker handed the buffer back to this realm's pool.
      expect(pooledBufferBytes()).toBe(pooled + size);
    }
    for (const [p, leader] of leaders.entries()) expect(await valuesAt(cluster.broker(leader), 'clicks', p)).toEqual([`c${p}-0`, `c${p}-1`, `c${p}-2`]);

    const thrown = await cluster.brokers[1].fetch({
      maxWaitMs: -5, minBytes: 0, maxBytes: 1, isolationLevel: 'read_uncommitted', topics: [],
    }).catch((e) => e);
    expect(thrown).toBeInstanceOf(WafkaError);
    expect(thrown).toMatchObject({ type: 'INVALID_REQUEST', code: 42, retriable: false });
    const corrupt = await batchOf(['bad']);
    corrupt[corrupt.byteLength - 2] ^= 0xff;
    const rejected = await cluster.broker(leaders[0]).produce(produceTo('clicks', 0, corrupt));
    expect(rejected.topics[0].partitions[0].error).toMatchObject({ type: 'CORRUPT_MESSAGE', code: 2 });

    await cluster.stop();
    cluster = await startCluster({ brokers: BROKERS, storage, clusterId });
    expect((await cluster.brokers[0].metadata({ topics: ['clicks'] })).topics[0].partitions.map((p) => p.leader)).toEqual(leaders);
    for (const [p, leader] of leaders.entries()) {
      expect(await valuesAt(cluster.broker(leader), 'clicks', p)).toEqual([`c${p}-0`, `c${p}-1`, `c${p}-2`]);
      const next = await cluster.broker(leader).produce(produceTo('clicks', p, await batchOf(['after restart'])));
      expect(next.topics[0].partitions[0].baseOffset).toBe(3n);
    }
    await cluster.stop();
  });
});

test('the controller and each broker id are Web Locks: a second cluster on the same storage waits, then fails typed', async () => {
  await loadCore();
  const clusterId = `lock-${crypto.randomUUID().slice(0, 8)}`;
  cleanups.push(() => removeClusterStorage(clusterId, BROKERS));
  const owner = await startCluster({ brokers: 1, storage: 'indexeddb', clusterId });
  cleanups.push(() => owner.stop());
  const held = ((await navigator.locks.query()).held ?? []).map((l) => l.name);
  expect(held).toEqual(expect.arrayContaining([`wafka:${clusterId}:controller`, `wafka:${clusterId}:broker:0`]));
  const error = await startCluster({ brokers: 1, storage: 'indexeddb', clusterId, lockWaitMs: 200 }).catch((e) => e);
  expect(error).toBeInstanceOf(WafkaError);
  expect(error).toMatchObject({ type: 'BROKER_NOT_AVAILABLE' });
  expect(error.message).toContain(`wafka:${clusterId}:controller`);
  // The first cluster's controller keeps deciding: its lease was never taken.
  await owner.brokers[0].createTopics({ topics: [{ topic: 'still-owned', numPartitions: 1 }] });
  await owner.stop();
  // The browser frees a lock once its holder's callback promise has settled, a task after the worker reported it stopped.
  const heldAfterStop = async () => ((await navigator.locks.query()).held ?? []).map((l) => l.name ?? '').filter((n) => n.startsWith(`wafka:${clusterId}:`));
  for (let i = 0; i < 40 && (await heldAfterStop()).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  expect(await heldAfterStop()).toEqual([]);
});

test('a client elsewhere reaches the brokers through transferred MessagePorts', async () => {
  await loadCore();
  const clusterId = `ports-${crypto.randomUUID().slice(0, 8)}`;
  cleanups.push(() => removeClusterStorage(clusterId, BROKERS));
  const cluster = await startCluster({ brokers: 2, storage: 'indexeddb', clusterId, allowAutoTopicCreation: true });
  cleanups.push(() => cluster.stop());
  const connection = connectCluster({ clusterId, ports: cluster.bootstrap.nodeIds.map((id) => cluster.connectPort(id)) });
  cleanups.push(async () => connection.close());
  const leader = (await connection.brokers[0].metadata({ topics: ['auto'] })).topics[0].partitions[0].leader;
  await connection.broker(leader).produce(produceTo('auto', 0, await batchOf(['hello'])));
  expect(await valuesAt(cluster.broker(leader), 'auto', 0)).toEqual(['hello']);
});
