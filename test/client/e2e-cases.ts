/**
 * End-to-end cases of the client against a real started cluster, shared by
 * the Node test (worker threads, files) and the Chromium test (dedicated
 * workers, OPFS and IndexedDB). Each case starts the cluster itself through
 * `start()`, which must open the same storage every time it is called.
 */
import { expect } from 'vitest';
import { Wafka, logLevel, type Cluster, type KafkaMessage } from '../../src/index.ts';
import { sleep, text } from './wait.ts';

export type StartCluster = (options?: { allowAutoTopicCreation?: boolean }) => Promise<Cluster>;


interface Received { partition: number; offset: string; key: string | null; value: string | null; header: string | null; tags: (string | null)[]; timestamp: string }

/** Every message of `topic`, read by a new group (a group that read them before resumes after them). */
async function consumeAll(wafka: Wafka, topic: string, count: number, groupId: string): Promise<Received[]> {
  const consumer = wafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const got: Received[] = [];
  await consumer.run({
    eachMessage: async ({ partition, message }: { partition: number; message: KafkaMessage }) => {
      const tags = message.headers.tag;
      got.push({
        partition, offset: message.offset, key: text(message.key), value: text(message.value), timestamp: message.timestamp,
        header: text(message.headers.i as Uint8Array),
        tags: Array.isArray(tags) ? tags.map(text) : [text(tags)],
      });
    },
  });
  const deadline = Date.now() + 30_000;
  while (got.length < count && Date.now() < deadline) await sleep(10);
  await sleep(50); // nothing more arrives
  await consumer.disconnect();
  return got;
}

function checkAll(got: Received[], n: number, partitions: number): void {
  expect(got).toHaveLength(n);
  for (let p = 0; p < partitions; p++) {
    const mine = got.filter((g) => g.partition === p);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.map((g) => g.offset)).toEqual(mine.map((_, i) => String(i)));
  }
  const lastByKey = new Map<string, number>();
  for (const g of got) {
    const i = Number(g.value!.split(':')[1]);
    expect(g.key).toBe(`key-${i % 50}`);
    expect(g.header).toBe(String(i));
    expect(g.tags).toEqual(['a', `t${i % 3}`]);
    expect(g.timestamp).toBe(String(1_700_000_000_000 + i));
    expect(i).toBeGreaterThan(lastByKey.get(g.key!) ?? -1); // per key, in send order
    lastByKey.set(g.key!, i);
  }
}

/** N keyed messages over 3 partitions, consumed back; a new cluster on the same storage reads them again. */
export async function roundTripAndRestart(start: StartCluster, n = 3000): Promise<void> {
  const topic = 'e2e-round-trip';
  let cluster = await start();
  try {
    const wafka = new Wafka({ clientId: 'e2e', cluster, logLevel: logLevel.WARN });
    const admin = wafka.admin();
    await admin.connect();
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] })).toBe(true);
    const producer = wafka.producer({ lingerMs: 5 });
    await producer.connect();
    const sends = [];
    for (let i = 0; i < n; i += 250) {
      sends.push(producer.send({
        topic, acks: 1,
        messages: Array.from({ length: Math.min(250, n - i) }, (_, j) => ({
          key: `key-${(i + j) % 50}`, value: `value:${i + j}`, timestamp: String(1_700_000_000_000 + i + j),
          headers: { i: String(i + j), tag: ['a', `t${(i + j) % 3}`] },
        })),
      }));
    }
    const results = (await Promise.all(sends)).flat();
    expect(results.every((r) => r.errorCode === 0 && r.topicName === topic)).toBe(true);
    await producer.disconnect();
    expect((await admin.fetchTopicOffsets(topic)).reduce((s, p) => s + Number(p.high), 0)).toBe(n);
    await admin.disconnect();
    checkAll(await consumeAll(wafka, topic, n, 'e2e'), n, 3);
  } finally {
    await cluster.stop();
  }

  cluster = await start();
  try {
    const wafka = new Wafka({ clientId: 'e2e-again', cluster, logLevel: logLevel.WARN });
    checkAll(await consumeAll(wafka, topic, n, 'e2e-after-restart'), n, 3);
  } finally {
    await cluster.stop();
  }
}

/** With lingerMs, many small concurrent sends become few batches (the brokers' own counters). */
export async function lingerMakesFewBatches(start: StartCluster): Promise<void> {
  const cluster = await start();
  try {
    const wafka = new Wafka({ clientId: 'e2e', cluster, logLevel: logLevel.WARN });
    const admin = wafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'e2e-linger', numPartitions: 3 }] });
    await admin.disconnect();
    const count = async () => (await Promise.all(cluster.brokers.map((b) => b.metrics()))).reduce((s, m) => ({ batches: s.batches + m.batchesAppended, records: s.records + m.recordsAppended }), { batches: 0, records: 0 });
    const before = await count();
    const producer = wafka.producer({ lingerMs: 50 });
    await producer.connect();
    await Promise.all(Array.from({ length: 500 }, (_, i) => producer.send({ topic: 'e2e-linger', acks: 1, messages: [{ key: `k${i}`, value: `v${i}` }] })));
    await producer.disconnect();
    const after = await count();
    expect(after.records - before.records).toBe(500);
    expect(after.batches - before.batches).toBeLessThanOrEqual(6); // one per partition (maybe two if a linger window split them)
  } finally {
    await cluster.stop();
  }
}

/** Unknown topic (auto-creation off), partition out of range, message over maxMessageBytes: typed errors; the cluster keeps serving. */
export async function badInputGivesTypedErrors(start: StartCluster): Promise<void> {
  const cluster = await start({ allowAutoTopicCreation: false });
  try {
    const wafka = new Wafka({ clientId: 'e2e', cluster, logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 10 } });
    const admin = wafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'e2e-limits', numPartitions: 2, configEntries: [{ name: 'max.message.bytes', value: '2048' }] }] });
    const producer = wafka.producer();
    await producer.connect();
    await expect(producer.send({ topic: 'e2e-no-such-topic', messages: [{ value: 'x' }] })).rejects.toMatchObject({ name: 'WafkaError', type: 'UNKNOWN_TOPIC_OR_PARTITION', code: 3 });
    await expect(producer.send({ topic: 'e2e-limits', messages: [{ value: 'x', partition: 9 }] })).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION', code: 3 });
    await expect(producer.send({ topic: 'e2e-limits', messages: [{ key: 'big', value: 'x'.repeat(10_000) }] })).rejects.toMatchObject({ type: 'MESSAGE_TOO_LARGE', code: 10, retriable: false });
    expect(await admin.listTopics()).not.toContain('e2e-no-such-topic');
    // Still serving: a good message goes through and is the only one stored.
    const [ok] = await producer.send({ topic: 'e2e-limits', messages: [{ key: 'fine', value: 'small' }] });
    expect(ok.baseOffset).toBe('0');
    const offsets = await admin.fetchTopicOffsets('e2e-limits');
    expect(offsets.reduce((s, p) => s + Number(p.high), 0)).toBe(1);
    await producer.disconnect();
    await admin.disconnect();
  } finally {
    await cluster.stop();
  }
}
