/** Heartbeat (key 12): a member is alive; the answer says when the group rebalances (REBALANCE_IN_PROGRESS). */
import { errorFields, type WireApi } from '../api.ts';
import { schema } from '../schema.ts';

const FLEXIBLE_FROM = 4;

export const heartbeat: WireApi = {
  key: 12, name: 'Heartbeat', minVersion: 0, maxVersion: 4,
  request: schema(`
groupId string 0+
generationId int32 0+
memberId string 0+
groupInstanceId string 3+ null:3+ default:null
`, FLEXIBLE_FROM),
  response: schema(`
throttleTimeMs int32 1+
errorCode int16 0+
`, FLEXIBLE_FROM),
  async handle(request, _version, context) {
    const answer = await context.broker.heartbeat({
      groupId: request.groupId, generationId: request.generationId, memberId: request.memberId, groupInstanceId: request.groupInstanceId,
    });
    return { throttleTimeMs: 0, errorCode: errorFields(answer.error).errorCode };
  },
};
