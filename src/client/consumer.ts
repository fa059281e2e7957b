/**
 * The consumer: KafkaJS's API, a member of its consumer group. The group's
 * coordinator and assigner decide which partitions of the subscription this
 * member consumes (./group/membership.ts); it starts each at the group's
 * committed offset (`fromBeginning` applies only where there is none) and
 * commits what its handlers resolved (autoCommit, commitOffsets). Against
 * brokers that do not serve groups (stand-ins in tests), it reads every
 * partition of its subscription and keeps its positions in memory.
 *
 * One fetch loop per leader broker, each a long poll (`minBytes`,
 * `maxWaitTimeInMs`) for all of that broker's assigned, unpaused partitions.
 * Fetched bytes are decoded once per batch with the core; records below the
 * fetch position (the first batch may start before it) are skipped; key and
 * value are views into the fetched bytes. Handlers run one batch at a time
 * across the consumer (KafkaJS's partitionsConsumedConcurrently, default 1),
 * while the other brokers' fetches stay in flight. Per partition, messages are
 * delivered in offset order.
 *
 * Unlike KafkaJS, which matches a RegExp subscription against the topics that
 * exist when `subscribe` is called, the consumer matches its subscriptions
 * again at every metadata refresh (metadataMaxAge, or after an error): topics
 * created later that match are consumed too, from the subscription's
 * `fromBeginning` position (as Kafka's Java client does with a pattern).
 */
import { UndecodableBatchError, WafkaError } from '../errors.ts';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, type FetchPartitionResponse, type FetchRequest, type IsolationLevel, type OffsetFetchResponse } from '../protocol/types.ts';
import { AbortedTransactionFilter } from './aborted-transactions.ts';
import { arrayArgument, EARLIEST_OFFSET, LATEST_OFFSET, objectArgument, offsetArgument, partitionArgument, topicArgument } from './arguments.ts';
import { ClusterClient, fromErrorJSON, toWafkaError, type BrokerConnector } from './connection.ts';
import { CONSUMER_EVENTS, InstrumentationEmitter, type Listener, type RemoveListener } from './instrumentation.ts';
import type { Logger } from './logger.ts';
import { backoffMs, resolveRetry, type RetryOptions } from './retry.ts';
import { Wakeup } from './wakeup.ts';
import { TurnBudget } from '../event-loop.ts';
import { batchSizeAt } from '../core/index.ts';
import type { BatchCodec, DecodedBatch } from './codec.ts';
import type { ConsumerConfig, ConsumerGroupMetadata, KafkaMessage, RebalanceListener, TopicPartitionsList } from './types.ts';
import { FetchedEpochs } from './fetched-epochs.ts';
import { roundRobin, type RebalanceProtocol } from './group/assigners.ts';
import { findCoordinators, groupCall } from './group/group-requests.ts';
import { GroupMembership, type MembershipHost } from './group/membership.ts';
import type { TopicPartitionList } from '../protocol/consumer-protocol.ts';
import { OFFSETS_TOPIC } from '../coordinator/group/offsets-topic-records.ts';

export interface ConsumerContext {
  connector: BrokerConnector;
  clientId: string;
  logger: Logger;
  retry?: RetryOptions;
  codec: () => Promise<BatchCodec>;
}

/** Subscriptions of one consumer (topics and patterns); each is matched against the metadata on every assignment. */
export const SUBSCRIPTIONS_MAX = 10_000;

/** pause/resume's [{ topic, partitions? }], checked whole before anything changes. */
function topicPartitionsArgument(value: unknown, what: string): TopicPartitions[] {
  return arrayArgument<unknown>(value, `${what} topics`, SUBSCRIPTIONS_MAX).map((entry, i) => {
    const { topic, partitions } = objectArgument<{ topic: unknown; partitions?: unknown }>(entry, `${what}[${i}]`);
    return {
      topic: topicArgument(topic, `${what}[${i}].topic`),
      partitions: partitions === undefined ? undefined
        : arrayArgument<unknown>(partitions, `${what}[${i}].partitions`, 0x7fffffff).map((p, j) => partitionArgument(p, `${what}[${i}].partitions[${j}]`)),
    };
  });
}

export interface TopicPartitionOffset { topic: string; partition: number; offset: string }
export interface TopicPartitions { topic: string; partitions?: number[] }

export interface EachMessagePayload {
  topic: string;
  partition: number;
  message: KafkaMessage;
  heartbeat(): Promise<void>;
  /** Pauses this partition; returns a function that resumes it. */
  pause(): () => void;
}

export interface Batch {
  topic: string;
  partition: number;
  highWatermark: string;
  messages: KafkaMessage[];
  isEmpty(): boolean;
  firstOffset(): string | null;
  lastOffset(): string;
  offsetLag(): string;
  offsetLagLow(): string;
}

export interface EachBatchPayload {
  batch: Batch;
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  pause(): () => void;
  /** Commits what is resolved if autoCommit's interval or threshold says so (or the given offsets). */
  commitOffsetsIfNecessary(offsets?: { topics: { topic: string; partitions: { partition: number; offset: string }[] }[] }): Promise<void>;
  uncommittedOffsets(): { topics: { topic: string; partitions: { partition: number; offset: string }[] }[] };
  isRunning(): boolean;
  isStale(): boolean;
}

export interface ConsumerRunConfig {
  eachMessage?: (payload: EachMessagePayload) => Promise<void> | void;
  eachBatch?: (payload: EachBatchPayload) => Promise<void> | void;
  eachBatchAutoResolve?: boolean;
  /** How many partitions' batches may be handled at once. Default 1. */
  partitionsConsumedConcurrently?: number;
  /** Commit resolved offsets after handled batches (default true). */
  autoCommit?: boolean;
  /**
   * With autoCommit, as KafkaJS: inside a batch, commit after a message once this many ms passed since the
   * last commit (default null). Every handled batch is committed at its end whatever this says.
   */
  autoCommitInterval?: number | null;
  /** With autoCommit, as KafkaJS: inside a batch, commit once this many offsets were resolved since the last commit (default null). */
  autoCommitThreshold?: number | null;
}

export interface ConsumerSubscribeTopics { topics: (string | RegExp)[]; fromBeginning?: boolean }

interface PartitionState {
  topic: string;
  partition: number;
  /** The next offset to deliver; undefined until resolved (earliest/latest). */
  position: bigint | undefined;
  /** Reset target when the position is unknown or out of range. */
  fromBeginning: boolean;
  /** Bumped by seek: a fetch or handler that started before is stale. */
  generation: number;
  highWatermark: bigint;
  logStartOffset: bigint;
  /** The leader epochs of the batches fetched (KIP-320). */
  epochs: FetchedEpochs;
  /** Set when the group takes the partition away: no new delivery starts, and the state is dropped. */
  revoking: boolean;
  /** The delivery of a batch under way, if any (a revocation waits for it). */
  inFlight: Promise<void> | null;
  /** Within an eachBatch: the offset after the last resolveOffset (what a commit meanwhile would store). */
  batchResolved: bigint | undefined;
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * Bytes of fetched records the consumer decodes and delivers between two
 * yields to the event loop (a macrotask), so that timers and I/O run during a
 * catch-up (≈ 1-2 ms of work here; a yield costs microseconds).
 */
export const CONSUMER_TURN_BYTES = 256 * 1024;

/** Kafka's consumer defaults: fetch.max.bytes 50 MiB, max.partition.fetch.bytes 1 MiB. */
export const CONSUMER_DEFAULTS = {
  minBytes: 1,
  maxBytes: 50 * 1024 * 1024,
  maxWaitTimeInMs: 5000,
  maxBytesPerPartition: 1024 * 1024,
};

/** OffsetFetch attempts while a transaction's offsets are undecided (with backoff up to 0.5 s: about a minute). */
const UNSTABLE_OFFSET_RETRIES_MAX = 120;

export class Consumer {
  readonly events = CONSUMER_EVENTS;
  readonly #config: typeof CONSUMER_DEFAULTS & ConsumerConfig;
  readonly #isolationLevel: IsolationLevel;
  readonly #logger: Logger;
  readonly #instrumentation: InstrumentationEmitter;
  readonly #cluster: ClusterClient;
  readonly #retry: Required<RetryOptions>;
  readonly #codecLoader: () => Promise<BatchCodec>;
  #codec: BatchCodec | undefined;

  #connected = false;
  #running = false;
  #subscriptions: { topic: string | RegExp; fromBeginning: boolean }[] = [];
  readonly #partitions = new Map<string, PartitionState>();
  readonly #pendingSeeks = new Map<string, { topic: string; partition: number; offset: bigint }>();
  readonly #paused = new Set<string>();
  readonly #pausedTopics = new Set<string>();
  #runConfig: ConsumerRunConfig | undefined;
  readonly #loops = new Map<number, Promise<void>>();
  /** Rung by stop(): ends long polls and backoffs (latched until the next run). */
  #stopSignal = new Wakeup({ latched: true });
  /** Rung by a change (seek, resume, new partitions): ends an idle loop's wait. */
  readonly #changed = new Wakeup();
  /** Work between two yields to the event loop (decoding and delivering fetched records). */
  readonly #turn = new TurnBudget(CONSUMER_TURN_BYTES);
  #slots = 1;
  readonly #slotWaiters: (() => void)[] = [];
  #refreshing: Promise<void> | undefined;
  readonly #clientId: string;
  /** The group membership while running against brokers that serve groups; null when standalone. */
  #membership: GroupMembership | null = null;
  /** Topics the subscriptions match now (what the member tells its group). */
  #subscribedTopics: string[] = [];
  /** Offsets this member committed last, per partition. */
  readonly #committed = new Map<string, bigint>();
  #lastCommitMs = 0;
  #resolvedSinceCommit = 0;
  #commitChain: Promise<void> = Promise.resolve();

  constructor(config: ConsumerConfig, context: ConsumerContext) {
    if (!config || typeof config.groupId !== 'string' || config.groupId.length === 0) {
      throw new TypeError('wafka: consumer needs a groupId');
    }
    if (config.groupInstanceId !== undefined && (typeof config.groupInstanceId !== 'string' || config.groupInstanceId.length === 0 || config.groupInstanceId.length > 249)) {
      throw new TypeError('wafka: groupInstanceId must be a string of 1 to 249 characters');
    }
    for (const [name, value] of [['sessionTimeout', config.sessionTimeout], ['rebalanceTimeout', config.rebalanceTimeout], ['heartbeatInterval', config.heartbeatInterval]] as const) {
      if (value !== undefined && (!Number.isSafeInteger(value) || value <= 0 || value > 0x7fffffff)) throw new TypeError(`wafka: ${name} must be a positive integer of ms`);
    }
    this.#clientId = context.clientId;
    this.#config = { ...CONSUMER_DEFAULTS, ...Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)) } as typeof CONSUMER_DEFAULTS & ConsumerConfig;
    this.#isolationLevel = config.isolationLevel ?? (config.readUncommitted ? 'read_uncommitted' : 'read_committed');
    this.#logger = context.logger.namespace('Consumer');
    this.#instrumentation = new InstrumentationEmitter(CONSUMER_EVENTS, (error, type) => this.#logger.error(`listener of ${type} threw`, { error: String(error) }));
    this.#cluster = new ClusterClient({
      connector: context.connector, clientId: context.clientId, logger: this.#logger,
      instrumentation: this.#instrumentation, requestEvent: CONSUMER_EVENTS.REQUEST,
      allowAutoTopicCreation: config.allowAutoTopicCreation ?? true, metadataMaxAgeMs: config.metadataMaxAge,
    });
    this.#retry = resolveRetry(context.retry, config.retry);
    this.#codecLoader = context.codec;
  }

  on(eventName: string, listener: Listener): RemoveListener {
    return this.#instrumentation.on(eventName, listener);
  }

  logger(): Logger { return this.#logger; }

  async connect(): Promise<void> {
    if (this.#connected) return;
    this.#codec = await this.#codecLoader();
    await this.#cluster.refresh([]);
    this.#connected = true;
    this.#instrumentation.emit(CONSUMER_EVENTS.CONNECT, null);
  }

  async subscribe(subscription: ConsumerSubscribeTopics | { topic: string | RegExp; fromBeginning?: boolean }): Promise<void> {
    if (this.#running) throw new WafkaError('INVALID_REQUEST', 'cannot subscribe while the consumer runs; stop it first', { retriable: false });
    objectArgument(subscription, 'subscribe({ topics | topic, fromBeginning })');
    const topics = 'topics' in subscription ? subscription.topics : [subscription.topic];
    arrayArgument(topics, 'subscribe topics', SUBSCRIPTIONS_MAX);
    if (topics.length === 0) throw new WafkaError('INVALID_REQUEST', 'subscribe needs topics: (string | RegExp)[]', { retriable: false });
    // All checked before any is added: a refused subscribe changes nothing.
    for (const topic of topics) if (!(topic instanceof RegExp)) topicArgument(topic, 'subscribe topic');
    if (this.#subscriptions.length + topics.length > SUBSCRIPTIONS_MAX) {
      throw new WafkaError('INVALID_REQUEST', `more than ${SUBSCRIPTIONS_MAX} subscriptions`, { retriable: false });
    }
    for (const topic of topics) this.#subscriptions.push({ topic, fromBeginning: !!subscription.fromBeginning });
  }

  /**
   * Starts consuming; resolves once positions are resolved and the fetch loops
   * run (as KafkaJS, `run` does not wait for the consumer to stop).
   */
  async run(config: ConsumerRunConfig = {}): Promise<void> {
    if (!this.#connected) throw new WafkaError('NETWORK_EXCEPTION', 'the consumer is not connected (call connect())', { retriable: false });
    if (this.#running) throw new WafkaError('INVALID_REQUEST', 'the consumer is already running', { retriable: false });
    if (!config.eachMessage && !config.eachBatch) throw new TypeError('wafka: run needs eachMessage or eachBatch');
    if (this.#subscriptions.length === 0) throw new TypeError('wafka: subscribe to a topic before run');
    for (const [name, value] of [['autoCommitInterval', config.autoCommitInterval], ['autoCommitThreshold', config.autoCommitThreshold]] as const) {
      if (value !== undefined && value !== null && (!Number.isSafeInteger(value) || value <= 0)) throw new TypeError(`wafka: ${name} must be a positive integer or null`);
    }
    this.#runConfig = { eachBatchAutoResolve: true, partitionsConsumedConcurrently: 1, autoCommit: true, autoCommitInterval: null, autoCommitThreshold: null, ...config };
    this.#slots = Math.max(1, this.#runConfig.partitionsConsumedConcurrently ?? 1);
    this.#running = true;
    this.#stopSignal = new Wakeup({ latched: true });
    try {
      this.#membership = await this.#groupMembership();
      await this.#assign();
      if (this.#membership) await this.#membership.start((error) => void this.#crash(error));
    } catch (error) {
      this.#running = false;
      await this.#membership?.stop().catch(() => {});
      this.#membership = null;
      throw error;
    }
    this.#lastCommitMs = Date.now();
    this.#spawnLoops();
  }

  /** A membership when the brokers serve groups (a stand-in without them: null, the consumer reads every partition). */
  async #groupMembership(): Promise<GroupMembership | null> {
    const brokerId = this.#cluster.brokerIds()[0];
    if (brokerId === undefined) return null;
    const api = await this.#cluster.broker(brokerId);
    if (typeof (api as { findCoordinator?: unknown }).findCoordinator !== 'function') {
      this.#logger.warn('the brokers do not serve consumer groups: this consumer reads every partition of its subscription and commits nothing');
      return null;
    }
    const cluster = { findTopicPartitionMetadata: (topic: string) => this.#cluster.partitions(topic).map((p) => ({ partitionId: p.partitionId, leader: p.leader })) };
    const assigners = (this.#config.partitionAssigners ?? [roundRobin]).map((factory) => factory({ cluster, groupId: this.#config.groupId, logger: this.#logger }));
    return new GroupMembership({
      groupId: this.#config.groupId, clientId: this.#clientId, groupInstanceId: this.#config.groupInstanceId ?? null,
      sessionTimeoutMs: this.#config.sessionTimeout ?? 30_000, rebalanceTimeoutMs: this.#config.rebalanceTimeout ?? 60_000,
      heartbeatIntervalMs: this.#config.heartbeatInterval ?? 3_000, assigners, retry: this.#retry,
    }, { cluster: this.#cluster, host: this.#membershipHost(), instrumentation: this.#instrumentation, logger: this.#logger });
  }

  /** Stops fetching; resolves once running handlers returned. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#stopSignal.ring();
    this.#signalChange();
    await Promise.all([...this.#loops.values()]);
    this.#loops.clear();
    const membership = this.#membership;
    if (membership) {
      // A clean stop: what was handled is committed, then the member leaves (its partitions move at once).
      if (this.#runConfig?.autoCommit) await this.#commit(null).catch((error) => this.#logger.warn('commit on stop failed', { error: String(error) }));
      await membership.stop();
      await this.#dropPartitions([...this.#partitions.values()], 'revoked');
      this.#membership = null;
    }
    this.#instrumentation.emit(CONSUMER_EVENTS.STOP, null);
  }

  async disconnect(): Promise<void> {
    await this.stop();
    if (!this.#connected) return;
    this.#connected = false;
    this.#instrumentation.emit(CONSUMER_EVENTS.DISCONNECT, null);
  }

  /**
   * Sets the next offset to read of a partition: a decimal string, bigint or
   * safe integer in [0, 2^63-1], or '-2' (earliest) / '-1' (latest). Anything
   * else ('', '0x2', ' 3 ', 2^64) is refused with a typed error.
   */
  seek(target: TopicPartitionOffset): void {
    const { topic, partition, offset } = objectArgument<TopicPartitionOffset>(target, 'seek({ topic, partition, offset })');
    topicArgument(topic, 'seek topic');
    partitionArgument(partition, 'seek partition');
    const value = offsetArgument(offset, 'seek offset', [LATEST_OFFSET, EARLIEST_OFFSET]);
    const state = this.#partitions.get(tpKey(topic, partition));
    if (!state) {
      this.#pendingSeeks.set(tpKey(topic, partition), { topic, partition, offset: value });
      return;
    }
    state.generation++;
    if (value < 0n) {
      state.position = undefined;
      state.fromBeginning = value === -2n;
    } else {
      state.position = value;
      // As KafkaJS: a seek is committed unless autoCommit is off.
      if (this.#membership && this.#runConfig?.autoCommit !== false) {
        void this.#commit([{ topic, partition, offset: value }]).catch((error) => this.#logger.warn('commit after seek failed', { error: String(error) }));
      }
    }
    this.#signalChange();
  }

  pause(topicPartitions: TopicPartitions[]): void {
    for (const { topic, partitions } of topicPartitionsArgument(topicPartitions, 'pause')) {
      if (partitions === undefined) this.#pausedTopics.add(topic);
      else for (const p of partitions) this.#paused.add(tpKey(topic, p));
    }
  }

  resume(topicPartitions: TopicPartitions[]): void {
    for (const { topic, partitions } of topicPartitionsArgument(topicPartitions, 'resume')) {
      if (partitions === undefined) {
        this.#pausedTopics.delete(topic);
        for (const key of [...this.#paused]) if (key.startsWith(`${topic}\u0000`)) this.#paused.delete(key);
      } else {
        for (const p of partitions) this.#paused.delete(tpKey(topic, p));
      }
    }
    this.#signalChange();
  }

  paused(): { topic: string; partitions: number[] }[] {
    const out = new Map<string, Set<number>>();
    for (const topic of this.#pausedTopics) out.set(topic, new Set(this.#partitionsOf(topic)));
    for (const key of this.#paused) {
      const [topic, p] = key.split('\u0000');
      if (!out.has(topic)) out.set(topic, new Set());
      out.get(topic)!.add(Number(p));
    }
    return [...out].map(([topic, set]) => ({ topic, partitions: [...set].sort((a, b) => a - b) }));
  }

  /** The consumer's in-memory positions (next offset to read), as decimal strings. */
  positions(): { topic: string; partition: number; offset: string | null }[] {
    return [...this.#partitions.values()].map((s) => ({ topic: s.topic, partition: s.partition, offset: s.position === undefined ? null : String(s.position) }));
  }

  /**
   * Commits offsets for the group (each the next offset to consume, as
   * KafkaJS's); without an argument, what the handlers resolved. Resolves once
   * the coordinator's offsets partition stores them on its ISR.
   */
  /**
   * The member's group, generation and member id now (Kafka's
   * ConsumerGroupMetadata, KIP-447): pass it to a transaction's sendOffsets,
   * so the group coordinator refuses the offsets of a member that lost its
   * partitions to a rebalance (a zombie copier).
   */
  groupMetadata(): ConsumerGroupMetadata {
    const generation = this.#membership?.generation;
    return {
      groupId: this.#config.groupId, generationId: generation?.generationId ?? -1, memberId: generation?.memberId ?? '',
      groupInstanceId: this.#config.groupInstanceId ?? null,
    };
  }

  async commitOffsets(offsets?: TopicPartitionOffset[]): Promise<void> {
    if (offsets === undefined) return this.#commit(null);
    const list = arrayArgument<TopicPartitionOffset>(offsets, 'commitOffsets offsets', 100_000).map((o, i) => {
      const { topic, partition, offset } = objectArgument<TopicPartitionOffset>(o, `commitOffsets[${i}]`);
      return { topic: topicArgument(topic, `commitOffsets[${i}].topic`), partition: partitionArgument(partition, `commitOffsets[${i}].partition`), offset: offsetArgument(offset, `commitOffsets[${i}].offset`, []) };
    });
    return this.#commit(list);
  }

  /** What the handlers resolved and the group has not stored yet. */
  uncommittedOffsets(): { topics: { topic: string; partitions: { partition: number; offset: string }[] }[] } {
    const byTopic = new Map<string, { partition: number; offset: string }[]>();
    for (const [key, offset] of this.#uncommitted()) {
      const state = this.#partitions.get(key)!;
      if (!byTopic.has(state.topic)) byTopic.set(state.topic, []);
      byTopic.get(state.topic)!.push({ partition: state.partition, offset: String(offset) });
    }
    return { topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) };
  }

  /** KafkaJS's describeGroup: the group as its coordinator describes it. */
  async describeGroup(): Promise<{ groupId: string; state: string; protocol: string; protocolType: string; errorCode: number; members: { memberId: string; clientId: string; clientHost: string; memberMetadata: Uint8Array; memberAssignment: Uint8Array }[] }> {
    const groupId = this.#config.groupId;
    const nodeId = (await findCoordinators(this.#cluster, [groupId])).get(groupId)!;
    const { groups } = await groupCall(this.#cluster, nodeId, 'DescribeGroups', (api) => api.describeGroups({ groups: [groupId] }));
    const g = groups[0];
    if (g.error) throw WafkaError.fromJSON(g.error);
    return {
      groupId, state: g.groupState, protocol: g.protocolData, protocolType: g.protocolType, errorCode: 0,
      members: g.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId, clientHost: m.clientHost, memberMetadata: m.memberMetadata, memberAssignment: m.memberAssignment })),
    };
  }

  // ---------- group: offsets and assignment

  #commitTarget(state: PartitionState): bigint | undefined {
    return state.batchResolved ?? state.position;
  }

  #uncommitted(): Map<string, bigint> {
    const out = new Map<string, bigint>();
    for (const [key, state] of this.#partitions) {
      const target = this.#commitTarget(state);
      if (target !== undefined && target !== this.#committed.get(key)) out.set(key, target);
    }
    return out;
  }

  /**
   * Commits `offsets` (null: everything uncommitted), one commit at a time, in order. An automatic commit
   * (`auto`) is not sent while the member waits for its SyncGroup answer: the coordinator would refuse it
   * (REBALANCE_IN_PROGRESS), and each refused commit holds up the fetch loops that wait for it; what it would
   * have committed stays for the next commit (the one before a revocation included).
   */
  #commit(offsets: { topic: string; partition: number; offset: bigint }[] | null, auto = false): Promise<void> {
    const run = async () => {
      const membership = this.#membership;
      if (!membership || membership.generationId < 0) {
        if (offsets !== null && !membership) throw new WafkaError('UNSUPPORTED_VERSION', 'the brokers do not serve consumer groups: nothing to commit to', { retriable: false });
        return;
      }
      if (auto && membership.syncing) return;
      const list = offsets ?? [...this.#uncommitted()].map(([key, offset]) => {
        const s = this.#partitions.get(key)!;
        return { topic: s.topic, partition: s.partition, offset };
      });
      if (list.length === 0) { this.#lastCommitMs = Date.now(); return; }
      const byTopic = new Map<string, { partition: number; committedOffset: bigint }[]>();
      for (const o of list) {
        if (!byTopic.has(o.topic)) byTopic.set(o.topic, []);
        byTopic.get(o.topic)!.push({ partition: o.partition, committedOffset: o.offset });
      }
      const { memberId, generationId, groupInstanceId } = membership.generation;
      const groupId = this.#config.groupId;
      const rebalancingAtSend = membership.rebalancing;
      const response = await membership.call('OffsetCommit', (nodeId) => groupCall(this.#cluster, nodeId, 'OffsetCommit', (api) => api.offsetCommit({
        groupId, generationId, memberId, groupInstanceId,
        topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
      })));
      let failure: WafkaError | undefined;
      const committed: { topic: string; partitions: { partition: number; offset: string }[] }[] = [];
      for (const t of response.topics) {
        const partitions: { partition: number; offset: string }[] = [];
        for (const p of t.partitions) {
          const error = fromErrorJSON(p.error);
          if (error) { failure ??= error; continue; }
          const offset = byTopic.get(t.topic)!.find((x) => x.partition === p.partition)!.committedOffset;
          this.#committed.set(tpKey(t.topic, p.partition), offset);
          partitions.push({ partition: p.partition, offset: String(offset) });
        }
        if (partitions.length) committed.push({ topic: t.topic, partitions });
      }
      this.#lastCommitMs = Date.now();
      if (offsets === null) this.#resolvedSinceCommit = 0;
      if (committed.length) this.#instrumentation.emit(CONSUMER_EVENTS.COMMIT_OFFSETS, { groupId, memberId, groupGenerationId: generationId, topics: committed });
      if (failure) {
        // REBALANCE_IN_PROGRESS answers a commit sent between this member's JoinGroup and SyncGroup (the group completes
        // the rebalance this member is in): the rebalance under way covers it, another join would start one more round.
        const rebalanceUnderWay = failure.type === 'REBALANCE_IN_PROGRESS' && (rebalancingAtSend || membership.rebalancing);
        if ((failure.type === 'REBALANCE_IN_PROGRESS' && !rebalanceUnderWay) || failure.type === 'ILLEGAL_GENERATION' || failure.type === 'UNKNOWN_MEMBER_ID') membership.requestRejoin();
        if (failure.type === 'NOT_COORDINATOR' || failure.type === 'COORDINATOR_NOT_AVAILABLE') membership.markCoordinatorUnknown();
        throw failure;
      }
    };
    const result = this.#commitChain.then(run, run);
    this.#commitChain = result.catch(() => {});
    return result;
  }

  /**
   * KafkaJS's commitOffsetsIfNecessary: commits what is resolved once autoCommitInterval has passed since the
   * last commit or autoCommitThreshold offsets were resolved since; with neither set, nothing. The consumer
   * asks after each message (autoCommit) and eachBatch asks when it wants; the end of each batch commits
   * anyway (#autoCommit).
   */
  async #commitOffsetsIfNecessary(): Promise<void> {
    const run = this.#runConfig;
    if (!this.#membership || !run) return;
    const interval = run.autoCommitInterval ?? null;
    const threshold = run.autoCommitThreshold ?? null;
    const due = (interval !== null && Date.now() - this.#lastCommitMs >= interval)
      || (threshold !== null && this.#resolvedSinceCommit >= threshold);
    if (!due) return;
    await this.#commit(null, true).catch((error) => this.#logger.warn('auto commit failed (kept for the next commit)', { error: String(error) }));
  }

  /** KafkaJS's autoCommitOffsets: with autoCommit, everything resolved (after each batch, and before a failed handler is retried). */
  async #autoCommit(): Promise<void> {
    if (!this.#membership || !this.#runConfig?.autoCommit) return;
    await this.#commit(null, true).catch((error) => this.#logger.warn('auto commit failed (kept for the next commit)', { error: String(error) }));
  }

  #ownedLists(states: Iterable<PartitionState> = this.#partitions.values()): TopicPartitionsList[] {
    const byTopic = new Map<string, number[]>();
    for (const s of states) {
      if (!byTopic.has(s.topic)) byTopic.set(s.topic, []);
      byTopic.get(s.topic)!.push(s.partition);
    }
    return [...byTopic].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }));
  }

  async #listener(kind: keyof RebalanceListener, lists: TopicPartitionsList[]): Promise<void> {
    const listener = this.#config.rebalanceListener?.[kind];
    if (!listener || lists.length === 0) return;
    try {
      await listener.call(this.#config.rebalanceListener, lists);
    } catch (error) {
      this.#logger.error(`rebalance listener ${kind} threw`, { error: String(error) });
    }
  }

  /**
   * Gives partitions up: no new delivery starts, the one under way finishes,
   * then (revoked, with autoCommit) their offsets are committed and the
   * listener hears of it; lost ones are dropped at once and nothing is committed.
   */
  async #dropPartitions(states: PartitionState[], how: 'revoked' | 'lost'): Promise<void> {
    if (states.length === 0) return;
    // Revoked: the delivery under way ends normally (its position counts); lost: it is stale at once.
    for (const s of states) { s.revoking = true; if (how === 'lost') s.generation++; }
    if (how === 'revoked') {
      await Promise.all(states.map((s) => s.inFlight?.catch(() => {})));
      if (this.#runConfig?.autoCommit && this.#membership) {
        const offsets = states.flatMap((s) => {
          const target = this.#commitTarget(s);
          return target !== undefined && target !== this.#committed.get(tpKey(s.topic, s.partition)) ? [{ topic: s.topic, partition: s.partition, offset: target }] : [];
        });
        if (offsets.length) await this.#commit(offsets).catch((error) => this.#logger.warn('commit of revoked partitions failed', { error: String(error) }));
      }
    }
    for (const s of states) {
      const key = tpKey(s.topic, s.partition);
      if (this.#partitions.get(key) === s) this.#partitions.delete(key);
      this.#committed.delete(key);
    }
    await this.#listener(how === 'revoked' ? 'onPartitionsRevoked' : 'onPartitionsLost', this.#ownedLists(states));
  }

  #membershipHost(): MembershipHost {
    return {
      subscribedTopics: () => this.#subscribedTopics,
      ownedPartitions: () => this.#ownedLists([...this.#partitions.values()].filter((s) => !s.revoking)),
      revokeAll: () => this.#dropPartitions([...this.#partitions.values()], 'revoked'),
      lost: () => { void this.#dropPartitions([...this.#partitions.values()], 'lost'); },
      assigned: (lists, protocol) => this.#assigned(lists, protocol),
    };
  }

  /** The group's assignment: partitions no longer in it are revoked (cooperative), new ones start at the committed offset. */
  async #assigned(lists: TopicPartitionList[], _protocol: RebalanceProtocol): Promise<void> {
    const wanted = new Map<string, { topic: string; partition: number }>();
    for (const l of lists) for (const p of l.partitions) wanted.set(tpKey(l.topic, p), { topic: l.topic, partition: p });
    await this.#dropPartitions([...this.#partitions].filter(([key]) => !wanted.has(key)).map(([, s]) => s), 'revoked');
    const added: PartitionState[] = [];
    const unknownTopics = [...new Set([...wanted.values()].map((w) => w.topic))].filter((t) => this.#cluster.partitions(t).length === 0);
    if (unknownTopics.length) await this.#cluster.refresh([...new Set([...this.#cluster.knownTopics(), ...unknownTopics])], false);
    for (const [key, { topic, partition }] of wanted) {
      if (this.#partitions.has(key)) continue;
      const fromBeginning = this.#subscriptionFromBeginning(topic);
      const state: PartitionState = {
        topic, partition, position: undefined, fromBeginning, generation: 0, highWatermark: -1n, logStartOffset: -1n,
        epochs: new FetchedEpochs(), revoking: false, inFlight: null, batchResolved: undefined,
      };
      this.#partitions.set(key, state);
      added.push(state);
    }
    if (added.length) {
      await this.#fetchCommitted(added);
      for (const state of added) {
        const seek = this.#pendingSeeks.get(tpKey(state.topic, state.partition));
        if (!seek) continue;
        if (seek.offset >= 0n) state.position = seek.offset;
        else { state.position = undefined; state.fromBeginning = seek.offset === -2n; }
        this.#pendingSeeks.delete(tpKey(state.topic, state.partition));
      }
      await this.#resolvePositions().catch((error) => this.#logger.warn('cannot resolve positions', { error: String(error) }));
    }
    if (this.#running) this.#spawnLoops();
    this.#signalChange();
    await this.#listener('onPartitionsAssigned', this.#ownedLists(added));
  }

  /** Positions of newly assigned partitions from the group's committed offsets (none: fromBeginning decides). */
  async #fetchCommitted(states: PartitionState[]): Promise<void> {
    const membership = this.#membership!;
    const groupId = this.#config.groupId;
    const byTopic = new Map<string, number[]>();
    for (const s of states) {
      if (!byTopic.has(s.topic)) byTopic.set(s.topic, []);
      byTopic.get(s.topic)!.push(s.partition);
    }
    // read_committed asks for stable offsets (as Kafka's consumer does): offsets a transaction holds undecided are
    // waited for (UNSTABLE_OFFSET_COMMIT), so a copier never resumes behind what a committing transaction consumed.
    const requireStable = this.#isolationLevel === 'read_committed';
    const topics = [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
    let response!: OffsetFetchResponse;
    for (let attempt = 0; ; attempt++) {
      response = await membership.call('OffsetFetch', (nodeId) => groupCall(this.#cluster, nodeId, 'OffsetFetch', (api) => api.offsetFetch({ groupId, topics, requireStable })));
      if (response.error) throw WafkaError.fromJSON(response.error);
      const unstable = response.topics.some((t) => t.partitions.some((p) => p.error?.type === 'UNSTABLE_OFFSET_COMMIT'));
      if (!unstable) break;
      if (attempt >= UNSTABLE_OFFSET_RETRIES_MAX) throw new WafkaError('UNSTABLE_OFFSET_COMMIT', `group '${groupId}': a transaction's offsets stayed undecided through ${attempt + 1} fetches`);
      await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** Math.min(attempt, 4), 500)));
    }
    for (const t of response.topics) {
      for (const p of t.partitions) {
        const state = this.#partitions.get(tpKey(t.topic, p.partition));
        if (!state || p.error || p.committedOffset < 0n) continue;
        state.position = p.committedOffset;
        this.#committed.set(tpKey(t.topic, p.partition), p.committedOffset);
      }
    }
  }

  #subscriptionFromBeginning(topic: string): boolean {
    let fromBeginning = false;
    for (const s of this.#subscriptions) {
      if (typeof s.topic === 'string' ? s.topic === topic : (s.topic.lastIndex = 0, s.topic.test(topic))) fromBeginning ||= s.fromBeginning;
    }
    return fromBeginning;
  }

  #isPaused(topic: string, partition: number): boolean {
    return this.#pausedTopics.has(topic) || this.#paused.has(tpKey(topic, partition));
  }

  #partitionsOf(topic: string): number[] {
    return [...this.#partitions.values()].filter((s) => s.topic === topic).map((s) => s.partition);
  }

  #signalChange(): void {
    this.#changed.ring();
  }

  // ---------- assignment: every partition of every subscribed topic

  async #assign(): Promise<void> {
    const hasPattern = this.#subscriptions.some((s) => s.topic instanceof RegExp);
    const names = this.#subscriptions.filter((s) => typeof s.topic === 'string').map((s) => s.topic as string);
    // Named topics are asked for by name, so brokers that allow it create them (KafkaJS's allowAutoTopicCreation).
    if (hasPattern && names.length > 0) await this.#cluster.refresh(names);
    // A leader watches the partition counts of every topic it assigned, its own or other members'.
    const watched = this.#membership?.assignedTopics() ?? [];
    const response = await this.#cluster.refresh(hasPattern ? null : [...new Set([...names, ...watched])]);
    const matched = new Map<string, boolean>();
    for (const t of response.topics) {
      if (t.error) continue;
      for (const s of this.#subscriptions) {
        // As Kafka's consumers (exclude.internal.topics): a pattern does not match the internal offsets topic.
        if (typeof s.topic === 'string' ? s.topic === t.name : (t.name !== OFFSETS_TOPIC && (s.topic.lastIndex = 0, s.topic.test(t.name)))) {
          matched.set(t.name, (matched.get(t.name) ?? false) || s.fromBeginning);
        }
      }
    }
    for (const name of names) {
      if (!matched.has(name)) {
        const t = response.topics.find((x) => x.name === name);
        throw t?.error ? WafkaError.fromJSON(t.error) : new WafkaError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${name}" does not exist`);
      }
    }
    if (this.#membership) {
      // A group member consumes what the group assigns it: a change of topics is told to the group.
      const topics = [...matched.keys()].sort();
      const changed = topics.join('\u0000') !== this.#subscribedTopics.join('\u0000');
      this.#subscribedTopics = topics;
      if (changed && this.#membership.generationId >= 0) this.#membership.requestRejoin();
      else this.#membership.metadataRefreshed();
      return;
    }
    for (const [topic, fromBeginning] of matched) {
      for (const p of this.#cluster.partitions(topic)) {
        const key = tpKey(topic, p.partitionId);
        if (this.#partitions.has(key)) continue;
        const state: PartitionState = {
          topic, partition: p.partitionId, position: undefined, fromBeginning, generation: 0, highWatermark: -1n, logStartOffset: -1n,
          epochs: new FetchedEpochs(), revoking: false, inFlight: null, batchResolved: undefined,
        };
        const seek = this.#pendingSeeks.get(key);
        if (seek) {
          if (seek.offset >= 0n) state.position = seek.offset;
          else state.fromBeginning = seek.offset === -2n;
          this.#pendingSeeks.delete(key);
        }
        this.#partitions.set(key, state);
      }
    }
    await this.#resolvePositions();
  }

  /** Resolves unknown positions to earliest or latest, with one ListOffsets request per leader. */
  async #resolvePositions(): Promise<void> {
    const unresolved = [...this.#partitions.values()].filter((s) => s.position === undefined);
    if (unresolved.length === 0) return;
    const byLeader = new Map<number, PartitionState[]>();
    for (const s of unresolved) {
      const leader = this.#cluster.leaderOf(s.topic, s.partition);
      if (leader < 0) { this.#cluster.markStale(); continue; }
      if (!byLeader.has(leader)) byLeader.set(leader, []);
      byLeader.get(leader)!.push(s);
    }
    await Promise.all([...byLeader].map(async ([nodeId, states]) => {
      const topics = new Map<string, { partition: number; timestamp: bigint }[]>();
      const generations = new Map<PartitionState, number>();
      for (const s of states) {
        if (!topics.has(s.topic)) topics.set(s.topic, []);
        topics.get(s.topic)!.push({ partition: s.partition, timestamp: s.fromBeginning ? EARLIEST_TIMESTAMP : LATEST_TIMESTAMP });
        generations.set(s, s.generation);
      }
      const response = await this.#cluster.request(nodeId, 'ListOffsets', 0, (api) => api.listOffsets({
        isolationLevel: this.#isolationLevel,
        topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })),
      }));
      for (const t of response.topics) {
        for (const p of t.partitions) {
          const s = this.#partitions.get(tpKey(t.topic, p.partition));
          if (!s || s.position !== undefined || generations.get(s) !== s.generation) continue;
          const error = fromErrorJSON(p.error);
          if (error) { this.#logger.warn(`cannot resolve the position of ${t.topic}-${p.partition}`, { error: error.message }); this.#cluster.markStale(); continue; }
          s.position = p.offset;
        }
      }
    }));
  }

  // ---------- fetch loops

  #spawnLoops(): void {
    for (const nodeId of this.#cluster.brokerIds()) {
      if (this.#loops.has(nodeId)) continue;
      const loop = this.#fetchLoop(nodeId).catch((error) => this.#crash(error)).finally(() => this.#loops.delete(nodeId));
      this.#loops.set(nodeId, loop);
    }
  }

  async #crash(error: unknown): Promise<void> {
    if (!this.#running) return;
    const e = toWafkaError(error);
    this.#logger.error('consumer crashed', { error: e.message, retriable: e.retriable });
    this.#instrumentation.emit(CONSUMER_EVENTS.CRASH, { error: e, groupId: this.#config.groupId, restart: false });
    void this.stop();
  }

  async #refresh(): Promise<void> {
    this.#refreshing ??= (async () => {
      try {
        await this.#assign();
        this.#spawnLoops();
      } catch (error) {
        this.#logger.warn('metadata refresh failed', { error: String(error) });
        await this.#stopSignal.sleep(this.#retry.initialRetryTime);
      }
    })().finally(() => { this.#refreshing = undefined; });
    await this.#refreshing;
  }

  async #fetchLoop(nodeId: number): Promise<void> {
    let failures = 0;
    while (this.#running) {
      if (this.#cluster.isStale()) await this.#refresh();
      if ([...this.#partitions.values()].some((s) => s.position === undefined)) await this.#resolvePositions().catch((error) => this.#logger.warn('cannot resolve positions', { error: String(error) }));
      const mine = [...this.#partitions.values()].filter((s) =>
        s.position !== undefined && !s.revoking && !this.#isPaused(s.topic, s.partition) && this.#cluster.leaderOf(s.topic, s.partition) === nodeId);
      if (mine.length === 0) {
        await this.#changed.sleep(200);
        continue;
      }
      try {
        await this.#fetchOnce(nodeId, mine);
        failures = 0;
      } catch (error) {
        const e = toWafkaError(error);
        if (!this.#running) return;
        if (!e.retriable || failures >= this.#retry.retries) throw e;
        this.#logger.warn(`fetch from broker ${nodeId} failed, retrying`, { error: e.message });
        this.#cluster.markStale();
        await this.#stopSignal.sleep(backoffMs(this.#retry, failures++));
      }
    }
  }

  async #fetchOnce(nodeId: number, states: PartitionState[]): Promise<void> {
    const requested = new Map<string, { state: PartitionState; offset: bigint; generation: number }>();
    const topics = new Map<string, FetchRequest['topics'][number]>();
    for (const s of states) {
      requested.set(tpKey(s.topic, s.partition), { state: s, offset: s.position!, generation: s.generation });
      let t = topics.get(s.topic);
      if (!t) topics.set(s.topic, (t = { topic: s.topic, partitions: [] }));
      t.partitions.push({ partition: s.partition, fetchOffset: s.position!, partitionMaxBytes: this.#config.maxBytesPerPartition, lastFetchedEpoch: s.epochs.epochBefore(s.position!) });
    }
    const request: FetchRequest = {
      maxWaitMs: this.#config.maxWaitTimeInMs,
      minBytes: this.#config.minBytes,
      maxBytes: this.#config.maxBytes,
      isolationLevel: this.#isolationLevel,
      replicaId: -1,
      topics: [...topics.values()],
    };
    this.#instrumentation.emit(CONSUMER_EVENTS.FETCH_START, { nodeId });
    const startedMs = Date.now();
    const fetch = this.#cluster.request(nodeId, 'Fetch', 0, (api) => api.fetch(request));
    // A change (resume, seek, new partitions) does not cancel a long poll; stop does.
    const response = await this.#stopSignal.race(fetch);
    if (!response) return;

    const fetched: {
      state: PartitionState; offset: bigint; generation: number; records: Uint8Array; highWatermark: bigint;
      abortedTransactions: FetchPartitionResponse['abortedTransactions'];
    }[] = [];
    for (const t of response.topics) {
      for (const p of t.partitions) {
        const asked = requested.get(tpKey(t.topic, p.partition));
        if (!asked) continue;
        const { state } = asked;
        const error = fromErrorJSON(p.error);
        if (error) {
          this.#onPartitionError(state, asked.generation, error);
          continue;
        }
        if (p.divergingEpoch) {
          this.#onTruncation(state, asked.offset, asked.generation, p.divergingEpoch.endOffset);
          continue;
        }
        state.highWatermark = p.highWatermark;
        state.logStartOffset = p.logStartOffset;
        if (!p.records || p.records.byteLength === 0) continue;
        fetched.push({ state, offset: asked.offset, generation: asked.generation, records: p.records, highWatermark: p.highWatermark, abortedTransactions: p.abortedTransactions });
      }
    }
    this.#instrumentation.emit(CONSUMER_EVENTS.FETCH, { numberOfBatches: fetched.length, duration: Date.now() - startedMs, nodeId });
    const work: Promise<void>[] = [];
    for (const f of fetched) {
      // Partitions are decoded one after another, in turns of bounded work (their handlers run meanwhile).
      const turn = this.#turn.spend(f.records.byteLength);
      if (turn) await turn;
      // read_committed: the aborted transactions' batches are dropped as the Java consumer does (./aborted-transactions.ts).
      const filter = this.#isolationLevel === 'read_committed' ? new AbortedTransactionFilter(f.abortedTransactions) : null;
      work.push(this.#handlePartition(f.state, f.offset, f.generation, f.records, f.highWatermark, filter));
    }
    await Promise.all(work);
  }

  /**
   * The leader's log ends before this consumer's position in the epoch of its
   * last fetched record: records it consumed are gone (an unclean election).
   * Resume where the logs agree, and say which offsets changed.
   */
  #onTruncation(state: PartitionState, fetchOffset: bigint, generation: number, endOffset: bigint): void {
    if (generation !== state.generation || state.position !== fetchOffset) return;
    const resumeAt = endOffset < fetchOffset ? endOffset : fetchOffset;
    this.#logger.warn(`log truncation detected on ${state.topic}-${state.partition}: records from offset ${resumeAt} up to ${fetchOffset} were consumed from a log the leader no longer has; resuming at ${resumeAt}`, {
      topic: state.topic, partition: state.partition, fetchOffset: String(fetchOffset), resumeAt: String(resumeAt),
    });
    state.epochs.truncateTo(resumeAt);
    state.position = resumeAt;
  }

  #onPartitionError(state: PartitionState, generation: number, error: WafkaError): void {
    if (generation !== state.generation) return;
    if (error.type === 'OFFSET_OUT_OF_RANGE') {
      this.#logger.warn(`offset ${String(state.position)} of ${state.topic}-${state.partition} is out of range, resetting to ${state.fromBeginning ? 'earliest' : 'latest'}`);
      state.position = undefined;
      return;
    }
    if (error.retriable) {
      this.#cluster.markStale();
      this.#logger.debug(`fetch of ${state.topic}-${state.partition}: ${error.message}`);
      return;
    }
    throw error;
  }

  async #acquireSlot(): Promise<void> {
    if (this.#slots > 0) { this.#slots--; return; }
    await new Promise<void>((resolve) => this.#slotWaiters.push(resolve));
  }

  #releaseSlot(): void {
    const next = this.#slotWaiters.shift();
    if (next) next();
    else this.#slots++;
  }

  /**
   * Decodes and delivers one partition's fetched records a chunk at a time:
   * whole batches until their records reach maxBytesPerPartition (one batch at
   * least), so that what compressed batches decompress to is held a chunk at
   * a time, not for the whole fetch (a 1 MiB fetch of well-compressed batches
   * holds tens of MiB of records).
   */
  async #handlePartition(
    state: PartitionState, fetchOffset: bigint, generation: number, records: Uint8Array, highWatermark: bigint, filter: AbortedTransactionFilter | null,
  ): Promise<void> {
    const codec = this.#codec!;
    const chunkBytes = this.#config.maxBytesPerPartition;
    let position = 0;
    let from = fetchOffset;
    for (;;) {
      // Skip whole batches below the position, control batches, and (read_committed) aborted transactions' batches.
      const messages: KafkaMessage[] = [];
      let nextOffset = from;
      let messageBytes = 0;
      let failure: { baseOffset: bigint; error: WafkaError } | undefined;
      while (position < records.byteLength && messageBytes < chunkBytes) {
        const size = batchSizeAt(records, position);
        if (size < 0 || position + size > records.byteLength) { position = records.byteLength; break; } // a truncated trailing batch: fetched again next time
        const decoded = await codec.decodeBatches(position === 0 && size === records.byteLength ? records : records.subarray(position, position + size));
        for (const batch of decoded.batches) {
          state.epochs.record(batch.baseOffset, batch.lastOffset, batch.partitionLeaderEpoch);
          // The filter sees every batch in order (an ABORT marker below the position still clears its producer).
          const delivers = filter ? filter.delivers({ ...batch, isControlBatch: batch.isControl }) : !batch.isControl;
          if (batch.lastOffset < from) continue;
          const before = messages.length;
          if (delivers) appendMessages(batch, from, messages);
          for (let i = before; i < messages.length; i++) messageBytes += messages[i].size;
          if (batch.lastOffset + 1n > nextOffset) nextOffset = batch.lastOffset + 1n;
        }
        if (decoded.failure) { failure = decoded.failure; break; }
        position += size;
      }
      if (generation !== state.generation || state.position !== from) return; // seeked meanwhile
      if (messages.length === 0) {
        // Only control records or compacted gaps: move on (and commit that, when due: KafkaJS's #1256).
        if (nextOffset > from) {
          state.position = nextOffset;
          if (this.#runConfig?.autoCommit) await this.#commitOffsetsIfNecessary();
        }
      } else {
        await this.#acquireSlot();
        try {
          if (!this.#running || state.revoking || generation !== state.generation || state.position !== from || this.#isPaused(state.topic, state.partition)) return;
          const delivery = this.#deliver(state, generation, messages, nextOffset, highWatermark);
          state.inFlight = delivery;
          try {
            await delivery;
          } finally {
            if (state.inFlight === delivery) state.inFlight = null;
          }
        } finally {
          this.#releaseSlot();
        }
        await this.#autoCommit();
      }
      // A batch that cannot be decoded stops the partition once everything before it is delivered.
      if (failure && generation === state.generation && state.position === nextOffset && this.#running) {
        throw new UndecodableBatchError(state.topic, state.partition, failure.baseOffset < nextOffset ? nextOffset : failure.baseOffset, failure.error);
      }
      // The next chunk, if this one was delivered in full (not stopped, seeked, paused or failed).
      if (failure || position >= records.byteLength || !this.#running || generation !== state.generation || state.position !== nextOffset) return;
      from = nextOffset;
      const turn = this.#turn.spend(messageBytes);
      if (turn) await turn;
    }
  }

  async #deliver(state: PartitionState, generation: number, all: KafkaMessage[], nextOffset: bigint, highWatermark: bigint): Promise<void> {
    const messages = all;
    const { topic, partition } = state;
    const run = this.#runConfig!;
    const pause = () => { this.pause([{ topic, partitions: [partition] }]); return () => this.resume([{ topic, partitions: [partition] }]); };
    const heartbeat = async () => { await this.#membership?.heartbeat().catch((error) => this.#logger.debug('heartbeat failed', { error: String(error) })); };
    const stale = () => generation !== state.generation || !this.#running;
    const hwm = String(highWatermark);
    const startedMs = Date.now();
    const lastOffset = BigInt(messages[messages.length - 1].offset);
    const firstOffset = BigInt(messages[0].offset);
    const batchInfo = {
      topic, partition, highWatermark: hwm,
      offsetLag: String(highWatermark - 1n - lastOffset < 0n ? 0n : highWatermark - 1n - lastOffset),
      offsetLagLow: String(highWatermark - 1n - firstOffset < 0n ? 0n : highWatermark - 1n - firstOffset),
      batchSize: messages.length, firstOffset: messages[0].offset, lastOffset: String(lastOffset),
    };
    this.#instrumentation.emit(CONSUMER_EVENTS.START_BATCH_PROCESS, batchInfo);

    for (let attempt = 0; ; attempt++) {
      try {
        if (run.eachBatch) {
          // After a failed attempt, from the first offset it did not resolve on (as KafkaJS refetches from there).
          let messages = all;
          if (state.position! > firstOffset) {
            let i = 0;
            while (i < all.length && BigInt(all[i].offset) < state.position!) i++;
            if (i === all.length) { state.position = nextOffset; break; }
            messages = all.slice(i);
          }
          let resolved: bigint | undefined;
          state.batchResolved = undefined;
          const batch: Batch = {
            topic, partition, highWatermark: hwm, messages,
            isEmpty: () => messages.length === 0,
            firstOffset: () => messages[0]?.offset ?? null,
            lastOffset: () => String(lastOffset),
            offsetLag: () => batchInfo.offsetLag,
            offsetLagLow: () => batchInfo.offsetLagLow,
          };
          try {
            await run.eachBatch({
              batch,
              resolveOffset: (offset) => {
                const o = BigInt(offset);
                if (resolved !== undefined && o <= resolved) return;
                this.#resolvedSinceCommit += resolved === undefined ? 1 : Number(o - resolved);
                resolved = o;
                if (!stale()) state.batchResolved = o + 1n;
              },
              heartbeat, pause,
              commitOffsetsIfNecessary: async (offsets) => {
                if (!offsets) return this.#commitOffsetsIfNecessary();
                await this.#commit(offsets.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: BigInt(p.offset) }))));
              },
              uncommittedOffsets: () => this.uncommittedOffsets(),
              isRunning: () => this.#running,
              isStale: stale,
            });
            // Still counted when the consumer is stopping: the batch was handled, a stop's commit includes it.
            if (generation === state.generation) {
              if (run.eachBatchAutoResolve && resolved === undefined) this.#resolvedSinceCommit += messages.length;
              state.position = run.eachBatchAutoResolve ? nextOffset : resolved !== undefined ? resolved + 1n : state.position;
            }
            state.batchResolved = undefined;
          } catch (error) {
            if (!stale() && resolved !== undefined) state.position = resolved + 1n;
            state.batchResolved = undefined;
            throw error;
          }
        } else {
          // Deliver from the current position: after a failed attempt, from the failed message on.
          let i = 0;
          if (state.position! > firstOffset) while (i < messages.length && BigInt(messages[i].offset) < state.position!) i++;
          for (; i < messages.length; i++) {
            const turn = this.#turn.spend(messages[i].size);
            if (turn) await turn;
            if (stale() || state.revoking || this.#isPaused(topic, partition)) break;
            const message = messages[i];
            try {
              await run.eachMessage!({ topic, partition, message, heartbeat, pause });
            } catch (error) {
              if (!stale()) state.position = BigInt(message.offset);
              throw error;
            }
            this.#resolvedSinceCommit++;
            if (generation !== state.generation) break;
            if (i === messages.length - 1) state.position = nextOffset;
            else state.position = BigInt(message.offset) + 1n;
            if (run.autoCommit && i < messages.length - 1) await this.#commitOffsetsIfNecessary();
          }
        }
        break;
      } catch (error) {
        if (stale() || attempt >= this.#retry.retries) {
          this.#instrumentation.emit(CONSUMER_EVENTS.END_BATCH_PROCESS, { ...batchInfo, duration: Date.now() - startedMs });
          if (stale()) return;
          throw error;
        }
        this.#logger.error(`handler failed on ${topic}-${partition}, retrying`, { error: String(error), attempt });
        // As KafkaJS: what was handled before the failure is committed before the retry.
        await this.#autoCommit();
        await this.#stopSignal.sleep(backoffMs(this.#retry, attempt));
        if (!this.#running) return;
      }
    }
    this.#instrumentation.emit(CONSUMER_EVENTS.END_BATCH_PROCESS, { ...batchInfo, duration: Date.now() - startedMs });
  }
}

/** A record's framing in a batch, typically (length, attributes, deltas, lengths, header count). */
const RECORD_FRAMING_BYTES = 8;
const EMPTY_BYTES = new Uint8Array(0);

/**
 * KafkaJS message objects for the records of `batch` at or after `fromOffset`,
 * read straight from the batch's record table: one plain object per record
 * (same shape for all, so it can be spread, cloned and compared), key and
 * value views, offsets as strings without a BigInt per record while they fit
 * an int32, one timestamp string per distinct timestamp.
 */
export function appendMessages(batch: DecodedBatch, fromOffset: bigint, out: KafkaMessage[]): void {
  const t = batch.records;
  const n = t.count;
  let i = 0;
  if (fromOffset > t.baseOffset) {
    const skip = fromOffset - t.baseOffset;
    while (i < n && BigInt(t.offsetDelta(i)) < skip) i++;
  }
  const smallOffsets = t.baseOffset >= 0n && t.baseOffset + BigInt(n) < 0x7fffffffn;
  const base = Number(t.baseOffset);
  let last = -1;
  let timestamp = t.appendTime === null ? '' : String(t.appendTime);
  for (; i < n; i++) {
    const offsetDelta = t.offsetDelta(i);
    if (t.appendTime === null && (last < 0 || !t.sameTimestampDelta(i, last))) timestamp = String(t.timestamp(i));
    last = i;
    const headers: KafkaMessage['headers'] = {};
    if (t.headerCount(i) > 0) {
      for (const h of t.headersOf(i)) {
        const value = h.value ?? EMPTY_BYTES;
        const existing = Object.prototype.hasOwnProperty.call(headers, h.key) ? headers[h.key] : undefined;
        // A repeated key appends to its array in place: linear in the number of headers.
        if (Array.isArray(existing)) { existing.push(value); continue; }
        const next = existing === undefined ? value : [existing, value];
        // "__proto__" is a header name like any other (an assignment would set the object's prototype).
        if (h.key === '__proto__') Object.defineProperty(headers, h.key, { value: next, writable: true, enumerable: true, configurable: true });
        else headers[h.key] = next;
      }
    }
    const keyLength = t.keyLength(i);
    const valueLength = t.valueLength(i);
    out.push({
      key: keyLength < 0 ? null : t.key(i),
      value: valueLength < 0 ? null : t.value(i),
      timestamp,
      attributes: 0,
      offset: smallOffsets ? String(base + offsetDelta) : String(t.baseOffset + BigInt(offsetDelta)),
      headers,
      size: RECORD_FRAMING_BYTES + (keyLength < 0 ? 0 : keyLength) + (valueLength < 0 ? 0 : valueLength),
      isControlRecord: false,
    });
  }
}
