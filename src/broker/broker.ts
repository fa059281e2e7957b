/**
 * A wafka broker: a plain class that hosts partition replicas on one storage
 * backend and answers Kafka's requests (BrokerApi). It runs in-process (tests,
 * single-threaded edge runtimes), in a dedicated Web Worker, or in a Node
 * worker thread; the worker entries in workers/ only wrap it.
 *
 * A broker hosts every partition it is a replica of (./partition.ts): it
 * leads some, and follows the others by fetching from their leaders
 * (./replica-fetcher.ts). A leader counts a record committed, and lets
 * consumers read it, once every member of the ISR has it (the high
 * watermark); acks=-1 waits for that, and is refused with
 * NOT_ENOUGH_REPLICAS while the ISR is smaller than minInsyncReplicas.
 *
 * Cluster metadata lives in a shared store with compare-and-set
 * (src/metadata/metadata-store.ts). With a controller (../controller/), the
 * broker registers with it, heartbeats, and asks it for ISR changes; the
 * controller alone decides leaders. Without one (clusters of replication
 * factor 1), a broker registers itself. Admin requests are applied by
 * whichever broker receives them. Every change rings the doorbell
 * (MetadataWatch); every broker re-reads the store on a ring, and before
 * answering about a topic or partition it does not know, then opens logs for
 * partitions assigned to it and closes (or deletes) the others.
 *
 * Record bytes are never decoded. Each produced batch is checked (framing,
 * magic 2, CRC32C, size ≤ the topic's maxMessageBytes) exactly once, by the
 * log's append, before any byte of the record set is written: a bad batch is
 * a per-partition error and nothing of that record set is stored. Fetch
 * returns whole stored batches. Every request from outside is bounded (see
 * BrokerConfig).
 */
import { systemClock, type Clock, type TimerHandle } from '../clock.ts';
import type { AlterPartitionRequest, BrokerRegistrationRequest } from '../controller/controller.ts';
import { batchSpans, loadCore, readBatchHeader, spanIsWhole } from '../core/index.ts';
import { WafkaError } from '../errors.ts';
import { TurnBudget } from '../event-loop.ts';
import { getTopic, type ClusterMetadata, type PartitionState, type TopicState } from '../metadata/metadata.ts';
import { updateMetadata, type MetadataStore } from '../metadata/metadata-store.ts';
import type { MetadataWatch } from '../metadata/metadata-watch.ts';
import {
  alterTopicConfigsIn, createPartitionsIn, createTopicsIn, deleteTopicsIn, type AdminChange, type TopicLimits,
} from '../metadata/topic-admin.ts';
import { describeTopicConfig, resolveTopicConfig, type ResolvedTopicConfig } from '../metadata/topic-config.ts';
import { checkTopicName } from '../metadata/topic-names.ts';
import { GroupCoordinator } from '../coordinator/group/group-coordinator.ts';
import { offsetsBatch, offsetsTopicSpec, replayOffsetsPartition } from '../coordinator/group/offsets-topic.ts';
import { OFFSETS_TOPIC } from '../coordinator/group/offsets-topic-records.ts';
import { checkTransactionalId, TransactionCoordinator } from '../coordinator/transaction/transaction-coordinator.ts';
import { TRANSACTION_STATE_TOPIC } from '../coordinator/transaction/transaction-log-records.ts';
import { replayTransactionStatePartition, transactionStateTopicSpec } from '../coordinator/transaction/transaction-state-topic.ts';
import type { InternalLogReader } from '../coordinator/internal-topic-replay.ts';
import {
  EARLIEST_TIMESTAMP, LATEST_TIMESTAMP,
  type AlterConfigsRequest, type AlterConfigsResponse, type BrokerApi, type BrokerMetrics, type ConfigEntry,
  type CreatePartitionsRequest, type CreatePartitionsResponse, type CreateTopicSpec, type CreateTopicsRequest,
  type CreateTopicsResponse, type DeleteRecordsRequest, type DeleteRecordsResponse, type DeleteTopicsRequest,
  type DeleteTopicsResponse, type DescribeConfigsRequest, type DescribeConfigsResponse, type FetchPartitionResponse,
  type FetchRequest, type FetchResponse, type InitProducerIdRequest, type InitProducerIdResponse, type ListOffsetsRequest, type ListOffsetsResponse, type MetadataRequest,
  type MetadataResponse, type ProducePartitionResponse, type ProduceRequest, type ProduceResponse, type TopicMetadata,
  COORDINATOR_KEY_TYPE_GROUP, COORDINATOR_KEY_TYPE_TRANSACTION, transactionMethodsOf,
  type AddOffsetsToTxnRequest, type AddOffsetsToTxnResponse, type AddPartitionsToTxnRequest, type AddPartitionsToTxnResponse,
  type DescribeTransactionsRequest, type DescribeTransactionsResponse, type EndTxnRequest, type EndTxnResponse,
  type ListTransactionsRequest, type ListTransactionsResponse, type TransactionApi, type TxnMarker, type TxnPartitionResults,
  type TxnOffsetCommitRequest, type TxnOffsetCommitResponse,
  type DeleteGroupsRequest, type DeleteGroupsResponse, type DescribeGroupsRequest, type DescribeGroupsResponse,
  type FindCoordinatorRequest, type FindCoordinatorResponse, type GroupApi, type HeartbeatRequest, type HeartbeatResponse,
  type JoinGroupRequest, type JoinGroupResponse, type LeaveGroupRequest, type LeaveGroupResponse, type ListGroupsRequest,
  type ListGroupsResponse, type OffsetCommitRequest, type OffsetCommitResponse, type OffsetDeleteRequest,
  type OffsetDeleteResponse, type OffsetFetchRequest, type OffsetFetchResponse, type SyncGroupRequest, type SyncGroupResponse,
  type WriteTxnMarkersRequest, type WriteTxnMarkersResponse,
} from '../protocol/types.ts';
import { resolveBrokerConfig, type BrokerConfig, type BrokerConfigInput } from './broker-config.ts';
import { BrokerMetricsCounters, recordsInBatches } from './broker-metrics.ts';
import { asWafkaError, errorJSON } from '../protocol/error-json.ts';
import { FetchWaiters, partitionKey, type PartitionKey } from './fetch-waiters.ts';
import { findDivergingEpoch } from './log-divergence.ts';
import { Partition } from './partition.ts';
import { ProduceWaiters } from './produce-waiters.ts';
import { ReplicaFetcher, type ReplicaFetcherHost } from './replica-fetcher.ts';
import { checkWriteTxnMarkers, markerBatch, MarkerListeners, TXN_MARKER_COMMIT_TIMEOUT_MS, type MarkerListener } from './transaction-markers.ts';
import type { AppendResult, PartitionRef, ReplicaLog, ReplicaLogStorage } from './replica-log.ts';
import {
  checkArray, checkBigInt, checkInt, checkObject, checkStrings, checkTopicPartitions, invalidRequest,
} from './request-checks.ts';

export interface BrokerOptions {
  nodeId: number;
  clusterId: string;
  /** Where this broker runs, shown in Metadata answers ('worker-thread', 'dedicated-worker', 'in-process'). */
  host?: string;
  rack?: string | null;
  config?: BrokerConfigInput;
  /** Owned by the broker from now on: closed by close(). */
  metadataStore: MetadataStore;
  /** Owned by the broker from now on: closed by close(). */
  metadataWatch: MetadataWatch;
  /** Owned by the broker from now on: closed by close(). */
  storage: ReplicaLogStorage;
  /** Time, timers and randomness (default: the platform's); the simulation injects its own. */
  clock?: Clock;
  /** Wall clock in ms only (older form of `clock`); tests may inject one. */
  nowMs?: () => number;
  /** The other brokers of the cluster as this broker reaches them (for follower fetches); null when unreachable now. */
  peer?: (nodeId: number) => BrokerApi | null;
  /**
   * The cluster's controller as this broker reaches it now (null while there
   * is none). Without this option the broker registers itself and the
   * cluster has no failover.
   */
  controller?: () => ControllerLink | null;
}

/** What a broker asks of the controller (../controller/controller.ts), across whatever channel reaches it. */
/** Producer ids a broker takes from the metadata at a time (Kafka's block is 1000 too). */
export const PRODUCER_ID_BLOCK_SIZE = 1000;

export interface ControllerLink {
  registerBroker(request: BrokerRegistrationRequest): Promise<{ brokerEpoch: number }>;
  heartbeat(nodeId: number, brokerEpoch: number): Promise<{ fenced: boolean }>;
  controlledShutdown(nodeId: number): Promise<void>;
  alterPartition(request: AlterPartitionRequest): Promise<PartitionState>;
}

export interface ReplicaSnapshot {
  topic: string;
  partition: number;
  role: 'leader' | 'follower' | 'offline';
  leaderEpoch: number;
  isr: number[];
  logStartOffset: bigint;
  logEndOffset: bigint;
  highWatermark: bigint;
}

/** Bounds the produce timeoutMs a client may ask for. */
const PRODUCE_TIMEOUT_MS_MAX = 300_000;

/** Logs opened at the same time; a restart with many partitions opens them in waves of this size. */
const OPENING_CONCURRENCY_MAX = 8;
/**
 * How long an acks=-1 append waits for an ISR short of minInsyncReplicas to
 * regrow while enough replicas are up (Partition.isrMayRegrow) before it fails
 * with NOT_ENOUGH_REPLICAS: after a start or a follower's restart the ISR is
 * whole again within a fetch or two, and a refusal would cost the producer a
 * retry backoff (100 ms and more) instead.
 */
const ISR_REGROW_WAIT_MS = 500;
/** How often a coordinator load waiting for its log's tail to commit looks again whether this broker still leads it. */
const COMMITTED_RECHECK_MS = 1_000;
/**
 * Bytes a fetch reads between two yields to the event loop: files and memory
 * are read synchronously, and a fetch of many partitions (up to
 * fetchBytesMax) would otherwise hold the thread for the whole read.
 */
export const FETCH_TURN_BYTES = 1024 * 1024;

export class Broker implements BrokerApi, GroupApi {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly config: BrokerConfig;
  readonly #host: string;
  readonly #rack: string | null;
  readonly #store: MetadataStore;
  readonly #watch: MetadataWatch;
  readonly #storage: ReplicaLogStorage;
  readonly clock: Clock;
  readonly #peer: (nodeId: number) => BrokerApi | null;
  readonly #controller: (() => ControllerLink | null) | null;
  readonly #metrics = new BrokerMetricsCounters();
  /** The block of producer ids this broker hands out (see initProducerId). */
  #producerIds: { next: bigint; end: bigint } | null = null;
  #producerIdTurn: Promise<void> = Promise.resolve();
  readonly #waiters: FetchWaiters;
  /** Per follower, what answers its parked fetch now (a newer fetch of it supersedes that one). */
  readonly #parkedFollowerFetches = new Map<number, () => void>();
  readonly #produceWaiters: ProduceWaiters;
  /** Shared by all fetches: bounds what they read in one turn together. */
  readonly #fetchTurn: TurnBudget | null;
  readonly #replicas = new Map<PartitionKey, Partition>();
  /** Why a replica this broker leads could not be opened (until an open succeeds): requests get this, not NOT_LEADER_OR_FOLLOWER. */
  readonly #openFailures = new Map<PartitionKey, WafkaError>();
  readonly #fetchers = new Map<number, ReplicaFetcher>();
  /** What the replica fetchers reach of this broker. */
  readonly #fetcherHost: ReplicaFetcherHost;
  /** From the controller's last registration answer; -1 before. */
  #brokerEpoch = -1;
  #heartbeatTimer: TimerHandle | undefined;
  #isrTimer: TimerHandle | undefined;
  #metadata: ClusterMetadata;
  #refreshing: Promise<void> | null = null;
  #refreshAgain: Promise<void> | null = null;
  /** Metadata changes are applied one at a time, in version order. */
  #applying: Promise<void> = Promise.resolve();
  /** Produce requests reach the append queues in arrival order, even when one waits for metadata. */
  #produceOrder: Promise<void> = Promise.resolve();
  #openSlots = OPENING_CONCURRENCY_MAX;
  readonly #openQueue: (() => void)[] = [];
  #unsubscribe: () => void = () => {};
  #maintenanceTimer: TimerHandle | undefined;
  #offlineLogTimer: TimerHandle | undefined;
  #maintenanceCursor = 0;
  #closing: Promise<void> | null = null;
  /** The group coordinator of the __consumer_offsets partitions this broker leads. */
  readonly groups: GroupCoordinator;
  readonly #markerListeners = new MarkerListeners();
  /** The transaction coordinator of the __transaction_state partitions this broker leads. */
  readonly transactions: TransactionCoordinator;

  private constructor(options: BrokerOptions) {
    checkInt(options.nodeId, 'nodeId', 0);
    this.nodeId = options.nodeId;
    this.clusterId = options.clusterId;
    this.config = resolveBrokerConfig(options.config);
    this.#host = options.host ?? 'in-process';
    this.#rack = options.rack ?? null;
    this.#store = options.metadataStore;
    this.#watch = options.metadataWatch;
    this.#storage = options.storage;
    this.clock = options.clock ?? (options.nowMs ? { ...systemClock, nowMs: options.nowMs } : systemClock);
    this.#peer = options.peer ?? (() => null);
    this.#controller = options.controller ?? null;
    this.#waiters = new FetchWaiters(this.config.waitingFetchesMax, this.clock);
    this.#produceWaiters = new ProduceWaiters(this.clock, this.config.waitingProducesMax);
    this.#fetcherHost = {
      nodeId: this.nodeId,
      clock: this.clock,
      settings: this.config,
      followedFrom: (leaderId) => [...this.#replicas.values()].filter((r) => r.role === 'follower' && r.state.leader === leaderId && r.log && !r.closed),
      peer: (leaderId) => this.#peer(leaderId),
      runInOrder: (replica, work) => this.#runInOrder(replica, work),
      metadataMayBeStale: () => { void this.#refresh().catch(() => {}); },
      appended: (replica, batches, records, bytes) => this.#countAppend(replica, batches, records, bytes),
      countError: (type) => this.#metrics.countError(type),
    };
    // Under an injected clock (the simulation) nothing yields: a platform task would escape its order.
    this.#fetchTurn = options.clock ? null : new TurnBudget(FETCH_TURN_BYTES);
    this.#metadata = { version: 0, clusterId: options.clusterId, controllerEpoch: 0, controllerId: -1, brokers: [], topics: {}, nextAssignmentStart: 0 };
    this.groups = new GroupCoordinator({
      nodeId: this.nodeId, clock: this.clock,
      config: {
        offsetsTopicNumPartitions: this.config.offsetsTopicNumPartitions,
        groupMinSessionTimeoutMs: this.config.groupMinSessionTimeoutMs,
        groupMaxSessionTimeoutMs: this.config.groupMaxSessionTimeoutMs,
        groupMaxSize: this.config.groupMaxSize,
        groupInitialRebalanceDelayMs: this.config.groupInitialRebalanceDelayMs,
        groupsPerCoordinatorMax: this.config.groupsPerCoordinatorMax,
        groupMemberMetadataBytesMax: this.config.groupMemberMetadataBytesMax,
        offsetMetadataMaxBytes: this.config.offsetMetadataMaxBytes,
        offsetsPerGroupMax: this.config.offsetsPerGroupMax,
        offsetsRetentionMinutes: this.config.offsetsRetentionMinutes,
        offsetsRetentionCheckIntervalMs: this.config.offsetsRetentionCheckIntervalMs,
      },
      log: {
        append: (partition, records) => this.#appendOffsets(partition, records),
        appendTransactional: (partition, records, producerId, producerEpoch) => this.#appendOffsets(partition, records, { producerId, producerEpoch }),
      },
    });
    this.transactions = new TransactionCoordinator({
      nodeId: this.nodeId, clock: this.clock, config: this.config,
      log: { append: (partition, records) => this.#appendTransactionState(partition, records) },
      markers: { write: (marker) => this.#writeMarkersThroughLeaders(marker) },
      newProducerId: () => this.#takeProducerId(),
    });
  }

  /**
   * Loads the Wasm core, registers this broker in the cluster metadata (a
   * restart finds itself registered already), opens or recovers the logs of
   * the partitions it leads, and starts listening for metadata changes.
   */
  static async start(options: BrokerOptions): Promise<Broker> {
    await loadCore();
    const broker = new Broker(options);
    await broker.#startUp();
    return broker;
  }

  async #startUp(): Promise<void> {
    this.#unsubscribe = this.#watch.subscribe((version) => {
      if (version > this.#metadata.version) void this.#refresh().catch(() => {});
    });
    if (this.#controller) {
      await this.#register();
      await this.#refresh();
      this.#scheduleHeartbeat();
      this.#scheduleIsrCheck();
    } else {
      const { metadata, changed } = await updateMetadata(this.#store, this.clusterId, (m) => {
        const existing = m.brokers.find((b) => b.nodeId === this.nodeId);
        if (existing && existing.host === this.#host && (existing.rack ?? null) === this.#rack) return { next: null, result: null };
        m.brokers = m.brokers.filter((b) => b.nodeId !== this.nodeId);
        m.brokers.push({ nodeId: this.nodeId, host: this.#host, rack: this.#rack, registeredAtMs: this.clock.nowMs() });
        m.brokers.sort((a, b) => a.nodeId - b.nodeId);
        return { next: m, result: null };
      }, this.clock);
      if (changed) this.#watch.announce(metadata.version);
      await this.#apply(metadata);
    }
    // Recover every hosted log now: errors show up at start, and the first request does not pay for it.
    await Promise.allSettled([...this.#replicas.values()].map((r) => r.opening));
    this.#scheduleMaintenance();
  }

  /** Registers with the controller, waiting (with backoff) while there is none or it does not answer. */
  async #register(): Promise<void> {
    for (let attempt = 0; !this.#closing; attempt++) {
      const link = this.#controller?.();
      try {
        if (link) {
          const { brokerEpoch } = await link.registerBroker({ nodeId: this.nodeId, host: this.#host, rack: this.#rack });
          this.#brokerEpoch = brokerEpoch;
          return;
        }
      } catch {
        // No controller yet, or it moved: try again.
      }
      await this.#sleep(Math.min(1_000, this.config.replicaFetchBackoffMs * 2 ** Math.min(attempt, 5)));
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => { this.clock.setTimeout(resolve, ms); });
  }

  #scheduleHeartbeat(): void {
    if (this.#closing) return;
    this.#heartbeatTimer = this.clock.setTimeout(() => {
      void this.#heartbeat().finally(() => this.#scheduleHeartbeat());
    }, this.config.brokerHeartbeatIntervalMs);
    (this.#heartbeatTimer as { unref?: () => void }).unref?.();
  }

  /** A heartbeat; a broker the controller fenced (its session expired while it was away) registers again. */
  async #heartbeat(): Promise<void> {
    const link = this.#controller?.();
    if (!link) return;
    try {
      const { fenced } = await link.heartbeat(this.nodeId, this.#brokerEpoch);
      if (fenced && !this.#closing) {
        await this.#register();
        await this.#refresh();
      }
    } catch {
      // The next heartbeat tries again; a controller that stays away lets the session expire, as it should.
    }
  }

  // ------------------------------------------------------------------ Metadata

  async metadata(request: MetadataRequest = {}): Promise<MetadataResponse> {
    this.#checkOpen();
    checkObject(request, 'request');
    const names: unknown = request.topics ?? null;
    if (names !== null) {
      checkArray(names, 'topics');
      if (names.length > this.config.requestPartitionsMax) throw invalidRequest(`more than ${this.config.requestPartitionsMax} topics`);
      checkStrings(names, 'topics');
    }
    // Any broker answers Metadata: read the latest version so that a topic made through another broker shows.
    await this.#refresh();
    if (names !== null && this.config.allowAutoTopicCreation && request.allowAutoTopicCreation !== false) {
      await this.#autoCreate(names.filter((n) => !this.#topic(n)));
    }
    const metadata = this.#metadata;
    const topics: TopicMetadata[] = (names ?? Object.keys(metadata.topics).sort()).map((name) => {
      const state = this.#topic(name);
      if (!state) {
        let error: WafkaError;
        try {
          checkTopicName(name);
          error = new WafkaError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${name}' does not exist`);
        } catch (e) {
          error = asWafkaError(e);
        }
        return { name, partitions: [], error: errorJSON(error) };
      }
      return {
        name,
        partitions: state.partitions.map((p) => ({
          partitionId: p.partition, leader: p.leader, leaderEpoch: p.leaderEpoch, replicas: [...p.replicas], isr: [...p.isr],
        })),
      };
    });
    return {
      clusterId: metadata.clusterId,
      // As KRaft brokers do (KIP-590): a controller that is not a broker is out of clients' reach, and any broker takes admin requests.
      controllerId: metadata.brokers.some((b) => b.nodeId === metadata.controllerId) ? metadata.controllerId : this.nodeId,
      brokers: metadata.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, rack: b.rack ?? null })),
      topics,
      metadataVersion: metadata.version,
    };
  }

  // ------------------------------------------------------------------ Produce

  async produce(request: ProduceRequest): Promise<ProduceResponse> {
    this.#checkOpen();
    checkObject(request, 'request');
    if (request.acks !== 0 && request.acks !== 1 && request.acks !== -1) {
      throw new WafkaError('INVALID_REQUIRED_ACKS', `acks = ${String(request.acks)}: expected 0, 1 or -1`);
    }
    const timeoutMs = request.timeoutMs === undefined ? 30_000 : request.timeoutMs;
    checkInt(timeoutMs, 'timeoutMs', 0, PRODUCE_TIMEOUT_MS_MAX);
    let requestBytes = 0;
    checkTopicPartitions(request.topics, this.config.requestPartitionsMax, (p, where) => {
      if (!(p.records instanceof Uint8Array)) throw invalidRequest(`${where}: records must be a Uint8Array`);
      requestBytes += p.records.byteLength;
    });
    if (requestBytes > this.config.requestBytesMax) {
      throw invalidRequest(`produce request of ${requestBytes} B over the ${this.config.requestBytesMax} B limit`);
    }
    const transactionalId = request.transactionalId ?? null;
    if (transactionalId !== null && typeof transactionalId !== 'string') throw invalidRequest('transactionalId must be a string or null');
    this.#metrics.produceRequests++;
    // Kafka's KafkaApis and ReplicaManager refuse these for the whole request, before any append.
    const refused = refuseTransactionalProduce(request, transactionalId);
    if (refused) {
      this.#metrics.countError(refused.type);
      const error = errorJSON(refused);
      return { topics: request.topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, error })) })) };
    }

    // Phase 1, in arrival order: learn about new topics, check and enqueue every append.
    // As in Kafka, only Metadata creates topics: a produce to an unknown topic is UNKNOWN_TOPIC_OR_PARTITION.
    const enqueue = async () => {
      await this.#refreshIfUnknown(request.topics);
      return request.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p) => t.topic === OFFSETS_TOPIC || t.topic === TRANSACTION_STATE_TOPIC
          ? { partition: p.partition, appended: Promise.reject(new WafkaError('INVALID_TOPIC_EXCEPTION', `${t.topic} is internal: only its coordinators write to it`)) }
          : this.#enqueueAppend(t.topic, p.partition, p.records, request.acks, false, transactionalId, request.timeoutMs)),
      }));
    };
    const turn = this.#produceOrder.then(enqueue);
    this.#produceOrder = turn.then(() => {}, () => {});
    const enqueued = await turn;

    // Phase 2: wait for the appends (acks 1 and -1), or not (acks 0).
    const topics = await Promise.all(enqueued.map(async (t) => ({
      topic: t.topic,
      partitions: await Promise.all(t.partitions.map(async ({ partition, appended }): Promise<ProducePartitionResponse> => {
        if (request.acks === 0) {
          appended.catch(() => {}); // counted in metrics.errors; acks=0 asked not to be told
          return { partition, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n };
        }
        try {
          const { result, replica } = await appended;
          if (request.acks === -1) await this.#awaitCommitted(replica, result.lastOffset + 1n, timeoutMs);
          return { partition, baseOffset: result.baseOffset, logAppendTimeMs: -1n, logStartOffset: result.logStartOffset };
        } catch (error) {
          return { partition, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, error: errorJSON(error) };
        }
      })),
    })));
    return { topics };
  }

  /** Checks one partition's records and queues their append; never throws (errors settle `appended`). */
  #enqueueAppend(topic: string, partition: number, records: Uint8Array, acks: number, byCoordinator = false, transactionalId: string | null = null, timeoutMs?: number): {
    partition: number;
    appended: Promise<{ result: AppendResult; replica: Partition }>;
  } {
    let appended: Promise<{ result: AppendResult; replica: Partition }>;
    try {
      const replica = this.#leaderReplica(topic, partition);
      appended = this.#runInOrder(replica, () => this.#append(replica, records, acks, byCoordinator, transactionalId, timeoutMs)).then((result) => ({ result, replica }));
    } catch (error) {
      appended = Promise.reject(error);
    }
    appended.catch((error) => this.#metrics.countError(asWafkaError(error).type));
    return { partition, appended };
  }

  /** `byCoordinator`: a coordinator's own write (its sequences are not a producer's to check). */
  async #append(replica: Partition, records: Uint8Array, acks: number, byCoordinator = false, transactionalId: string | null = null, timeoutMs = ISR_REGROW_WAIT_MS): Promise<AppendResult> {
    await replica.opening;
    let log = this.#stillLeading(replica);
    if (acks === -1 && !replica.hasEnoughReplicas) {
      await this.#awaitIsrRegrowth(replica, Math.min(ISR_REGROW_WAIT_MS, timeoutMs));
      log = this.#stillLeading(replica);
    }
    // Kafka refuses before writing anything, so a retry does not duplicate what a refused request left.
    if (acks === -1) replica.checkEnoughReplicas();
    if (!byCoordinator && transactionalId !== null && this.config.transactionPartitionVerificationEnable) {
      await this.#verifyTransactionalProduce(replica, log, records, transactionalId);
      // The leadership may have moved while the coordinator answered.
      log = this.#stillLeading(replica);
    }
    // An idempotent producer's retry of a batch already stored gets its offsets again, and nothing is written.
    const sequence = byCoordinator ? { kind: 'append' as const } : await replica.producers.check(log, records, this.clock.nowMs());
    if (sequence.kind === 'duplicate') {
      return { baseOffset: sequence.firstOffset, lastOffset: sequence.lastOffset, logStartOffset: log.logStartOffset, batchCount: 0, recordCount: 0, sizeBytes: 0 };
    }
    const result = await log.append(records, replica.leaderEpoch);
    replica.producers.appended(records, this.clock.nowMs(), result.baseOffset);
    this.#countAppend(replica, result.batchCount, result.recordCount, result.sizeBytes);
    this.#metrics.countLeaderAppend(replica.ref.topic, result.recordCount, result.sizeBytes);
    this.#highWatermarkMayMove(replica);
    return result;
  }

  /** The replica's log, if the replica is open and this broker still leads it (checked again after each wait). */
  #stillLeading(replica: Partition): ReplicaLog {
    if (replica.closed) throw notLeader(this.nodeId, replica.ref.topic, replica.ref.partition, 'the replica was closed');
    return replica.checkLeader();
  }

  /** Until the ISR reaches minInsyncReplicas, it can no longer regrow, or `waitMs` passed. */
  async #awaitIsrRegrowth(replica: Partition, waitMs: number): Promise<void> {
    const deadlineMs = this.clock.nowMs() + waitMs;
    for (let leftMs = waitMs; leftMs > 0 && !this.#closing && replica.isrMayRegrow((id) => this.#eligible(id)); leftMs = deadlineMs - this.clock.nowMs()) {
      await replica.nextStateChange(this.clock, leftMs);
    }
  }

  /**
   * KIP-890 part 1, as Kafka's ReplicaManager (3.6+) does it: before the
   * first transactional batch of a producer id and epoch on this partition
   * (its producer state has no transaction of theirs open here), the
   * transaction coordinator is asked whether the partition is in the
   * producer's ongoing transaction (AddPartitionsToTxn verifyOnly). Not in it:
   * INVALID_TXN_STATE and nothing is appended — a partition never added, or
   * a late write of a transaction that has ended (the hole Jepsen found).
   * Runs in the partition's append order, so no marker lands between the
   * answer and the append. The coordinator's other answers, as Kafka maps
   * them for a produce: PRODUCER_FENCED is INVALID_PRODUCER_EPOCH; a
   * coordinator moving, loading or ending the transaction (or no answer in
   * transactionVerificationTimeoutMs) is NOT_ENOUGH_REPLICAS, which the
   * producer retries.
   */
  async #verifyTransactionalProduce(replica: Partition, log: ReplicaLog, records: Uint8Array, transactionalId: string): Promise<void> {
    let header: ReturnType<typeof readBatchHeader> | undefined;
    for (const span of batchSpans(new DataView(records.buffer, records.byteOffset, records.byteLength))) {
      if (!spanIsWhole(span, records.byteLength)) break;
      const h = readBatchHeader(records, span.at);
      if (h.isTransactional && !h.isControlBatch && h.producerId >= 0n) { header = h; break; }
    }
    if (!header) return;
    const { state } = await replica.producers.load(log, this.clock.nowMs());
    if (state.hasOngoingTransaction(header.producerId, header.producerEpoch)) return;
    const { topic, partition } = replica.ref;
    const notVerified = (why: string) => new WafkaError('NOT_ENOUGH_REPLICAS', `${topic}-${partition}: unable to verify that the partition is in the transaction of '${transactionalId}': ${why}`);
    let timer: TimerHandle | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => { timer = this.clock.setTimeout(() => resolve('timeout'), this.config.transactionVerificationTimeoutMs); });
    let answer: ReturnType<typeof errorJSON> | null | 'timeout';
    try {
      answer = await Promise.race([this.#verifyInTransaction(transactionalId, header.producerId, header.producerEpoch, topic, partition), timedOut]);
    } finally {
      this.clock.clearTimeout(timer);
    }
    if (answer === 'timeout') throw notVerified(`no answer from the transaction coordinator in ${this.config.transactionVerificationTimeoutMs} ms`);
    if (answer === null) return;
    const why = answer.message.startsWith(`${answer.type}: `) ? answer.message.slice(answer.type.length + 2) : answer.message;
    switch (answer.type) {
      case 'INVALID_TXN_STATE':
        throw new WafkaError('INVALID_TXN_STATE', `the partition was not added to the transaction: ${why}`);
      case 'PRODUCER_FENCED':
        throw new WafkaError('INVALID_PRODUCER_EPOCH', why);
      case 'COORDINATOR_NOT_AVAILABLE':
      case 'NOT_COORDINATOR':
      case 'COORDINATOR_LOAD_IN_PROGRESS':
      case 'CONCURRENT_TRANSACTIONS':
        throw notVerified(`${answer.type}: ${why}`);
      default:
        throw WafkaError.fromJSON(answer);
    }
  }

  #countAppend(replica: Partition, batches: number, records: number, bytes: number): void {
    this.#metrics.countAppend(batches, records, bytes);
    replica.appendCount++;
    this.#waiters.ring(replica.key);
  }

  /** After an append or a follower's progress: commit what the ISR has, answer acks=-1 waiters and parked consumers. */
  #highWatermarkMayMove(replica: Partition): void {
    if (!replica.advanceHighWatermark()) return;
    const log = replica.log!;
    this.#produceWaiters.highWatermarkMoved(replica.key, log.highWatermark, replica.state.isr.length, replica.config.minInsyncReplicas);
    this.#waiters.ring(replica.key);
  }

  /** acks=-1: until the partition's high watermark reaches `requiredOffset`. */
  async #awaitCommitted(replica: Partition, requiredOffset: bigint, timeoutMs: number): Promise<void> {
    const log = replica.log!;
    if (log.highWatermark >= requiredOffset) {
      if (replica.state.isr.length < replica.config.minInsyncReplicas) {
        throw new WafkaError('NOT_ENOUGH_REPLICAS_AFTER_APPEND', `${replica.ref.topic}-${replica.ref.partition}: committed by ${replica.state.isr.length} in-sync replicas, fewer than minInsyncReplicas ${replica.config.minInsyncReplicas}`);
      }
      return;
    }
    await this.#produceWaiters.wait(replica.key, requiredOffset, timeoutMs);
  }

  #runInOrder<T>(replica: Partition, work: () => Promise<T>): Promise<T> {
    const result = replica.chain.then(work, work);
    replica.chain = result.catch(() => {});
    return result;
  }

  // ------------------------------------------------------------------ Fetch

  async fetch(request: FetchRequest): Promise<FetchResponse> {
    this.#checkOpen();
    checkObject(request, 'request');
    checkInt(request.maxWaitMs, 'maxWaitMs', 0, Number.MAX_SAFE_INTEGER);
    checkInt(request.minBytes, 'minBytes', 0, Number.MAX_SAFE_INTEGER);
    checkInt(request.maxBytes, 'maxBytes', 0, Number.MAX_SAFE_INTEGER);
    checkTopicPartitions(request.topics, this.config.requestPartitionsMax, (p, where) => {
      checkBigInt(p.fetchOffset, `${where}: fetchOffset`);
      checkInt(p.partitionMaxBytes, `${where}: partitionMaxBytes`, 0, Number.MAX_SAFE_INTEGER);
      if (p.currentLeaderEpoch !== undefined) checkInt(p.currentLeaderEpoch, `${where}: currentLeaderEpoch`, -1, 0x7fffffff);
      if (p.lastFetchedEpoch !== undefined) checkInt(p.lastFetchedEpoch, `${where}: lastFetchedEpoch`, -1, 0x7fffffff);
    });
    const replicaId = request.replicaId ?? -1;
    checkInt(replicaId, 'replicaId', -1, 0x7fffffff);
    checkIsolationLevel(request.isolationLevel);
    this.#metrics.fetchRequests++;
    const maxWaitMs = Math.min(request.maxWaitMs, this.config.fetchWaitMsMax);
    const maxBytes = Math.min(request.maxBytes, this.config.fetchBytesMax);
    const deadlineMs = this.clock.nowMs() + maxWaitMs;
    await this.#refreshIfUnknown(request.topics);
    // A follower's fetch offsets say how far it has come: that may commit records (and answer acks=-1) before any read.
    if (replicaId >= 0) this.#recordFollowerFetch(replicaId, request);
    // A follower's newer fetch supersedes its parked one (it left that one unheard to fetch a changed set of
    // partitions): the older is answered now with what it has, instead of holding its long-poll.
    if (replicaId >= 0) this.#parkedFollowerFetches.get(replicaId)?.();

    const keys = request.topics.flatMap((t) => t.partitions.map((p) => partitionKey(t.topic, p.partition)));
    for (;;) {
      const appendCountsBefore = keys.map((k) => this.#replicas.get(k)?.appendCount ?? -1);
      const { response, bytes, failed } = await this.#readFetch(request, maxBytes, replicaId);
      const remainingMs = deadlineMs - this.clock.nowMs();
      if (bytes >= request.minBytes || failed || remainingMs <= 0 || this.#closing) return this.#fetched(response, bytes);
      // An append that landed while we were reading would not ring us: look again at once.
      if (keys.some((k, i) => (this.#replicas.get(k)?.appendCount ?? -1) !== appendCountsBefore[i])) continue;
      const parked = this.#waiters.park(keys, remainingMs);
      let superseded = false;
      const supersede = (): void => { superseded = true; parked.cancel(); };
      if (replicaId >= 0) this.#parkedFollowerFetches.set(replicaId, supersede);
      const woken = await parked.done;
      if (this.#parkedFollowerFetches.get(replicaId) === supersede) this.#parkedFollowerFetches.delete(replicaId);
      if (woken !== 'rung' || superseded) return this.#fetched(response, bytes);
    }
  }

  #fetched(response: FetchResponse, bytes: number): FetchResponse {
    this.#metrics.bytesFetched += bytes;
    return response;
  }

  /**
   * One pass over the requested partitions. Budget as Kafka's: at most
   * partitionMaxBytes per partition and maxBytes in all, except that the first
   * partition with data returns at least one whole batch, so that a batch
   * larger than the limits can still be consumed.
   */
  async #readFetch(request: FetchRequest, maxBytes: number, replicaId: number): Promise<{ response: FetchResponse; bytes: number; failed: boolean }> {
    let bytes = 0;
    let failed = false;
    // Followers copy everything; a read_committed consumer reads below the last stable offset.
    const readCommitted = replicaId < 0 && request.isolationLevel === 'read_committed';
    const topics: FetchResponse['topics'] = [];
    for (const t of request.topics) {
      const partitions: FetchPartitionResponse[] = [];
      for (const p of t.partitions) {
        try {
          const replica = this.#leaderReplica(t.topic, p.partition);
          await replica.opening;
          const log = replica.checkLeader(p.currentLeaderEpoch);
          const highWatermark = log.highWatermark;
          const logStartOffset = log.logStartOffset;
          // A follower's or a consumer's last fetched epoch (KIP-320): past where this log holds it, the log diverged.
          const divergingEpoch = findDivergingEpoch(log, p.fetchOffset, p.lastFetchedEpoch ?? -1);
          if (divergingEpoch) {
            partitions.push({ partition: p.partition, highWatermark, lastStableOffset: highWatermark, logStartOffset, records: null, divergingEpoch });
            failed = true; // answer now: the fetcher has to truncate (or resume earlier) before anything else
            continue;
          }
          if (p.fetchOffset < logStartOffset || p.fetchOffset > log.logEndOffset) {
            const error = new WafkaError('OFFSET_OUT_OF_RANGE',
              `fetchOffset ${p.fetchOffset} outside [${logStartOffset}, ${log.logEndOffset}] of ${t.topic}-${p.partition}`);
            if (replicaId < 0) throw error;
            // A follower learns where this log starts and ends, to start over or truncate there (./replica-fetcher.ts).
            failed = true;
            this.#metrics.countError(error.type);
            partitions.push({ partition: p.partition, highWatermark, lastStableOffset: highWatermark, logStartOffset, logEndOffset: log.logEndOffset, records: null, error: errorJSON(error) });
            continue;
          }
          if (readCommitted && !replica.producers.loaded) await this.#loadProducers(replica, log);
          // read_uncommitted does not load the producer state for it: until something else did, its lastStableOffset is the high watermark.
          const lastStableOffset = replica.producers.loaded ? replica.producers.lastStableOffset(highWatermark) : highWatermark;
          let records: Uint8Array | null = null;
          const budget = Math.min(p.partitionMaxBytes, maxBytes - bytes);
          // Consumers read committed records only (read_committed: below the last stable offset); followers read up to the log end.
          const upTo = replicaId >= 0 ? log.logEndOffset : readCommitted ? lastStableOffset : highWatermark;
          if (p.fetchOffset < upTo && (budget > 0 || bytes === 0)) {
            records = await log.read(p.fetchOffset, Math.max(0, budget), upTo, bytes === 0);
            if (records && records.byteLength === 0) records = null;
            bytes += records?.byteLength ?? 0;
            if (records && replicaId < 0) this.#metrics.countConsumerFetch(t.topic, recordsInBatches(records), records.byteLength);
          }
          const answer: FetchPartitionResponse = { partition: p.partition, highWatermark, lastStableOffset, logStartOffset, records };
          // Kafka's collectAbortedTransactions over the offsets the records returned span.
          if (readCommitted) answer.abortedTransactions = records ? replica.producers.abortedTransactions(p.fetchOffset, endOffsetOf(records)) : [];
          partitions.push(answer);
        } catch (error) {
          failed = true;
          this.#metrics.countError(asWafkaError(error).type);
          partitions.push({ partition: p.partition, highWatermark: -1n, lastStableOffset: -1n, logStartOffset: -1n, records: null, error: errorJSON(error) });
        }
        const turn = this.#fetchTurn?.spend(partitions[partitions.length - 1].records?.byteLength ?? 0);
        if (turn) await turn;
      }
      topics.push({ topic: t.topic, partitions });
    }
    return { response: { topics }, bytes, failed };
  }

  /** Loads a replica's producer state (a walk of its log, once) in its append order, if not loaded yet. */
  async #loadProducers(replica: Partition, log: ReplicaLog): Promise<void> {
    if (replica.producers.loaded) return;
    await this.#runInOrder(replica, async () => {
      if (!replica.closed) await replica.producers.load(log, this.clock.nowMs());
    });
  }

  /** Updates what each led partition knows of follower `replicaId`, and commits what that allows. */
  #recordFollowerFetch(replicaId: number, request: FetchRequest): void {
    const nowMs = this.clock.nowMs();
    for (const t of request.topics) {
      for (const p of t.partitions) {
        const replica = this.#replicas.get(partitionKey(t.topic, p.partition));
        const log = replica?.log;
        if (!replica || !log || replica.role !== 'leader' || !replica.progress) continue;
        if (p.currentLeaderEpoch !== undefined && p.currentLeaderEpoch !== replica.leaderEpoch) continue;
        // A diverged follower's offset says nothing about what it shares with this leader.
        if (findDivergingEpoch(log, p.fetchOffset, p.lastFetchedEpoch ?? -1)) continue;
        replica.progress.recordFetch(replicaId, p.fetchOffset, log.logEndOffset, nowMs);
        this.#highWatermarkMayMove(replica);
        if (replica.isrChangeToPropose(nowMs, this.config.replicaLagTimeMaxMs, (id) => this.#eligible(id))) this.#checkIsr(replica);
      }
    }
  }

  // ------------------------------------------------------------------ ListOffsets

  async listOffsets(request: ListOffsetsRequest): Promise<ListOffsetsResponse> {
    this.#checkOpen();
    checkObject(request, 'request');
    checkTopicPartitions(request.topics, this.config.requestPartitionsMax, (p, where) => {
      checkBigInt(p.timestamp, `${where}: timestamp`);
      // Kafka's timestamps are int64 ms: past that no record can be, and the request cannot be said on the wire.
      if (p.timestamp > INT64_MAX || p.timestamp < EARLIEST_TIMESTAMP) {
        throw invalidRequest(`${where}: timestamp ${p.timestamp}: expected -1 (latest), -2 (earliest) or a time in ms in [0, 2^63-1]`);
      }
    });
    checkIsolationLevel(request.isolationLevel);
    await this.#refreshIfUnknown(request.topics);
    const topics = await Promise.all(request.topics.map(async (t) => ({
      topic: t.topic,
      partitions: await Promise.all(t.partitions.map(async (p) => {
        try {
          const replica = this.#leaderReplica(t.topic, p.partition);
          const log = await replica.opening;
          if (p.timestamp === EARLIEST_TIMESTAMP) return { partition: p.partition, offset: log.logStartOffset, timestamp: -1n };
          // read_committed sees up to the last stable offset (Kafka's lastFetchableOffset).
          if (request.isolationLevel === 'read_committed' && !replica.producers.loaded) await this.#loadProducers(replica, log);
          const fetchable = request.isolationLevel === 'read_committed' ? replica.producers.lastStableOffset(log.highWatermark) : log.highWatermark;
          if (p.timestamp === LATEST_TIMESTAMP) return { partition: p.partition, offset: fetchable, timestamp: -1n };
          if (p.timestamp < 0n) throw invalidRequest(`timestamp ${p.timestamp}: expected -1 (latest), -2 (earliest) or a time in ms`);
          const found = await log.offsetForTimestamp(p.timestamp);
          // Kafka answers offset -1 when no record is that recent.
          return found && found.offset < fetchable
            ? { partition: p.partition, offset: found.offset, timestamp: found.timestampMs }
            : { partition: p.partition, offset: -1n, timestamp: -1n };
        } catch (error) {
          this.#metrics.countError(asWafkaError(error).type);
          return { partition: p.partition, offset: -1n, timestamp: -1n, error: errorJSON(error) };
        }
      })),
    })));
    return { topics };
  }

  // ------------------------------------------------------------------ Admin

  async createTopics(request: CreateTopicsRequest): Promise<CreateTopicsResponse> {
    this.#checkOpen();
    checkObject(request, 'request');
    checkArray(request.topics, 'topics');
    if (request.topics.length > this.config.requestPartitionsMax) throw invalidRequest(`more than ${this.config.requestPartitionsMax} topics`);
    for (const [i, spec] of request.topics.entries()) {
      checkObject(spec, `topics[${i}]`);
      if (typeof spec.topic !== 'string') throw invalidRequest(`topics[${i}].topic must be a string`);
    }
    const results = await this.#changeMetadata((m) =>
      createTopicsIn(m, request.topics, { limits: this.#limits(), defaults: this.#topicDefaults(), validateOnly: request.validateOnly }));
    return { topics: results };
  }

  async deleteTopics(request: DeleteTopicsRequest): Promise<DeleteTopicsResponse> {
    this.#checkOpen();
    checkObject(request, 'request');
    checkArray(request.topics, 'topics');
    if (request.topics.length > this.config.requestPartitionsMax) throw invalidRequest(`more than ${this.config.requestPartitionsMax} topics`);
    const results = await this.#changeMetadata((m) => deleteTopicsIn(m, request.topics.map(String)));
    return { topics: results };
  }

  async createPartitions(request: CreatePartitionsRequest): Promise<CreatePartitionsResponse> {
    this.#checkOpen();
    checkObject(request, 'request');
    checkArray(request.topicPartitions, 'topicPartitions');
    if (request.topicPartitions.length > this.config.requestPartitionsMax) throw invalidRequest(`more than ${this.config.requestPartitionsMax} topics`);
    const results = await this.#changeMetadata((m) => createPartitionsIn(m, request, this.#limits()));
    return { topics: results };
  }

  async describeConfigs(request: DescribeConfigsRequest): Promise<DescribeConfigsResponse> {
    this.#checkOpen();
    checkObject(request, 'request');
    checkArray(request.resources, 'resources');
    await this.#refresh();
    const resources = request.resources.map((resource) => {
      const { type, name } = resource;
      try {
        if (type === 'topic') {
          const state = this.#topic(name);
          if (!state) throw new WafkaError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${name}' does not exist`);
          return { type, name, configEntries: describeTopicConfig(this.config.topicDefaults, state.configs, resource.configNames) };
        }
        if (type === 'broker') {
          if (name !== String(this.nodeId) && name !== '') throw invalidRequest(`broker ${this.nodeId} describes itself, not broker '${name}'`);
          return { type, name, configEntries: this.#describeBrokerConfig(resource.configNames) };
        }
        throw invalidRequest(`resource type '${String(type)}'`);
      } catch (error) {
        return { type, name, configEntries: [], error: errorJSON(error) };
      }
    });
    return { resources };
  }

  async alterConfigs(request: AlterConfigsRequest): Promise<AlterConfigsResponse> {
    this.#checkOpen();
    checkObject(request, 'request');
    checkArray(request.resources, 'resources');
    const resources: AlterConfigsResponse['resources'] = [];
    for (const resource of request.resources) {
      const { type, name } = resource;
      try {
        if (type !== 'topic') throw invalidRequest(`only topic configs can be altered; broker configs are fixed when the broker starts`);
        checkArray(resource.configEntries, 'configEntries');
        await this.#changeMetadata((m) => {
          const { changed } = alterTopicConfigsIn(m, name, resource.configEntries, request.validateOnly ?? false);
          return { results: [], changed };
        });
        resources.push({ type, name });
      } catch (error) {
        resources.push({ type, name, error: errorJSON(error) });
      }
    }
    return { resources };
  }

  // ------------------------------------------------------------------ InitProducerId

  /**
   * A producer id for an idempotent producer, epoch 0. Ids are unique across
   * the cluster: each broker takes a block of them from the metadata by
   * compare-and-set (KIP-730's AllocateProducerIds, without the round trip per
   * block to a controller) and hands them out in order.
   */
  async initProducerId(request: InitProducerIdRequest): Promise<InitProducerIdResponse> {
    this.#checkOpen();
    checkObject(request, 'request');
    if (request.transactionalId !== undefined && request.transactionalId !== null) {
      // A transactional producer asks its transaction coordinator (FindCoordinator with key type 1).
      checkTransactionalId(request.transactionalId);
      return this.transactions.initProducerId(request);
    }
    return { producerId: await this.#takeProducerId(), producerEpoch: 0 };
  }

  #takeProducerId(): Promise<bigint> {
    const take = async (): Promise<bigint> => {
      if (this.#producerIds && this.#producerIds.next < this.#producerIds.end) return this.#producerIds.next++;
      const { result: first } = await updateMetadata(this.#store, this.clusterId, (m) => {
        const first = m.producerIdsNext ?? 0;
        m.producerIdsNext = first + PRODUCER_ID_BLOCK_SIZE;
        return { next: m, result: first };
      }, this.clock);
      this.#producerIds = { next: BigInt(first), end: BigInt(first + PRODUCER_ID_BLOCK_SIZE) };
      return this.#producerIds.next++;
    };
    // One block request at a time: concurrent callers share it.
    const turn = this.#producerIdTurn.then(take);
    this.#producerIdTurn = turn.then(() => {}, () => {});
    return turn;
  }

  async deleteRecords(request: DeleteRecordsRequest): Promise<DeleteRecordsResponse> {
    this.#checkOpen();
    checkObject(request, 'request');
    checkTopicPartitions(request.topics, this.config.requestPartitionsMax, (p, where) => checkBigInt(p.offset, `${where}: offset`));
    await this.#refreshIfUnknown(request.topics);
    const topics = await Promise.all(request.topics.map(async (t) => ({
      topic: t.topic,
      partitions: await Promise.all(t.partitions.map(async (p) => {
        try {
          const replica = this.#leaderReplica(t.topic, p.partition);
          const lowWatermark = await this.#runInOrder(replica, async () => {
            const log = await replica.opening;
            // -1 means "up to the high watermark", as in Kafka.
            const offset = p.offset === -1n ? log.highWatermark : p.offset;
            if (offset < 0n || offset > log.highWatermark) {
              throw new WafkaError('OFFSET_OUT_OF_RANGE', `offset ${p.offset} outside [0, ${log.highWatermark}] of ${t.topic}-${p.partition}`);
            }
            if (offset <= log.logStartOffset) return log.logStartOffset;
            const logStartOffset = await log.deleteRecordsBefore(offset);
            replica.producers.logStartMoved(logStartOffset);
            return logStartOffset;
          });
          return { partition: p.partition, lowWatermark };
        } catch (error) {
          this.#metrics.countError(asWafkaError(error).type);
          return { partition: p.partition, lowWatermark: -1n, error: errorJSON(error) };
        }
      })),
    })));
    return { topics };
  }

  // ------------------------------------------------------------------ Transaction markers

  /**
   * Writes each marker, as the leader of each partition it names, as an
   * end-transaction control batch (Kafka's WriteTxnMarkers): the producer's
   * open transaction there is complete (an ABORT adds it to the aborted
   * index), and a marker of a newer producer epoch bumps the producer's.
   * Answered per partition once the marker is committed (as acks=-1): NONE,
   * or INVALID_PRODUCER_EPOCH (older than the producer's epoch),
   * TRANSACTION_COORDINATOR_FENCED (older coordinator epoch),
   * NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION, NOT_ENOUGH_REPLICAS,
   * REQUEST_TIMED_OUT. Markers of one partition are written in request order.
   */
  async writeTxnMarkers(request: WriteTxnMarkersRequest): Promise<WriteTxnMarkersResponse> {
    this.#checkOpen();
    checkWriteTxnMarkers(request, this.config.requestPartitionsMax);
    await this.#refreshIfUnknown(request.markers.flatMap((m) => m.topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map((partition) => ({ partition })) }))));
    // Enqueued in request order (each partition's queue keeps it); then all wait for their commit together.
    const written = request.markers.map((marker) => ({
      producerId: marker.producerId,
      topics: marker.topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map((partition) => ({ partition, done: this.#writeMarker(marker, t.topic, partition) })) })),
    }));
    return {
      markers: await Promise.all(written.map(async (m) => ({
        producerId: m.producerId,
        topics: await Promise.all(m.topics.map(async (t) => ({
          topic: t.topic,
          partitions: await Promise.all(t.partitions.map(async ({ partition, done }) => {
            try {
              await done;
              return { partition };
            } catch (error) {
              this.#metrics.countError(asWafkaError(error).type);
              return { partition, error: errorJSON(error) };
            }
          })),
        }))),
      }))),
    };
  }

  /** Registers `listener` for every marker committed on a partition this broker leads; returns its removal. */
  onMarkerWritten(listener: MarkerListener): () => void {
    return this.#markerListeners.add(listener);
  }

  async #writeMarker(marker: TxnMarker, topic: string, partition: number): Promise<void> {
    const replica = this.#leaderReplica(topic, partition);
    const result = await this.#runInOrder(replica, async () => {
      await replica.opening;
      const log = this.#stillLeading(replica);
      replica.checkEnoughReplicas();
      const nowMs = this.clock.nowMs();
      await replica.producers.checkMarker(log, marker, nowMs);
      const batch = markerBatch(marker, nowMs);
      const appended = await log.append(batch, replica.leaderEpoch, 'coordinator');
      replica.producers.appended(batch, nowMs, appended.baseOffset);
      this.#countAppend(replica, appended.batchCount, 0, appended.sizeBytes);
      this.#highWatermarkMayMove(replica);
      return appended;
    });
    await this.#awaitCommitted(replica, result.lastOffset + 1n, TXN_MARKER_COMMIT_TIMEOUT_MS);
    // The group coordinator's pending transactional offsets there are decided (Kafka's onTransactionCompleted).
    if (topic === OFFSETS_TOPIC) this.groups.transactionMarker(partition, marker.producerId, marker.committed);
    this.#markerListeners.notify({ topic, partition, producerId: marker.producerId, producerEpoch: marker.producerEpoch, committed: marker.committed, offset: result.baseOffset });
  }

  async metrics(): Promise<BrokerMetrics> {
    const metadata = this.#metadata;
    return this.#metrics.snapshot(this.nodeId, {
      host: this.#host,
      storage: this.#storage.kind,
      replicas: [...this.#replicas.values()].map((r) => ({
        topic: r.ref.topic, partition: r.ref.partition, role: r.role, leaderEpoch: r.leaderEpoch,
        logStartOffset: String(r.log?.logStartOffset ?? -1n), logEndOffset: String(r.log?.logEndOffset ?? -1n), highWatermark: String(r.log?.highWatermark ?? -1n),
        segmentCount: r.log?.segmentCount ?? 0, sizeBytes: r.log?.sizeBytes ?? 0,
      })),
      cluster: {
        metadataVersion: metadata.version, controllerId: metadata.controllerId, controllerEpoch: metadata.controllerEpoch,
        brokers: metadata.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, fenced: b.fenced === true })),
      },
    });
  }

  /** What this broker holds of each partition, as it sees it now (the simulation's invariants read this). */
  describeReplicas(): ReplicaSnapshot[] {
    return [...this.#replicas.values()].map((r) => ({
      topic: r.ref.topic, partition: r.ref.partition, role: r.role, leaderEpoch: r.leaderEpoch, isr: [...r.state.isr],
      logStartOffset: r.log?.logStartOffset ?? -1n, logEndOffset: r.log?.logEndOffset ?? -1n, highWatermark: r.log?.highWatermark ?? -1n,
    }));
  }

  /** Reads a hosted replica's log whatever its role (for checks across replicas); null when not hosted or not open. */
  async readReplica(topic: string, partition: number, offset: bigint, maxBytes: number): Promise<Uint8Array | null> {
    const replica = this.#replicas.get(partitionKey(topic, partition));
    const log = replica?.log;
    if (!replica || !log || replica.closed) return null;
    return log.read(offset, maxBytes, log.logEndOffset, true);
  }

  // ------------------------------------------------------------------ Groups

  /**
   * Any broker answers: the coordinator of a group is the leader of its
   * partition of __consumer_offsets, which the first FindCoordinator creates.
   */
  async findCoordinator(request: FindCoordinatorRequest): Promise<FindCoordinatorResponse> {
    this.#checkOpen();
    checkObject(request, 'request');
    checkArray(request.coordinatorKeys, 'coordinatorKeys');
    if (request.coordinatorKeys.length > this.config.requestPartitionsMax) throw invalidRequest(`more than ${this.config.requestPartitionsMax} coordinator keys`);
    checkStrings(request.coordinatorKeys, 'coordinatorKeys');
    const keyType = request.keyType ?? COORDINATOR_KEY_TYPE_GROUP;
    if (keyType !== COORDINATOR_KEY_TYPE_GROUP && keyType !== COORDINATOR_KEY_TYPE_TRANSACTION) {
      const error = errorJSON(new WafkaError('INVALID_REQUEST', `coordinator key type ${String(keyType)}: groups (0) and transactions (1) have coordinators`));
      return { coordinators: request.coordinatorKeys.map((key) => ({ key, nodeId: -1, host: '', error })) };
    }
    const transactional = keyType === COORDINATOR_KEY_TYPE_TRANSACTION;
    const internalTopic = transactional ? TRANSACTION_STATE_TOPIC : OFFSETS_TOPIC;
    const partitionFor = (key: string) => (transactional ? this.transactions.partitionFor(key) : this.groups.partitionFor(key));
    await this.#refresh();
    if (!this.#topic(internalTopic)) await (transactional ? this.#createTransactionStateTopic() : this.#createOffsetsTopic());
    const topic = this.#topic(internalTopic);
    return {
      coordinators: request.coordinatorKeys.map((key) => {
        if (transactional && key === '') return { key, nodeId: -1, host: '', error: errorJSON(new WafkaError('INVALID_REQUEST', 'an empty transactional id has no coordinator')) };
        const partition = topic?.partitions[partitionFor(key)];
        const leader = partition ? this.#metadata.brokers.find((b) => b.nodeId === partition.leader) : undefined;
        if (!partition || !leader) {
          const why = !topic ? `${internalTopic} does not exist yet` : `partition ${partitionFor(key)} of ${internalTopic} has no leader`;
          return { key, nodeId: -1, host: '', error: errorJSON(new WafkaError('COORDINATOR_NOT_AVAILABLE', why)) };
        }
        return { key, nodeId: leader.nodeId, host: leader.host };
      }),
    };
  }

  async #createTransactionStateTopic(): Promise<void> {
    const brokers = this.#metadata.brokers.filter((b) => !b.fenced).length;
    const spec = transactionStateTopicSpec(this.config.transactionStateTopicNumPartitions, this.#controller ? this.config.transactionStateTopicReplicationFactor : 1, brokers);
    // TOPIC_ALREADY_EXISTS from a race with another broker is the wanted outcome.
    await this.#changeMetadata((m) => createTopicsIn(m, Object.hasOwn(m.topics, TRANSACTION_STATE_TOPIC) ? [] : [spec], {
      limits: { ...this.#limits(), topicsMax: Number.MAX_SAFE_INTEGER, partitionsTotalMax: Number.MAX_SAFE_INTEGER }, defaults: this.#topicDefaults(),
    }));
  }

  async #createOffsetsTopic(): Promise<void> {
    const brokers = this.#metadata.brokers.filter((b) => !b.fenced).length;
    const spec = offsetsTopicSpec(this.config.offsetsTopicNumPartitions, this.#controller ? this.config.offsetsTopicReplicationFactor : 1, brokers,
      Math.max(this.config.topicDefaults.maxMessageBytes, this.config.groupMaxSize * this.config.groupMemberMetadataBytesMax * 2));
    // TOPIC_ALREADY_EXISTS from a race with another broker is the wanted outcome.
    await this.#changeMetadata((m) => createTopicsIn(m, Object.hasOwn(m.topics, OFFSETS_TOPIC) ? [] : [spec], {
      limits: { ...this.#limits(), topicsMax: Number.MAX_SAFE_INTEGER, partitionsTotalMax: Number.MAX_SAFE_INTEGER }, defaults: this.#topicDefaults(),
    }));
  }

  joinGroup(request: JoinGroupRequest): Promise<JoinGroupResponse> {
    this.#checkOpen();
    checkObject(request, 'request');
    return this.groups.joinGroup(request);
  }

  syncGroup(request: SyncGroupRequest): Promise<SyncGroupResponse> {
    this.#checkOpen();
    checkObject(request, 'request');
    return this.groups.syncGroup(request);
  }

  heartbeat(request: HeartbeatRequest): Promise<HeartbeatResponse> {
    this.#checkOpen();
    checkObject(request, 'request');
    return this.groups.heartbeat(request);
  }

  leaveGroup(request: LeaveGroupRequest): Promise<LeaveGroupResponse> {
    this.#checkOpen();
    checkObject(request, 'request');
    return this.groups.leaveGroup(request);
  }

  offsetCommit(request: OffsetCommitRequest): Promise<OffsetCommitResponse> {
    this.#checkOpen();
    checkObject(request, 'request');
    return this.groups.offsetCommit(request);
  }

  offsetFetch(request: OffsetFetchRequest): Promise<OffsetFetchResponse> {
    this.#checkOpen();
    checkObject(request, 'request');
    return this.groups.offsetFetch(request);
  }

  describeGroups(request: DescribeGroupsRequest): Promise<DescribeGroupsResponse> {
    this.#checkOpen();
    checkObject(request, 'request');
    return this.groups.describeGroups(request);
  }

  listGroups(request: ListGroupsRequest = {}): Promise<ListGroupsResponse> {
    this.#checkOpen();
    return this.groups.listGroups(request);
  }

  deleteGroups(request: DeleteGroupsRequest): Promise<DeleteGroupsResponse> {
    this.#checkOpen();
    checkObject(request, 'request');
    return this.groups.deleteGroups(request);
  }

  offsetDelete(request: OffsetDeleteRequest): Promise<OffsetDeleteResponse> {
    this.#checkOpen();
    checkObject(request, 'request');
    return this.groups.offsetDelete(request);
  }

  /** A coordinator write: one batch appended as acks=-1 is, resolved once the partition's ISR has it. */
  async #appendOffsets(partition: number, records: { key: Uint8Array; value: Uint8Array | null }[], transactional?: { producerId: bigint; producerEpoch: number }): Promise<void> {
    const { appended } = this.#enqueueAppend(OFFSETS_TOPIC, partition, offsetsBatch(records, this.clock.nowMs(), transactional), -1, true);
    const { result, replica } = await appended;
    await this.#awaitCommitted(replica, result.lastOffset + 1n, this.config.offsetsCommitTimeoutMs);
  }

  /**
   * A partition of an internal topic whose log is open here became led by
   * this broker or not: its coordinator (groups for __consumer_offsets,
   * transactional ids for __transaction_state) loads it by replaying its log,
   * or drops what it held of it.
   */
  #coordinatorMayMove(replica: Partition): void {
    if (replica.ref.topic === OFFSETS_TOPIC) this.#loadOrUnload(replica, this.groups, replayOffsetsPartition);
    else if (replica.ref.topic === TRANSACTION_STATE_TOPIC) this.#loadOrUnload(replica, this.transactions, replayTransactionStatePartition);
  }

  #loadOrUnload<R>(
    replica: Partition,
    coordinator: { load(partition: number, epoch: number, records: AsyncIterable<R>): Promise<void>; unload(partition: number): void },
    replay: (log: InternalLogReader) => AsyncIterable<R>,
  ): void {
    const partition = replica.ref.partition;
    const log = replica.log;
    if (replica.role !== 'leader' || !log || replica.closed) {
      coordinator.unload(partition);
      return;
    }
    const epoch = replica.leaderEpoch;
    const records = replay({
      logStartOffset: () => log.logStartOffset,
      logEndOffset: () => log.logEndOffset,
      read: (offset, maxBytes, upTo) => this.#runInOrder(replica, () => log.read(offset, maxBytes, upTo, true)),
      committed: (offset) => this.#ledAndCommitted(replica, epoch, offset),
    });
    coordinator.load(partition, epoch, records).catch((error) => {
      this.#metrics.countError(asWafkaError(error).type);
      // A load that ended because leadership moved was unloaded then; a later load may hold the partition now.
      if (replica.role === 'leader' && replica.leaderEpoch === epoch) coordinator.unload(partition);
    });
  }

  /** Until the high watermark of `replica`, led here in `epoch`, reaches `offset`; NOT_LEADER_OR_FOLLOWER once it is not. */
  async #ledAndCommitted(replica: Partition, epoch: number, offset: bigint): Promise<void> {
    for (;;) {
      if (this.#closing || replica.closed || replica.role !== 'leader' || replica.leaderEpoch !== epoch || !replica.log) {
        throw new WafkaError('NOT_LEADER_OR_FOLLOWER', `broker ${this.nodeId} no longer leads ${replica.ref.topic}-${replica.ref.partition} in leader epoch ${epoch}`);
      }
      if (replica.log.highWatermark >= offset) return;
      // Rung by every high watermark move; the timeout bounds how late a lost leadership is noticed.
      const parked = this.#waiters.park([replica.key], COMMITTED_RECHECK_MS);
      if ((await parked.done) === 'full') await new Promise<void>((resolve) => this.clock.setTimeout(resolve, COMMITTED_RECHECK_MS));
    }
  }

  // ------------------------------------------------------------------ Transactions

  /** A transaction state change: one batch appended as acks=-1 is, resolved once the partition's ISR has it. */
  async #appendTransactionState(partition: number, records: { key: Uint8Array; value: Uint8Array | null }[]): Promise<void> {
    const { appended } = this.#enqueueAppend(TRANSACTION_STATE_TOPIC, partition, offsetsBatch(records, this.clock.nowMs()), -1, true);
    const { result, replica } = await appended;
    await this.#awaitCommitted(replica, result.lastOffset + 1n, this.config.transactionStateWriteTimeoutMs);
  }

  /**
   * The coordinator's markers, each partition's sent to its leader as this
   * broker's metadata names it (this broker itself, or a peer). A partition
   * of a topic that no longer exists answers UNKNOWN_TOPIC_OR_PARTITION (the
   * coordinator drops it); every other failure is the partition's error, for
   * the coordinator to retry.
   */
  async #writeMarkersThroughLeaders(marker: TxnMarker): Promise<TxnPartitionResults[]> {
    if (marker.topics.some((t) => !this.#topic(t.topic) || t.partitions.some((p) => p >= this.#topic(t.topic)!.partitions.length))) {
      await this.#refresh().catch(() => {});
    }
    const results = new Map<string, { partition: number; error?: ReturnType<typeof errorJSON> }[]>(marker.topics.map((t) => [t.topic, []]));
    const byLeader = new Map<number, TxnMarker['topics']>();
    for (const t of marker.topics) {
      const state = this.#topic(t.topic);
      for (const partition of t.partitions) {
        const p = state?.partitions[partition];
        if (!p) {
          results.get(t.topic)!.push({ partition, error: errorJSON(new WafkaError('UNKNOWN_TOPIC_OR_PARTITION', `${t.topic}-${partition} does not exist`)) });
          continue;
        }
        if (p.leader < 0) {
          results.get(t.topic)!.push({ partition, error: errorJSON(new WafkaError('LEADER_NOT_AVAILABLE', `${t.topic}-${partition} has no leader`)) });
          continue;
        }
        let topics = byLeader.get(p.leader);
        if (!topics) byLeader.set(p.leader, (topics = []));
        let entry = topics.find((e) => e.topic === t.topic);
        if (!entry) topics.push((entry = { topic: t.topic, partitions: [] }));
        entry.partitions.push(partition);
      }
    }
    let stale = false;
    await Promise.all([...byLeader].map(async ([leaderId, topics]) => {
      const request = { markers: [{ ...marker, topics }] };
      try {
        const api = leaderId === this.nodeId ? (this as unknown as TransactionApi) : this.#peerTransactions(leaderId);
        if (!api) throw new WafkaError('BROKER_NOT_AVAILABLE', `broker ${leaderId}, the leader, cannot be reached from broker ${this.nodeId}`);
        const response = await api.writeTxnMarkers(request);
        const answered = new Map<string, { partition: number; error?: ReturnType<typeof errorJSON> }>();
        for (const m of response.markers) for (const t of m.topics) for (const p of t.partitions) answered.set(`${t.topic}\u0000${p.partition}`, p);
        for (const t of topics) {
          for (const partition of t.partitions) {
            const p = answered.get(`${t.topic}\u0000${partition}`) ?? { partition, error: errorJSON(new WafkaError('UNKNOWN_SERVER_ERROR', `broker ${leaderId} did not answer for ${t.topic}-${partition}`)) };
            if (p.error) stale = true;
            results.get(t.topic)!.push(p.error ? { partition, error: p.error } : { partition });
          }
        }
      } catch (error) {
        stale = true;
        const e = errorJSON(error);
        for (const t of topics) for (const partition of t.partitions) results.get(t.topic)!.push({ partition, error: e });
      }
    }));
    if (stale) void this.#refresh().catch(() => {});
    return [...results].map(([topic, partitions]) => ({ topic, partitions }));
  }

  #peerTransactions(nodeId: number): Pick<TransactionApi, 'writeTxnMarkers' | 'addPartitionsToTxn'> | null {
    const peer = this.#peer(nodeId);
    if (!peer) return null;
    const methods = transactionMethodsOf(peer);
    if (!methods.includes('writeTxnMarkers') || !methods.includes('addPartitionsToTxn')) return null;
    return peer as unknown as TransactionApi;
  }

  async addPartitionsToTxn(request: AddPartitionsToTxnRequest): Promise<AddPartitionsToTxnResponse> {
    this.#checkOpen();
    checkObject(request, 'request');
    if (!request.verifyOnly) {
      checkArray(request.topics, 'topics');
      // Kafka: a partition that does not exist fails the request; the others are OPERATION_NOT_ATTEMPTED.
      await this.#refreshIfUnknown(request.topics.map((t) => ({ topic: t.topic, partitions: (Array.isArray(t.partitions) ? t.partitions : []).map((partition) => ({ partition })) })));
      const missing = (topic: string, partition: number) => {
        const state = this.#topic(topic);
        return !state || partition >= state.partitions.length || topic === TRANSACTION_STATE_TOPIC;
      };
      if (request.topics.some((t) => Array.isArray(t.partitions) && t.partitions.some((p) => missing(t.topic, p)))) {
        const error = errorJSON(new WafkaError('UNKNOWN_TOPIC_OR_PARTITION', 'a partition of the request does not exist'));
        return {
          error,
          results: request.topics.map((t) => ({
            topic: t.topic,
            partitions: t.partitions.map((partition) => ({
              partition,
              error: missing(t.topic, partition)
                ? errorJSON(new WafkaError('UNKNOWN_TOPIC_OR_PARTITION', `${t.topic}-${partition} does not exist`))
                : errorJSON(new WafkaError('OPERATION_NOT_ATTEMPTED', `not added: another partition of the request does not exist`)),
            })),
          })),
        };
      }
    }
    return this.transactions.addPartitionsToTxn(request);
  }

  async addOffsetsToTxn(request: AddOffsetsToTxnRequest): Promise<AddOffsetsToTxnResponse> {
    this.#checkOpen();
    checkObject(request, 'request');
    if (typeof request.groupId !== 'string' || request.groupId === '') throw invalidRequest('groupId must be a non-empty string');
    // The store is read only when this broker does not know the offsets topic yet (a read costs a round trip, in every transaction).
    if (!this.#topic(OFFSETS_TOPIC)) await this.#refresh();
    if (!this.#topic(OFFSETS_TOPIC)) await this.#createOffsetsTopic();
    // The group's partition of __consumer_offsets joins the transaction: its TxnOffsetCommit is decided by the markers there.
    const added = await this.transactions.addPartitionsToTxn({
      transactionalId: request.transactionalId, producerId: request.producerId, producerEpoch: request.producerEpoch,
      topics: [{ topic: OFFSETS_TOPIC, partitions: [this.groups.partitionFor(request.groupId)] }],
    });
    const error = added.error ?? added.results[0]?.partitions[0]?.error;
    return error ? { error } : {};
  }

  /**
   * A transaction's offsets for a group, at the group's coordinator. First
   * (as KIP-890 verifies a transactional produce) the transaction
   * coordinator is asked whether the group's offsets partition is in the
   * producer's ongoing transaction: a fenced or ended producer's offsets are
   * refused before anything is written.
   */
  async txnOffsetCommit(request: TxnOffsetCommitRequest): Promise<TxnOffsetCommitResponse> {
    this.#checkOpen();
    checkObject(request, 'request');
    checkTransactionalId(request.transactionalId);
    if (typeof request.groupId !== 'string') throw invalidRequest('groupId must be a string');
    checkArray(request.topics, 'topics');
    const all = (error: ReturnType<typeof errorJSON>): TxnOffsetCommitResponse => ({
      error, topics: request.topics.map((t) => ({ topic: t.topic, partitions: (Array.isArray(t.partitions) ? t.partitions : []).map((p) => ({ partition: p.partition, error })) })),
    });
    const offsetsPartition = this.groups.partitionFor(request.groupId);
    const verified = await this.#verifyInTransaction(request.transactionalId, request.producerId, request.producerEpoch, OFFSETS_TOPIC, offsetsPartition);
    if (verified) return all(verified);
    return this.groups.txnOffsetCommit(request);
  }

  /**
   * Asks the transaction coordinator of `transactionalId` (this broker or
   * the leader of its __transaction_state partition) whether topic-partition
   * is in the producer's ongoing transaction (AddPartitionsToTxn verifyOnly):
   * null if it is, else the error to answer (INVALID_TXN_STATE when it is
   * not in the transaction; the coordinator's error, such as PRODUCER_FENCED,
   * otherwise).
   */
  async #verifyInTransaction(transactionalId: string, producerId: bigint, producerEpoch: number, topic: string, partition: number): Promise<ReturnType<typeof errorJSON> | null> {
    let state = this.#topic(TRANSACTION_STATE_TOPIC)?.partitions[this.transactions.partitionFor(transactionalId)];
    if (!state || state.leader < 0) {
      await this.#refresh().catch(() => {});
      state = this.#topic(TRANSACTION_STATE_TOPIC)?.partitions[this.transactions.partitionFor(transactionalId)];
    }
    if (!state || state.leader < 0) return errorJSON(new WafkaError('COORDINATOR_NOT_AVAILABLE', `the transaction coordinator of '${transactionalId}' is not known now`));
    const api = state.leader === this.nodeId ? this.transactions : this.#peerTransactions(state.leader);
    if (!api) return errorJSON(new WafkaError('COORDINATOR_NOT_AVAILABLE', `broker ${state.leader}, the transaction coordinator of '${transactionalId}', cannot be reached from broker ${this.nodeId}`));
    let response: AddPartitionsToTxnResponse;
    try {
      response = await api.addPartitionsToTxn({ transactionalId, producerId, producerEpoch, verifyOnly: true, topics: [{ topic, partitions: [partition] }] });
    } catch (error) {
      return errorJSON(new WafkaError('COORDINATOR_NOT_AVAILABLE', `verifying with the transaction coordinator failed: ${asWafkaError(error).message}`));
    }
    const error = response.error ?? response.results[0]?.partitions[0]?.error;
    if (!error) return null;
    if (error.type === 'TRANSACTION_ABORTABLE') {
      return errorJSON(new WafkaError('INVALID_TXN_STATE', `${topic}-${partition} is not in the ongoing transaction of '${transactionalId}' (producer ${producerId} epoch ${producerEpoch}): add it first (AddPartitionsToTxn / AddOffsetsToTxn)`));
    }
    // The coordinator moved or loads: the requester retries.
    if (error.type === 'NOT_COORDINATOR' || error.type === 'COORDINATOR_LOAD_IN_PROGRESS') return errorJSON(new WafkaError('COORDINATOR_NOT_AVAILABLE', error.message));
    return error;
  }

  endTxn(request: EndTxnRequest): Promise<EndTxnResponse> {
    this.#checkOpen();
    checkObject(request, 'request');
    return this.transactions.endTxn(request);
  }

  describeTransactions(request: DescribeTransactionsRequest): Promise<DescribeTransactionsResponse> {
    this.#checkOpen();
    checkObject(request, 'request');
    return this.transactions.describeTransactions(request);
  }

  listTransactions(request: ListTransactionsRequest = {}): Promise<ListTransactionsResponse> {
    this.#checkOpen();
    return this.transactions.listTransactions(request);
  }

  // ------------------------------------------------------------------ Lifecycle

  /**
   * Stops taking requests, answers parked fetches with what they have, lets
   * queued appends finish, then flushes and closes every log and the stores.
   * Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#closeNow();
    return this.#closing;
  }

  async #closeNow(): Promise<void> {
    this.clock.clearTimeout(this.#maintenanceTimer);
    this.clock.clearTimeout(this.#offlineLogTimer);
    this.clock.clearTimeout(this.#heartbeatTimer);
    this.clock.clearTimeout(this.#isrTimer);
    this.groups.close();
    this.transactions.close();
    // A clean shutdown hands leadership over first, so producers move to the new leaders at once.
    await this.#shutDownWithController();
    this.#unsubscribe();
    this.#waiters.ringAll();
    await Promise.all([...this.#fetchers.values()].map((f) => f.stop()));
    this.#fetchers.clear();
    await this.#produceOrder;
    await this.#applying.catch(() => {});
    const errors: unknown[] = [];
    await Promise.all([...this.#replicas.values()].map(async (replica) => {
      try {
        await this.#closeReplica(replica);
      } catch (error) {
        errors.push(error);
      }
    }));
    for (const key of this.#replicas.keys()) this.#produceWaiters.failAll(key, new WafkaError('NOT_LEADER_OR_FOLLOWER', `broker ${this.nodeId} closed`));
    this.#replicas.clear();
    this.#watch.close();
    await this.#store.close().catch((e) => errors.push(e));
    await this.#storage.close().catch((e) => errors.push(e));
    if (errors.length) throw new WafkaError('KAFKA_STORAGE_ERROR', `broker ${this.nodeId} closed with ${errors.length} errors: ${errors.map((e) => asWafkaError(e).message).join('; ')}`);
  }

  async #shutDownWithController(): Promise<void> {
    const link = this.#controller?.();
    if (!link || this.#brokerEpoch < 0) return;
    const timeoutMs = this.config.brokerHeartbeatIntervalMs * 10;
    await Promise.race([
      link.controlledShutdown(this.nodeId).then(() => this.#refreshNow()).catch(() => {}),
      this.#sleep(timeoutMs),
    ]);
  }

  /** A refresh while closing (#refresh's callers may already be gone). */
  async #refreshNow(): Promise<void> {
    const metadata = await this.#store.read();
    if (metadata) await this.#apply(metadata, true);
  }

  #checkOpen(): void {
    if (this.#closing) throw new WafkaError('BROKER_NOT_AVAILABLE', `broker ${this.nodeId} is closing`);
  }

  // ------------------------------------------------------------------ Metadata plumbing

  #topic(name: string): TopicState | undefined {
    return getTopic(this.#metadata, name);
  }

  /** The replica this broker leads for topic-partition, or the per-partition error. */
  #leaderReplica(topic: string, partition: number): Partition {
    const state = this.#topic(topic);
    if (!state) throw new WafkaError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${topic}' does not exist`);
    const p: PartitionState | undefined = state.partitions[partition];
    if (!p) throw new WafkaError('UNKNOWN_TOPIC_OR_PARTITION', `partition ${partition} of '${topic}' does not exist (${state.partitions.length} partitions)`);
    const replica = this.#replicas.get(partitionKey(topic, partition));
    if (p.leader < 0) throw new WafkaError('LEADER_NOT_AVAILABLE', `${topic}-${partition} has no leader (leaderEpoch ${p.leaderEpoch}, ISR [${p.isr}])`);
    if (p.leader === this.nodeId && !replica) {
      const failure = this.#openFailures.get(partitionKey(topic, partition));
      if (failure) throw failure;
    }
    if (p.leader !== this.nodeId || !replica) throw notLeader(this.nodeId, topic, partition, `the leader is broker ${p.leader} (leaderEpoch ${p.leaderEpoch})`);
    return replica;
  }

  /** Re-reads the metadata if a request names a topic or partition this broker has not heard of. */
  async #refreshIfUnknown(topics: readonly { topic: string; partitions: readonly { partition: number }[] }[]): Promise<void> {
    const unknown = topics.some((t) => {
      const state = this.#topic(t.topic);
      return !state || t.partitions.some((p) => p.partition >= state.partitions.length);
    });
    if (unknown) await this.#refresh();
  }

  /**
   * Reads the store and applies what it holds. Concurrent callers share reads:
   * a caller arriving while a read is in flight waits for one more read (that
   * one may have started before the change the caller is looking for), and
   * all such callers share that second read, so at most two are ever queued.
   */
  #refresh(): Promise<void> {
    if (!this.#refreshing) {
      this.#refreshing = (async () => {
        try {
          const metadata = await this.#store.read();
          if (metadata) await this.#apply(metadata);
        } finally {
          this.#refreshing = null;
        }
      })();
      return this.#refreshing;
    }
    this.#refreshAgain ??= this.#refreshing.catch(() => {}).then(() => {
      this.#refreshAgain = null;
      return this.#refresh();
    });
    return this.#refreshAgain;
  }

  /** Runs an admin change through compare-and-set, rings the doorbell, and applies the result here. */
  async #changeMetadata(change: (m: ClusterMetadata) => AdminChange): Promise<AdminChange['results']> {
    const { metadata, result, changed } = await updateMetadata(this.#store, this.clusterId, (m) => {
      const outcome = change(m);
      return { next: outcome.changed ? m : null, result: outcome };
    }, this.clock);
    if (changed) this.#watch.announce(metadata.version);
    await this.#apply(metadata);
    return result.results;
  }

  async #autoCreate(names: string[]): Promise<void> {
    const valid = names.filter((name) => {
      try {
        checkTopicName(name);
        return true;
      } catch {
        return false; // answered per partition as INVALID_TOPIC_EXCEPTION or unknown
      }
    });
    if (valid.length === 0) return;
    const specs: CreateTopicSpec[] = [...new Set(valid)].map((topic) => ({ topic }));
    // TOPIC_ALREADY_EXISTS from a race with another broker is the wanted outcome.
    await this.#changeMetadata((m) => createTopicsIn(m, specs.filter((s) => !Object.hasOwn(m.topics, s.topic)), {
      limits: this.#limits(), defaults: this.#topicDefaults(),
    }));
  }

  #limits(): TopicLimits {
    return {
      topicsMax: this.config.topicsMax, partitionsPerTopicMax: this.config.partitionsPerTopicMax, partitionsTotalMax: this.config.partitionsTotalMax,
      replicationFactorMax: this.#controller ? Number.MAX_SAFE_INTEGER : 1,
    };
  }

  #topicDefaults() {
    return { numPartitions: this.config.numPartitions, replicationFactor: this.config.defaultReplicationFactor };
  }

  #describeBrokerConfig(configNames: readonly string[] | null | undefined): ConfigEntry[] {
    const entries: ConfigEntry[] = [];
    for (const [name, value] of Object.entries(this.config)) {
      if (typeof value === 'object' || (configNames && !configNames.includes(name))) continue;
      entries.push({ name, value: String(value), isDefault: false, readOnly: true, isSensitive: false });
    }
    return entries;
  }

  /**
   * Makes the hosted replicas match `metadata` (if it is newer than what this
   * broker knows): every partition this broker is a replica of is hosted,
   * as leader or follower; replicas no longer assigned here are closed, the
   * logs of deleted (or deleted and re-created) topics removed, logs for new
   * partitions opened. The map changes synchronously, so requests see the new
   * state at once; a new replica's log opens after the old log of the same
   * partition is gone. `evenWhileClosing`: the controlled shutdown's last look.
   */
  #apply(metadata: ClusterMetadata, evenWhileClosing = false): Promise<void> {
    const run = async () => {
      if (metadata.version <= this.#metadata.version || (this.#closing && !evenWhileClosing)) return;
      this.#metadata = metadata;
      const nowMs = this.clock.nowMs();
      const wanted = new Map<PartitionKey, { ref: PartitionRef; state: PartitionState; config: ResolvedTopicConfig }>();
      for (const topic of Object.values(metadata.topics)) {
        const config = resolveTopicConfig(this.config.topicDefaults, topic.configs);
        for (const p of topic.partitions) {
          if (!p.replicas.includes(this.nodeId)) continue;
          wanted.set(partitionKey(topic.name, p.partition), {
            ref: { topic: topic.name, partition: p.partition, topicId: topic.topicId }, state: p, config,
          });
        }
      }
      const retiring: Promise<void>[] = [];
      const retiredByKey = new Map<PartitionKey, Promise<void>>();
      for (const [key, replica] of this.#replicas) {
        const want = wanted.get(key);
        if (want && want.ref.topicId === replica.ref.topicId && sameConfig(want.config, replica.config)) {
          const change = replica.applyState(want.state, nowMs);
          if (change !== 'same-role') this.#roleChanged(replica);
          continue;
        }
        // Gone, re-created, no longer a replica here, or a new config (a log takes its config at open): retire it.
        this.#replicas.delete(key);
        const topicGone = getTopic(metadata, replica.ref.topic)?.topicId !== replica.ref.topicId;
        const retired = this.#retireReplica(replica, topicGone);
        retiring.push(retired);
        retiredByKey.set(key, retired);
      }
      for (const [key, want] of wanted) {
        if (this.#replicas.has(key)) continue;
        this.#replicas.set(key, this.#newReplica(key, want, retiredByKey.get(key) ?? Promise.resolve()));
      }
      this.#syncFetchers();
      await Promise.allSettled(retiring);
    };
    const applied = this.#applying.then(run);
    this.#applying = applied.catch(() => {});
    return applied;
  }

  /** A replica became leader or follower: waiters of the old role get their answer now. */
  #roleChanged(replica: Partition): void {
    this.#coordinatorMayMove(replica);
    if (replica.role !== 'leader') {
      this.#produceWaiters.failAll(replica.key, notLeader(this.nodeId, replica.ref.topic, replica.ref.partition, `leadership moved to broker ${replica.state.leader} (leaderEpoch ${replica.leaderEpoch})`));
    } else {
      this.#highWatermarkMayMove(replica);
    }
    this.#waiters.ring(replica.key);
  }

  #newReplica(key: PartitionKey, want: { ref: PartitionRef; state: PartitionState; config: ResolvedTopicConfig }, after: Promise<void>): Partition {
    const replica = new Partition(this.nodeId, key, want.ref, want.config, { ...want.state });
    replica.opening = after.then(() => this.#withOpenSlot(() => this.#storage.open(want.ref, replica.config, () => this.#scheduleOfflineLogCheck()))).then(
      (log) => {
        replica.log = log;
        replica.producers.logOpened(log);
        this.#openFailures.delete(key);
        // A partition of one replica commits what it appends; a replicated one starts from the high watermark it stored.
        if (!replica.replicated) log.highWatermark = log.logEndOffset;
        replica.logOpened(this.clock.nowMs());
        this.#syncFetchers();
        this.#coordinatorMayMove(replica);
        return log;
      },
      (error) => {
        // Forget it, so that the next metadata change or refresh tries again; until then requests get the cause.
        if (this.#replicas.get(key) === replica) this.#replicas.delete(key);
        const failure = new WafkaError('KAFKA_STORAGE_ERROR', `broker ${this.nodeId} cannot open the log of ${want.ref.topic}-${want.ref.partition}: ${asWafkaError(error).message}`, { cause: error });
        if (this.#openFailures.size < OPEN_FAILURES_KEPT_MAX || this.#openFailures.has(key)) this.#openFailures.set(key, failure);
        throw failure;
      },
    );
    replica.opening.catch(() => {});
    replica.chain = replica.opening.catch(() => {});
    return replica;
  }

  // ------------------------------------------------------------------ Replication

  /** One fetcher per leader this broker follows partitions from; each is woken to look at its partitions again. */
  #syncFetchers(): void {
    if (this.#closing) return;
    const leaders = new Set<number>();
    for (const replica of this.#replicas.values()) if (replica.role === 'follower' && replica.log) leaders.add(replica.state.leader);
    for (const [leaderId, fetcher] of this.#fetchers) {
      if (leaders.has(leaderId)) continue;
      this.#fetchers.delete(leaderId);
      void fetcher.stop();
    }
    for (const leaderId of leaders) {
      let fetcher = this.#fetchers.get(leaderId);
      if (!fetcher) {
        fetcher = new ReplicaFetcher(this.#fetcherHost, leaderId);
        this.#fetchers.set(leaderId, fetcher);
        fetcher.start();
      }
      fetcher.wake();
    }
  }


  /** Eligible to join an ISR: registered and not fenced, as far as this broker's metadata says. */
  #eligible(nodeId: number): boolean {
    const b = this.#metadata.brokers.find((r) => r.nodeId === nodeId);
    return !!b && !b.fenced;
  }

  #scheduleIsrCheck(): void {
    if (this.#closing) return;
    this.#isrTimer = this.clock.setTimeout(() => {
      for (const replica of this.#replicas.values()) if (replica.role === 'leader') this.#checkIsr(replica);
      this.#scheduleIsrCheck();
    }, Math.max(1, Math.floor(this.config.replicaLagTimeMaxMs / 2)));
    (this.#isrTimer as { unref?: () => void }).unref?.();
  }

  /** Asks the controller for the ISR change a leader needs (one at a time per partition), and applies the answer. */
  #checkIsr(replica: Partition): void {
    const link = this.#controller?.();
    if (!link || replica.closed) return;
    const isr = replica.isrChangeToPropose(this.clock.nowMs(), this.config.replicaLagTimeMaxMs, (id) => this.#eligible(id));
    if (!isr) return;
    replica.proposeIsr(isr);
    const state = replica.state;
    link.alterPartition({
      topic: replica.ref.topic, partition: replica.ref.partition, brokerId: this.nodeId,
      leaderEpoch: state.leaderEpoch, partitionEpoch: state.partitionEpoch ?? 0, newIsr: isr,
    }).then(
      (stored) => {
        replica.proposalDone();
        if (replica.closed || stored.leaderEpoch !== replica.leaderEpoch) return;
        const change = replica.applyState(stored, this.clock.nowMs());
        if (change !== 'same-role') this.#roleChanged(replica);
        else this.#highWatermarkMayMove(replica);
        void this.#refresh().catch(() => {});
      },
      (error) => {
        replica.proposalFailed(asWafkaError(error).type);
        this.#metrics.countError(asWafkaError(error).type);
        void this.#refresh().catch(() => {});
      },
    );
  }

  async #withOpenSlot<T>(work: () => Promise<T>): Promise<T> {
    if (this.#openSlots === 0) await new Promise<void>((resolve) => this.#openQueue.push(resolve));
    else this.#openSlots--;
    try {
      return await work();
    } finally {
      const next = this.#openQueue.shift();
      if (next) next();
      else this.#openSlots++;
    }
  }

  async #retireReplica(replica: Partition, removeLog: boolean): Promise<void> {
    if (replica.ref.topic === OFFSETS_TOPIC) this.groups.unload(replica.ref.partition);
    if (replica.ref.topic === TRANSACTION_STATE_TOPIC) this.transactions.unload(replica.ref.partition);
    this.#waiters.ring(replica.key);
    await this.#closeReplica(replica);
    if (removeLog) {
      await this.#storage.remove(replica.ref);
      // A deleted topic's traffic goes with it (the counters stay bounded by the topics that exist).
      if (![...this.#replicas.values()].some((r) => r.ref.topic === replica.ref.topic)) this.#metrics.forgetTopic(replica.ref.topic);
    }
  }

  async #closeReplica(replica: Partition): Promise<void> {
    replica.stopWaiting();
    // Work queued before the retirement finishes first (it was accepted); then nothing more is taken.
    let chain: Promise<unknown>;
    do {
      chain = replica.chain;
      await chain;
    } while (chain !== replica.chain);
    replica.closed = true;
    const log = await replica.opening.catch(() => null);
    if (!log) return;
    try {
      await this.#writeProducerSnapshot(replica, log);
      await log.flush();
    } finally {
      await log.close();
    }
  }

  /**
   * Saves the replica's producer state with its log, if loaded, so that the
   * next load reads the log after it only. A failure is counted and otherwise
   * harmless: an older snapshot still describes a prefix of the log.
   */
  async #writeProducerSnapshot(replica: Partition, log: ReplicaLog): Promise<void> {
    const snapshot = replica.producers.snapshot(log);
    if (!snapshot) return;
    await log.writeProducerSnapshot(snapshot).catch((error) => this.#metrics.countError(asWafkaError(error).type));
  }

  // ------------------------------------------------------------------ Background work

  #scheduleMaintenance(): void {
    if (this.#closing) return;
    this.#maintenanceTimer = this.clock.setTimeout(() => {
      void this.#maintainSome().finally(() => this.#scheduleMaintenance());
    }, this.config.logMaintenanceIntervalMs);
    // Node: the timer alone must not keep a process (or test run) alive.
    (this.#maintenanceTimer as { unref?: () => void }).unref?.();
  }

  /**
   * Armed only when a log goes offline (not a standing poll), so a broker
   * whose storage never fails schedules nothing for it.
   */
  #scheduleOfflineLogCheck(): void {
    if (this.#closing || this.#offlineLogTimer !== undefined) return;
    this.#offlineLogTimer = this.clock.setTimeout(() => {
      this.#offlineLogTimer = undefined;
      for (const replica of this.#replicas.values()) if (replica.log?.offline && !replica.closed) this.#reopenOfflineLog(replica);
    }, this.config.offlineLogReopenIntervalMs);
    (this.#offlineLogTimer as { unref?: () => void }).unref?.();
  }

  /**
   * Closes a replica whose log an I/O error took offline and opens it again,
   * which recovers the log from its files as a restart would. Produces waiting
   * on the old log fail (retriable): an offset they wait for may not survive
   * the recovery and could later hold another record.
   */
  #reopenOfflineLog(replica: Partition): void {
    const run = async () => {
      if (this.#closing || replica.closed || this.#replicas.get(replica.key) !== replica) return;
      this.#metrics.countError('KAFKA_STORAGE_ERROR');
      this.#produceWaiters.failAll(replica.key, new WafkaError('KAFKA_STORAGE_ERROR', `broker ${this.nodeId} reopens the log of ${replica.ref.topic}-${replica.ref.partition} after an I/O error`));
      const retired = this.#retireReplica(replica, false).catch((error) => this.#metrics.countError(asWafkaError(error).type));
      this.#replicas.set(replica.key, this.#newReplica(replica.key, { ref: replica.ref, state: { ...replica.state }, config: replica.config }, retired));
      this.#syncFetchers();
      await retired;
    };
    const applied = this.#applying.then(run);
    this.#applying = applied.catch(() => {});
  }

  /** Retention and flush.ms for the next few replicas (bounded work per tick), each in its append order. */
  async #maintainSome(): Promise<void> {
    const replicas = [...this.#replicas.values()];
    if (replicas.length === 0) return;
    const count = Math.min(replicas.length, this.config.logMaintenancePartitionsPerTick);
    const nowMs = this.clock.nowMs();
    const work: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const replica = replicas[(this.#maintenanceCursor + i) % replicas.length];
      work.push(this.#runInOrder(replica, async () => {
        if (replica.closed) return;
        const log = await replica.opening;
        await log.maintain(nowMs);
        replica.producers.logStartMoved(log.logStartOffset);
        replica.producers.expire(nowMs);
        if (replica.producers.snapshotDue(log)) await this.#writeProducerSnapshot(replica, log);
      }).catch((error) => this.#metrics.countError(asWafkaError(error).type)));
    }
    this.#maintenanceCursor = (this.#maintenanceCursor + count) % replicas.length;
    await Promise.all(work);
  }

  /** For tests: run one maintenance pass now. */
  runMaintenance(): Promise<void> {
    return this.#maintainSome();
  }
}

/**
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED for transactional batches in a request
 * without a transactionalId (KafkaApis.handleProduceRequest), and
 * INVALID_PRODUCER_ID_MAPPING for transactional batches of more than one
 * producer (ReplicaManager.handleProduceAppend); null when neither applies.
 * Batches with a torn header, and control batches, are left to the append's checks.
 */
function refuseTransactionalProduce(request: ProduceRequest, transactionalId: string | null): WafkaError | null {
  const producers = new Set<string>();
  for (const t of request.topics) {
    for (const p of t.partitions) {
      const records = p.records;
      for (const span of batchSpans(new DataView(records.buffer, records.byteOffset, records.byteLength))) {
        const header = readBatchHeader(records, span.at);
        // A control batch is the append's to refuse, with INVALID_RECORD (no producer may send one).
        if (!header.isTransactional || header.isControlBatch || header.producerId < 0n) continue;
        if (transactionalId === null) {
          return new WafkaError('TRANSACTIONAL_ID_AUTHORIZATION_FAILED', `${t.topic}-${p.partition}: a transactional batch of producer ${header.producerId} in a produce request without a transactionalId`);
        }
        producers.add(`${header.producerId}/${header.producerEpoch}`);
        if (producers.size > 1) {
          return new WafkaError('INVALID_PRODUCER_ID_MAPPING', `transactional batches of more than one producer id and epoch in one request: ${[...producers].join(', ')}`);
        }
      }
    }
  }
  return null;
}

function checkIsolationLevel(level: unknown): void {
  if (level !== undefined && level !== 'read_uncommitted' && level !== 'read_committed') {
    throw invalidRequest(`isolationLevel ${JSON.stringify(level)}: expected 'read_uncommitted' or 'read_committed'`);
  }
}

/** The offset after the last whole batch of `records`. */
function endOffsetOf(records: Uint8Array): bigint {
  let end = -1n;
  for (const span of batchSpans(new DataView(records.buffer, records.byteOffset, records.byteLength))) {
    if (!spanIsWhole(span, records.byteLength)) break;
    end = span.lastOffset + 1n;
  }
  return end;
}

function sameConfig(a: ResolvedTopicConfig, b: ResolvedTopicConfig): boolean {
  return (Object.keys(a) as (keyof ResolvedTopicConfig)[]).every((k) => a[k] === b[k]);
}

const INT64_MAX = (1n << 63n) - 1n;

/** Open failures remembered for their error (past this, requests for further ones see NOT_LEADER_OR_FOLLOWER). */
const OPEN_FAILURES_KEPT_MAX = 10_000;

function notLeader(nodeId: number, topic: string, partition: number, why: string): WafkaError {
  return new WafkaError('NOT_LEADER_OR_FOLLOWER', `broker ${nodeId} is not the leader of ${topic}-${partition}: ${why}`);
}
