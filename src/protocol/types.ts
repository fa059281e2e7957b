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
  /** read_committed: the aborted transactions whose data lies in the records returned (first offset of each), so a consumer can drop their batches. */
  abortedTransactions?: { producerId: bigint; firstOffset: bigint }[];
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
/**
 * A producer id: for an idempotent producer (transactionalId null) a fresh id
 * at epoch 0; for a transactional one, from its transaction coordinator (the
 * id kept for that transactional id, its epoch bumped, the previous holder
 * fenced). producerId/producerEpoch (KIP-360): the id and epoch the caller
 * holds, so the coordinator can tell a retry from a fenced producer.
 */
export interface InitProducerIdRequest { transactionalId?: string | null; transactionTimeoutMs?: number; producerId?: bigint; producerEpoch?: number }
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

// ---------- Groups (the group coordinator, src/coordinator/group/)
//
// Kafka's classic group protocol. A request-level outcome (the group's
// error) is the response's `error`, as Kafka's error_code field; a request
// that is not well formed rejects with INVALID_REQUEST. Member metadata and
// assignments are opaque bytes to the coordinator (a consumer writes Kafka's
// ConsumerProtocolSubscription and ConsumerProtocolAssignment into them, see
// ./consumer-protocol.ts).

/** Kafka's FindCoordinator key types. */
export const COORDINATOR_KEY_TYPE_GROUP = 0;
export const COORDINATOR_KEY_TYPE_TRANSACTION = 1;
export interface FindCoordinatorRequest { keyType?: number; coordinatorKeys: string[] }
export interface FindCoordinatorResponse {
  coordinators: { key: string; nodeId: number; host: string; error?: WafkaErrorJSON }[];
}

export interface JoinGroupRequest {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  /** '' on a first join: the coordinator answers MEMBER_ID_REQUIRED with the id to join with. */
  memberId: string;
  /** Static membership (KIP-345): a stable id per member instance. */
  groupInstanceId?: string | null;
  protocolType: string;
  protocols: { name: string; metadata: Uint8Array }[];
  clientId?: string;
  clientHost?: string;
  reason?: string | null;
}
export interface JoinGroupMember { memberId: string; groupInstanceId: string | null; metadata: Uint8Array }
export interface JoinGroupResponse {
  error?: WafkaErrorJSON;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  /** True for a static leader rejoining a stable group: it keeps the assignment and computes none (KIP-814). */
  skipAssignment: boolean;
  memberId: string;
  /** Only the leader gets the members (with their metadata); others get []. */
  members: JoinGroupMember[];
}

export interface SyncGroupRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId?: string | null;
  protocolType?: string | null;
  protocolName?: string | null;
  /** The leader's assignment for every member; [] from the others. */
  assignments: { memberId: string; assignment: Uint8Array }[];
}
export interface SyncGroupResponse {
  error?: WafkaErrorJSON;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Uint8Array;
}

export interface HeartbeatRequest { groupId: string; generationId: number; memberId: string; groupInstanceId?: string | null }
export interface HeartbeatResponse { error?: WafkaErrorJSON }

export interface LeaveGroupRequest {
  groupId: string;
  members: { memberId: string; groupInstanceId?: string | null; reason?: string | null }[];
}
export interface LeaveGroupResponse {
  error?: WafkaErrorJSON;
  members: { memberId: string; groupInstanceId: string | null; error?: WafkaErrorJSON }[];
}

export interface OffsetCommitRequest {
  groupId: string;
  /** -1 with memberId '' for a commit from outside the group (admin setOffsets): only to an Empty group. */
  generationId: number;
  memberId: string;
  groupInstanceId?: string | null;
  topics: {
    topic: string;
    partitions: { partition: number; committedOffset: bigint; committedLeaderEpoch?: number; committedMetadata?: string | null }[];
  }[];
}
export interface OffsetCommitResponse {
  topics: { topic: string; partitions: { partition: number; error?: WafkaErrorJSON }[] }[];
}

export interface OffsetFetchRequest {
  groupId: string;
  /** null: every partition the group has an offset for. */
  topics: { topic: string; partitions: number[] }[] | null;
  requireStable?: boolean;
}
export interface OffsetFetchPartition {
  partition: number;
  /** -1 when the group has no committed offset for it. */
  committedOffset: bigint;
  committedLeaderEpoch: number;
  metadata: string | null;
  error?: WafkaErrorJSON;
}
export interface OffsetFetchResponse {
  error?: WafkaErrorJSON;
  topics: { topic: string; partitions: OffsetFetchPartition[] }[];
}

/** Kafka's group states (DescribeGroups' group_state). */
export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';
export interface DescribeGroupsRequest { groups: string[] }
export interface DescribedGroupMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  memberMetadata: Uint8Array;
  memberAssignment: Uint8Array;
}
export interface DescribedGroup {
  groupId: string;
  error?: WafkaErrorJSON;
  groupState: GroupState;
  protocolType: string;
  /** The chosen protocol (for consumers: the assignor's name). */
  protocolData: string;
  members: DescribedGroupMember[];
}
export interface DescribeGroupsResponse { groups: DescribedGroup[] }

export interface ListGroupsRequest { statesFilter?: GroupState[] }
export interface ListGroupsResponse {
  error?: WafkaErrorJSON;
  groups: { groupId: string; protocolType: string; groupState: GroupState }[];
}

export interface DeleteGroupsRequest { groupsNames: string[] }
export interface DeleteGroupsResponse { results: { groupId: string; error?: WafkaErrorJSON }[] }

export interface OffsetDeleteRequest { groupId: string; topics: { topic: string; partitions: number[] }[] }
export interface OffsetDeleteResponse {
  error?: WafkaErrorJSON;
  topics: { topic: string; partitions: { partition: number; error?: WafkaErrorJSON }[] }[];
}

/**
 * What a broker answers as group coordinator. Kept apart from BrokerApi so
 * that a broker stand-in (tests, stubs) need not serve groups; a client asks
 * `isGroupApi` before using it.
 */
export interface GroupApi {
  findCoordinator(request: FindCoordinatorRequest): Promise<FindCoordinatorResponse>;
  joinGroup(request: JoinGroupRequest): Promise<JoinGroupResponse>;
  syncGroup(request: SyncGroupRequest): Promise<SyncGroupResponse>;
  heartbeat(request: HeartbeatRequest): Promise<HeartbeatResponse>;
  leaveGroup(request: LeaveGroupRequest): Promise<LeaveGroupResponse>;
  offsetCommit(request: OffsetCommitRequest): Promise<OffsetCommitResponse>;
  offsetFetch(request: OffsetFetchRequest): Promise<OffsetFetchResponse>;
  describeGroups(request: DescribeGroupsRequest): Promise<DescribeGroupsResponse>;
  listGroups(request: ListGroupsRequest): Promise<ListGroupsResponse>;
  deleteGroups(request: DeleteGroupsRequest): Promise<DeleteGroupsResponse>;
  offsetDelete(request: OffsetDeleteRequest): Promise<OffsetDeleteResponse>;
}

export const GROUP_API_METHODS = [
  'findCoordinator', 'joinGroup', 'syncGroup', 'heartbeat', 'leaveGroup', 'offsetCommit', 'offsetFetch',
  'describeGroups', 'listGroups', 'deleteGroups', 'offsetDelete',
] as const satisfies readonly (keyof GroupApi)[];

export function isGroupApi(api: unknown): api is GroupApi {
  return !!api && GROUP_API_METHODS.every((m) => typeof (api as Record<string, unknown>)[m] === 'function');
}

// ---------- Transactions
//
// Kafka's transaction protocol (KIP-98, KIP-447, KIP-890). The transaction
// coordinator of a transactional id is the leader of partition
// `abs(hashCode(transactionalId)) % transactionStateTopicNumPartitions` of
// __transaction_state; partition leaders write the COMMIT/ABORT markers it
// sends (WriteTxnMarkers). A request-level outcome is the response's `error`.

/** Kafka's TransactionState names. */
export const TRANSACTION_STATES = ['Empty', 'Ongoing', 'PrepareCommit', 'PrepareAbort', 'CompleteCommit', 'CompleteAbort', 'PrepareEpochFence', 'Dead'] as const;
export type TransactionState = typeof TRANSACTION_STATES[number];
export interface TxnTopicPartitions { topic: string; partitions: number[] }
export interface TxnPartitionResults { topic: string; partitions: { partition: number; error?: WafkaErrorJSON }[] }

export interface AddPartitionsToTxnRequest {
  transactionalId: string;
  producerId: bigint;
  producerEpoch: number;
  topics: TxnTopicPartitions[];
  /** KIP-890: a partition leader asks whether these partitions are in the ongoing transaction, adding nothing. */
  verifyOnly?: boolean;
}
export interface AddPartitionsToTxnResponse { error?: WafkaErrorJSON; results: TxnPartitionResults[] }
export interface AddOffsetsToTxnRequest { transactionalId: string; producerId: bigint; producerEpoch: number; groupId: string }
export interface AddOffsetsToTxnResponse { error?: WafkaErrorJSON }
export interface EndTxnRequest {
  transactionalId: string;
  producerId: bigint;
  producerEpoch: number;
  committed: boolean;
  /** The client keeps its epoch across transactions (Kafka's EndTxn below version 5): its coordinator does not bump it at the end. */
  keepsEpoch?: boolean;
}
/** KIP-890: the coordinator bumps the epoch at every transaction's end; the producer uses the answered id and epoch next. */
export interface EndTxnResponse { error?: WafkaErrorJSON; producerId: bigint; producerEpoch: number }
export interface TxnOffsetCommitRequest {
  transactionalId: string;
  groupId: string;
  producerId: bigint;
  producerEpoch: number;
  /** KIP-447: the consumer's group generation and member, so a zombie's offsets are fenced. -1 / '' when unknown. */
  generationId: number;
  memberId: string;
  groupInstanceId?: string | null;
  topics: { topic: string; partitions: { partition: number; committedOffset: bigint; committedLeaderEpoch?: number; committedMetadata?: string | null }[] }[];
}
export interface TxnOffsetCommitResponse { error?: WafkaErrorJSON; topics: TxnPartitionResults[] }
export interface TxnMarker { producerId: bigint; producerEpoch: number; committed: boolean; coordinatorEpoch: number; topics: TxnTopicPartitions[] }
export interface WriteTxnMarkersRequest { markers: TxnMarker[] }
export interface WriteTxnMarkersResponse { markers: { producerId: bigint; topics: TxnPartitionResults[] }[] }
export interface DescribedTransaction {
  transactionalId: string;
  state: TransactionState;
  producerId: bigint;
  producerEpoch: number;
  transactionTimeoutMs: number;
  /** -1 when no transaction is open. */
  transactionStartTimeMs: bigint;
  topics: TxnTopicPartitions[];
  error?: WafkaErrorJSON;
}
export interface DescribeTransactionsRequest { transactionalIds: string[] }
export interface DescribeTransactionsResponse { transactionStates: DescribedTransaction[] }
export interface ListTransactionsRequest { stateFilters?: TransactionState[]; producerIdFilters?: bigint[] }
export interface ListTransactionsResponse { transactionStates: { transactionalId: string; producerId: bigint; state: TransactionState }[] }

/**
 * What a broker answers as transaction coordinator and as a partition leader
 * taking markers. Like GroupApi, kept apart from BrokerApi; the transports
 * carry whichever of these methods a broker has.
 */
export interface TransactionApi {
  addPartitionsToTxn(request: AddPartitionsToTxnRequest): Promise<AddPartitionsToTxnResponse>;
  addOffsetsToTxn(request: AddOffsetsToTxnRequest): Promise<AddOffsetsToTxnResponse>;
  endTxn(request: EndTxnRequest): Promise<EndTxnResponse>;
  txnOffsetCommit(request: TxnOffsetCommitRequest): Promise<TxnOffsetCommitResponse>;
  writeTxnMarkers(request: WriteTxnMarkersRequest): Promise<WriteTxnMarkersResponse>;
  describeTransactions(request: DescribeTransactionsRequest): Promise<DescribeTransactionsResponse>;
  listTransactions(request: ListTransactionsRequest): Promise<ListTransactionsResponse>;
}

export const TRANSACTION_API_METHODS = [
  'addPartitionsToTxn', 'addOffsetsToTxn', 'endTxn', 'txnOffsetCommit', 'writeTxnMarkers', 'describeTransactions', 'listTransactions',
] as const satisfies readonly (keyof TransactionApi)[];

/** The transaction methods `api` has (a transport carries exactly these). */
export function transactionMethodsOf(api: unknown): (keyof TransactionApi)[] {
  if (!api) return [];
  return TRANSACTION_API_METHODS.filter((m) => typeof (api as Record<string, unknown>)[m] === 'function');
}
