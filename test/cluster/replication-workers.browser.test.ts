// Replication across dedicated broker workers in real Chromium, on OPFS and IndexedDB: the leader's worker is
// terminated (its Web Lock freed) five times under acks=-1; the cluster starts it again and nothing acknowledged is lost.
import { deleteDB } from 'idb';
import { afterEach, describe, expect, test } from 'vitest';
import { Wafka } from '../../src/client/index.ts';
import { indexedDbBrokerDbName } from '../../src/cluster/broker-storage.ts';
import { metadataDbName } from '../../src/cluster/indexeddb-metadata-store.ts';
import { startCluster, type Cluster } from '../../src/cluster/start-cluster.ts';
import { loadCore } from '../../src/core/index.ts';
import { readRecords } from '../broker/helpers.ts';

const BROKERS = 3;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

function removeClusterStorage(clusterId: string): Promise<unknown> {
  return Promise.all([
    (async () => {
      const root = await navigator.storage.getDirectory();
      const wafka = await root.getDirectoryHandle('wafka').catch(() => null);
      await wafka?.removeEntry(clusterId, { recursive: true }).catch(() => {});
    })(),
    deleteDB(metadataDbName(clusterId)),
    ...Array.from({ length: BROKERS }, (_, i) => deleteDB(indexedDbBrokerDbName(clusterId, i))),
  ]);
}

async function until(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function partition0(cluster: Cluster) {
  for (const id of cluster.bootstrap.nodeIds) {
    try {
      return (await cluster.broker(id).metadata({ topics: ['orders'] })).topics[0].partitions[0];
    } catch {
      // down: ask the next
    }
  }
  throw new Error('no broker answers');
}

describe.each(['opfs', 'indexeddb'] as const)('replication across broker workers on %s', (storage) => {
  test('RF=3, minInsyncReplicas 2, acks=-1: five terminations of the leader\'s worker lose nothing acknowledged', async () => {
    await loadCore();
    const clusterId = `repl-${storage}-${crypto.randomUUID().slice(0, 8)}`;
    cleanups.push(() => removeClusterStorage(clusterId));
    const cluster = await startCluster({ brokers: BROKERS, storage, clusterId, brokerSessionTimeoutMs: 1_000 });
    cleanups.push(() => cluster.stop());
    const wafka = new Wafka({ clientId: 'repl', cluster });
    const admin = wafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] });
    await until(async () => (await partition0(cluster)).isr.length === 3);
    const producer = wafka.producer({ lingerMs: 1, retry: { retries: 20, initialRetryTime: 50, maxRetryTime: 1_000 } });
    await producer.connect();
    const acknowledged: string[] = [];
    let seq = 0;
    const sendSome = async (n: number) => {
      for (let i = 0; i < n; i += 50) {
        const messages = Array.from({ length: 50 }, () => ({ value: `m${seq++}` }));
        await producer.send({ topic: 'orders', acks: -1, messages });
        acknowledged.push(...messages.map((m) => m.value));
      }
    };
    await sendSome(500);
    for (let kill = 0; kill < 5; kill++) {
      const before = await partition0(cluster);
      const killing = cluster.killBroker(before.leader);
      await sendSome(500);
      await killing;
      await until(async () => (await partition0(cluster)).leaderEpoch > before.leaderEpoch);
      await sendSome(500);
      await until(async () => (await partition0(cluster)).isr.length === 3, 60_000);
    }
    await producer.disconnect();
    expect(acknowledged.length).toBeGreaterThanOrEqual(5_000);

    const { leader } = await partition0(cluster);
    const stored = new Set<string>();
    for (let offset = 0n; ;) {
      const r = (await cluster.broker(leader).fetch({
        maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 'read_uncommitted',
        topics: [{ topic: 'orders', partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: 1 << 20 }] }],
      })).topics[0].partitions[0];
      const records = (await readRecords(r.records)).filter((x) => x.offset >= offset);
      if (records.length === 0) break;
      for (const x of records) stored.add(x.value);
      offset = records[records.length - 1].offset + 1n;
    }
    expect(acknowledged.filter((v) => !stored.has(v))).toEqual([]);
  }, 240_000);
});
