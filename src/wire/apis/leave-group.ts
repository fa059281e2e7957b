/** LeaveGroup (key 13): members leave (one by member id before version 3; several from 3 on). */
import { errorFields, type WireApi } from '../api.ts';
import { schema } from '../schema.ts';

const FLEXIBLE_FROM = 4;

export const leaveGroup: WireApi = {
  key: 13, name: 'LeaveGroup', minVersion: 0, maxVersion: 5,
  request: schema(`
groupId string 0+
memberId string 0-2
members [] 3+
  memberId string 3+
  groupInstanceId string 3+ null:3+ default:null
  reason string 5+ null:5+ default:null
`, FLEXIBLE_FROM),
  response: schema(`
throttleTimeMs int32 1+
errorCode int16 0+
members [] 3+
  memberId string 3+
  groupInstanceId string 3+ null:3+
  errorCode int16 3+
`, FLEXIBLE_FROM),
  async handle(request, version, context) {
    type Member = { memberId: string; groupInstanceId: string | null; reason: string | null };
    const members: Member[] = version >= 3 ? request.members : [{ memberId: request.memberId, groupInstanceId: null, reason: null }];
    const answer = await context.broker.leaveGroup({ groupId: request.groupId, members });
    // Before version 3 the one member's error is the response's.
    const single = version < 3 ? answer.members[0]?.error : undefined;
    return {
      throttleTimeMs: 0, errorCode: errorFields(answer.error ?? single).errorCode,
      members: answer.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: errorFields(m.error).errorCode })),
    };
  },
};
