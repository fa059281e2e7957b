/**
 * How a client reaches a group's coordinator: FindCoordinator from any
 * broker, then the group request to the broker it names; a broker that does
 * not serve groups (a stand-in) is UNSUPPORTED_VERSION.
 */
import { WafkaError } from '../../errors.ts';
import { COORDINATOR_KEY_TYPE_GROUP, isGroupApi, type GroupApi } from '../../protocol/types.ts';
import { fromErrorJSON, type ClusterClient } from '../connection.ts';

/** Errors after which the coordinator is looked up again (Kafka's consumer does the same). */
export const COORDINATOR_MOVED = new Set(['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS', 'BROKER_NOT_AVAILABLE', 'NETWORK_EXCEPTION', 'REQUEST_TIMED_OUT']);

export async function groupCall<T>(cluster: ClusterClient, nodeId: number, apiName: string, call: (api: GroupApi) => Promise<T>): Promise<T> {
  return cluster.request(nodeId, apiName, 0, (api) => {
    if (!isGroupApi(api)) throw new WafkaError('UNSUPPORTED_VERSION', `broker ${nodeId} does not serve group requests (${apiName})`);
    return call(api);
  });
}

/**
 * The node id of the coordinator of each key, asking the brokers the client
 * knows in turn: groups (key type 0, the default) or transactional ids (1).
 */
export async function findCoordinators(cluster: ClusterClient, groupIds: string[], keyType = COORDINATOR_KEY_TYPE_GROUP): Promise<Map<string, number>> {
  if (!cluster.metadata) await cluster.refresh([]);
  let lastError: WafkaError | undefined;
  for (const nodeId of cluster.brokerIds()) {
    try {
      const { coordinators } = await groupCall(cluster, nodeId, 'FindCoordinator', (api) => api.findCoordinator({ keyType, coordinatorKeys: groupIds }));
      const found = new Map<string, number>();
      for (const c of coordinators) {
        const error = fromErrorJSON(c.error);
        if (error) throw error;
        found.set(c.key, c.nodeId);
      }
      return found;
    } catch (error) {
      lastError = error instanceof WafkaError ? error : new WafkaError('UNKNOWN_SERVER_ERROR', String(error));
      if (lastError.type === 'UNSUPPORTED_VERSION' || lastError.type === 'INVALID_REQUEST') throw lastError;
      if (lastError.type === 'COORDINATOR_NOT_AVAILABLE') throw lastError;
    }
  }
  cluster.markStale();
  throw lastError ?? new WafkaError('COORDINATOR_NOT_AVAILABLE', 'no broker answered FindCoordinator');
}
