/**
 * CreateTopics (key 19). -1 partitions or replication factor (version 4+)
 * means the broker's default. Version 5+ answers also carry the partition
 * count and replication factor the topic was made with.
 */
import type { CreateTopicSpec } from '../../protocol/types.ts';
import { errorFields, type WireApi } from '../api.ts';
import { schema } from '../schema.ts';
import { topicId } from '../topic-ids.ts';

const FLEXIBLE_FROM = 5;

interface CreatableTopic {
  name: string;
  numPartitions: number;
  replicationFactor: number;
  assignments: { partitionIndex: number; brokerIds: number[] }[];
  configs: { name: string; value: string | null }[];
}

export const createTopics: WireApi = {
  key: 19, name: 'CreateTopics', minVersion: 0, maxVersion: 7,
  request: schema(`
topics [] 0+
  name string 0+
  numPartitions int32 0+
  replicationFactor int16 0+
  assignments [] 0+
    partitionIndex int32 0+
    brokerIds []int32 0+
  configs [] 0+
    name string 0+
    value string 0+ null:0+
timeoutMs int32 0+ default:60000
validateOnly bool 1+ default:false
`, FLEXIBLE_FROM),
  response: schema(`
throttleTimeMs int32 2+
topics [] 0+
  name string 0+
  topicId uuid 7+
  errorCode int16 0+
  errorMessage string 1+ null:0+
  topicConfigErrorCode int16 5+ tag:0
  numPartitions int32 5+ default:-1
  replicationFactor int16 5+ default:-1
  configs [] 5+ null:5+
    name string 5+
    value string 5+ null:5+
    readOnly bool 5+
    configSource int8 5+ default:-1
    isSensitive bool 5+
`, FLEXIBLE_FROM),
  async handle(request, version, context) {
    const topics: CreateTopicSpec[] = request.topics.map((t: CreatableTopic) => ({
      topic: t.name,
      ...(t.numPartitions > 0 ? { numPartitions: t.numPartitions } : {}),
      ...(t.replicationFactor > 0 ? { replicationFactor: t.replicationFactor } : {}),
      ...(t.assignments.length > 0 ? { replicaAssignment: t.assignments.map((a) => ({ partition: a.partitionIndex, replicas: a.brokerIds })) } : {}),
      configEntries: t.configs.filter((c) => c.value !== null).map((c) => ({ name: c.name, value: c.value! })),
    }));
    const answer = await context.broker.createTopics({ topics, validateOnly: request.validateOnly, timeoutMs: request.timeoutMs });
    // Version 5+ says what each created topic got; a Metadata read tells (validateOnly creates nothing to read).
    const made = version >= 5 && !request.validateOnly ? answer.topics.filter((t) => !t.error).map((t) => t.topic) : [];
    const shapes = new Map<string, { numPartitions: number; replicationFactor: number; topicId: Uint8Array }>();
    if (made.length > 0) {
      const described = await context.broker.metadata({ topics: made, allowAutoTopicCreation: false });
      for (const t of described.topics) if (!t.error) shapes.set(t.name, { numPartitions: t.partitions.length, replicationFactor: t.partitions[0]?.replicas.length ?? -1, topicId: topicId(described.clusterId, t.name) });
    }
    return {
      throttleTimeMs: 0,
      topics: answer.topics.map((t) => ({ name: t.topic, ...errorFields(t.error), ...shapes.get(t.topic), configs: null })),
    };
  },
};
