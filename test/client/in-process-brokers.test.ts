// The client against real brokers (src/broker) in-process on memory storage.
import { afterEach, describe, expect, it } from 'vitest';
import { CompressionTypes, Wafka, logLevel } from '../../src/index.ts';
import { startTestCluster, type TestCluster } from '../broker/helpers.ts';
import { sleep, text } from './wait.ts';


let cluster: TestCluster | undefined;
afterEach(async () => { await cluster?.close(); cluster = undefined; });

describe('client against in-process brokers', () => {
  it('produces keyed messages in shared batches and consumes them back in order', async () => {
    cluster = await startTestCluster(3);
    const wafka = new Wafka({ clientId: 'c', cluster: cluster.brokers, logLevel: logLevel.WARN });
    const admin = wafka.admin();
    await admin.connect();
    expect(await admin.createTopics({ topics: [{ topic: 'events', numPartitions: 3 }] })).toBe(true);
    const producer = wafka.producer({ lingerMs: 5, batchSizeBytes: 4096 });
    await producer.connect();
    const N = 2000;
    const sends = [];
    for (let i = 0; i < N; i += 100) {
      sends.push(producer.send({ topic: 'events', acks: 1, messages: Array.from({ length: 100 }, (_, j) => ({ key: `k${(i + j) % 13}`, value: `v${i + j}`, headers: { i: String(i + j) } })) }));
    }
    await Promise.all(sends);
    await producer.disconnect();
    const metrics = await Promise.all(cluster.brokers.map((b) => b.metrics()));
    const batches = metrics.reduce((n, m) => n + m.batchesAppended, 0);
    expect(metrics.reduce((n, m) => n + m.recordsAppended, 0)).toBe(N);
    expect(batches).toBeLessThan(N / 10);

    const offsets = await admin.fetchTopicOffsets('events');
    expect(offsets.reduce((n, o) => n + Number(o.high), 0)).toBe(N);

    const consumer = wafka.consumer({ groupId: 'g', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topics: ['events'], fromBeginning: true });
    const got: { partition: number; offset: string; key: string | null; value: string | null; header: string | null }[] = [];
    await consumer.run({ eachMessage: async ({ partition, message }) => {
      got.push({ partition, offset: message.offset, key: text(message.key), value: text(message.value), header: text(message.headers.i as Uint8Array) });
    } });
    const deadline = Date.now() + 10_000;
    while (got.length < N && Date.now() < deadline) await sleep(10);
    await consumer.disconnect();
    expect(got).toHaveLength(N);
    for (let p = 0; p < 3; p++) {
      const mine = got.filter((g) => g.partition === p);
      expect(mine.map((g) => g.offset)).toEqual(mine.map((_, i) => String(i)));
    }
    for (const g of got) {
      const i = Number(g.value!.slice(1));
      expect(g.key).toBe(`k${i % 13}`);
      expect(g.header).toBe(String(i));
    }
    await admin.disconnect();
  });

  it('typed errors: unknown topic, oversized message; the brokers keep serving', async () => {
    cluster = await startTestCluster(2);
    const wafka = new Wafka({ clientId: 'c', cluster: cluster.brokers, logLevel: logLevel.NOTHING, retry: { retries: 1, initialRetryTime: 5 } });
    const admin = wafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'small', numPartitions: 2, configEntries: [{ name: 'max.message.bytes', value: '1000' }] }] });
    const producer = wafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    await expect(producer.send({ topic: 'unknown', messages: [{ value: 'x' }] })).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION', code: 3 });
    await expect(producer.send({ topic: 'small', messages: [{ value: 'x', partition: 5 }] })).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    await expect(producer.send({ topic: 'small', messages: [{ value: 'x'.repeat(5000) }] })).rejects.toMatchObject({ type: 'MESSAGE_TOO_LARGE', code: 10 });
    const [ok] = await producer.send({ topic: 'small', messages: [{ key: 'k', value: 'fits' }] });
    expect(ok.baseOffset).toBe('0');
    await producer.disconnect();
    await admin.disconnect();
  });

  it('compressed batches (gzip, snappy, lz4) round-trip through the brokers', async () => {
    cluster = await startTestCluster(1);
    const wafka = new Wafka({ clientId: 'c', cluster: cluster.brokers, logLevel: logLevel.WARN });
    const admin = wafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'z', numPartitions: 1 }] });
    const producer = wafka.producer({ lingerMs: 2 });
    await producer.connect();
    const codecs = [CompressionTypes.None, CompressionTypes.GZIP, CompressionTypes.Snappy, CompressionTypes.LZ4];
    for (const compression of codecs) {
      await producer.send({ topic: 'z', compression, acks: 1, messages: Array.from({ length: 50 }, (_, i) => ({ key: `c${compression}`, value: `${compression}:${i}:${'x'.repeat(100)}` })) });
    }
    await producer.disconnect();
    const consumer = wafka.consumer({ groupId: 'g', maxWaitTimeInMs: 50 });
    await consumer.connect();
    await consumer.subscribe({ topics: ['z'], fromBeginning: true });
    const values: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => { values.push(text(message.value)!); } });
    const deadline = Date.now() + 5000;
    while (values.length < 200 && Date.now() < deadline) await sleep(10);
    await consumer.disconnect();
    expect(values).toEqual(codecs.flatMap((c) => Array.from({ length: 50 }, (_, i) => `${c}:${i}:${'x'.repeat(100)}`)));
    await admin.disconnect();
  });
});
