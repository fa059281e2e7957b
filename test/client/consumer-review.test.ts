import { describe, expect, it } from 'vitest';
import { Wafka, logLevel, type KafkaMessage } from '../../src/index.ts';
import { FakeCluster } from './fake-broker.ts';
import { sleep, text, waitFor } from './wait.ts';


async function setup(partitions = 1, metadataMaxAge?: number) {
  const cluster = new FakeCluster(1);
  cluster.createTopic('t', partitions);
  const wafka = new Wafka({ clientId: 'test', cluster: cluster.brokers, logLevel: logLevel.NOTHING, retry: { initialRetryTime: 5, retries: 2 } });
  const producer = wafka.producer({ lingerMs: 0 });
  await producer.connect();
  const consumer = wafka.consumer({ groupId: 'g', maxWaitTimeInMs: 20, metadataMaxAge });
  await consumer.connect();
  return { cluster, wafka, producer, consumer };
}
const values = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ value: `v${from + i}` }));

describe('consumer (review)', () => {
  for (const fromBeginning of [true, false]) {
    it(`OFFSET_OUT_OF_RANGE resets to ${fromBeginning ? 'earliest' : 'latest'} (auto.offset.reset from fromBeginning)`, async () => {
      const { producer, consumer } = await setup();
      await producer.send({ topic: 't', messages: values(5), acks: 1 });
      await consumer.subscribe({ topics: ['t'], fromBeginning });
      const seen: string[] = [];
      await consumer.run({ eachMessage: async ({ message }) => { seen.push(message.offset); } });
      if (fromBeginning) await waitFor(() => seen.length === 5);
      seen.length = 0;
      consumer.seek({ topic: 't', partition: 0, offset: '100' });
      await sleep(60);
      await producer.send({ topic: 't', messages: values(2, 5), acks: 1 });
      await waitFor(() => seen.length >= (fromBeginning ? 7 : 2));
      await consumer.disconnect();
      expect(seen).toEqual(fromBeginning ? ['0', '1', '2', '3', '4', '5', '6'] : ['5', '6']);
    });
  }

  it('headers named __proto__, constructor or toString are own properties with their values, as KafkaJS decodes them', async () => {
    const { producer, consumer } = await setup();
    const headers = JSON.parse('{"a":"1","__proto__":"p","b":"2","constructor":"c","toString":["s1","s2"]}');
    await producer.send({ topic: 't', messages: [{ value: 'x', headers }], acks: 1 });
    await consumer.subscribe({ topics: ['t'], fromBeginning: true });
    const seen: KafkaMessage[] = [];
    await consumer.run({ eachMessage: async ({ message }) => { seen.push(message); } });
    await waitFor(() => seen.length === 1);
    await consumer.disconnect();
    const h = seen[0].headers;
    expect(Object.getPrototypeOf(h)).toBe(Object.prototype);
    expect(Object.keys(h)).toEqual(['a', '__proto__', 'b', 'constructor', 'toString']);
    expect(text(h.constructor as unknown as Uint8Array)).toBe('c');
    expect((h.toString as unknown as Uint8Array[]).map(text)).toEqual(['s1', 's2']);
    expect(text(Object.getOwnPropertyDescriptor(h, '__proto__')!.value)).toBe('p');
  });

  it('stop() while a handler runs waits for it, and no handler runs after', async () => {
    const { producer, consumer } = await setup();
    await producer.send({ topic: 't', messages: values(5), acks: 1 });
    await consumer.subscribe({ topics: ['t'], fromBeginning: true });
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const seen: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => { seen.push(message.offset); if (message.offset === '1') await gate; } });
    await waitFor(() => seen.length === 2);
    let stopped = false;
    const stopping = consumer.stop().then(() => { stopped = true; });
    await sleep(30);
    expect(stopped).toBe(false);
    release();
    await stopping;
    await sleep(30);
    expect(seen).toEqual(['0', '1']);
    expect(consumer.positions()[0].offset).toBe('2');
    await consumer.disconnect();
  });

  it('seek from inside a handler: the rest of the batch is not delivered, the sought offset is next', async () => {
    const { producer, consumer } = await setup();
    await producer.send({ topic: 't', messages: values(10), acks: 1 });
    await consumer.subscribe({ topics: ['t'], fromBeginning: true });
    const seen: string[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message.offset);
        if (message.offset === '2' && !seen.includes('8')) consumer.seek({ topic: 't', partition: 0, offset: '7' });
      },
    });
    await waitFor(() => seen.includes('9'));
    await consumer.disconnect();
    expect(seen).toEqual(['0', '1', '2', '7', '8', '9']);
  });

  // KafkaJS matches a RegExp against the topics that exist at subscribe time only. wafka matches it
  // again at every metadata refresh (metadataMaxAge, or a refresh after an error), so topics created
  // later are picked up, at the subscription's fromBeginning position.
  it('a RegExp subscription picks up matching topics created later, at the next metadata refresh', async () => {
    const { cluster, producer, consumer } = await setup(1, 50);
    await consumer.subscribe({ topics: [/^t/], fromBeginning: true });
    const seen: string[] = [];
    await consumer.run({ eachMessage: async ({ topic, message }) => { seen.push(`${topic}:${text(message.value)}`); } });
    cluster.createTopic('t2', 1);
    cluster.createTopic('other', 1);
    await producer.send({ topic: 't2', messages: [{ value: 'late' }], acks: 1 });
    await producer.send({ topic: 'other', messages: [{ value: 'no' }], acks: 1 });
    await waitFor(() => seen.length === 1);
    await sleep(100);
    await consumer.disconnect();
    expect(seen).toEqual(['t2:late']);
  });

  it('eachBatch that resolved some offsets and threw gets only the unresolved messages on its retry', async () => {
    const { producer, consumer } = await setup();
    await producer.send({ topic: 't', messages: values(5), acks: 1 });
    await consumer.subscribe({ topics: ['t'], fromBeginning: true });
    const calls: string[][] = [];
    await consumer.run({
      eachBatch: async ({ batch, resolveOffset }) => {
        calls.push(batch.messages.map((m) => m.offset));
        if (calls.length === 1) {
          resolveOffset(batch.messages[0].offset);
          resolveOffset(batch.messages[1].offset);
          throw new Error('handler failed after two messages');
        }
      },
    });
    await waitFor(() => calls.length >= 2);
    await consumer.disconnect();
    expect(calls[0]).toEqual(['0', '1', '2', '3', '4']);
    expect(calls[1]).toEqual(['2', '3', '4']);
  });
});
