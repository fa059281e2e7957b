/**
 * JoinGroup (key 11): a member joins a group (Kafka's classic protocol).
 * From version 4 a first join without a member id is answered with
 * MEMBER_ID_REQUIRED and the id to join again with (KIP-394); clients of
 * versions 0–3 do not know that answer, so for them the listener joins again
 * with that id itself, as Kafka's broker accepts such joins at once.
 */
import { errorFields, type WireApi } from '../api.ts';
import { schema } from '../schema.ts';

const FLEXIBLE_FROM = 6;
const MEMBER_ID_REQUIRED = 79;

export const joinGroup: WireApi = {
  key: 11, name: 'JoinGroup', minVersion: 0, maxVersion: 9,
  request: schema(`
groupId string 0+
sessionTimeoutMs int32 0+
rebalanceTimeoutMs int32 1+ default:-1
memberId string 0+
groupInstanceId string 5+ null:5+ default:null
protocolType string 0+
protocols [] 0+
  name string 0+
  metadata bytes 0+
reason string 8+ null:8+ default:null
`, FLEXIBLE_FROM),
  response: schema(`
throttleTimeMs int32 2+
errorCode int16 0+
generationId int32 0+ default:-1
protocolType string 7+ null:7+ default:null
protocolName string 0+ null:7+
leader string 0+
skipAssignment bool 9+ default:false
memberId string 0+
members [] 0+
  memberId string 0+
  groupInstanceId string 5+ null:5+ default:null
  metadata bytes 0+
`, FLEXIBLE_FROM),
  async handle(request, version, context) {
    const join = (memberId: string) => context.broker.joinGroup({
      groupId: request.groupId,
      sessionTimeoutMs: request.sessionTimeoutMs,
      // Version 0 has no rebalance timeout: Kafka uses the session timeout.
      rebalanceTimeoutMs: request.rebalanceTimeoutMs >= 0 ? request.rebalanceTimeoutMs : request.sessionTimeoutMs,
      memberId,
      groupInstanceId: request.groupInstanceId,
      protocolType: request.protocolType,
      protocols: request.protocols.map((p: { name: string; metadata: Uint8Array }) => ({ name: p.name, metadata: p.metadata.slice() })),
      clientId: context.clientId ?? '',
      clientHost: context.clientHost,
      reason: request.reason,
    });
    let answer = await join(request.memberId);
    if (version < 4 && answer.error?.code === MEMBER_ID_REQUIRED && answer.memberId) answer = await join(answer.memberId);
    return {
      throttleTimeMs: 0, ...errorFields(answer.error),
      generationId: answer.generationId, protocolType: answer.protocolType, protocolName: answer.protocolName ?? (version >= 7 ? null : ''),
      leader: answer.leader, skipAssignment: answer.skipAssignment, memberId: answer.memberId,
      members: answer.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadata })),
    };
  },
};
