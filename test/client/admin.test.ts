import { describe, expect, it } from 'vitest';
import { ConfigResourceTypes, Wafka, logLevel } from '../../src/index.ts';
import { FakeCluster } from './fake-broker.ts';

async function setup() {
  const cluster = new FakeCluster(3);
  const wafka = new Wafka({ clientId: 'test', cluster: cluster.brokers, logLevel: logLevel.NOTHING, retry: { initialRetryTime: 5, retries: 1 } });
  const admin = wafka.admin();
  await admin.connect();
  return { cluster, wafka, admin };
}

describe('admin', () => {
  it('createTopics returns true, then false when the topic exists; listTopics and fetchTopicMetadata have KafkaJS shapes', async () => {
    const { admin } = await setup();
    expect(await admin.createTopics({ topics: [{ topic: 'a', numPartitions: 3, configEntries: [{ name: 'retention.ms', value: '1000' }] }] })).toBe(true);
    expect(await admin.createTopics({ topics: [{ topic: 'a', numPartitions: 3 }] })).toBe(false);
    expect(await admin.listTopics()).toEqual(['a']);
    const metadata = await admin.fetchTopicMetadata({ topics: ['a'] });
    expect(metadata.topics).toHaveLength(1);
    expect(metadata.topics[0].name).toBe('a');
    expect(metadata.topics[0].partitions).toEqual([0, 1, 2].map((partitionId) => ({
      partitionErrorCode: 0, partitionId, leader: partitionId % 3, replicas: [partitionId % 3], isr: [partitionId % 3], offlineReplicas: [],
    })));
    await expect(admin.fetchTopicMetadata({ topics: ['missing'] })).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    const cluster = await admin.describeCluster();
    expect(cluster).toMatchObject({ controller: 0, clusterId: 'fake' });
    expect(cluster.brokers.map((b) => b.nodeId)).toEqual([0, 1, 2]);
    await admin.disconnect();
  });

  it('fetchTopicOffsets gives { partition, offset, high, low } as strings; deleteTopicRecords moves low', async () => {
    const { admin, wafka } = await setup();
    await admin.createTopics({ topics: [{ topic: 'o', numPartitions: 2 }] });
    const producer = wafka.producer();
    await producer.connect();
    await producer.send({ topic: 'o', messages: Array.from({ length: 5 }, (_, i) => ({ value: `v${i}`, partition: 0 })), acks: 1 });
    await producer.disconnect();
    expect(await admin.fetchTopicOffsets('o')).toEqual([
      { partition: 0, offset: '5', high: '5', low: '0' },
      { partition: 1, offset: '0', high: '0', low: '0' },
    ]);
    await admin.deleteTopicRecords({ topic: 'o', partitions: [{ partition: 0, offset: '-1' }] });
    expect((await admin.fetchTopicOffsets('o'))[0]).toEqual({ partition: 0, offset: '5', high: '5', low: '5' });
    await expect(admin.deleteTopicRecords({ topic: 'o', partitions: [{ partition: 0, offset: '99' }] })).rejects.toMatchObject({ type: 'OFFSET_OUT_OF_RANGE' });
    const byTime = await admin.fetchTopicOffsetsByTimestamp('o', Date.now() + 60_000);
    expect(byTime).toEqual([{ partition: 0, offset: '5' }, { partition: 1, offset: '0' }]);
    await admin.disconnect();
  });

  it('describeConfigs and alterConfigs take Kafka or wafka config names; KafkaJS result shapes', async () => {
    const { admin } = await setup();
    await admin.createTopics({ topics: [{ topic: 'c' }] });
    const altered = await admin.alterConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: 'c', configEntries: [{ name: 'max.message.bytes', value: '5000' }] }] });
    expect(altered).toEqual({ throttleTime: 0, resources: [{ errorCode: 0, errorMessage: null, resourceName: 'c', resourceType: ConfigResourceTypes.TOPIC }] });
    const described = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: 'c', configNames: ['max.message.bytes'] }], includeSynonyms: false });
    expect(described.resources[0]).toMatchObject({ errorCode: 0, resourceName: 'c', resourceType: 2 });
    expect(described.resources[0].configEntries).toEqual([
      { configName: 'maxMessageBytes', configValue: '5000', isDefault: false, configSource: 1, isSensitive: false, readOnly: false, configSynonyms: [] },
    ]);
    await admin.disconnect();
  });

  it('createPartitions and deleteTopics; errors are typed', async () => {
    const { admin } = await setup();
    await admin.createTopics({ topics: [{ topic: 'p', numPartitions: 1 }] });
    expect(await admin.createPartitions({ topicPartitions: [{ topic: 'p', count: 4 }] })).toBe(true);
    expect((await admin.fetchTopicOffsets('p')).map((x) => x.partition)).toEqual([0, 1, 2, 3]);
    await expect(admin.createPartitions({ topicPartitions: [{ topic: 'p', count: 2 }] })).rejects.toMatchObject({ type: 'INVALID_PARTITIONS', code: 37 });
    await admin.deleteTopics({ topics: ['p'] });
    expect(await admin.listTopics()).toEqual([]);
    await expect(admin.deleteTopics({ topics: ['p'] })).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    await admin.disconnect();
    await expect(admin.listTopics()).rejects.toMatchObject({ type: 'NETWORK_EXCEPTION' });
  });
});
