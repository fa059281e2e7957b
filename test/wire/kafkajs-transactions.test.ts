// KafkaJS 2.2.4 transactions through the wire-protocol listeners: a transactional producer commits and aborts,
// KafkaJS's read_committed consumer (its default) sees only what was committed, and a consume-transform-produce
// loop commits its input offsets in the same transaction (sendOffsets).
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../client/wait.ts';
import { startWireCluster, type WireCluster } from './wire-cluster.ts';

let wire: WireCluster;
let kafka: Kafka;
beforeAll(async () => {
  wire = await startWireCluster({ clusterId: 'wire-txn' });
  kafka = new Kafka({ clientId: 'wire-txn', brokers: wire.brokers, logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 100 } });
}, 60_000);
afterAll(async () => { await wire?.stop(); });

/** What a KafkaJS consumer of `topic` reads from the beginning (readUncommitted as given), until `count` or quiet for `quietMs`. */
async function readAll(topic: string, groupId: string, count: number, readUncommitted = false, quietMs = 1_500): Promise<string[]> {
  const consumer = kafka.consumer({ groupId, readUncommitted, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const values: string[] = [];
  let lastAt = Date.now();
  await consumer.run({ eachMessage: async ({ message }) => { values.push(String(message.value)); lastAt = Date.now(); } });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && (values.length < count || Date.now() - lastAt < quietMs)) await sleep(20);
  await consumer.disconnect();
  return values;
}

describe('KafkaJS transactions through the wire-protocol listener', () => {
  it('committed transactions are read, aborted ones are not (read_committed); read_uncommitted sees both', async () => {
    const topic = 'txn-orders';
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer({ transactionalId: 'orders-writer', maxInFlightRequests: 1, idempotent: true });
    await producer.connect();
    for (let t = 0; t < 6; t++) {
      const txn = await producer.transaction();
      await txn.send({ topic, acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i % 3}`, value: `t${t}:${i}` })) });
      if (t % 2 === 0) await txn.commit();
      else await txn.abort();
    }
    await producer.disconnect();
    const committed = await readAll(topic, 'committed-reader', 30);
    expect(committed.sort()).toEqual([0, 2, 4].flatMap((t) => Array.from({ length: 10 }, (_, i) => `t${t}:${i}`)).sort());
    const everything = await readAll(topic, 'uncommitted-reader', 60, true);
    expect(everything).toHaveLength(60);
  }, 120_000);

  it('consume-transform-produce with sendOffsets: every input message is in the output once, and the group resumes after the last commit', async () => {
    const [input, output, groupId] = ['txn-in', 'txn-out', 'copier'];
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: input, numPartitions: 2, replicationFactor: 3 }, { topic: output, numPartitions: 2, replicationFactor: 3 }], waitForLeaders: true });
    const source = kafka.producer();
    await source.connect();
    await source.send({ topic: input, acks: -1, messages: Array.from({ length: 100 }, (_, i) => ({ key: `k${i % 5}`, value: `m${i}` })) });
    await source.disconnect();

    const producer = kafka.producer({ transactionalId: 'copier-writer', maxInFlightRequests: 1, idempotent: true });
    await producer.connect();
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topics: [input], fromBeginning: true });
    let copied = 0;
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const txn = await producer.transaction();
        await txn.send({ topic: output, acks: -1, messages: batch.messages.map((m) => ({ key: m.key, value: `copy-${String(m.value)}` })) });
        const next = (BigInt(batch.lastOffset()) + 1n).toString();
        await txn.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: input, partitions: [{ partition: batch.partition, offset: next }] }] });
        await txn.commit();
        copied += batch.messages.length;
      },
    });
    const deadline = Date.now() + 30_000;
    while (copied < 100 && Date.now() < deadline) await sleep(20);
    await consumer.disconnect();
    await producer.disconnect();
    expect(copied).toBe(100);

    const out = await readAll(output, 'out-reader', 100);
    expect(out.sort()).toEqual(Array.from({ length: 100 }, (_, i) => `copy-m${i}`).sort());
    // The group's committed offsets came with the transactions: they are at the end of the input.
    const offsets = await admin.fetchOffsets({ groupId, topics: [input] });
    const ends = await admin.fetchTopicOffsets(input);
    for (const p of offsets[0].partitions) expect(p.offset).toBe(ends.find((e) => e.partition === p.partition)!.high);
    await admin.disconnect();
  }, 120_000);
});
