// Replication across real Node worker threads on files: the leader's worker is killed again and again
// while a producer sends with acks=-1; nothing acknowledged is lost and the replicas end byte-identical.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { Wafka } from '../../src/client/index.ts';
import type { WafkaError } from '../../src/errors.ts';
import { startCluster } from '../../src/cluster/start-cluster.ts';
import { loadCore } from '../../src/core/index.ts';
import { batchOf } from '../broker/helpers.ts';
import { killTheLeader, partitionState, storedValues, until } from './kill-the-leader.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** 3 brokers in worker threads on files in a fresh directory, stopped and removed after the test. */
async function workerCluster(options: { restartBrokers?: boolean } = {}) {
  await loadCore();
  const dir = await mkdtemp(join(tmpdir(), 'wafka-repl-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }));
  const cluster = await startCluster({ brokers: 3, storage: 'files', dir, clusterId: 'repl', brokerSessionTimeoutMs: 1_000, ...options });
  cleanups.push(() => cluster.stop());
  return cluster;
}

describe('replication across Node worker threads', () => {
  test('3 brokers, RF=3, minInsyncReplicas 2, acks=-1: five kills of the leader\'s worker lose nothing acknowledged', async () => {
    const cluster = await workerCluster();
    await killTheLeader(cluster, 5);
  }, 240_000);

  test('an idempotent producer through five kills of the leader\'s worker: nothing acknowledged lost, nothing stored twice, in send order', async () => {
    const cluster = await workerCluster();
    await killTheLeader(cluster, 5, 'terminate', { idempotent: true });
  }, 240_000);

  test('3 brokers, RF=3, minInsyncReplicas 2, acks=-1: five clean shutdowns and restarts of the leader\'s worker lose nothing acknowledged', async () => {
    const cluster = await workerCluster({ restartBrokers: false });
    await killTheLeader(cluster, 5, 'clean-shutdown');
  }, 240_000);

  test('a hung leader is fenced when its session expires, and calls waiting on it fail then; a write it takes while hung is not acknowledged and is cut', async () => {
    await loadCore();
    const dir = await mkdtemp(join(tmpdir(), 'wafka-hung-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }));
    const cluster = await startCluster({ brokers: 3, storage: 'files', dir, clusterId: 'hung', brokerSessionTimeoutMs: 800 });
    cleanups.push(() => cluster.stop());
    const wafka = new Wafka({ clientId: 'hung', cluster });
    const admin = wafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'pay', numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] });
    await until(async () => (await partitionState(cluster, 'pay')).isr.length === 3);
    const producer = wafka.producer({ lingerMs: 0, retry: { retries: 30, initialRetryTime: 50, maxRetryTime: 500 } });
    await producer.connect();
    const acknowledged: string[] = [];
    for (let i = 0; i < 100; i++) {
      await producer.send({ topic: 'pay', acks: -1, messages: [{ value: `a${i}` }] });
      acknowledged.push(`a${i}`);
    }
    const before = (await partitionState(cluster, 'pay'));
    cluster.hangBroker(before.leader, 3_000);
    // A client that still takes the hung broker for the leader writes to it: the request waits in its queue.
    // Once the broker is fenced the cluster fails the call (the client moves on); the broker still takes it when it wakes.
    const late = cluster.broker(before.leader).produce({
      acks: -1, timeoutMs: 1_000, topics: [{ topic: 'pay', partitions: [{ partition: 0, records: await batchOf(['late']) }] }],
    }).then((r) => r.topics[0].partitions[0].error?.type, (error: WafkaError) => error.type);
    await until(async () => {
      const p = (await partitionState(cluster, 'pay'));
      return p.leader !== before.leader && !p.isr.includes(before.leader);
    }, 10_000);
    for (let i = 100; i < 200; i++) {
      await producer.send({ topic: 'pay', acks: -1, messages: [{ value: `a${i}` }] });
      acknowledged.push(`a${i}`);
    }
    // It wakes a follower of a newer leader epoch: the late write is refused, never acknowledged.
    // Failed when the broker was fenced, not answered after it woke: nothing waits for a hung broker.
    expect(await late).toBe('BROKER_NOT_AVAILABLE');
    await until(async () => (await partitionState(cluster, 'pay')).isr.length === 3, 60_000);
    await producer.disconnect();
    const stored = await storedValues(cluster, 'pay');
    expect(acknowledged.filter((v) => !stored.includes(v))).toEqual([]);
    expect(stored).not.toContain('late');
  }, 120_000);
});

