/**
 * The public, KafkaJS-shaped types of the client. Offsets and timestamps are
 * decimal strings here, as in KafkaJS (bigint inside). Keys and values are
 * `Uint8Array` or `string` on the way in and `Uint8Array` (views, not copies)
 * on the way out, in every runtime: where KafkaJS gives a Node `Buffer`, wafka
 * gives a `Uint8Array` (`Buffer.from(value.buffer, value.byteOffset, value.length)`
 * makes a Buffer over the same bytes without a copy).
 */
import type { Acks, IsolationLevel } from '../protocol/types.ts';
import type { ICustomPartitioner } from './partitioners.ts';
import type { PartitionAssigner } from './group/assigners.ts';
import type { RetryOptions } from './retry.ts';
import type { LogCreator, LogLevel } from './logger.ts';

export type HeaderValue = Uint8Array | string | (Uint8Array | string)[] | undefined;
export type IHeaders = Record<string, HeaderValue>;

export interface Message {
  key?: Uint8Array | string | null;
  value: Uint8Array | string | null;
  partition?: number;
  headers?: IHeaders;
  /** Milliseconds since the epoch, as a decimal string (KafkaJS) or a number; default: now. */
  timestamp?: string | number;
}

/** KafkaJS's CompressionTypes codes. */
export const CompressionTypes = { None: 0, GZIP: 1, Snappy: 2, LZ4: 3, ZSTD: 4 } as const;
export type CompressionType = (typeof CompressionTypes)[keyof typeof CompressionTypes];

export interface ProducerRecord {
  topic: string;
  messages: Message[];
  acks?: Acks;
  /** Request timeout, ms (KafkaJS's `timeout`). */
  timeout?: number;
  compression?: CompressionType;
}

export interface TopicMessages { topic: string; messages: Message[] }
export interface ProducerBatch {
  topicMessages: TopicMessages[];
  acks?: Acks;
  timeout?: number;
  compression?: CompressionType;
}

/** One entry per partition a send wrote to, as KafkaJS's. */
export interface RecordMetadata {
  topicName: string;
  partition: number;
  errorCode: number;
  /** Offset of this send's first record in the partition ('-1' with acks 0). */
  baseOffset: string;
  logAppendTime: string;
  logStartOffset: string;
  /** KafkaJS fields kept for shape compatibility. */
  offset?: string;
  timestamp?: string;
}

export interface ProducerConfig {
  /** How long a batch may wait for more records before it is sent (Kafka's linger.ms). Default 0. */
  lingerMs?: number;
  /** A batch is sealed when it reaches this many bytes (Kafka's batch.size). Default 16384. */
  batchSizeBytes?: number;
  /** Default compression of this producer's batches (a send may override). */
  compression?: CompressionType;
  /** Default acks (a send may override). Default -1, as KafkaJS (all in-sync replicas). */
  acks?: Acks;
  createPartitioner?: ICustomPartitioner;
  retry?: RetryOptions;
  /** Produce requests in flight per broker. Default 5. */
  maxInFlightRequests?: number;
  /** Bound on bytes buffered in the accumulator; `send` waits while above it (Kafka's buffer.memory). Default 32 MiB. */
  bufferMemoryBytes?: number;
  /** Largest produce request (sum of its batches), bytes (Kafka's max.request.size). Default 1 MiB. */
  maxRequestSizeBytes?: number;
  /** Ask brokers to create a topic on first use (they also need auto-creation on). Default true, as KafkaJS. */
  allowAutoTopicCreation?: boolean;
  metadataMaxAge?: number;
  /**
   * Exactly one copy of each batch however often it is retried (Kafka's
   * enable.idempotence): a producer id from the cluster, a sequence per
   * partition. Needs acks -1. Default false, as KafkaJS.
   */
  idempotent?: boolean;
  /**
   * Makes the producer transactional (Kafka's transactional.id; implies
   * idempotent): `producer.transaction()` groups sends, and consumed offsets
   * (`sendOffsets`), into one all-or-nothing transaction. A newer producer
   * with the same id fences this one (PRODUCER_FENCED).
   */
  transactionalId?: string;
  /** A transaction open longer than this is aborted by its coordinator, ms (Kafka's transaction.timeout.ms). Default 60000. */
  transactionTimeout?: number;
}

/** A consumer's group membership as a transaction's offsets carry it (Kafka's ConsumerGroupMetadata, KIP-447). */
export interface ConsumerGroupMetadata {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

export interface ConsumerConfig {
  /** The consumer group: its members share the subscribed partitions, and its committed offsets are where they resume. */
  groupId: string;
  /** The member is removed when the coordinator hears nothing from it for this long, ms. Default 30000 (KafkaJS's). */
  sessionTimeout?: number;
  /** How long a rebalance waits for every member to rejoin, ms. Default 60000 (KafkaJS's). */
  rebalanceTimeout?: number;
  /** How often the member heartbeats, ms (independent of message handling). Default 3000 (KafkaJS's). */
  heartbeatInterval?: number;
  /** Assigners in preference order (KafkaJS's shape). Default [PartitionAssigners.roundRobin]. */
  partitionAssigners?: PartitionAssigner[];
  /** Static membership (KIP-345): a member restarting with the same id within its session gets its partitions back with no rebalance. */
  groupInstanceId?: string;
  /** Called as partitions come and go (Kafka's ConsumerRebalanceListener). */
  rebalanceListener?: RebalanceListener;
  minBytes?: number;
  maxBytes?: number;
  maxWaitTimeInMs?: number;
  maxBytesPerPartition?: number;
  isolationLevel?: IsolationLevel;
  /** KafkaJS's boolean form of isolationLevel. */
  readUncommitted?: boolean;
  retry?: RetryOptions;
  /** Ask brokers to create a subscribed topic that does not exist (they also need auto-creation on). Default true, as KafkaJS. */
  allowAutoTopicCreation?: boolean;
  metadataMaxAge?: number;
}

export interface KafkaMessage {
  key: Uint8Array | null;
  value: Uint8Array | null;
  /** Milliseconds since the epoch, decimal string. */
  timestamp: string;
  attributes: number;
  /** Log offset, decimal string. */
  offset: string;
  headers: Record<string, Uint8Array | Uint8Array[] | undefined>;
  /** Bytes of the record in its batch. */
  size: number;
  isControlRecord?: boolean;
}

export interface WafkaConfig {
  clientId?: string;
  /** A started cluster (startCluster()), a BrokerConnector, or BrokerApi[]. */
  cluster: unknown;
  logLevel?: LogLevel;
  logCreator?: LogCreator;
  retry?: RetryOptions;
}

export interface TopicPartitionsList { topic: string; partitions: number[] }

/**
 * Kafka's ConsumerRebalanceListener. `onPartitionsRevoked` runs after the
 * last handler of those partitions returned and (with autoCommit) after their
 * offsets were committed, before another member may get them; commit there
 * when autoCommit is off. `onPartitionsLost`: the membership was lost (session
 * expired); another member may already consume them, so nothing is committed.
 */
export interface RebalanceListener {
  onPartitionsAssigned?(assigned: TopicPartitionsList[]): void | Promise<void>;
  onPartitionsRevoked?(revoked: TopicPartitionsList[]): void | Promise<void>;
  onPartitionsLost?(lost: TopicPartitionsList[]): void | Promise<void>;
}
