import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { connectCluster } from '../../src/cluster/connect-cluster.ts';
import { startCluster, type Cluster } from '../../src/cluster/start-cluster.ts';
import { loadCore } from '../../src/core/index.ts';
import { WafkaError } from '../../src/errors.ts';
import type { BrokerApi } from '../../src/protocol/types.ts';
import { batchOf, produceTo, valuesAt } from '../broker/helpers.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wafka-cluster-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }));
  return dir;
}

async function started(cluster: Promise<Cluster>): Promise<Cluster> {
  const c = await cluster;
  cleanups.push(() => c.stop());
  return c;
}

async function leadersOf(cluster: { brokers: BrokerApi[] }, topic: string): Promise<number[]> {
  return (await cluster.brokers[0].metadata({ topics: [topic] })).topics[0].partitions.map((p) => p.leader);
}

describe('startCluster on Node worker threads with files', () => {
  test('produce, fetch, typed errors and transfer across the worker boundary; restart reads it all again', async () => {
    await loadCore();
    const dir = await tempDir();
    let cluster = await startCluster({ brokers: 3, storage: 'files', dir, clusterId: 'node-files' });
    try {
      expect(cluster.inProcess).toBe(false);
      expect(cluster.bootstrap).toEqual({ clusterId: 'node-files', nodeIds: [0, 1, 2], transport: 'worker' });
      expect((await cluster.brokers[1].createTopics({ topics: [{ topic: 'events', numPartitions: 6 }] })).topics[0].error).toBeUndefined();
      const leaders = await leadersOf(cluster, 'events');
      expect(new Set(leaders)).toEqual(new Set([0, 1, 2]));
      for (const [p, leader] of leaders.entries()) {
        const records = await batchOf([`e${p}-0`, `e${p}-1`]);
        const buffer = records.buffer;
        const pending = cluster.broker(leader).produce(produceTo('events', p, records));
        // Transferred, not cloned: the sender's buffer is detached as soon as it is sent.
        expect(buffer.byteLength).toBe(0);
        const response = await pending;
        expect(response.topics[0].partitions[0]).toMatchObject({ baseOffset: 0n });
      }
      for (const [p, leader] of leaders.entries()) expect(await valuesAt(cluster.broker(leader), 'events', p)).toEqual([`e${p}-0`, `e${p}-1`]);

      // A per-partition error is data; a request-level error is a thrown WafkaError, rebuilt on this side.
      const notLeader = await cluster.broker((leaders[0] + 1) % 3).produce(produceTo('events', 0, await batchOf(['x'])));
      expect(notLeader.topics[0].partitions[0].error).toMatchObject({ type: 'NOT_LEADER_OR_FOLLOWER', code: 6, retriable: true });
      const thrown = await cluster.brokers[0].produce({ ...produceTo('events', 0, await batchOf(['x'])), acks: 3 as 1 }).catch((e) => e);
      expect(thrown).toBeInstanceOf(WafkaError);
      expect(thrown).toMatchObject({ type: 'INVALID_REQUIRED_ACKS', code: 21, retriable: false });

      await cluster.stop();
      expect((await readdir(dir)).sort()).toEqual(['broker-0', 'broker-1', 'broker-2', 'metadata.json']);

      cluster = await startCluster({ brokers: 3, storage: 'files', dir, clusterId: 'node-files' });
      expect(await leadersOf(cluster, 'events')).toEqual(leaders);
      for (const [p, leader] of leaders.entries()) {
        expect(await valuesAt(cluster.broker(leader), 'events', p)).toEqual([`e${p}-0`, `e${p}-1`]);
        const next = await cluster.broker(leader).produce(produceTo('events', p, await batchOf(['after'])));
        expect(next.topics[0].partitions[0].baseOffset).toBe(2n);
      }
      const metrics = await Promise.all(cluster.brokers.map((b) => b.metrics()));
      expect(metrics.reduce((n, m) => n + m.batchesAppended, 0)).toBe(6);
    } finally {
      await cluster.stop();
    }
  });

  test('a second client connects through a MessagePort from the cluster handle', async () => {
    await loadCore();
    const cluster = await started(startCluster({ brokers: 2, storage: 'files', dir: await tempDir(), clusterId: 'ports', allowAutoTopicCreation: true }));
    const connection = connectCluster({ clusterId: 'ports', ports: cluster.bootstrap.nodeIds.map((id) => cluster.connectPort(id)) });
    cleanups.push(async () => connection.close());
    const metadata = await connection.broker(1).metadata({ topics: ['auto'] });
    expect(metadata.topics[0].partitions).toHaveLength(1);
    const leader = metadata.topics[0].partitions[0].leader;
    await connection.broker(leader).produce(produceTo('auto', 0, await batchOf(['via port'])));
    expect(await valuesAt(cluster.broker(leader), 'auto', 0)).toEqual(['via port']);
    expect(() => connection.broker(7)).toThrow(/no broker 7/);
  });

  test('stop answers parked fetches, then calls fail with BROKER_NOT_AVAILABLE', async () => {
    await loadCore();
    const cluster = await started(startCluster({ brokers: 1, storage: 'files', dir: await tempDir(), clusterId: 'dies' }));
    await cluster.brokers[0].createTopics({ topics: [{ topic: 't' }] });
    const parked = cluster.brokers[0].fetch({
      maxWaitMs: 20_000, minBytes: 1, maxBytes: 100, isolationLevel: 'read_uncommitted',
      topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 100 }] }],
    });
    await new Promise((r) => setTimeout(r, 200)); // let the fetch reach the broker and park
    await cluster.stop();
    await expect(parked).resolves.toBeDefined(); // answered on close with what there was
    await expect(cluster.brokers[0].metadata({})).rejects.toMatchObject({ type: 'BROKER_NOT_AVAILABLE' });
  });
});

describe('startCluster in-process', () => {
  test('memory: a working cluster without workers', async () => {
    await loadCore();
    const cluster = await started(startCluster({ brokers: 2, storage: 'memory', clusterId: 'mem' }));
    expect(cluster.bootstrap.transport).toBe('in-process');
    await cluster.brokers[0].createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    const leaders = await leadersOf(cluster, 't');
    expect(leaders.sort()).toEqual([0, 1]);
    for (const [p, leader] of (await leadersOf(cluster, 't')).entries()) {
      await cluster.broker(leader).produce(produceTo('t', p, await batchOf([`m${p}`])));
      expect(await valuesAt(cluster.broker(leader), 't', p)).toEqual([`m${p}`]);
    }
  });

  test('files in this thread: restart recovers topics and records', async () => {
    await loadCore();
    const dir = await tempDir();
    const first = await startCluster({ brokers: 2, storage: 'files', dir, clusterId: 'inproc', inProcess: true });
    await first.brokers[0].createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    const leaders = await leadersOf(first, 't');
    for (const [p, leader] of leaders.entries()) await first.broker(leader).produce(produceTo('t', p, await batchOf([`f${p}`])));
    await first.stop();
    const second = await started(startCluster({ brokers: 2, storage: 'files', dir, clusterId: 'inproc', inProcess: true }));
    for (const [p, leader] of leaders.entries()) expect(await valuesAt(second.broker(leader), 't', p)).toEqual([`f${p}`]);
  });

  test('storage of another cluster is refused', async () => {
    await loadCore();
    const dir = await tempDir();
    await (await startCluster({ brokers: 1, storage: 'files', dir, clusterId: 'one', inProcess: true })).stop();
    await expect(startCluster({ brokers: 1, storage: 'files', dir, clusterId: 'two', inProcess: true })).rejects.toMatchObject({ type: 'INVALID_REQUEST' });
  });
});
