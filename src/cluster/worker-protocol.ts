/**
 * The control messages between a cluster and its broker workers (data goes
 * over MessagePorts through comlink, see src/transport/).
 *
 *   parent → worker   init (once): who the broker is, where its storage is, and
 *                     the first port to serve on;
 *                     connect: one more port to serve (a client elsewhere, or a peer broker);
 *                     peer: a port to another broker of the cluster (follower fetches);
 *                     peer-gone: that broker's lock was freed (its tab closed): drop its port;
 *                     controller: a port to the cluster's controller, replacing the last one
 *                     (a shared cluster's controller moves from tab to tab);
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
  /** The cluster's controller, served by the host (absent, and not `controlled`: the broker registers itself, replication factor 1). */
  controllerPort?: MessagePort;
  /** The controller's port comes later ('wafka:controller' messages): the broker waits for one to register. */
  controlled?: boolean;
  /** Calls to the controller that get no answer this long fail (its tab may be gone); default 3 s. */
  controllerCallTimeoutMs?: number;
  /** Where the broker runs, as its registration shows it ('tab:<id>'); default the runtime. */
  host?: string;
}

export type ParentToWorker =
  | BrokerWorkerInit
  | { type: 'wafka:connect'; port: MessagePort }
  | { type: 'wafka:peer'; nodeId: number; port: MessagePort }
  | { type: 'wafka:peer-gone'; nodeId: number }
  | { type: 'wafka:controller'; port: MessagePort }
  /** Chaos: the worker's thread busy-loops for `ms` (a hung broker: alive, its lock held, answering nothing). */
  | { type: 'wafka:hang'; ms: number }
  | { type: 'wafka:stop' };

export type WorkerToParent =
  /** lockHolder: the Web Locks clientId holding the broker's lock (dedicated workers): who serves this broker now. */
  | { type: 'wafka:ready'; nodeId: number; lockHolder?: string }
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
