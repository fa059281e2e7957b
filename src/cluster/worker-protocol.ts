/**
 * The control messages between a cluster and its broker workers (data goes
 * over MessagePorts through comlink, see src/transport/).
 *
 *   parent → worker   init (once): who the broker is, where its storage is, and
 *                     the first port to serve on;
 *                     connect: one more port to serve (a client elsewhere, or a peer broker);
 *                     peer: a port to another broker of the cluster (follower fetches);
 *                     stop: close the broker (flush, release storage).
 *   worker → parent   ready | failed (answer to init), stopped (answer to stop).
 */
import type { BrokerConfigInput } from '../broker/broker-config.ts';
import type { WafkaErrorJSON } from '../errors.ts';
import type { StorageKind } from './broker-storage.ts';

export interface BrokerWorkerInit {
  type: 'wafka:init';
  nodeId: number;
  clusterId: string;
  storage: Exclude<StorageKind, 'memory'>;
  /** 'files': the cluster's data directory. */
  dir?: string;
  brokerConfig?: BrokerConfigInput;
  /** How long to wait for the broker's Web Lock (browser) held by a predecessor. */
  lockWaitMs?: number;
  port: MessagePort;
  /** The cluster's controller, served by the host (absent: the broker registers itself, replication factor 1). */
  controllerPort?: MessagePort;
}

export type ParentToWorker =
  | BrokerWorkerInit
  | { type: 'wafka:connect'; port: MessagePort }
  | { type: 'wafka:peer'; nodeId: number; port: MessagePort }
  /** Chaos: the worker's thread busy-loops for `ms` (a hung broker: alive, its lock held, answering nothing). */
  | { type: 'wafka:hang'; ms: number }
  | { type: 'wafka:stop' };

export type WorkerToParent =
  | { type: 'wafka:ready'; nodeId: number }
  | { type: 'wafka:failed'; error: WafkaErrorJSON | { name: string; message: string } }
  | { type: 'wafka:stopped'; error?: string };

/** The little a cluster needs of a browser Worker or a Node worker thread. */
export interface WorkerHandle {
  post(message: ParentToWorker, transfer: Transferable[]): void;
  onMessage(handler: (message: WorkerToParent) => void): void;
  /** The worker died (uncaught error, exit): its pending calls must fail. */
  onDeath(handler: (reason: string) => void): void;
  terminate(): Promise<void>;
}
