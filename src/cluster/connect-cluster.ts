/**
 * Connects to the brokers of a cluster started elsewhere (another tab, a
 * worker, the page that owns the broker workers) through MessagePorts, one per
 * broker. The owner makes them with `cluster.connectPort(nodeId)` and
 * transfers them (postMessage(..., [port])) to where the client runs:
 *
 *   // owner (page):   const ports = await Promise.all(cluster.bootstrap.nodeIds.map((id) => cluster.connectPort(id)));
 *   //                 worker.postMessage({ clusterId, ports }, ports);
 *   // client (worker): const connection = connectCluster({ clusterId, ports });
 *   //                  new Wafka({ clientId, cluster: connection })
 */
import type { BrokerApi } from '../protocol/types.ts';
import { BrokerClient } from '../transport/broker-client.ts';
import type { EndpointLike } from '../transport/endpoint.ts';
import { brokerLookup, type ClusterConnection } from './cluster-connection.ts';

export interface ConnectClusterOptions {
  clusterId: string;
  /** ports[i] reaches broker i, or an explicit id → port map. */
  ports: readonly EndpointLike[] | ReadonlyMap<number, EndpointLike> | Readonly<Record<number, EndpointLike>>;
  /** See BrokerClientOptions. */
  transferProduceRecords?: boolean;
}

export interface ConnectedCluster extends ClusterConnection {
  /** Closes the ports; pending calls reject with BROKER_NOT_AVAILABLE. The brokers keep running. */
  close(): void;
}

export function connectCluster(options: ConnectClusterOptions): ConnectedCluster {
  const entries: [number, EndpointLike][] = Array.isArray(options.ports)
    ? (options.ports as EndpointLike[]).map((port, id) => [id, port])
    : options.ports instanceof Map
      ? [...options.ports.entries()]
      : Object.entries(options.ports).map(([id, port]) => [Number(id), port as EndpointLike]);
  entries.sort((a, b) => a[0] - b[0]);
  const clients = new Map<number, BrokerClient>();
  for (const [id, port] of entries) {
    clients.set(id, new BrokerClient(port, {
      transferProduceRecords: options.transferProduceRecords,
      onClose: () => (port as { close?: () => void }).close?.(),
    }));
  }
  const byId = clients as ReadonlyMap<number, BrokerApi>;
  return {
    clusterId: options.clusterId,
    brokers: [...clients.values()],
    bootstrap: { clusterId: options.clusterId, nodeIds: [...clients.keys()], transport: 'port' },
    broker: brokerLookup(options.clusterId, byId),
    close() {
      for (const client of clients.values()) client.close();
    },
  };
}
