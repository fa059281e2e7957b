/** DescribeGroups (key 15): groups' state, protocol and members with their metadata and assignments. */
import { errorFields, type WireApi } from '../api.ts';
import { schema } from '../schema.ts';

const FLEXIBLE_FROM = 5;

export const describeGroups: WireApi = {
  key: 15, name: 'DescribeGroups', minVersion: 0, maxVersion: 5,
  request: schema(`
groups []string 0+
includeAuthorizedOperations bool 3+
`, FLEXIBLE_FROM),
  response: schema(`
throttleTimeMs int32 1+
groups [] 0+
  errorCode int16 0+
  groupId string 0+
  groupState string 0+
  protocolType string 0+
  protocolData string 0+
  members [] 0+
    memberId string 0+
    groupInstanceId string 4+ null:4+ default:null
    clientId string 0+
    clientHost string 0+
    memberMetadata bytes 0+
    memberAssignment bytes 0+
  authorizedOperations int32 3+ default:-2147483648
`, FLEXIBLE_FROM),
  async handle(request, _version, context) {
    const answer = await context.broker.describeGroups({ groups: request.groups });
    return {
      throttleTimeMs: 0,
      groups: answer.groups.map((g) => ({
        errorCode: errorFields(g.error).errorCode, groupId: g.groupId, groupState: g.groupState, protocolType: g.protocolType,
        protocolData: g.protocolData, members: g.members,
      })),
    };
  },
};
