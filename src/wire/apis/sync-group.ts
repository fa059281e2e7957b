/** SyncGroup (key 14): the leader hands out the assignment; every member gets its own. */
import { errorFields, type WireApi } from '../api.ts';
import { schema } from '../schema.ts';

const FLEXIBLE_FROM = 4;

export const syncGroup: WireApi = {
  key: 14, name: 'SyncGroup', minVersion: 0, maxVersion: 5,
  request: schema(`
groupId string 0+
generationId int32 0+
memberId string 0+
groupInstanceId string 3+ null:3+ default:null
protocolType string 5+ null:5+ default:null
protocolName string 5+ null:5+ default:null
assignments [] 0+
  memberId string 0+
  assignment bytes 0+
`, FLEXIBLE_FROM),
  response: schema(`
throttleTimeMs int32 1+
errorCode int16 0+
protocolType string 5+ null:5+ default:null
protocolName string 5+ null:5+ default:null
assignment bytes 0+
`, FLEXIBLE_FROM),
  async handle(request, _version, context) {
    const answer = await context.broker.syncGroup({
      groupId: request.groupId, generationId: request.generationId, memberId: request.memberId,
      groupInstanceId: request.groupInstanceId, protocolType: request.protocolType, protocolName: request.protocolName,
      assignments: request.assignments.map((a: { memberId: string; assignment: Uint8Array }) => ({ memberId: a.memberId, assignment: a.assignment.slice() })),
    });
    return { throttleTimeMs: 0, ...errorFields(answer.error), protocolType: answer.protocolType, protocolName: answer.protocolName, assignment: answer.assignment };
  },
};
