// Transactions through the client on a replicated in-process cluster: fencing of a zombie, the coordinator's
// timeout abort, and Kafka's exactly-once copy (tests/kafkatest/tests/core/transactions_test.py, scaled down)
// while brokers are bounced.
import { afterEach, describe, expect, it } from 'vitest';
import { Wafka, logLevel, type Consumer, type Producer } from '../../src/client/index.ts';
import { WafkaError } from '../../src/errors.ts';
import { replicatedCluster, until, type ReplicatedCluster } from '../broker/replicated-cluster.ts';
import { COORDINATOR_KEY_TYPE_GROUP, COORDINATOR_KEY_TYPE_TRANSACTION, type GroupApi } from '../../src/protocol/types.ts';
import { TRANSACTION_STATE_TOPIC } from '../../src/coordinator/transaction/transaction-log-records.ts';

let cluster: ReplicatedCluster | undefined;
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => {});
  await cluster?.close();
  cluster = undefined;
});

const BROKER_CONFIG = {
  transactionStateTopicNumPartitions: 2, offsetsTopicNumPartitions: 2,
  transactionAbortTimedOutTransactionCleanupIntervalMs: 200, transactionMarkerRetryBackoffMs: 20,
};

function client(c: ReplicatedCluster, clientId: string): Wafka {
  return new Wafka({ clientId, cluster: c.apis, logLevel: logLevel.NOTHING, retry: { initialRetryTime: 20, retries: 30 } });
}

async function transactional(wafka: Wafka, transactionalId: string, transactionTimeout = 30_000): Promise<Producer> {
  const producer = wafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, transactionTimeout });
  await producer.connect();
  closers.push(() => producer.disconnect());
  return producer;
}

/** Everything a read_committed consumer of `topic` (a group of its own) sees within `ms`, as `partition:value` in arrival order. */
async function readCommitted(wafka: Wafka, topic: string, groupId: string): Promise<{ seen: string[]; consumer: Consumer }> {
  const consumer = wafka.consumer({ groupId, isolationLevel: 'read_committed', maxWaitTimeInMs: 50, sessionTimeout: 10_000, heartbeatInterval: 500 });
  await consumer.connect();
  closers.push(() => consumer.disconnect());
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const seen: string[] = [];
  await consumer.run({ eachMessage: async ({ partition, message }) => { seen.push(`${partition}:${message.value ? new TextDecoder().decode(message.value) : 'null'}`); } });
  return { seen, consumer };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('transactions through the client', () => {
  it('a zombie is fenced: its sends and commit fail with PRODUCER_FENCED and nothing it wrote becomes visible', async () => {
    cluster = await replicatedCluster(3, BROKER_CONFIG);
    const wafka = client(cluster, 'zombie');
    const admin = wafka.admin();
    await admin.connect();
    closers.push(() => admin.disconnect());
    await admin.createTopics({ topics: [{ topic: 'out', numPartitions: 2, replicationFactor: 3 }] });

    const zombie = await transactional(wafka, 'copier');
    const zombieTxn = await zombie.transaction();
    expect(zombieTxn.isActive()).toBe(true);
    await zombieTxn.send({ topic: 'out', messages: [{ value: 'zombie-1', partition: 0 }] });

    const successor = await transactional(wafka, 'copier');
    const txn = await successor.transaction();
    await txn.send({ topic: 'out', messages: [{ value: 'fresh-1', partition: 0 }, { value: 'fresh-2', partition: 1 }] });
    await txn.commit();
    expect(txn.isActive()).toBe(false);

    await expect(zombieTxn.send({ topic: 'out', messages: [{ value: 'zombie-2', partition: 1 }] })).rejects.toMatchObject({ type: 'PRODUCER_FENCED' });
    await expect(zombieTxn.commit()).rejects.toMatchObject({ type: 'PRODUCER_FENCED' });
    await expect(zombie.transaction()).rejects.toMatchObject({ type: 'PRODUCER_FENCED' });

    const { seen } = await readCommitted(wafka, 'out', 'reader');
    await until(() => seen.length >= 2, 20_000);
    await sleep(300);
    expect(seen.sort()).toEqual(['0:fresh-1', '1:fresh-2']);
  });

  it('a transaction open past its timeout is aborted by the coordinator: its records never appear; the producer is fenced; later transactions proceed', async () => {
    cluster = await replicatedCluster(3, BROKER_CONFIG);
    const wafka = client(cluster, 'timeout');
    const admin = wafka.admin();
    await admin.connect();
    closers.push(() => admin.disconnect());
    await admin.createTopics({ topics: [{ topic: 'out', numPartitions: 1, replicationFactor: 3 }] });
    const slow = await transactional(wafka, 'slow', 1_000);
    const txn = await slow.transaction();
    await txn.send({ topic: 'out', messages: [{ value: 'late', partition: 0 }] });
    await sleep(2_000);
    await expect(txn.commit()).rejects.toMatchObject({ type: 'PRODUCER_FENCED' });

    const next = await transactional(wafka, 'slow', 1_000);
    const ok = await next.transaction();
    await ok.send({ topic: 'out', messages: [{ value: 'on-time', partition: 0 }] });
    await ok.commit();
    const { seen } = await readCommitted(wafka, 'out', 'reader');
    await until(() => seen.length >= 1, 20_000);
    await sleep(300);
    expect(seen).toEqual(['0:on-time']);
  });

  it('abort: nothing of the transaction is visible; commit of an empty transaction sends nothing and succeeds', async () => {
    cluster = await replicatedCluster(3, BROKER_CONFIG);
    const wafka = client(cluster, 'abort');
    const admin = wafka.admin();
    await admin.connect();
    closers.push(() => admin.disconnect());
    await admin.createTopics({ topics: [{ topic: 'out', numPartitions: 1, replicationFactor: 3 }] });
    const producer = await transactional(wafka, 'aborter');
    const aborted = await producer.transaction();
    await aborted.send({ topic: 'out', messages: [{ value: 'no', partition: 0 }] });
    await aborted.abort();
    const empty = await producer.transaction();
    await empty.commit();
    const kept = await producer.transaction();
    await kept.send({ topic: 'out', messages: [{ value: 'yes', partition: 0 }] });
    await kept.commit();
    // Outside a transaction a transactional producer does not send.
    await expect(producer.send({ topic: 'out', messages: [{ value: 'stray' }] })).rejects.toMatchObject({ type: 'INVALID_TXN_STATE' });
    const { seen } = await readCommitted(wafka, 'out', 'reader');
    await until(() => seen.length >= 1, 20_000);
    await sleep(300);
    expect(seen).toEqual(['0:yes']);
  });

  it("a transaction's adds may be out together but EndTxn goes alone; sendOffsets beside a send's AddPartitionsToTxn is never refused with CONCURRENT_TRANSACTIONS", async () => {
    cluster = await replicatedCluster(3, BROKER_CONFIG);
    const COORDINATOR_METHODS = ['addPartitionsToTxn', 'addOffsetsToTxn', 'endTxn'];
    const out = new Map<string, number>(COORDINATOR_METHODS.map((m) => [m, 0]));
    let addsTogether = 0;
    const overlaps: string[] = [];
    const refused: string[] = [];
    // What the client reaches, with this transactional id's coordinator requests counted as they go and come back.
    const apis = cluster.apis.map((api) => new Proxy(api, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (typeof name !== 'string' || !COORDINATOR_METHODS.includes(name) || typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          const others = [...out].filter(([m, n]) => n > 0 && (m !== name || name === 'endTxn')).map(([m]) => m);
          if (name === 'endTxn' ? others.length > 0 : out.get('endTxn')! > 0) overlaps.push(`${name} beside ${others.join(', ')}`);
          if (name !== 'endTxn' && others.some((m) => m !== 'endTxn')) addsTogether++;
          out.set(name, out.get(name)! + 1);
          try {
            const response = await (value as (...a: unknown[]) => Promise<{ error?: { type: string } | null }>).apply(target, args);
            if (response?.error) refused.push(`${name}: ${response.error.type}`);
            return response;
          } finally {
            out.set(name, out.get(name)! - 1);
          }
        };
      },
    }));
    const wafka = new Wafka({ clientId: 'coordinator-turns', cluster: apis, logLevel: logLevel.NOTHING, retry: { initialRetryTime: 20, retries: 30 } });
    const admin = wafka.admin();
    await admin.connect();
    closers.push(() => admin.disconnect());
    await admin.createTopics({ topics: [{ topic: 'out', numPartitions: 3, replicationFactor: 3 }] });
    const producer = await transactional(wafka, 'coordinator-turns');
    for (let i = 0; i < 10; i++) {
      const txn = await producer.transaction();
      const sent = txn.send({ topic: 'out', messages: [{ value: `v${i}`, partition: i % 3 }] });
      await txn.sendOffsets({ consumerGroupId: 'g', topics: [{ topic: 'out', partitions: [{ partition: 0, offset: i }] }] });
      await sent;
      await txn.commit();
    }
    expect(refused).toEqual([]);
    expect(overlaps).toEqual([]);
    expect(addsTogether).toBeGreaterThan(0);
  });

  it("sendOffsets finds the group's coordinator once, not in every transaction", async () => {
    cluster = await replicatedCluster(3, BROKER_CONFIG);
    const lookups: number[] = [];
    const apis = cluster.apis.map((api) => new Proxy(api, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (name !== 'findCoordinator' || typeof value !== 'function') return value;
        return (request: { keyType: number }) => {
          lookups.push(request.keyType);
          return (value as (r: unknown) => Promise<unknown>).call(target, request);
        };
      },
    }));
    const wafka = new Wafka({ clientId: 'group-lookups', cluster: apis, logLevel: logLevel.NOTHING, retry: { initialRetryTime: 20, retries: 30 } });
    const admin = wafka.admin();
    await admin.connect();
    closers.push(() => admin.disconnect());
    await admin.createTopics({ topics: [{ topic: 'out', numPartitions: 1, replicationFactor: 3 }] });
    const producer = await transactional(wafka, 'group-lookups');
    for (let i = 0; i < 5; i++) {
      const txn = await producer.transaction();
      await txn.send({ topic: 'out', messages: [{ value: `v${i}` }] });
      await txn.sendOffsets({ consumerGroupId: 'g', topics: [{ topic: 'out', partitions: [{ partition: 0, offset: i }] }] });
      await txn.commit();
    }
    expect(lookups.filter((keyType) => keyType === COORDINATOR_KEY_TYPE_GROUP)).toHaveLength(1);
  });

  it('exactly once: copiers consume an input topic in a group and produce to an output topic in transactions with sendOffsets while brokers are bounced; read_committed sees every input record once, in order per partition', async () => {
    const PARTITIONS = 3;
    const RECORDS = 1_500;
    cluster = await replicatedCluster(3, BROKER_CONFIG);
    const c = cluster;
    const wafka = client(c, 'eos');
    const admin = wafka.admin();
    await admin.connect();
    closers.push(() => admin.disconnect());
    await admin.createTopics({ topics: [{ topic: 'in', numPartitions: PARTITIONS, replicationFactor: 3 }, { topic: 'out', numPartitions: PARTITIONS, replicationFactor: 3 }] });
    const input = wafka.producer({ idempotent: true });
    await input.connect();
    closers.push(() => input.disconnect());
    for (let from = 0; from < RECORDS; from += 100) {
      await input.send({ topic: 'in', messages: Array.from({ length: 100 }, (_, i) => ({ value: `r${from + i}`, partition: (from + i) % PARTITIONS })) });
    }

    let copied = 0;
    const failures: string[] = [];
    async function startCopier(name: string) {
      const producer = await transactional(wafka, `copier-${name}`);
      const consumer = wafka.consumer({ groupId: 'copiers', isolationLevel: 'read_committed', maxWaitTimeInMs: 50, maxBytesPerPartition: 4096, sessionTimeout: 6_000, heartbeatInterval: 300, retry: { initialRetryTime: 20, retries: 1_000 } });
      await consumer.connect();
      closers.push(() => consumer.disconnect());
      await consumer.subscribe({ topics: ['in'], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const txn = await producer.transaction();
          try {
            await txn.send({ topic: 'out', messages: batch.messages.map((m) => ({ value: m.value, partition: batch.partition })) });
            await txn.sendOffsets({
              consumerGroupId: 'copiers', consumerGroupMetadata: consumer.groupMetadata(),
              topics: [{ topic: 'in', partitions: [{ partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() }] }],
            });
            await txn.commit();
            copied += batch.messages.length;
          } catch (error) {
            failures.push(`${name}: ${(error as WafkaError).type ?? String(error)}`);
            if (txn.isActive()) await txn.abort().catch(() => {});
            throw error;
          }
        },
      });
    }
    for (const name of ['a', 'b', 'c']) await startCopier(name);
    const { seen } = await readCommitted(wafka, 'out', 'verifier');

    // Bounce the broker that coordinates a copier's transactions, then the leader of an output partition, as copying goes on.
    const groups = c.apis[0] as unknown as GroupApi;
    await until(() => copied >= RECORDS * 0.2, 60_000);
    const coordinator = (await groups.findCoordinator({ keyType: COORDINATOR_KEY_TYPE_TRANSACTION, coordinatorKeys: ['copier-a'] })).coordinators[0].nodeId;
    await c.stop(coordinator);
    await sleep(1_500);
    await c.start(coordinator);
    await until(() => copied >= RECORDS * 0.5, 60_000);
    const leader = (await c.apis[(coordinator + 1) % 3].metadata({ topics: ['out'] })).topics[0].partitions[0].leader;
    await c.stop(leader);
    await sleep(1_500);
    await c.start(leader);

    await until(() => seen.length >= RECORDS, 120_000);
    await sleep(500);
    const values = seen.map((s) => s.slice(s.indexOf(':') + 1));
    expect(new Set(values).size).toBe(values.length);
    expect(values.length).toBe(RECORDS);
    expect(new Set(values)).toEqual(new Set(Array.from({ length: RECORDS }, (_, i) => `r${i}`)));
    for (let p = 0; p < PARTITIONS; p++) {
      const order = seen.filter((s) => s.startsWith(`${p}:`)).map((s) => Number(s.slice(s.indexOf(':') + 2)));
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(order.every((n) => n % PARTITIONS === p)).toBe(true);
    }
    void TRANSACTION_STATE_TOPIC;
  }, 240_000);
});
