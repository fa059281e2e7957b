/**
 * FindCoordinator (key 10): which broker coordinates a group (the leader of
 * the group's __consumer_offsets partition), at its listener. Versions 0–3
 * ask for one key; 4+ for several. Key type 0 is a group, 1 a
 * transactional id (the leader of its __transaction_state partition).
 */
import type { WafkaErrorJSON } from '../../errors.ts';
import { errorFields, type WireApi } from '../api.ts';
import { schema } from '../schema.ts';

const FLEXIBLE_FROM = 3;
const COORDINATOR_NOT_AVAILABLE = { code: 15, message: 'COORDINATOR_NOT_AVAILABLE: the coordinator has no listener' };

export const findCoordinator: WireApi = {
  key: 10, name: 'FindCoordinator', minVersion: 0, maxVersion: 4,
  request: schema(`
key string 0-3
keyType int8 1+ default:0
coordinatorKeys []string 4+
`, FLEXIBLE_FROM),
  response: schema(`
throttleTimeMs int32 1+
errorCode int16 0-3
errorMessage string 1-3 null:1+
nodeId int32 0-3
host string 0-3
port int32 0-3
coordinators [] 4+
  key string 4+
  nodeId int32 4+
  host string 4+
  port int32 4+
  errorCode int16 4+
  errorMessage string 4+ null:4+
`, FLEXIBLE_FROM),
  async handle(request, version, context) {
    const keys: string[] = version >= 4 ? request.coordinatorKeys : [request.key];
    const answer = await context.broker.findCoordinator({ keyType: request.keyType, coordinatorKeys: keys });
    const endpoints = context.endpoints();
    const coordinators = answer.coordinators.map((c) => {
      const endpoint = c.error ? undefined : endpoints.get(c.nodeId);
      const error: WafkaErrorJSON | undefined = c.error ?? (endpoint ? undefined : { ...COORDINATOR_NOT_AVAILABLE, name: 'WafkaError', type: 'COORDINATOR_NOT_AVAILABLE', retriable: true } as WafkaErrorJSON);
      return { key: c.key, nodeId: error ? -1 : c.nodeId, host: endpoint?.host ?? '', port: endpoint?.port ?? -1, ...errorFields(error) };
    });
    if (version >= 4) return { throttleTimeMs: 0, coordinators };
    return { throttleTimeMs: 0, ...coordinators[0] };
  },
};
