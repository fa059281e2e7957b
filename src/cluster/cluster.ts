/** A running cluster's handle, and the options startCluster resolved for the starters (in-process, workers, shared). */
import type { BrokerConfigInput } from '../broker/broker-config.ts';
import type { WireListener } from '../wire/listener.ts';
import type { StorageKind } from './broker-storage.ts';
import type { ClusterConnection } from './cluster-connection.ts';

export interface Cluster extends ClusterConnection {
  readonly storage: StorageKind;
  readonly inProcess: boolean;
  /**
   * A new MessagePort served by broker `nodeId`, to transfer to a client in
   * another tab or worker (see connectCluster). Each port is one connection.
   */
  connectPort(nodeId: number): MessagePort;
  /**
   * Ends broker `nodeId`'s worker at once, as a crash would (chaos drills,
   * failover tests): the controller fences it and moves its leadership; with
   * `restartBrokers` (the default) the cluster starts it again, and it
   * recovers its log and catches up. In-process clusters have no worker to end.
   */
  killBroker(nodeId: number): Promise<void>;
  /**
   * Makes broker `nodeId`'s worker busy-loop for `ms` (chaos drills): a hung
   * broker, alive and holding its lock but answering nothing. The controller
   * fences it when its session expires; when it wakes it finds itself a
   * follower, and whatever it took as a leader meanwhile is refused or cut.
   */
  hangBroker(nodeId: number, ms: number): void;
  /** The Kafka wire-protocol listeners (`listen`), one per broker; empty without. */
  readonly listeners: readonly WireListener[];
  /**
   * Shuts broker `nodeId` down cleanly and starts it again (a rolling
   * restart): the controller moves its leadership first, so no send waits
   * for a dead leader; the new worker recovers its log, catches up and
   * rejoins the ISR. In-process clusters have no worker to restart.
   */
  restartBroker(nodeId: number): Promise<void>;
  /** Flushes and closes every broker, then ends the workers. Idempotent. */
  stop(): Promise<void>;
}

/** The options startCluster resolved, as the in-process and the worker starters take them. */
export interface Settings {
  clusterId: string;
  brokerSessionTimeoutMs: number;
  restartBrokers: boolean;
  storage: StorageKind;
  dir: string;
  brokerConfig: BrokerConfigInput;
  startTimeoutMs: number;
  lockWaitMs: number;
}
