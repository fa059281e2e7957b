/** CreatePartitions (key 37): raises topics' partition counts, optionally with the new partitions' replicas. */
import { errorFields, type WireApi } from '../api.ts';
import { schema } from '../schema.ts';

const FLEXIBLE_FROM = 2;

export const createPartitions: WireApi = {
  key: 37, name: 'CreatePartitions', minVersion: 0, maxVersion: 3,
  request: schema(`
topics [] 0+
  name string 0+
  count int32 0+
  assignments [] 0+ null:0+
    brokerIds []int32 0+
timeoutMs int32 0+
validateOnly bool 0+
`, FLEXIBLE_FROM),
  response: schema(`
throttleTimeMs int32 0+
results [] 0+
  name string 0+
  errorCode int16 0+
  errorMessage string 0+ null:0+ default:null
`, FLEXIBLE_FROM),
  async handle(request, _version, context) {
    type Topic = { name: string; count: number; assignments: { brokerIds: number[] }[] | null };
    const answer = await context.broker.createPartitions({
      topicPartitions: request.topics.map((t: Topic) => ({
        topic: t.name, count: t.count, ...(t.assignments ? { assignments: t.assignments.map((a) => a.brokerIds) } : {}),
      })),
      validateOnly: request.validateOnly,
    });
    return { throttleTimeMs: 0, results: answer.topics.map((t) => ({ name: t.topic, ...errorFields(t.error) })) };
  },
};
