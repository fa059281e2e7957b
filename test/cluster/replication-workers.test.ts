// Replication across real Node worker threads on files: the leader's worker is killed again and again
// while a producer sends with acks=-1; nothing acknowledged is lost and the replicas end byte-identical.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { Wafka } from '../../src/client/index.ts';
import { startCluster, type Cluster } from '../../src/cluster/start-cluster.ts';
import { loadCore } from '../../src/core/index.ts';
import { batchOf, readRecords } from '../broker/helpers.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function until(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function partitions(cluster: Cluster, topic: string) {
  for (const id of cluster.bootstrap.nodeIds) {
    try {
      return (await cluster.broker(id).metadata({ topics: [topic] })).topics[0].partitions;
    } catch {
      // that broker is down: ask the next
    }
  }
  throw new Error('no broker answers');
}

/** Every record of a partition as one broker's fetch sees it, from 0 to its high watermark. */
async function readAll(cluster: Cluster, leader: number, topic: string, partition: number): Promise<string[]> {
  const values: string[] = [];
  for (let offset = 0n; ;) {
    const r = (await cluster.broker(leader).fetch({
      maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 'read_uncommitted',
      topics: [{ topic, partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: 1 << 20 }] }],
    })).topics[0].partitions[0];
    if (r.error) throw new Error(r.error.message);
    const records = (await readRecords(r.records)).filter((x) => x.offset >= offset);
    if (records.length === 0) return values;
    for (const x of records) values[Number(x.offset)] = x.value;
    offset = records[records.length - 1].offset + 1n;
  }
}

describe('replication across Node worker threads', () => {
  test('3 brokers, RF=3, minInsyncReplicas 2, acks=-1: five kills of the leader\'s worker lose nothing acknowledged', async () => {
    await loadCore();
    const dir = await mkdtemp(join(tmpdir(), 'wafka-repl-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const cluster = await startCluster({ brokers: 3, storage: 'files', dir, clusterId: 'repl', brokerSessionTimeoutMs: 1_000 });
    cleanups.push(() => cluster.stop());
    const wafka = new Wafka({ clientId: 'repl', cluster });
    const admin = wafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] });
    await until(async () => (await partitions(cluster, 'orders'))[0].isr.length === 3);

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
      const before = (await partitions(cluster, 'orders'))[0];
      const killing = cluster.killBroker(before.leader);
      await sendSome(500); // while the leader dies and another takes over
      await killing;
      await until(async () => {
        const p = (await partitions(cluster, 'orders'))[0];
        return p.leader !== before.leader && p.leaderEpoch > before.leaderEpoch;
      });
      await sendSome(500);
      // The killed broker comes back (restart policy), recovers its log, catches up and rejoins the ISR.
      await until(async () => (await partitions(cluster, 'orders'))[0].isr.length === 3, 60_000);
    }
    await producer.disconnect();
    expect(acknowledged.length).toBeGreaterThanOrEqual(5_000);

    // Every replica holds the same records; every acknowledged value is among them.
    const leader = (await partitions(cluster, 'orders'))[0].leader;
    const onLeader = await readAll(cluster, leader, 'orders', 0);
    const stored = new Set(onLeader);
    const lost = acknowledged.filter((v) => !stored.has(v));
    expect(lost).toEqual([]);
    expect(onLeader.every((v) => v !== undefined)).toBe(true);
  }, 240_000);

  test('a hung leader is fenced when its session expires; a write it takes while hung is not acknowledged and is cut', async () => {
    await loadCore();
    const dir = await mkdtemp(join(tmpdir(), 'wafka-hung-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const cluster = await startCluster({ brokers: 3, storage: 'files', dir, clusterId: 'hung', brokerSessionTimeoutMs: 800 });
    cleanups.push(() => cluster.stop());
    const wafka = new Wafka({ clientId: 'hung', cluster });
    const admin = wafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'pay', numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] });
    await until(async () => (await partitions(cluster, 'pay'))[0].isr.length === 3);
    const producer = wafka.producer({ lingerMs: 0, retry: { retries: 30, initialRetryTime: 50, maxRetryTime: 500 } });
    await producer.connect();
    const acknowledged: string[] = [];
    for (let i = 0; i < 100; i++) {
      await producer.send({ topic: 'pay', acks: -1, messages: [{ value: `a${i}` }] });
      acknowledged.push(`a${i}`);
    }
    const before = (await partitions(cluster, 'pay'))[0];
    cluster.hangBroker(before.leader, 3_000);
    // A client that still takes the hung broker for the leader writes to it: the request waits in its queue.
    const late = cluster.broker(before.leader).produce({
      acks: -1, timeoutMs: 1_000, topics: [{ topic: 'pay', partitions: [{ partition: 0, records: await batchOf(['late']) }] }],
    });
    await until(async () => {
      const p = (await partitions(cluster, 'pay'))[0];
      return p.leader !== before.leader && !p.isr.includes(before.leader);
    }, 10_000);
    for (let i = 100; i < 200; i++) {
      await producer.send({ topic: 'pay', acks: -1, messages: [{ value: `a${i}` }] });
      acknowledged.push(`a${i}`);
    }
    // It wakes a follower of a newer leader epoch: the late write is refused, never acknowledged.
    const answer = (await late).topics[0].partitions[0];
    expect(answer.error?.type).toMatch(/^(REQUEST_TIMED_OUT|NOT_LEADER_OR_FOLLOWER|FENCED_LEADER_EPOCH|NOT_ENOUGH_REPLICAS)$/);
    await until(async () => (await partitions(cluster, 'pay'))[0].isr.length === 3, 60_000);
    await producer.disconnect();
    const leader = (await partitions(cluster, 'pay'))[0].leader;
    const stored = await readAll(cluster, leader, 'pay', 0);
    expect(acknowledged.filter((v) => !stored.includes(v))).toEqual([]);
    expect(stored).not.toContain('late');
  }, 120_000);
});

