/** DeleteGroups (key 42): removes empty groups and their committed offsets. */
import { errorFields, type WireApi } from '../api.ts';
import { schema } from '../schema.ts';

const FLEXIBLE_FROM = 2;

export const deleteGroups: WireApi = {
  key: 42, name: 'DeleteGroups', minVersion: 0, maxVersion: 2,
  request: schema(`
groupsNames []string 0+
`, FLEXIBLE_FROM),
  response: schema(`
throttleTimeMs int32 0+
results [] 0+
  groupId string 0+
  errorCode int16 0+
`, FLEXIBLE_FROM),
  async handle(request, _version, context) {
    const answer = await context.broker.deleteGroups({ groupsNames: request.groupsNames });
    return { throttleTimeMs: 0, results: answer.results.map((r) => ({ groupId: r.groupId, errorCode: errorFields(r.error).errorCode })) };
  },
};
