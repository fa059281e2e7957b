import { describe, expect, it } from 'vitest';
import { Wafka, logLevel, type EachMessagePayload, type KafkaMessage } from '../../src/index.ts';
import { FakeCluster } from './fake-broker.ts';
import { sleep, text, waitFor } from './wait.ts';


async function setup(partitions = 3) {
  const cluster = new FakeCluster(3);
  cluster.createTopic('t', partitions);
  const wafka = new Wafka({ clientId: 'test', cluster: cluster.brokers, logLevel: logLevel.NOTHING, retry: { initialRetryTime: 5, retries: 2 } });
  const producer = wafka.producer({ lingerMs: 5 });
  await producer.connect();
  return { cluster, wafka, producer };
}

describe('consumer', () => {
  it('reads every partition from the beginning in per-partition offset order, KafkaJS message shape', async () => {
    const { wafka, producer } = await setup();
    const messages = Array.from({ length: 300 }, (_, i) => ({ key: `key-${i % 17}`, value: `value-${i}`, headers: { n: String(i), tags: ['a', 'b'] }, timestamp: String(1_700_000_000_000 + i) }));
    await producer.send({ topic: 't', messages, acks: 1 });
    const consumer = wafka.consumer({ groupId: 'g', maxWaitTimeInMs: 50 });
    await consumer.connect();
    await consumer.subscribe({ topics: ['t'], fromBeginning: true });
    const got: EachMessagePayload[] = [];
    await consumer.run({ eachMessage: async (payload) => { got.push(payload); } });
    await waitFor(() => got.length === 300);
    await consumer.disconnect();

    const m = got[0].message;
    expect(Object.keys(m).sort()).toEqual(['attributes', 'headers', 'isControlRecord', 'key', 'offset', 'size', 'timestamp', 'value']);
    expect(m.key).toBeInstanceOf(Uint8Array);
    expect(typeof m.offset).toBe('string');
    expect(typeof m.timestamp).toBe('string');
    for (let p = 0; p < 3; p++) {
      const mine = got.filter((x) => x.partition === p);
      expect(mine.map((x) => x.message.offset)).toEqual(mine.map((_, i) => String(i)));
    }
    const byValue = new Map(got.map((x) => [text(x.message.value), x.message]));
    for (const [i, sent] of messages.entries()) {
      const received = byValue.get(sent.value)!;
      expect(text(received.key)).toBe(sent.key);
      expect(received.timestamp).toBe(sent.timestamp);
      expect(text(received.headers.n as Uint8Array)).toBe(String(i));
      expect((received.headers.tags as Uint8Array[]).map(text)).toEqual(['a', 'b']);
    }
    await producer.disconnect();
  });

  it('without fromBeginning starts at the end; subscribes by RegExp', async () => {
    const { cluster, wafka, producer } = await setup(2);
    cluster.createTopic('other-1', 1);
    await producer.send({ topic: 't', messages: [{ key: 'old', value: 'old' }], acks: 1 });
    const consumer = wafka.consumer({ groupId: 'g', maxWaitTimeInMs: 50 });
    await consumer.connect();
    await consumer.subscribe({ topics: [/^t$/, /^other-/] });
    const got: string[] = [];
    await consumer.run({ eachMessage: async ({ topic, message }) => { got.push(`${topic}:${text(message.value)}`); } });
    await producer.send({ topic: 't', messages: [{ key: 'new', value: 'new' }], acks: 1 });
    await producer.send({ topic: 'other-1', messages: [{ value: 'x' }], acks: 1 });
    await waitFor(() => got.length === 2);
    expect(got.sort()).toEqual(['other-1:x', 't:new']);
    await consumer.disconnect();
    await producer.disconnect();
  });

  it('seek moves the position; the next message delivered is at the sought offset', async () => {
    const { wafka, producer } = await setup(1);
    await producer.send({ topic: 't', messages: Array.from({ length: 50 }, (_, i) => ({ value: `v${i}` })), acks: 1 });
    const consumer = wafka.consumer({ groupId: 'g', maxWaitTimeInMs: 50 });
    await consumer.connect();
    await consumer.subscribe({ topics: ['t'], fromBeginning: true });
    consumer.seek({ topic: 't', partition: 0, offset: '40' }); // before run: applied at start
    const got: string[] = [];
    let sought = false;
    await consumer.run({
      eachMessage: async ({ message }) => {
        got.push(message.offset);
        if (message.offset === '45' && !sought) { sought = true; consumer.seek({ topic: 't', partition: 0, offset: '10' }); }
      },
    });
    await waitFor(() => got.includes('49'));
    await consumer.stop();
    const expected = ['40', '41', '42', '43', '44', '45', ...Array.from({ length: 40 }, (_, i) => String(10 + i))];
    expect(got).toEqual(expected);
    expect(consumer.positions()).toEqual([{ topic: 't', partition: 0, offset: '50' }]);
    await consumer.disconnect();
    await producer.disconnect();
  });

  it('pause stops delivery of a partition until resume; paused() lists it', async () => {
    const { wafka, producer } = await setup(2);
    const consumer = wafka.consumer({ groupId: 'g', maxWaitTimeInMs: 20 });
    await consumer.connect();
    await consumer.subscribe({ topics: ['t'], fromBeginning: true });
    const got: number[] = [];
    consumer.pause([{ topic: 't', partitions: [1] }]);
    expect(consumer.paused()).toEqual([{ topic: 't', partitions: [1] }]);
    await consumer.run({ eachMessage: async ({ partition }) => { got.push(partition); } });
    await producer.send({ topic: 't', messages: [{ value: 'a', partition: 0 }, { value: 'b', partition: 1 }], acks: 1 });
    await waitFor(() => got.length === 1);
    await sleep(100);
    expect(got).toEqual([0]);
    consumer.resume([{ topic: 't', partitions: [1] }]);
    await waitFor(() => got.length === 2);
    expect(got).toEqual([0, 1]);
    expect(consumer.paused()).toEqual([]);
    await consumer.disconnect();
    await producer.disconnect();
  });

  it('eachBatch gets whole batches with KafkaJS helpers; unresolved offsets are delivered again', async () => {
    const { wafka, producer } = await setup(1);
    await producer.send({ topic: 't', messages: Array.from({ length: 10 }, (_, i) => ({ value: `v${i}` })), acks: 1 });
    const consumer = wafka.consumer({ groupId: 'g', maxWaitTimeInMs: 20 });
    await consumer.connect();
    await consumer.subscribe({ topics: ['t'], fromBeginning: true });
    const batches: { first: string | null; last: string; hwm: string; count: number; lag: string }[] = [];
    await consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, isRunning, isStale }) => {
        expect(isRunning()).toBe(true);
        expect(isStale()).toBe(false);
        batches.push({ first: batch.firstOffset(), last: batch.lastOffset(), hwm: batch.highWatermark, count: batch.messages.length, lag: batch.offsetLagLow() });
        // Resolve only the first half the first time.
        const upTo = batches.length === 1 ? 4 : batch.messages.length - 1;
        for (const m of batch.messages.slice(0, upTo + 1)) resolveOffset(m.offset);
      },
    });
    await waitFor(() => batches.length >= 2);
    await consumer.stop();
    expect(batches[0]).toEqual({ first: '0', last: '9', hwm: '10', count: 10, lag: '9' });
    expect(batches[1]).toMatchObject({ first: '5', last: '9', count: 5 });
    await consumer.disconnect();
    await producer.disconnect();
  });

  it('a failing handler is retried at the failed message, then the consumer crashes with a CRASH event', async () => {
    const { wafka, producer } = await setup(1);
    await producer.send({ topic: 't', messages: [{ value: 'ok' }, { value: 'bad' }, { value: 'after' }], acks: 1 });
    const consumer = wafka.consumer({ groupId: 'g', maxWaitTimeInMs: 20, retry: { retries: 2, initialRetryTime: 1 } });
    const crashes: unknown[] = [];
    consumer.on(consumer.events.CRASH, (e) => crashes.push(e.payload));
    await consumer.connect();
    await consumer.subscribe({ topics: ['t'], fromBeginning: true });
    const seen: string[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(text(message.value)!);
        if (text(message.value) === 'bad') throw new Error('boom');
      },
    });
    await waitFor(() => crashes.length === 1);
    expect(seen).toEqual(['ok', 'bad', 'bad', 'bad']);
    expect(consumer.positions()[0].offset).toBe('1');
    await consumer.disconnect();
    await producer.disconnect();
  });

  it('emits FETCH, START_BATCH_PROCESS and END_BATCH_PROCESS; stop ends a long poll promptly', async () => {
    const { wafka, producer } = await setup(1);
    await producer.send({ topic: 't', messages: [{ value: 'a' }], acks: 1 });
    const consumer = wafka.consumer({ groupId: 'g', maxWaitTimeInMs: 10_000 });
    const events: string[] = [];
    for (const e of [consumer.events.FETCH, consumer.events.START_BATCH_PROCESS, consumer.events.END_BATCH_PROCESS]) consumer.on(e, (ev) => events.push(ev.type));
    await consumer.connect();
    await consumer.subscribe({ topics: ['t'], fromBeginning: true });
    let got: KafkaMessage | undefined;
    await consumer.run({ eachMessage: async ({ message }) => { got = message; } });
    await waitFor(() => got !== undefined);
    await sleep(20); // the next fetch is a long poll
    const started = Date.now();
    await consumer.disconnect();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(events).toEqual(expect.arrayContaining(['consumer.fetch', 'consumer.start_batch_process', 'consumer.end_batch_process']));
    await producer.disconnect();
  });

  it('subscribing to a topic that does not exist fails run with UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const { wafka } = await setup(1);
    const consumer = wafka.consumer({ groupId: 'g' });
    await consumer.connect();
    await consumer.subscribe({ topics: ['missing'] });
    await expect(consumer.run({ eachMessage: async () => {} })).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    await consumer.disconnect();
  });
});
