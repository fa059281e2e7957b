// Admin and ListOffsets requests at their edges, against in-process brokers.
import fc from 'fast-check';
import { afterEach, describe, expect, test } from 'vitest';
import { Broker } from '../../src/broker/broker.ts';
import { StorageReplicaLogs } from '../../src/broker/storage-logs.ts';
import { MemoryMetadataStore } from '../../src/metadata/memory-metadata-store.ts';
import { LocalMetadataHub } from '../../src/metadata/metadata-watch.ts';
import { loadCore } from '../../src/core/index.ts';
import { storageError, type StorageBackend } from '../../src/storage/backend.ts';
import { MemoryBackend } from '../../src/storage/index.ts';
import { batchOf, produceTo, startTestCluster, valuesAt, type TestCluster } from './helpers.ts';

let cluster: TestCluster | undefined;
afterEach(async () => { await cluster?.close(); cluster = undefined; });

const listAt = (broker: Broker, topic: string, timestamp: bigint) =>
  broker.listOffsets({ isolationLevel: 'read_uncommitted', topics: [{ topic, partitions: [{ partition: 0, timestamp }] }] });

describe('admin requests', () => {
  test("a topic named '__proto__' exists once created: listed, produced to and read back", async () => {
    cluster = await startTestCluster(1);
    const [broker] = cluster.brokers;
    expect((await broker.createTopics({ topics: [{ topic: '__proto__', numPartitions: 1 }] })).topics[0].error).toBeUndefined();
    const listed = await broker.metadata({ topics: null });
    expect(listed.topics.map((t) => t.name)).toEqual(['__proto__']);
    expect((await broker.produce(produceTo('__proto__', 0, await batchOf(['p'])))).topics[0].partitions[0].error).toBeUndefined();
    expect(await valuesAt(broker, '__proto__', 0)).toEqual(['p']);
    expect((await broker.createTopics({ topics: [{ topic: '__proto__', numPartitions: 1 }] })).topics[0].error).toMatchObject({ type: 'TOPIC_ALREADY_EXISTS' });
  });

  test('numPartitions 2^31-1 and 10^7 are INVALID_PARTITIONS and the broker keeps serving', async () => {
    cluster = await startTestCluster(1);
    const [broker] = cluster.brokers;
    const response = await broker.createTopics({ topics: [{ topic: 'huge', numPartitions: 2 ** 31 - 1 }, { topic: 'big', numPartitions: 10 ** 7 }, { topic: 'ok', numPartitions: 2 }] });
    expect(response.topics.map((t) => t.error?.type)).toEqual(['INVALID_PARTITIONS', 'INVALID_PARTITIONS', undefined]);
    expect((await broker.metadata({ topics: null })).topics.map((t) => t.name)).toEqual(['ok']);
  });
});

describe('ListOffsets by timestamp', () => {
  test('2^70 and other timestamps outside int64 are INVALID_REQUEST; large int64 ones are answered', async () => {
    cluster = await startTestCluster(1);
    const [broker] = cluster.brokers;
    await broker.createTopics({ topics: [{ topic: 't', numPartitions: 1 }] });
    await broker.produce(produceTo('t', 0, await batchOf(['a', 'b'], { timestamp: 1_000 })));
    for (const timestamp of [1n << 70n, 1n << 63n, -3n, -(1n << 70n)]) {
      await expect(listAt(broker, 't', timestamp)).rejects.toMatchObject({ type: 'INVALID_REQUEST' });
    }
    for (const timestamp of [(1n << 63n) - 1n, 1n << 53n, (1n << 53n) + 1n, 1_001n]) {
      expect((await listAt(broker, 't', timestamp)).topics[0].partitions[0]).toMatchObject({ offset: -1n });
    }
    expect((await listAt(broker, 't', 1_000n)).topics[0].partitions[0]).toMatchObject({ offset: 0n, timestamp: 1_000n });
  });

  test('property: any bigint timestamp is either INVALID_REQUEST or the first offset at or after it (a linear scan)', async () => {
    cluster = await startTestCluster(1);
    const [broker] = cluster.brokers;
    await broker.createTopics({ topics: [{ topic: 't', numPartitions: 1 }] });
    const times = [5, 10, 10, 20, 40];
    for (const [i, timestamp] of times.entries()) await broker.produce(produceTo('t', 0, await batchOf([`v${i}`], { timestamp })));
    await fc.assert(fc.asyncProperty(fc.oneof(fc.bigInt({ min: -(1n << 80n), max: 1n << 80n }), fc.bigInt({ min: -3n, max: 50n })), async (timestamp) => {
      const answer = await listAt(broker, 't', timestamp).then((r) => r.topics[0].partitions[0], (e: { type: string }) => e.type);
      if (timestamp > (1n << 63n) - 1n || timestamp < -2n) expect(answer).toBe('INVALID_REQUEST');
      else if (timestamp === -1n) expect(answer).toMatchObject({ offset: 5n });
      else if (timestamp === -2n) expect(answer).toMatchObject({ offset: 0n });
      else expect(answer).toMatchObject({ offset: BigInt(times.findIndex((t) => BigInt(t) >= timestamp)) });
    }), { numRuns: 300 });
  });
});

describe('a log that cannot be opened', () => {
  test('running out of file descriptors (EMFILE) is KAFKA_STORAGE_ERROR naming the cause, not NOT_LEADER_OR_FOLLOWER', async () => {
    await loadCore();
    const inner = new MemoryBackend();
    // A backend whose opens under t-1/ fail as node:fs does when the process is out of file descriptors.
    const backend: StorageBackend = {
      kind: 'emfile',
      openFile: (path, options) => path.startsWith('t-1/')
        ? Promise.reject(storageError(`node-fs: cannot open ${path}`, Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' })))
        : inner.openFile(path, options),
      list: (dir) => inner.list(dir),
      remove: (path) => inner.remove(path),
      rename: (from, to) => inner.rename(from, to),
      removeDir: (dir) => inner.removeDir(dir),
    };
    const store = new MemoryMetadataStore();
    const broker = await Broker.start({
      nodeId: 0, clusterId: 'emfile', metadataStore: store, metadataWatch: new LocalMetadataHub().handle(), storage: new StorageReplicaLogs(backend, 'emfile'),
    });
    try {
      expect((await broker.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] })).topics[0].error).toBeUndefined();
      const good = await broker.produce(produceTo('t', 0, await batchOf(['ok'])));
      expect(good.topics[0].partitions[0].error).toBeUndefined();
      const bad = await broker.produce(produceTo('t', 1, await batchOf(['lost?'])));
      expect(bad.topics[0].partitions[0].error).toMatchObject({ type: 'KAFKA_STORAGE_ERROR', retriable: true });
      expect(bad.topics[0].partitions[0].error!.message).toContain('EMFILE');
      const fetched = await broker.fetch({
        maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 'read_uncommitted',
        topics: [{ topic: 't', partitions: [{ partition: 1, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
      });
      expect(fetched.topics[0].partitions[0].error).toMatchObject({ type: 'KAFKA_STORAGE_ERROR' });
      await expect(listAt(broker, 't', -1n).then((r) => r.topics[0].partitions[0].error)).resolves.toBeUndefined();
    } finally {
      await broker.close();
    }
  });
});
