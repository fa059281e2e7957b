/** ListGroups (key 16): the groups this broker coordinates, optionally by state (version 4+); all are classic groups. */
import type { GroupState } from '../../protocol/types.ts';
import { errorFields, type WireApi } from '../api.ts';
import { schema } from '../schema.ts';

const FLEXIBLE_FROM = 3;

export const listGroups: WireApi = {
  key: 16, name: 'ListGroups', minVersion: 0, maxVersion: 5,
  request: schema(`
statesFilter []string 4+
typesFilter []string 5+
`, FLEXIBLE_FROM),
  response: schema(`
throttleTimeMs int32 1+
errorCode int16 0+
groups [] 0+
  groupId string 0+
  protocolType string 0+
  groupState string 4+
  groupType string 5+
`, FLEXIBLE_FROM),
  async handle(request, _version, context) {
    const types: string[] = request.typesFilter;
    if (types.length > 0 && !types.some((t) => t.toLowerCase() === 'classic')) return { throttleTimeMs: 0, errorCode: 0, groups: [] };
    const answer = await context.broker.listGroups({ statesFilter: request.statesFilter as GroupState[] });
    return {
      throttleTimeMs: 0, errorCode: errorFields(answer.error).errorCode,
      groups: answer.groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.groupState, groupType: 'classic' })),
    };
  },
};
