/**
 * A broker's settings: Kafka's broker configs where one exists (units last),
 * and a limit on everything a client can make the broker hold or do.
 */
import { DEFAULT_TOPIC_CONFIG, checkTopicConfig, resolveTopicConfig, type ResolvedTopicConfig } from '../metadata/topic-config.ts';
import type { TopicConfig } from '../protocol/types.ts';
import { DEFAULT_GROUP_COORDINATOR_CONFIG, type GroupCoordinatorConfig } from '../coordinator/group/group-coordinator.ts';
import { DEFAULT_TRANSACTION_COORDINATOR_CONFIG, type TransactionCoordinatorConfig } from '../coordinator/transaction/transaction-coordinator.ts';

/** The group and transaction coordinators' settings (their limits and timeouts) are broker settings too, as in Kafka. */
export interface BrokerConfig extends GroupCoordinatorConfig, TransactionCoordinatorConfig {
  /**
   * Kafka: auto.create.topics.enable (default true, as Kafka's): a Metadata or Produce request naming an
   * unknown topic creates it with numPartitions partitions, unless the request (a client's
   * allowAutoTopicCreation: false) refuses it.
   */
  allowAutoTopicCreation: boolean;
  /** Kafka: num.partitions, for auto-created topics and CreateTopics without a count. */
  numPartitions: number;
  /** Kafka: default.replication.factor. 1 until replication exists. */
  defaultReplicationFactor: number;
  /** Defaults for every topic config not overridden per topic (Kafka's log.* settings). */
  topicDefaults: ResolvedTopicConfig;

  // ---- Limits on requests
  /** Sum of record bytes in one produce request. Kafka: socket.request.max.bytes (100 MiB). */
  requestBytesMax: number;
  /** Topic-partitions named in one request (produce, fetch, list offsets, delete records). */
  requestPartitionsMax: number;
  /** Fetch maxWaitMs is clamped to this. */
  fetchWaitMsMax: number;
  /** Fetch maxBytes is clamped to this (and to the storage engine's read limit). */
  fetchBytesMax: number;
  /** Fetches parked at once waiting for data; beyond it a fetch answers at once with what there is. */
  waitingFetchesMax: number;

  // ---- Limits on the cluster (checked by whichever broker changes the metadata)
  topicsMax: number;
  partitionsPerTopicMax: number;
  partitionsTotalMax: number;

  // ---- Replication (used when the cluster has a controller; see ../controller/)
  /** A follower not caught up for this long leaves the ISR. Kafka: replica.lag.time.max.ms (30 s; shorter here: workers answer in µs). */
  replicaLagTimeMaxMs: number;
  /** How long a follower's fetch waits on the leader for data. Kafka: replica.fetch.wait.max.ms. */
  replicaFetchWaitMaxMs: number;
  /** Bytes per partition in one follower fetch. Kafka: replica.fetch.max.bytes. */
  replicaFetchMaxBytes: number;
  /** Bytes in one follower fetch answer. Kafka: replica.fetch.response.max.bytes. */
  replicaFetchResponseMaxBytes: number;
  /** Wait after a failed follower fetch. Kafka: replica.fetch.backoff.ms. */
  replicaFetchBackoffMs: number;
  /** How often a broker heartbeats to the controller. Kafka: broker.heartbeat.interval.ms (2 s). */
  brokerHeartbeatIntervalMs: number;
  /** acks=-1 produce requests waiting for their ISR at once; more are refused. */
  waitingProducesMax: number;

  // ---- Groups (../coordinator/group/)
  /** Kafka: offsets.topic.replication.factor (3); the topic gets min(this, brokers registered). */
  offsetsTopicReplicationFactor: number;
  /** Kafka: offsets.commit.timeout.ms: how long a commit waits for the offsets partition's ISR. */
  offsetsCommitTimeoutMs: number;

  // ---- Transactions (../coordinator/transaction/)
  /** Kafka: transaction.state.log.replication.factor (3); the topic gets min(this, brokers registered). */
  transactionStateTopicReplicationFactor: number;
  /** How long a transaction state change waits for its __transaction_state partition's ISR. */
  transactionStateWriteTimeoutMs: number;
  /**
   * Kafka: transaction.partition.verification.enable (true, KIP-890): a
   * partition leader asks the transaction coordinator whether a partition is
   * in the producer's ongoing transaction before the first transactional
   * batch of a producer id and epoch is appended there.
   */
  transactionPartitionVerificationEnable: boolean;
  /** How long the leader waits for the coordinator's answer to that (NOT_ENOUGH_REPLICAS, retriable, past it). */
  transactionVerificationTimeoutMs: number;

  // ---- Background work
  /** How often retention and flush.ms are checked. Kafka: log.retention.check.interval.ms (5 min). */
  logMaintenanceIntervalMs: number;
  /** Partitions visited per maintenance tick (the rest wait for the next tick): bounds the work per tick. */
  logMaintenancePartitionsPerTick: number;
  /**
   * How long after an I/O error takes a replica's log offline the broker
   * closes and opens it again (recovering it from its files).
   * Kafka marks the log directory offline and, with one directory, halts the
   * broker for its operator to restart; a tab or edge worker has no operator.
   */
  offlineLogReopenIntervalMs: number;
}

export const DEFAULT_BROKER_CONFIG: Readonly<BrokerConfig> = Object.freeze({
  allowAutoTopicCreation: true,
  numPartitions: 1,
  defaultReplicationFactor: 1,
  topicDefaults: DEFAULT_TOPIC_CONFIG,
  requestBytesMax: 100 * 1024 * 1024,
  requestPartitionsMax: 10_000,
  fetchWaitMsMax: 30_000,
  fetchBytesMax: 64 * 1024 * 1024,
  waitingFetchesMax: 1_000,
  topicsMax: 1_000,
  partitionsPerTopicMax: 1_000,
  partitionsTotalMax: 10_000,
  replicaLagTimeMaxMs: 2_000,
  replicaFetchWaitMaxMs: 500,
  replicaFetchMaxBytes: 1024 * 1024,
  replicaFetchResponseMaxBytes: 10 * 1024 * 1024,
  replicaFetchBackoffMs: 50,
  brokerHeartbeatIntervalMs: 200,
  waitingProducesMax: 10_000,
  ...DEFAULT_GROUP_COORDINATOR_CONFIG,
  offsetsTopicReplicationFactor: 3,
  offsetsCommitTimeoutMs: 5_000,
  ...DEFAULT_TRANSACTION_COORDINATOR_CONFIG,
  transactionStateTopicReplicationFactor: 3,
  transactionStateWriteTimeoutMs: 5_000,
  transactionPartitionVerificationEnable: true,
  transactionVerificationTimeoutMs: 5_000,
  logMaintenanceIntervalMs: 30_000,
  logMaintenancePartitionsPerTick: 64,
  offlineLogReopenIntervalMs: 1_000,
});

/** What callers pass: any subset, and topic defaults as overrides of Kafka's. */
export type BrokerConfigInput = Partial<Omit<BrokerConfig, 'topicDefaults'>> & { topicDefaults?: TopicConfig };

export function resolveBrokerConfig(input: BrokerConfigInput = {}): BrokerConfig {
  const { topicDefaults, ...rest } = input;
  for (const [key, value] of Object.entries(rest)) {
    if (value === undefined) delete (rest as Record<string, unknown>)[key];
  }
  checkTopicConfig(topicDefaults ?? {});
  const config: BrokerConfig = { ...DEFAULT_BROKER_CONFIG, ...rest, topicDefaults: resolveTopicConfig(DEFAULT_TOPIC_CONFIG, topicDefaults ?? {}) };
  for (const [key, value] of Object.entries(config)) {
    if (typeof value === 'number' && (!Number.isSafeInteger(value) || value < 0)) {
      throw new RangeError(`broker config ${key} = ${value}: expected a non-negative integer`);
    }
  }
  return config;
}
