/** DeleteTopics (key 20), by name (versions 0–5; 6+ name topics by id, which wafka does not keep). */
import { errorFields, type WireApi } from '../api.ts';
import { schema } from '../schema.ts';

const FLEXIBLE_FROM = 4;

export const deleteTopics: WireApi = {
  key: 20, name: 'DeleteTopics', minVersion: 0, maxVersion: 5,
  request: schema(`
topicNames []string 0-5
timeoutMs int32 0+
`, FLEXIBLE_FROM),
  response: schema(`
throttleTimeMs int32 1+
responses [] 0+
  name string 0+ null:6+
  errorCode int16 0+
  errorMessage string 5+ null:5+ default:null
`, FLEXIBLE_FROM),
  async handle(request, _version, context) {
    const answer = await context.broker.deleteTopics({ topics: request.topicNames, timeoutMs: request.timeoutMs });
    return { throttleTimeMs: 0, responses: answer.topics.map((t) => ({ name: t.topic, ...errorFields(t.error) })) };
  },
};
