/**
 * What a client needs to reach a cluster: one BrokerApi per broker id. Both a
 * started Cluster and connectCluster() give one; the client finds partition
 * leaders through Metadata (any broker answers) and calls `broker(leader)`.
 */
import { WafkaError } from '../errors.ts';
import type { BrokerApi } from '../protocol/types.ts';

export interface ClusterBootstrap {
  clusterId: string;
  /** Broker ids, ascending. */
  nodeIds: number[];
  /** How the brokers are reached from here. */
  transport: 'in-process' | 'worker' | 'port';
}

export interface ClusterConnection {
  readonly clusterId: string;
  /** One per broker, in nodeIds order (brokers[i] is broker nodeIds[i]; ids are 0..n-1 for a started cluster). */
  readonly brokers: BrokerApi[];
  readonly bootstrap: ClusterBootstrap;
  /** The broker with this id; throws BROKER_NOT_AVAILABLE for an id this connection does not reach. */
  broker(nodeId: number): BrokerApi;
}

export function brokerLookup(clusterId: string, byId: ReadonlyMap<number, BrokerApi>): (nodeId: number) => BrokerApi {
  return (nodeId) => {
    const broker = byId.get(nodeId);
    if (!broker) throw new WafkaError('BROKER_NOT_AVAILABLE', `cluster '${clusterId}' has no broker ${nodeId} reachable from here (known: ${[...byId.keys()].join(', ')})`);
    return broker;
  };
}
