// A stored batch the consumer cannot decode: the records before it are
// delivered (even when they came in the same fetch), then the consumer stops
// with an UndecodableBatchError that names topic, partition and offset.
import { describe, expect, it } from 'vitest';
import { UndecodableBatchError, Wafka, logLevel, type KafkaMessage } from '../../src/index.ts';
import { batchBytes, goodRecords } from '../core/batch-bytes.ts';
import { FakeCluster } from './fake-broker.ts';
import { waitFor } from './wait.ts';

const values = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ value: `v${from + i}` }));

describe('consumer: a batch that cannot be decoded', () => {
  it('delivers the 10 records before it in the same fetch, then crashes with its topic, partition and offset', async () => {
    const cluster = new FakeCluster(1);
    cluster.createTopic('t', 1);
    const wafka = new Wafka({ clientId: 'test', cluster: cluster.brokers, logLevel: logLevel.NOTHING, retry: { initialRetryTime: 5, retries: 2 } });
    const producer = wafka.producer({ lingerMs: 0 });
    await producer.connect();
    await producer.send({ topic: 't', messages: values(10), acks: 1 });
    // The fake broker stores what it is given (the real one refuses this batch on append).
    const bad = batchBytes({ records: goodRecords(2), recordCount: 3 });
    const produced = await cluster.brokers[0].produce({ acks: 1, timeoutMs: 1000, topics: [{ topic: 't', partitions: [{ partition: 0, records: bad }] }] });
    expect(produced.topics[0].partitions[0].error).toBeUndefined();
    await producer.send({ topic: 't', messages: values(10, 13), acks: 1 });
    await producer.disconnect();

    const consumer = wafka.consumer({ groupId: 'g', maxWaitTimeInMs: 20 });
    await consumer.connect();
    await consumer.subscribe({ topics: ['t'], fromBeginning: true });
    const seen: KafkaMessage[] = [];
    const crashes: { error: unknown }[] = [];
    let fetches = 0;
    consumer.on(consumer.events.FETCH, () => { fetches++; });
    consumer.on(consumer.events.CRASH, (e) => crashes.push(e.payload as { error: unknown }));
    await consumer.run({ eachMessage: async ({ message }) => { seen.push(message); } });
    await waitFor(() => crashes.length === 1);
    await consumer.disconnect();

    expect(fetches).toBe(1);
    expect(seen.map((m) => m.offset)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const error = crashes[0].error as UndecodableBatchError;
    expect(error).toBeInstanceOf(UndecodableBatchError);
    expect({ type: error.type, topic: error.topic, partition: error.partition, offset: error.offset, retriable: error.retriable })
      .toEqual({ type: 'CORRUPT_MESSAGE', topic: 't', partition: 0, offset: '10', retriable: false });
    expect(error.message).toMatch(/^CORRUPT_MESSAGE: t-0 at offset 10: cannot decode the batch there: .*fewer records than RecordCount/);
  });

  it('a bad batch first in the fetch: nothing delivered, the error names its offset; seeking past it goes on', async () => {
    const cluster = new FakeCluster(1);
    cluster.createTopic('t', 1);
    const wafka = new Wafka({ clientId: 'test', cluster: cluster.brokers, logLevel: logLevel.NOTHING, retry: { initialRetryTime: 5, retries: 2 } });
    const bad = batchBytes({ records: goodRecords(1), recordCount: 1, attributes: 7 });
    await cluster.brokers[0].produce({ acks: 1, timeoutMs: 1000, topics: [{ topic: 't', partitions: [{ partition: 0, records: bad }] }] });
    const producer = wafka.producer({ lingerMs: 0 });
    await producer.connect();
    await producer.send({ topic: 't', messages: values(3, 1), acks: 1 });
    await producer.disconnect();

    const consumer = wafka.consumer({ groupId: 'g', maxWaitTimeInMs: 20 });
    await consumer.connect();
    await consumer.subscribe({ topics: ['t'], fromBeginning: true });
    const seen: string[] = [];
    const crashes: { error: unknown }[] = [];
    consumer.on(consumer.events.CRASH, (e) => crashes.push(e.payload as { error: unknown }));
    await consumer.run({ eachMessage: async ({ message }) => { seen.push(message.offset); } });
    await waitFor(() => crashes.length === 1);
    const error = crashes[0].error as UndecodableBatchError;
    expect([error.type, error.offset, seen]).toEqual(['CORRUPT_MESSAGE', '0', []]);
    await consumer.stop();
    await consumer.run({ eachMessage: async ({ message }) => { seen.push(message.offset); } });
    consumer.seek({ topic: 't', partition: 0, offset: '1' });
    await waitFor(() => seen.length === 3);
    await consumer.disconnect();
    expect(seen).toEqual(['1', '2', '3']);
  });
});
