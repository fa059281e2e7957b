// The replication drill shared by the Node and the Chromium tests: a producer sends with acks=-1 while the
// leader's worker is killed again and again; returns what was acknowledged and what the last leader stores.
import { expect } from 'vitest';
import { Wafka } from '../../src/client/index.ts';
import type { Cluster } from '../../src/cluster/start-cluster.ts';
import { readRecords } from '../broker/helpers.ts';

export async function until(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Partition `partition` of `topic` as the first broker that answers sees it. */
export async function partitionState(cluster: Cluster, topic: string, partition = 0) {
  for (const id of cluster.bootstrap.nodeIds) {
    try {
      return (await cluster.broker(id).metadata({ topics: [topic] })).topics[0].partitions[partition];
    } catch {
      // that broker is down: ask the next
    }
  }
  throw new Error('no broker answers');
}

/** Every value of a partition as its leader serves it, from offset 0 to the high watermark. */
export async function storedValues(cluster: Cluster, topic: string, partition = 0): Promise<string[]> {
  const { leader } = await partitionState(cluster, topic, partition);
  const values: string[] = [];
  for (let offset = 0n; ;) {
    const r = (await cluster.broker(leader).fetch({
      maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 'read_uncommitted',
      topics: [{ topic, partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: 1 << 20 }] }],
    })).topics[0].partitions[0];
    if (r.error) throw new Error(r.error.message);
    const records = (await readRecords(r.records)).filter((x) => x.offset >= offset);
    if (records.length === 0) return values;
    for (const x of records) values.push(x.value);
    offset = records[records.length - 1].offset + 1n;
  }
}

/**
 * RF=3, minInsyncReplicas 2: sends 500 records, then `kills` times ends the
 * leader's worker (terminated, or shut down cleanly and restarted) while
 * sending 500 more, waits for a new leader, sends 500 more, and waits until
 * the restarted broker is back in the ISR. Checks that every acknowledged
 * record is stored; with `idempotent`, also that none is stored twice and the
 * log holds them in the order they were sent.
 */
export async function killTheLeader(cluster: Cluster, kills: number, how: 'terminate' | 'clean-shutdown' = 'terminate', options: { idempotent?: boolean } = {}): Promise<void> {
  const wafka = new Wafka({ clientId: 'drill', cluster });
  const admin = wafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] });
  await until(async () => (await partitionState(cluster, 'orders')).isr.length === 3);
  const producer = wafka.producer({ lingerMs: 1, idempotent: options.idempotent ?? false, retry: { retries: 20, initialRetryTime: 50, maxRetryTime: 1_000 } });
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
  for (let kill = 0; kill < kills; kill++) {
    const before = await partitionState(cluster, 'orders');
    const killing = how === 'terminate' ? cluster.killBroker(before.leader) : cluster.restartBroker(before.leader);
    await sendSome(500); // while the leader dies and another takes over
    await killing;
    await until(async () => (await partitionState(cluster, 'orders')).leaderEpoch > before.leaderEpoch);
    await sendSome(500);
    // The killed broker comes back (restart policy), recovers its log, catches up and rejoins the ISR.
    await until(async () => (await partitionState(cluster, 'orders')).isr.length === 3, 60_000);
  }
  await producer.disconnect();
  await admin.disconnect();
  expect(acknowledged.length).toBeGreaterThanOrEqual(500 + kills * 1000);
  const values = await storedValues(cluster, 'orders');
  const stored = new Set(values);
  expect(acknowledged.filter((v) => !stored.has(v))).toEqual([]);
  if (options.idempotent) {
    expect(values.length - stored.size).toBe(0);
    expect(values).toEqual(acknowledged);
  }
}
