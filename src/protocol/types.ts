/**
 * Requests and responses between clients and brokers: Kafka's APIs, as
 * structured-cloneable objects. Shapes follow the Kafka protocol's (a topic
 * list, each with a partition list; a per-partition error), so that the Kafka
 * wire-protocol listener of the edge topology maps onto them one to one.
 *
 * Offsets and timestamps are bigint. Record data is always `Uint8Array` of one
 * or more whole RecordBatch v2 batches, never decoded records: the broker
 * validates and appends them as they are, and fetch responses carry segment
 * bytes as they are. Across a worker boundary the underlying ArrayBuffers are
 * transferred, not cloned (src/transport/).
 *
 * Errors: a request-level failure (bad request, broker closing) rejects with a
 * WafkaError; partition-level failures are reported in the partition's
 * `error` (a WafkaErrorJSON, Kafka's code and name), as Kafka does, so one bad
 * partition does not fail the others.
 */
import type { WafkaErrorJSON } from '../errors.ts';

export type Acks = 0 | 1 | -1;
export type IsolationLevel = 'read_uncommitted' | 'read_committed';

/** Kafka topic configs, Kafka's names with units last (segment.bytes → segmentBytes). */
export interface TopicConfig {
  cleanupPolicy?: 'delete' | 'compact' | 'compact,delete';
  retentionMs?: number;
  retentionBytes?: number;
  segmentBytes?: number;
  segmentMs?: number;
  indexIntervalBytes?: number;
  deleteRetentionMs?: number;
  minCompactionLagMs?: number;
  flushMessages?: number;
  flushMs?: number;
  maxMessageBytes?: number;
  minInsyncReplicas?: number;
  /** Elect a leader outside the ISR rather than leave the partition offline (may lose committed records). */
  uncleanLeaderElectionEnable?: boolean;
}

// ---------- Metadata
export interface BrokerInfo { nodeId: number; host: string; rack?: string | null }
export interface PartitionMetadata {
  partitionId: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  error?: WafkaErrorJSON;
}
export interface TopicMetadata { name: string; partitions: PartitionMetadata[]; error?: WafkaErrorJSON }
export interface MetadataRequest { topics?: string[] | null; allowAutoTopicCreation?: boolean }
export interface MetadataResponse {
  clusterId: string;
  controllerId: number;
  brokers: BrokerInfo[];
  topics: TopicMetadata[];
  /** Version of the cluster metadata this answer was read from (monotonic). */
  metadataVersion: number;
}

// ---------- Produce
export interface ProducePartitionData { partition: number; records: Uint8Array }
export interface ProduceRequest {
  acks: Acks;
  timeoutMs: number;
  transactionalId?: string | null;
  topics: { topic: string; partitions: ProducePartitionData[] }[];
}
export interface ProducePartitionResponse {
  partition: number;
  baseOffset: bigint;
  logAppendTimeMs: bigint;
  logStartOffset: bigint;
  error?: WafkaErrorJSON;
}
export interface ProduceResponse { topics: { topic: string; partitions: ProducePartitionResponse[] }[] }

// ---------- Fetch
export interface FetchPartitionRequest {
  partition: number;
  fetchOffset: bigint;
  partitionMaxBytes: number;
  logStartOffset?: bigint;
  /** The leader epoch the fetcher knows (KIP-320): a leader of another epoch refuses with FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH. */
  currentLeaderEpoch?: number;
  /** Followers: the epoch of the last batch they hold, so the leader can tell whether they diverged (Fetch v12). */
  lastFetchedEpoch?: number;
}
export interface FetchRequest {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  isolationLevel: IsolationLevel;
  /** Set by followers (replication); -1 for consumers. */
  replicaId?: number;
  topics: { topic: string; partitions: FetchPartitionRequest[] }[];
}
export interface FetchPartitionResponse {
  partition: number;
  highWatermark: bigint;
  lastStableOffset: bigint;
  logStartOffset: bigint;
  /** Whole batches from the segment, as stored; may start before fetchOffset (the containing batch). */
  records: Uint8Array | null;
  /** To a follower whose log diverged: truncate to where this epoch ends, then fetch again (no records come with it). */
  divergingEpoch?: { epoch: number; endOffset: bigint };
  /** To a follower whose fetch offset is OFFSET_OUT_OF_RANGE: the leader's log end (its log start is logStartOffset). */
  logEndOffset?: bigint;
  error?: WafkaErrorJSON;
}
export interface FetchResponse { topics: { topic: string; partitions: FetchPartitionResponse[] }[] }

// ---------- ListOffsets
/** Kafka's special timestamps: -1 latest, -2 earliest. */
export const LATEST_TIMESTAMP = -1n;
export const EARLIEST_TIMESTAMP = -2n;
export interface ListOffsetsRequest {
  isolationLevel: IsolationLevel;
  topics: { topic: string; partitions: { partition: number; timestamp: bigint }[] }[];
}
export interface ListOffsetsResponse {
  topics: { topic: string; partitions: { partition: number; offset: bigint; timestamp: bigint; error?: WafkaErrorJSON }[] }[];
}

// ---------- Admin
export interface CreateTopicSpec {
  topic: string;
  numPartitions?: number;
  replicationFactor?: number;
  /** partition → broker ids, overrides numPartitions/replicationFactor. */
  replicaAssignment?: { partition: number; replicas: number[] }[];
  configEntries?: { name: keyof TopicConfig | string; value: string }[];
}
export interface CreateTopicsRequest { topics: CreateTopicSpec[]; validateOnly?: boolean; timeoutMs?: number }
export interface TopicResult { topic: string; error?: WafkaErrorJSON }
export interface CreateTopicsResponse { topics: TopicResult[] }
export interface DeleteTopicsRequest { topics: string[]; timeoutMs?: number }
export interface DeleteTopicsResponse { topics: TopicResult[] }
export interface CreatePartitionsRequest { topicPartitions: { topic: string; count: number; assignments?: number[][] }[]; validateOnly?: boolean }
export interface CreatePartitionsResponse { topics: TopicResult[] }

export type ConfigResourceType = 'topic' | 'broker';
export interface ConfigEntry { name: string; value: string | null; isDefault: boolean; readOnly: boolean; isSensitive: boolean }
export interface DescribeConfigsRequest { resources: { type: ConfigResourceType; name: string; configNames?: string[] | null }[] }
export interface DescribeConfigsResponse { resources: { type: ConfigResourceType; name: string; configEntries: ConfigEntry[]; error?: WafkaErrorJSON }[] }
export interface AlterConfigsRequest { resources: { type: ConfigResourceType; name: string; configEntries: { name: string; value: string }[] }[]; validateOnly?: boolean }
export interface AlterConfigsResponse { resources: { type: ConfigResourceType; name: string; error?: WafkaErrorJSON }[] }
export interface DeleteRecordsRequest { topics: { topic: string; partitions: { partition: number; offset: bigint }[] }[]; timeoutMs?: number }
export interface DeleteRecordsResponse { topics: { topic: string; partitions: { partition: number; lowWatermark: bigint; error?: WafkaErrorJSON }[] }[] }

// ---------- InitProducerId
/** A producer id for an idempotent producer (transactionalId null); transactional ids are not served yet. */
export interface InitProducerIdRequest { transactionalId?: string | null; transactionTimeoutMs?: number }
export interface InitProducerIdResponse { producerId: bigint; producerEpoch: number }

/** Counters a broker keeps about itself (tests count batches through these), and what it hosts now. */
export interface BrokerMetrics {
  nodeId: number;
  /** Where the broker runs, as it registered ('worker:1', 'node-worker', 'in-process'). */
  host: string;
  /** Where its logs live: 'memory', 'files', 'opfs' or 'indexeddb'. */
  storage: string;
  produceRequests: number;
  batchesAppended: number;
  recordsAppended: number;
  bytesAppended: number;
  fetchRequests: number;
  bytesFetched: number;
  errors: Record<string, number>;
  /** Per topic, since the broker started: what it appended as leader, and what consumers (not followers) fetched from it. */
  topics: TopicTrafficMetrics[];
  /** Every partition replica it hosts, as it sees it now. */
  replicas: ReplicaMetrics[];
  /** The cluster as this broker's metadata shows it. */
  cluster: { metadataVersion: number; controllerId: number; controllerEpoch: number; brokers: { nodeId: number; host: string; fenced: boolean }[] };
}

export interface TopicTrafficMetrics {
  topic: string;
  recordsAppended: number;
  bytesAppended: number;
  /** Records of the batches consumers fetched (whole batches, so a fetch from mid-batch counts the batch). */
  recordsFetched: number;
  bytesFetched: number;
}

export interface ReplicaMetrics {
  topic: string;
  partition: number;
  role: 'leader' | 'follower' | 'offline';
  leaderEpoch: number;
  /** -1 while the log is opening. */
  logStartOffset: string;
  logEndOffset: string;
  highWatermark: string;
  segmentCount: number;
  sizeBytes: number;
}

/** What every broker answers, in-process or across a worker boundary. */
export interface BrokerApi {
  metadata(request: MetadataRequest): Promise<MetadataResponse>;
  produce(request: ProduceRequest): Promise<ProduceResponse>;
  fetch(request: FetchRequest): Promise<FetchResponse>;
  listOffsets(request: ListOffsetsRequest): Promise<ListOffsetsResponse>;
  createTopics(request: CreateTopicsRequest): Promise<CreateTopicsResponse>;
  deleteTopics(request: DeleteTopicsRequest): Promise<DeleteTopicsResponse>;
  createPartitions(request: CreatePartitionsRequest): Promise<CreatePartitionsResponse>;
  describeConfigs(request: DescribeConfigsRequest): Promise<DescribeConfigsResponse>;
  alterConfigs(request: AlterConfigsRequest): Promise<AlterConfigsResponse>;
  deleteRecords(request: DeleteRecordsRequest): Promise<DeleteRecordsResponse>;
  initProducerId(request: InitProducerIdRequest): Promise<InitProducerIdResponse>;
  metrics(): Promise<BrokerMetrics>;
}
