// Topic auto-creation as Kafka (auto.create.topics.enable, num.partitions) and KafkaJS
// (allowAutoTopicCreation on the producer and the consumer) have it, through real brokers.
import { afterEach, describe, expect, it } from 'vitest';
import { Wafka, logLevel, startCluster, type Cluster, type StartClusterOptions } from '../../src/index.ts';
import { text, waitFor } from './wait.ts';

let cluster: Cluster | undefined;
afterEach(async () => { await cluster?.stop(); cluster = undefined; });

async function client(options: Partial<StartClusterOptions> = {}): Promise<Wafka> {
  cluster = await startCluster({ brokers: 2, storage: 'memory', ...options });
  return new Wafka({ clientId: 'auto', cluster, logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 5 } });
}

async function topics(wafka: Wafka): Promise<string[]> {
  const admin = wafka.admin();
  await admin.connect();
  // The internal __consumer_offsets (made by the consumer's group) is not what these tests count.
  try { return (await admin.listTopics()).filter((t) => t !== '__consumer_offsets'); } finally { await admin.disconnect(); }
}

async function partitionsOf(wafka: Wafka, topic: string): Promise<number> {
  const admin = wafka.admin();
  await admin.connect();
  try { return (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions.length; } finally { await admin.disconnect(); }
}

describe('brokers create topics on first use by default', () => {
  it('a producer sends to a topic nobody created: it exists with 1 partition (num.partitions)', async () => {
    const wafka = await client();
    const producer = wafka.producer();
    await producer.connect();
    const [meta] = await producer.send({ topic: 'orders', messages: [{ key: 'o-1', value: 'created' }] });
    expect(meta).toMatchObject({ topicName: 'orders', partition: 0, errorCode: 0, baseOffset: '0' });
    await producer.disconnect();
    expect(await topics(wafka)).toEqual(['orders']);
    expect(await partitionsOf(wafka, 'orders')).toBe(1);
  });

  it('numPartitions sets the partition count of auto-created topics', async () => {
    const wafka = await client({ brokerConfig: { numPartitions: 4 } });
    const producer = wafka.producer();
    await producer.connect();
    await producer.send({ topic: 'wide', messages: [{ value: 'x' }] });
    await producer.disconnect();
    expect(await partitionsOf(wafka, 'wide')).toBe(4);
  });

  it('the producer\'s allowAutoTopicCreation: false is honoured: UNKNOWN_TOPIC_OR_PARTITION, nothing created', async () => {
    const wafka = await client();
    const producer = wafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    await expect(producer.send({ topic: 'typo', messages: [{ value: 'x' }] })).rejects.toMatchObject({ name: 'WafkaError', type: 'UNKNOWN_TOPIC_OR_PARTITION', code: 3 });
    await producer.disconnect();
    expect(await topics(wafka)).toEqual([]);
  });

  it('an app turns it off with startCluster({ allowAutoTopicCreation: false })', async () => {
    const wafka = await client({ allowAutoTopicCreation: false });
    const producer = wafka.producer();
    await producer.connect();
    await expect(producer.send({ topic: 'typo', messages: [{ value: 'x' }] })).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    await producer.disconnect();
    const consumer = wafka.consumer({ groupId: 'g' });
    await consumer.connect();
    await consumer.subscribe({ topics: ['typo'] });
    await expect(consumer.run({ eachMessage: async () => {} })).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    await consumer.disconnect();
    expect(await topics(wafka)).toEqual([]);
  });

  it('a consumer subscribed to a missing topic creates it (KafkaJS default) and receives what is produced later', async () => {
    const wafka = await client();
    const consumer = wafka.consumer({ groupId: 'g', maxWaitTimeInMs: 50 });
    await consumer.connect();
    await consumer.subscribe({ topics: ['later'], fromBeginning: true });
    const got: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => { got.push(text(message.value)!); } });
    expect(await topics(wafka)).toEqual(['later']);
    const producer = wafka.producer();
    await producer.connect();
    await producer.send({ topic: 'later', messages: [{ value: 'a' }, { value: 'b' }] });
    await producer.disconnect();
    await waitFor(() => got.length === 2);
    expect(got).toEqual(['a', 'b']);
    await consumer.disconnect();
  });

  it('a consumer with allowAutoTopicCreation: false fails run with UNKNOWN_TOPIC_OR_PARTITION, nothing created', async () => {
    const wafka = await client();
    const consumer = wafka.consumer({ groupId: 'g', allowAutoTopicCreation: false });
    await consumer.connect();
    await consumer.subscribe({ topics: ['missing'] });
    await expect(consumer.run({ eachMessage: async () => {} })).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    await consumer.disconnect();
    expect(await topics(wafka)).toEqual([]);
  });

  it('a RegExp subscription does not create topics; named ones beside it are created', async () => {
    const wafka = await client();
    const consumer = wafka.consumer({ groupId: 'g' });
    await consumer.connect();
    await consumer.subscribe({ topics: [/^logs-/, 'named'] });
    await consumer.run({ eachMessage: async () => {} });
    await consumer.disconnect();
    expect(await topics(wafka)).toEqual(['named']);
  });
});
