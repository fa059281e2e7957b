/**
 * Cluster metadata: which brokers exist, which topics, and for each partition
 * the broker assignment (leader, replicas, isr, leaderEpoch), plus topic config
 * overrides. One JSON-friendly document (no bigint, no Map) so that every store
 * can hold it as is: a file on Node, one IndexedDB value in the browser.
 *
 * The document is versioned: `version` increases by exactly one on every
 * change, and stores only accept a write whose expected version matches
 * (compare-and-set, see ./metadata-store.ts). The controller issue builds on
 * that: its writes carry `controllerEpoch` and fail when another controller
 * wrote first.
 */
import type { TopicConfig } from '../protocol/types.ts';

export interface BrokerRegistration {
  nodeId: number;
  /** Where the broker runs, for humans and the Metadata answer ('worker:1', 'in-process:0', ...). */
  host: string;
  rack?: string | null;
  registeredAtMs: number;
  /** Bumped by the controller on every registration: a heartbeat of an older incarnation is refused. */
  brokerEpoch?: number;
  /** Fenced by the controller (session expired, lock freed): leads nothing and is in no ISR it could leave. */
  fenced?: boolean;
}

export interface PartitionState {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  /** Bumped on every change of leader or ISR (KRaft's partition epoch); absent in documents written before it existed, meaning 0. */
  partitionEpoch?: number;
}

export interface TopicState {
  name: string;
  /** Random per creation: a deleted and re-created topic of the same name is a different topic. */
  topicId: string;
  /** Overrides only; defaults come from the broker config (./topic-config.ts). */
  configs: TopicConfig;
  partitions: PartitionState[];
}

export interface ClusterMetadata {
  /** 0 means "nothing stored yet"; the first write stores version 1. */
  version: number;
  clusterId: string;
  /** Bumped by the controller (later issue); 0 while brokers write metadata themselves. */
  controllerEpoch: number;
  /** -1 until there is a controller. */
  controllerId: number;
  brokers: BrokerRegistration[];
  topics: Record<string, TopicState>;
  /** Where round-robin assignment of the next topic starts, so topics spread over brokers. */
  nextAssignmentStart: number;
  /** The first producer id no broker has taken yet (brokers take blocks of PRODUCER_ID_BLOCK_SIZE, as KIP-730's). */
  producerIdsNext?: number;
}

export function emptyMetadata(clusterId: string): ClusterMetadata {
  return { version: 0, clusterId, controllerEpoch: 0, controllerId: -1, brokers: [], topics: {}, nextAssignmentStart: 0 };
}

/** A deep copy to mutate; metadata documents are small (limits in ../broker/broker-config.ts). */
export function cloneMetadata(metadata: ClusterMetadata): ClusterMetadata {
  return structuredClone(metadata);
}

/**
 * Stores a topic under its name. Topic names are user input and `__proto__`
 * is a legal one: a plain assignment would set the object's prototype, so
 * the topic is defined as an own property (JSON and structured clone keep it).
 */
export function putTopic(metadata: ClusterMetadata, state: TopicState): void {
  Object.defineProperty(metadata.topics, state.name, { value: state, enumerable: true, writable: true, configurable: true });
}

/** The topic of that name, if the document has it as its own (never an Object.prototype member). */
export function getTopic(metadata: ClusterMetadata, name: string): TopicState | undefined {
  return Object.hasOwn(metadata.topics, name) ? metadata.topics[name] : undefined;
}

export function partitionCount(metadata: ClusterMetadata): number {
  let count = 0;
  for (const topic of Object.values(metadata.topics)) count += topic.partitions.length;
  return count;
}

/** A random id; crypto.randomUUID exists in browsers (secure contexts), workers and Node ≥ 19. */
export function newTopicId(): string {
  return globalThis.crypto.randomUUID();
}
