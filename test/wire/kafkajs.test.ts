// KafkaJS 2.2.4 (from npm) against a 3-broker files cluster through the Kafka wire-protocol listeners.
import { Kafka, logLevel, CompressionTypes, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkReceived, readWithWafka, registerKafkaJSCodecs, startWireCluster, testMessages, type WireCluster } from './wire-cluster.ts';

let wire: WireCluster;
let kafka: Kafka;
let admin: Admin;

beforeAll(async () => {
  await registerKafkaJSCodecs();
  wire = await startWireCluster({ clusterId: 'wire-kafkajs' });
  kafka = new Kafka({ clientId: 'wire-kafkajs', brokers: [wire.brokers[1]], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 50 } });
  admin = kafka.admin();
  await admin.connect();
}, 60_000);
afterAll(async () => {
  await admin?.disconnect();
  await wire?.stop();
});

describe('KafkaJS through the wire-protocol listener', () => {
  it('Metadata advertises every broker at 127.0.0.1:<its listener port>, and DescribeCluster the same', async () => {
    const described = await admin.describeCluster();
    expect(described.clusterId).toBe('wire-kafkajs');
    expect(described.brokers.map((b) => `${b.host}:${b.port}`).sort()).toEqual([...wire.brokers].sort());
    expect(wire.cluster.listeners.map((l) => l.host)).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1']);
  });

  const codecs = [
    ['none', CompressionTypes.None], ['gzip', CompressionTypes.GZIP], ['snappy', CompressionTypes.Snappy],
    ['lz4', CompressionTypes.LZ4],
  ] as const;
  for (const [name, compression] of codecs) {
    it(`produces with ${name}: wafka's own client reads every message once, intact, in order per partition`, async () => {
      const topic = `kafkajs-${name}`;
      await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
      const producer = kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      const results = [];
      for (let round = 0; round < 3; round++) {
        results.push(...await producer.send({ topic, acks: -1, compression, messages: testMessages(name, round * 40, 40) }));
      }
      await producer.disconnect();
      expect(results.every((r) => r.errorCode === 0)).toBe(true);
      checkReceived(await readWithWafka(wire.cluster, topic, 120), name, 120);
    }, 40_000);
  }

  it('produces with zstd to brokers whose realm has the zstd codec (in-process); broker workers without it refuse with UNSUPPORTED_COMPRESSION_TYPE', async () => {
    const inProcess = await startWireCluster({ clusterId: 'wire-kafkajs-zstd', inProcess: true });
    try {
      const client = new Kafka({ clientId: 'wire-zstd', brokers: inProcess.brokers, logLevel: logLevel.NOTHING });
      const producer = client.producer({ allowAutoTopicCreation: true });
      await producer.connect();
      for (let round = 0; round < 3; round++) await producer.send({ topic: 'zstd', acks: -1, compression: CompressionTypes.ZSTD, messages: testMessages('zstd', round * 40, 40) });
      await producer.disconnect();
      checkReceived(await readWithWafka(inProcess.cluster, 'zstd', 120), 'zstd', 120);
    } finally {
      await inProcess.stop();
    }
    const producer = kafka.producer({ allowAutoTopicCreation: true, retry: { retries: 0 } });
    await producer.connect();
    await expect(producer.send({ topic: 'zstd-workers', acks: 1, compression: CompressionTypes.ZSTD, messages: testMessages('zstd', 0, 5) }))
      .rejects.toMatchObject({ type: 'UNSUPPORTED_COMPRESSION_TYPE' });
    await producer.disconnect();
  }, 40_000);

  it('an idempotent producer (InitProducerId, sequence numbers) sends once per message', async () => {
    const topic = 'kafkajs-idempotent';
    await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    for (let round = 0; round < 3; round++) await producer.send({ topic, acks: -1, messages: testMessages('idem', round * 30, 30) });
    await producer.disconnect();
    checkReceived(await readWithWafka(wire.cluster, topic, 90), 'idem', 90);
  }, 40_000);

  it('admin: create, describe and alter configs, add partitions, list offsets, delete records, delete topics', async () => {
    const topic = 'kafkajs-admin';
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 2, configEntries: [{ name: 'retention.ms', value: '3600000' }] }] })).toBe(true);
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] })).toBe(false); // exists already
    const described = await admin.describeConfigs({ resources: [{ type: 2, name: topic, configNames: ['retention.ms', 'cleanup.policy'] }], includeSynonyms: false });
    const entries = Object.fromEntries(described.resources[0].configEntries.map((e) => [e.configName, e]));
    expect(entries['retention.ms'].configValue).toBe('3600000');
    expect(entries['retention.ms'].isDefault).toBe(false);
    expect(entries['cleanup.policy'].configValue).toBe('delete');
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: topic, configEntries: [{ name: 'retention.ms', value: '7200000' }] }] });
    const again = await admin.describeConfigs({ resources: [{ type: 2, name: topic, configNames: ['retention.ms'] }], includeSynonyms: false });
    expect(again.resources[0].configEntries[0].configValue).toBe('7200000');

    await admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] });
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0].partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2, 3]);
    expect(metadata.topics[0].partitions.every((p) => p.replicas.length === 2 && p.isr.length === 2)).toBe(true);

    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ value: `v${i}`, partition: 0 })) });
    await producer.disconnect();
    expect((await admin.fetchTopicOffsets(topic)).find((p) => p.partition === 0)).toMatchObject({ low: '0', high: '10' });
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '4' }] });
    expect((await admin.fetchTopicOffsets(topic)).find((p) => p.partition === 0)).toMatchObject({ low: '4', high: '10' });

    await admin.deleteTopics({ topics: [topic] });
    expect(await admin.listTopics()).not.toContain(topic);
  }, 40_000);

  it('Metadata of an unknown topic creates it (auto-creation on), and a producer with acks=0 gets no response but its records are stored', async () => {
    const topic = 'kafkajs-auto';
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    await producer.send({ topic, acks: 0, messages: testMessages('acks0', 0, 30) });
    await producer.send({ topic, acks: 1, messages: testMessages('acks0', 30, 10) });
    await producer.disconnect();
    expect(await admin.listTopics()).toContain(topic);
    checkReceived(await readWithWafka(wire.cluster, topic, 40), 'acks0', 40);
  }, 40_000);
});
