/**
 * The producer: KafkaJS's API over Kafka's Java-client machinery.
 *
 * `send` validates, partitions and appends each message to the record
 * accumulator (one queue of batches per partition, shared by every concurrent
 * send), then waits for the batches its messages landed in. The sender drains
 * ready batches (sealed, or open for `lingerMs`) grouped by leader broker into
 * one produce request per broker, at most `maxInFlightRequests` per broker.
 * A plain producer keeps one request per partition at a time (order is kept,
 * retries included); an idempotent one up to `maxInFlightRequests` (at most
 * 5, as Kafka's) per partition, one batch each, in sequence order, which the
 * leader enforces (see Idempotence for what happens when one of them fails).
 * Retriable errors are retried with exponential backoff and jitter, after a
 * metadata refresh when the error says leaders moved or a topic is unknown.
 */
import { WafkaError } from '../errors.ts';
import type { Acks, ProduceRequest, ProduceResponse, TopicMetadata } from '../protocol/types.ts';
import {
  RecordAccumulator, estimateRecordBytes, BATCH_OVERHEAD_BYTES, rangeError, recordOutcome,
  type PartitionQueue, type ProducerBatch,
} from './accumulator.ts';
import { ClusterClient, fromErrorJSON, invalidatesMetadata, toWafkaError, type BrokerConnector } from './connection.ts';
import { InstrumentationEmitter, PRODUCER_EVENTS, type Listener, type RemoveListener } from './instrumentation.ts';
import type { Logger } from './logger.ts';
import { Partitioners, type Partitioner, type PartitionerArgs } from './partitioners.ts';
import { backoffMs, resolveRetry, type RetryOptions } from './retry.ts';
import type { BatchCodec } from './codec.ts';
import {
  CompressionTypes, type CompressionType, type Message, type ProducerBatch as ProducerBatchInput,
  type ProducerConfig, type ProducerRecord, type RecordMetadata,
} from './types.ts';
import { StringRun } from '../core/staged-batch.ts';
import { TransactionManager, type TransactionOffsets } from './transaction-manager.ts';

export interface ProducerContext {
  connector: BrokerConnector;
  clientId: string;
  logger: Logger;
  retry?: RetryOptions;
  codec: () => Promise<BatchCodec>;
}

export const PRODUCER_DEFAULTS = {
  lingerMs: 0,
  batchSizeBytes: 16_384,
  bufferMemoryBytes: 32 * 1024 * 1024,
  maxRequestSizeBytes: 1024 * 1024,
  maxInFlightRequests: 5,
  acks: -1 as Acks,
  timeout: 30_000,
};

const VALID_ACKS = new Set([0, 1, -1]);
/** Messages a send needs for its string keys and values to be staged as one run (StringRun). */
const RUN_MIN_MESSAGES = 16;
const VALID_COMPRESSION = new Set<number>(Object.values(CompressionTypes));

export class Producer {
  readonly events = PRODUCER_EVENTS;
  readonly #config: Required<Pick<ProducerConfig, 'lingerMs' | 'batchSizeBytes' | 'bufferMemoryBytes' | 'maxRequestSizeBytes' | 'maxInFlightRequests' | 'acks' | 'allowAutoTopicCreation'>> & ProducerConfig;
  readonly #logger: Logger;
  readonly #instrumentation: InstrumentationEmitter;
  readonly #cluster: ClusterClient;
  readonly #retry: Required<RetryOptions>;
  readonly #partitioner: Partitioner;
  /** The partitioner wants to hear about new batches before they start (sticky). */
  readonly #sticky: boolean;
  readonly #accumulator: RecordAccumulator;
  readonly #codecLoader: () => Promise<BatchCodec>;
  #codec: BatchCodec | undefined;
  #connected = false;
  #closing = false;
  readonly #inFlight = new Map<number, number>();
  /** Partitions being added to the open transaction (muted until they are). */
  readonly #adding = new Set<PartitionQueue>();
  /** Per broker, the turn of the next produce request to go out (an idempotent producer's requests leave in the order made). */
  readonly #dispatchTurn = new Map<number, Promise<void>>();
  readonly #requests = new Set<Promise<void>>();
  /** Sends that have not appended all their records yet (flush waits for them). */
  readonly #appending = new Set<Promise<void>>();
  #drainQueued = false;
  #draining = false;
  #drainAgain = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAtMs = Infinity;
  #refreshing: Promise<unknown> | undefined;
  /** An idempotent producer's id and sequences; null for a plain one. */
  readonly #idempotence: Idempotence | null;
  /** A transactional producer's transactions; null for others. */
  readonly #transactions: TransactionManager | null = null;
  /** The transaction() handle of the open transaction. */
  #openTransaction: Transaction | null = null;

  constructor(config: ProducerConfig, context: ProducerContext) {
    const transactionalId = config.transactionalId;
    if (transactionalId !== undefined && transactionalId !== null && (typeof transactionalId !== 'string' || transactionalId === '' || new TextEncoder().encode(transactionalId).byteLength > 255)) {
      throw new TypeError(`wafka: transactionalId must be a non-empty string of at most 255 bytes, got ${JSON.stringify(transactionalId)}`);
    }
    const transactionTimeoutMs = config.transactionTimeout ?? 60_000;
    if (transactionalId && (!Number.isSafeInteger(transactionTimeoutMs) || transactionTimeoutMs <= 0)) {
      throw new TypeError(`wafka: transactionTimeout must be a positive number of ms, got ${config.transactionTimeout}`);
    }
    this.#config = { ...PRODUCER_DEFAULTS, allowAutoTopicCreation: true, ...stripUndefined(config) };
    const c = this.#config;
    if (!VALID_ACKS.has(c.acks)) throw new WafkaError('INVALID_REQUIRED_ACKS', `acks ${c.acks} is not one of 0, 1, -1`);
    // A transactional producer is idempotent, as Kafka's is (its batches carry the producer id, epoch and sequences).
    for (const key of ['lingerMs', 'batchSizeBytes', 'bufferMemoryBytes', 'maxRequestSizeBytes', 'maxInFlightRequests'] as const) {
      if (!Number.isFinite(c[key]) || c[key] < 0 || (key !== 'lingerMs' && c[key] === 0)) throw new TypeError(`wafka: producer ${key} must be a positive number, got ${c[key]}`);
    }
    const idempotent = !!(config.idempotent || transactionalId);
    if (idempotent && c.maxInFlightRequests > IDEMPOTENT_IN_FLIGHT_MAX) {
      throw new WafkaError('INVALID_CONFIG', `maxInFlightRequests ${c.maxInFlightRequests}: an idempotent producer keeps at most ${IDEMPOTENT_IN_FLIGHT_MAX} requests in flight, as Kafka's (the leader remembers a producer's last ${IDEMPOTENT_IN_FLIGHT_MAX} batches)`);
    }
    this.#idempotence = idempotent ? new Idempotence(!!transactionalId, Math.floor(c.maxInFlightRequests)) : null;
    if (this.#idempotence && c.acks !== -1) throw notAllAcks(c.acks);
    this.#logger = context.logger.namespace('Producer');
    this.#instrumentation = new InstrumentationEmitter(PRODUCER_EVENTS, (error, type) => this.#logger.error(`listener of ${type} threw`, { error: String(error) }));
    this.#cluster = new ClusterClient({
      connector: context.connector, clientId: context.clientId, logger: this.#logger,
      instrumentation: this.#instrumentation, requestEvent: PRODUCER_EVENTS.REQUEST,
      allowAutoTopicCreation: c.allowAutoTopicCreation, metadataMaxAgeMs: c.metadataMaxAge,
    });
    this.#retry = resolveRetry(context.retry, c.retry);
    if (transactionalId) {
      this.#transactions = new TransactionManager({ transactionalId, transactionTimeoutMs, cluster: this.#cluster, logger: this.#logger, retry: this.#retry });
    }
    this.#partitioner = (c.createPartitioner ?? Partitioners.DefaultPartitioner)();
    this.#sticky = typeof this.#partitioner.onNewBatch === 'function';
    this.#codecLoader = context.codec;
    this.#accumulator = new RecordAccumulator({
      batchSizeBytes: c.batchSizeBytes,
      lingerMs: c.lingerMs,
      bufferMemoryBytes: c.bufferMemoryBytes,
      requestHeadroomBytes: Math.min(Math.floor(c.bufferMemoryBytes / 2), c.maxInFlightRequests * c.maxRequestSizeBytes),
      onSeal: () => this.#wake(0),
    });
  }

  /** For tests and instrumentation: the accumulator's counters and buffered bytes. */
  get stats() {
    return { ...this.#accumulator.stats, bufferedBytes: this.#accumulator.bufferedBytes, incompleteBatches: this.#accumulator.incompleteCount };
  }

  on(eventName: string, listener: Listener): RemoveListener {
    return this.#instrumentation.on(eventName, listener);
  }

  logger(): Logger { return this.#logger; }

  isIdempotent(): boolean { return this.#idempotence !== null; }

  isTransactional(): boolean { return this.#transactions !== null; }

  /**
   * Opens a transaction (KafkaJS's shape): its sends and offsets become
   * visible to read_committed consumers together at commit(), or never
   * (abort()). One transaction at a time.
   */
  async transaction(): Promise<Transaction> {
    const transactions = this.#transactions;
    if (!transactions) throw new WafkaError('INVALID_TXN_STATE', 'transaction() needs a transactional producer (transactionalId)');
    if (!this.#connected) throw new WafkaError('NETWORK_EXCEPTION', 'the producer is not connected (call connect())', { retriable: false });
    transactions.begin();
    const transaction: Transaction = new Transaction(this, transactions, {
      sendBatch: (batch) => this.#transactionalSendBatch(transaction, batch),
      ended: (producerId, producerEpoch) => {
        // KIP-890: the next transaction runs at the epoch the coordinator answered; sequences start again at 0.
        this.#idempotence!.reset(producerId, producerEpoch);
        if (this.#openTransaction === transaction) this.#openTransaction = null;
      },
    });
    this.#openTransaction = transaction;
    return transaction;
  }

  async #transactionalSendBatch(transaction: Transaction, batch: ProducerBatchInput): Promise<RecordMetadata[]> {
    this.#transactions!.checkUsable();
    if (this.#openTransaction !== transaction || !transaction.isActive()) throw new WafkaError('INVALID_TXN_STATE', 'the transaction has ended');
    return this.#sendBatchAs(batch);
  }

  async connect(): Promise<void> {
    if (this.#connected) return;
    this.#codec = await this.#codecLoader();
    await this.#cluster.refresh([]);
    if (this.#transactions) {
      const { producerId, producerEpoch } = await this.#transactions.initProducerId();
      this.#idempotence!.reset(producerId, producerEpoch);
    } else if (this.#idempotence) await this.#initProducerId();
    this.#connected = true;
    this.#closing = false;
    this.#instrumentation.emit(PRODUCER_EVENTS.CONNECT, null);
  }

  /** Sends every buffered batch, and those of sends under way, and waits for all of them. */
  async flush(): Promise<void> {
    this.#accumulator.flushing++;
    try {
      this.#wake(0);
      while (this.#appending.size > 0) await Promise.all([...this.#appending]);
      this.#wake(0);
      await this.#accumulator.awaitIncomplete();
      await Promise.all([...this.#requests]);
    } finally {
      this.#accumulator.flushing--;
    }
  }

  /** Flushes, then closes. */
  async disconnect(): Promise<void> {
    if (!this.#connected) return;
    this.#closing = true;
    try {
      await this.flush();
    } finally {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#connected = false;
      this.#instrumentation.emit(PRODUCER_EVENTS.DISCONNECT, null);
    }
  }

  async send(record: ProducerRecord): Promise<RecordMetadata[]> {
    return this.sendBatch({ topicMessages: [{ topic: record.topic, messages: record.messages }], acks: record.acks, timeout: record.timeout, compression: record.compression });
  }

  async sendBatch(batch: ProducerBatchInput): Promise<RecordMetadata[]> {
    if (this.#transactions) {
      this.#transactions.checkUsable();
      throw new WafkaError('INVALID_TXN_STATE', 'a transactional producer sends inside a transaction: producer.transaction(), then send on it');
    }
    return this.#sendBatchAs(batch);
  }

  /**
   * Not async, and the wait for the acknowledgements holds only what staging
   * returned: an async function keeps its parameters and locals alive across
   * an await, and the caller's messages (and the send's joined strings) would
   * live until the acknowledgement, promoted to the old generation.
   */
  #sendBatchAs(batch: ProducerBatchInput): Promise<RecordMetadata[]> {
    let appended!: () => void;
    const appending = new Promise<void>((resolve) => { appended = resolve; });
    this.#appending.add(appending);
    const settled = () => { this.#appending.delete(appending); appended(); };
    const sent = this.#stage(batch, settled).then((staged) => this.#outcomes(staged));
    sent.then(settled, settled);
    return sent;
  }

  /** Stages a send's records in their batches; resolves once all are staged (or fails, leaving none of them). */
  async #stage(batch: ProducerBatchInput, appended: () => void): Promise<StagedSend> {
    if (!this.#connected || this.#closing) throw new WafkaError('NETWORK_EXCEPTION', 'the producer is not connected (call connect())', { retriable: false });
    const acks = batch.acks ?? this.#config.acks;
    const compression = batch.compression ?? this.#config.compression ?? CompressionTypes.None;
    if (!VALID_ACKS.has(acks)) throw new WafkaError('INVALID_REQUIRED_ACKS', `acks ${acks} is not one of 0, 1, -1`);
    if (this.#idempotence && acks !== -1) throw notAllAcks(acks);
    if (!VALID_COMPRESSION.has(compression)) throw new WafkaError('UNSUPPORTED_COMPRESSION_TYPE', `compression ${compression} is not one of ${[...VALID_COMPRESSION].join(', ')}`);
    const timeoutMs = batch.timeout ?? PRODUCER_DEFAULTS.timeout;
    if (!Array.isArray(batch.topicMessages)) throw new TypeError('wafka: sendBatch needs topicMessages: [{ topic, messages }]');
    // Every message is checked (a record over maxRequestSizeBytes included) before any is buffered:
    // a send that fails validation leaves nothing behind to be sent.
    const sizes: Float64Array[] = [];
    for (const { topic, messages } of batch.topicMessages) sizes.push(validateMessages(topic, messages, this.#config.maxRequestSizeBytes));

    // Per partition touched, in the order first touched: the first batch and index of this send's records.
    const firsts: StagedSend['firsts'] = [];
    const firstsByTopic = new Map<string, (typeof firsts[number] | undefined)[]>();
    // Every batch involved (consecutive records mostly land in the same one), with the
    // index ranges of this send's records in it, [from, to) pairs (a split batch's
    // records complete part by part: see recordOutcome).
    const batches = new Map<ProducerBatch, number[]>();
    let lastBatch: ProducerBatch | undefined;
    let lastRanges: number[] = [];
    for (let tm = 0; tm < batch.topicMessages.length; tm++) {
      const { topic, messages } = batch.topicMessages[tm];
      const sizesOf = sizes[tm];
      let metadata: TopicMetadata | undefined = this.#cluster.topic(topic);
      if (!metadata || this.#cluster.isStale()) metadata = await this.#topicMetadataWithRetry(topic);
      let firstOf = firstsByTopic.get(topic);
      if (!firstOf) firstsByTopic.set(topic, (firstOf = []));
      // One partitioner argument per topic, its message replaced per record (no object per record).
      const args: PartitionerArgs = { topic, partitionMetadata: metadata.partitions, message: messages[0] };
      const queues: PartitionQueue[] = [];
      const count = messages.length;
      const run = count >= RUN_MIN_MESSAGES ? stringRun(messages) : undefined;
      let nowMs = 0;
      for (let m = 0; m < count; m++) {
        const message = messages[m];
        const bytes = sizesOf[m];
        if (!this.#accumulator.tryReserve(bytes)) {
          this.#wake(0); // while someone waits, every open batch is ready
          const reserved = this.#accumulator.reserve(bytes);
          this.#wake(0);
          await reserved;
          nowMs = 0; // time passed while waiting
          if (!this.#connected) this.#accumulator.unreserve(bytes);
          if (!this.#connected) throw new WafkaError('NETWORK_EXCEPTION', 'the producer disconnected while a send waited for buffer space', { retriable: false });
          const fresh: TopicMetadata = this.#cluster.topic(topic) ?? metadata;
          if (fresh !== metadata) { metadata = fresh; args.partitionMetadata = metadata.partitions; queues.length = 0; }
        }
        // The send's clock, read once per 256 records (Date.now() per record is a visible cost in browsers).
        const timestamp = message.timestamp === undefined ? ((m & 255) === 0 || nowMs === 0 ? (nowMs = Date.now()) : nowMs) : Number(message.timestamp);
        const key = message.key ?? null;
        args.message = message;
        let partition: number;
        let placed: ProducerBatch | null;
        try {
          partition = this.#partition(args);
          placed = this.#accumulator.add(queues[partition] ??= this.#accumulator.queue(topic, partition), timestamp, key, message.value, message.headers, bytes, acks, compression, this.#sticky, run);
          if (!placed) {
            this.#partitioner.onNewBatch!({ topic, partition, partitionMetadata: args.partitionMetadata });
            partition = this.#partition(args);
            placed = this.#accumulator.add(queues[partition] ??= this.#accumulator.queue(topic, partition), timestamp, key, message.value, message.headers, bytes, acks, compression, false, run)!;
          }
        } catch (error) {
          this.#accumulator.unreserve(bytes); // reserved for a record that was not appended
          throw error;
        }
        const index = placed.recordCount - 1;
        if (placed !== lastBatch) {
          let ranges = batches.get(placed);
          if (ranges === undefined) batches.set(placed, (ranges = []));
          lastBatch = placed;
          lastRanges = ranges;
          if (placed.timeoutMs < timeoutMs) placed.timeoutMs = timeoutMs;
        }
        const last = lastRanges.length - 1;
        if (last > 0 && lastRanges[last] === index) lastRanges[last] = index + 1;
        else lastRanges.push(index, index + 1);
        if (firstOf[partition] === undefined) {
          const first = { topic, partition, batch: placed, index };
          firstOf[partition] = first;
          firsts.push(first);
        }
      }
    }
    appended();
    this.#wake(this.#config.lingerMs === 0 ? 0 : this.#accumulator.nextReadyMs());
    return { batches, firsts };
  }

  /** Waits for the batches a send's records landed in; its records' offsets, or the first record's error. */
  async #outcomes({ batches, firsts }: StagedSend): Promise<RecordMetadata[]> {
    await Promise.all([...batches.keys()].map((b) => b.done));
    // A batch split after the broker found it too large: its records completed part by part.
    for (const [b, ranges] of batches) {
      if (b.parts === undefined) continue;
      for (let r = 0; r < ranges.length; r += 2) {
        const failed = rangeError(b, ranges[r], ranges[r + 1]);
        if (failed) throw failed.error;
      }
    }
    return firsts.map(({ topic, partition, batch, index }) => {
      const outcome = recordOutcome(batch, index);
      if ('error' in outcome) throw outcome.error;
      const r = outcome.result;
      return {
        topicName: topic,
        partition,
        errorCode: 0,
        baseOffset: String(outcome.offset),
        logAppendTime: String(r.logAppendTimeMs),
        logStartOffset: String(r.logStartOffset),
      };
    });
  }

  #partition(args: PartitionerArgs): number {
    const partition = this.#partitioner(args);
    if (!Number.isInteger(partition) || partition < 0 || partition >= args.partitionMetadata.length) {
      throw new WafkaError('UNKNOWN_TOPIC_OR_PARTITION', `partition ${partition} is not in the range [0, ${args.partitionMetadata.length}) of topic "${args.topic}"`, { retriable: false });
    }
    return partition;
  }

  async #topicMetadataWithRetry(topic: string) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#cluster.topicMetadata(topic, this.#config.allowAutoTopicCreation);
      } catch (error) {
        const e = toWafkaError(error);
        if (!e.retriable || attempt >= this.#retry.retries) throw e;
        this.#logger.debug(`metadata of "${topic}" not available, retrying`, { error: e.message, attempt });
        await new Promise((r) => setTimeout(r, backoffMs(this.#retry, attempt)));
        this.#cluster.markStale();
      }
    }
  }

  // ---------- the sender

  /** Runs the sender at `atMs` (0: as soon as the current job ends). */
  #wake(atMs: number): void {
    if (!Number.isFinite(atMs)) return;
    const now = Date.now();
    if (atMs <= now) {
      if (this.#drainQueued) return;
      this.#drainQueued = true;
      queueMicrotask(() => { this.#drainQueued = false; void this.#drain(); });
      return;
    }
    if (this.#timer !== undefined && this.#timerAtMs <= atMs) return;
    clearTimeout(this.#timer);
    this.#timerAtMs = atMs;
    this.#timer = setTimeout(() => { this.#timer = undefined; this.#timerAtMs = Infinity; void this.#drain(); }, atMs - now);
  }

  async #drain(): Promise<void> {
    if (this.#draining) { this.#drainAgain = true; return; }
    this.#draining = true;
    let started = 0;
    try {
      do {
        this.#drainAgain = false;
        // Another pass while the last one started requests: a partition may have more batches to put in flight.
        started = await this.#drainOnce();
      } while (this.#drainAgain || started > 0);
    } catch (error) {
      this.#logger.error('sender failed', { error: String(error) });
    } finally {
      this.#draining = false;
    }
    // Ready batches that could not go (in-flight limits) go when a request completes, which wakes the sender.
    const nextMs = this.#accumulator.nextReadyMs();
    if (nextMs > Date.now() || this.#requests.size === 0) this.#wake(nextMs);
  }

  /** One pass of the sender; returns the number of produce requests it started. */
  async #drainOnce(): Promise<number> {
    const nowMs = Date.now();
    let ready = this.#accumulator.ready(nowMs);
    if (ready.length === 0) return 0;
    if (this.#transactions?.abortable) {
      // As Kafka's Sender: once the transaction can only abort, batches not sent yet fail with its error.
      const error = this.#transactions.abortable;
      for (const q of ready) for (const b of q.batches.splice(0)) this.#fail(b, error);
      return 0;
    }
    if (this.#transactions) ready = this.#addedToTransaction(ready);
    if (ready.length === 0) return 0;
    if (this.#idempotence?.stale && !this.#transactions) {
      // A batch with a sequence failed for good: whether it was stored is unknown, so its sequences cannot be
      // reused or skipped. A new producer id starts every partition at sequence 0 (KIP-360's way out), once
      // every request out has been answered (their batches then take new sequences in order: see reset()).
      if (this.#requests.size > 0) return 0;
      try {
        await this.#initProducerId();
      } catch (error) {
        const delayMs = backoffMs(this.#retry, Math.min(this.#idempotence.initFailures++, this.#retry.retries));
        this.#logger.warn(`InitProducerId failed, retrying in ${delayMs} ms`, { error: String(error) });
        for (const q of ready) q.batches[0].retryAtMs = nowMs + delayMs;
        return 0;
      }
      for (const q of this.#accumulator.queues()) this.#mute(q);
      ready = ready.filter((q) => !q.muted);
    }
    if (this.#cluster.isStale()) await this.#refreshMetadata(ready);

    const byBroker = new Map<number, PartitionQueue[]>();
    for (const q of ready) {
      const leader = this.#cluster.leaderOf(q.topic, q.partition);
      if (leader < 0) {
        this.#failQueueIfHopeless(q, nowMs);
        continue;
      }
      let list = byBroker.get(leader);
      if (!list) byBroker.set(leader, (list = []));
      list.push(q);
    }
    let started = 0;
    for (const [nodeId, queues] of byBroker) {
      if ((this.#inFlight.get(nodeId) ?? 0) >= this.#config.maxInFlightRequests) continue;
      // The encoded request must fit under bufferMemoryBytes, unless nothing is in flight (progress).
      const room = this.#accumulator.requestRoomBytes;
      if (room <= 0 && this.#requests.size > 0) continue;
      const taken: ProducerBatch[] = [];
      let budget = room <= 0 ? this.#config.maxRequestSizeBytes : Math.min(this.#config.maxRequestSizeBytes, room);
      let acks: Acks | undefined;
      for (const q of queues) {
        if (budget <= 0) break;
        if (acks !== undefined && q.batches[0].acks !== acks) continue;
        const batches = this.#accumulator.drain(q, budget, nowMs);
        if (batches.length === 0) continue;
        if (this.#idempotence) {
          // One batch per partition per request, as Kafka requires of idempotent ones; the rest wait their turn.
          if (batches.length > 1) this.#accumulator.requeue(batches.splice(1));
          this.#idempotence.stamp(batches[0]);
          this.#idempotence.sent(batches[0]);
          this.#mute(q);
        } else {
          // One request per partition at a time keeps a plain producer's order through retries.
          q.muted = true;
        }
        acks ??= batches[0].acks;
        for (const b of batches) { taken.push(b); budget -= b.sizeBytes; }
      }
      if (taken.length === 0) continue;
      started++;
      this.#inFlight.set(nodeId, (this.#inFlight.get(nodeId) ?? 0) + 1);
      const request = this.#produce(nodeId, acks!, taken).finally(() => {
        this.#inFlight.set(nodeId, this.#inFlight.get(nodeId)! - 1);
        for (const b of taken) {
          const q = this.#accumulator.queue(b.topic, b.partition);
          if (this.#idempotence) {
            this.#idempotence.answered(b);
            this.#mute(q);
          } else {
            q.muted = false;
          }
        }
        this.#requests.delete(request);
        this.#wake(0);
      });
      this.#requests.add(request);
    }
    return started;
  }

  /** An idempotent producer's partition is muted while it may not send (in-flight limit, a re-send under way); see Idempotence. */
  #mute(q: PartitionQueue): void {
    if (!this.#idempotence || this.#adding.has(q)) return;
    q.muted = !this.#idempotence.maySend(q);
  }

  /** A batch failed for good. */
  #fail(b: ProducerBatch, error: unknown): void {
    this.#idempotence?.failed(b);
    this.#accumulator.complete(b, { error });
  }

  /**
   * Puts a sent batch back in its queue to be sent again: a plain one at the
   * front; an idempotent one by its sequence, before the batches with higher
   * sequences and those without one (Kafka's insertInSequenceOrder).
   */
  #reenqueue(b: ProducerBatch): void {
    const idempotence = this.#idempotence;
    if (!idempotence || b.staged.baseSequence < 0) { this.#accumulator.requeue([b]); return; }
    idempotence.resend(b);
    const q = this.#accumulator.queue(b.topic, b.partition);
    const order = idempotence.order(b);
    let at = 0;
    while (at < q.batches.length && q.batches[at].staged.baseSequence >= 0 && idempotence.order(q.batches[at]) < order) at++;
    q.batches.splice(at, 0, b);
  }

  /**
   * The queues whose partitions are in the open transaction; the others are
   * added first (AddPartitionsToTxn) and sent at the next drain, or failed
   * with the error that refused them.
   */
  #addedToTransaction(ready: PartitionQueue[]): PartitionQueue[] {
    const transactions = this.#transactions!;
    const added: PartitionQueue[] = [];
    const missing: PartitionQueue[] = [];
    for (const q of ready) (transactions.isAdded(q.topic, q.partition) ? added : missing).push(q);
    if (missing.length > 0) {
      for (const q of missing) { q.muted = true; this.#adding.add(q); }
      const unmute = (q: PartitionQueue) => {
        this.#adding.delete(q);
        q.muted = false;
        this.#mute(q);
      };
      transactions.addPartitions(missing.map((q) => ({ topic: q.topic, partition: q.partition }))).then(
        () => { for (const q of missing) unmute(q); this.#wake(0); },
        (error) => {
          for (const q of missing) {
            unmute(q);
            for (const b of q.batches.splice(0)) this.#fail(b, toWafkaError(error));
          }
          this.#wake(0);
        },
      );
    }
    return added;
  }

  async #refreshMetadata(ready: PartitionQueue[]): Promise<void> {
    this.#refreshing ??= this.#cluster.refresh([...new Set(ready.map((q) => q.topic))], this.#config.allowAutoTopicCreation)
      .catch((error) => this.#logger.warn('metadata refresh failed', { error: String(error) }))
      .finally(() => { this.#refreshing = undefined; });
    await this.#refreshing;
  }

  /** No leader for q's partition: back off like a retriable error, fail when retries are spent. */
  #failQueueIfHopeless(q: PartitionQueue, nowMs: number): void {
    const first = q.batches[0];
    const error = new WafkaError('LEADER_NOT_AVAILABLE', `no leader for ${q.topic}-${q.partition}`);
    this.#cluster.markStale();
    if (first.attempts >= this.#retry.retries) {
      for (const b of q.batches.splice(0)) this.#fail(b, error);
    } else {
      first.retryAtMs = nowMs + backoffMs(this.#retry, first.attempts++);
    }
  }

  /** One produce request with `batches` (several per partition are concatenated, in order). */
  async #produce(nodeId: number, acks: Acks, batches: ProducerBatch[]): Promise<void> {
    const byPartition = new Map<string, ProducerBatch[]>();
    for (const b of batches) {
      const key = `${b.topic}\u0000${b.partition}`;
      let list = byPartition.get(key);
      if (!list) byPartition.set(key, (list = []));
      list.push(b);
    }
    let timeoutMs = 0;
    for (const b of batches) if (b.timeoutMs > timeoutMs) timeoutMs = b.timeoutMs;
    const request: ProduceRequest = { acks, timeoutMs: timeoutMs || PRODUCER_DEFAULTS.timeout, topics: [] };
    // The partition leader verifies a transaction's first batch with the coordinator of this id (KIP-890).
    if (this.#transactions) request.transactionalId = this.#transactions.transactionalId;
    const topics = new Map<string, ProduceRequest['topics'][number]>();
    const lists = [...byPartition.values()];
    let size = 0;
    const sent: ProducerBatch[][] = [];
    // An idempotent producer's requests to a broker leave in the order they were made, as on one connection:
    // a partition's batches then reach the leader in sequence order (encoding may finish out of order).
    let released = () => {};
    let turn: Promise<void> | undefined;
    if (this.#idempotence) {
      turn = this.#dispatchTurn.get(nodeId);
      const mine = new Promise<void>((resolve) => { released = resolve; });
      this.#dispatchTurn.set(nodeId, mine);
      const release = released;
      released = () => { if (this.#dispatchTurn.get(nodeId) === mine) this.#dispatchTurn.delete(nodeId); release(); };
    }
    let encoded: Uint8Array[];
    try {
      encoded = await this.#encodeRequest(lists);
      if (turn) await turn;
    } catch (error) {
      released();
      for (const list of lists) for (const b of list) this.#fail(b, toWafkaError(error));
      return;
    }
    for (let i = 0; i < lists.length; i++) {
      const list = lists[i];
      const records = encoded[i];
      size += records.byteLength;
      const { topic, partition } = list[0];
      let t = topics.get(topic);
      if (!t) { topics.set(topic, (t = { topic, partitions: [] })); request.topics.push(t); }
      t.partitions.push({ partition, records });
      sent.push(list);
    }
    if (sent.length === 0) { released(); return; }

    // The encoded request lives beside the batches' staging until it is answered.
    this.#accumulator.holdRequest(size);
    try {
      await this.#send(nodeId, acks, request, size, sent, released);
    } finally {
      released();
      this.#accumulator.releaseRequest(size);
    }
  }

  async #send(nodeId: number, acks: Acks, request: ProduceRequest, size: number, sent: ProducerBatch[][], dispatched: () => void): Promise<void> {
    const promise = this.#cluster.request(nodeId, 'Produce', size, (api) => api.produce(request));
    dispatched();
    if (acks === 0) {
      // Fire and forget, as Kafka's acks=0: the send completes once the request is handed over.
      for (const list of sent) for (const b of list) this.#accumulator.complete(b, { result: { baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n } });
      await promise.catch((error) => this.#logger.warn('acks=0 produce failed', { broker: nodeId, error: String(error) }));
      return;
    }
    let response: ProduceResponse;
    try {
      response = await promise;
    } catch (error) {
      for (const list of sent) this.#retryOrFail(list, toWafkaError(error));
      return;
    }
    const answers = new Map<string, ProduceResponse['topics'][number]['partitions'][number]>();
    for (const t of response.topics) for (const p of t.partitions) answers.set(`${t.topic}\u0000${p.partition}`, p);
    for (const list of sent) {
      const { topic, partition } = list[0];
      const answer = answers.get(`${topic}\u0000${partition}`);
      const error = answer ? fromErrorJSON(answer.error) : new WafkaError('UNKNOWN_SERVER_ERROR', `broker ${nodeId} did not answer for ${topic}-${partition}`);
      if (error) { this.#retryOrFail(list, error); continue; }
      // The broker gives the base offset of the first batch; the others follow on.
      let baseOffset = answer!.baseOffset;
      for (const b of list) {
        this.#idempotence?.acknowledged(b);
        this.#accumulator.complete(b, { result: { baseOffset, logAppendTimeMs: answer!.logAppendTimeMs, logStartOffset: answer!.logStartOffset } });
        baseOffset += BigInt(b.recordCount);
      }
    }
  }

  /**
   * The records of each partition's batches, encoded from their staging: every
   * batch of the request one after another in one fresh buffer (the one
   * allocation, transferred as a whole), a view of it per partition. A retry
   * encodes the batches again (their staging is kept until they complete).
   */
  async #encodeRequest(lists: ProducerBatch[][]): Promise<Uint8Array[]> {
    const codec = this.#codec ?? (this.#codec = await this.#codecLoader());
    const compression = lists[0][0].compression;
    if (lists.every((list) => list.every((b) => b.compression === compression))) {
      const staged = [];
      for (const list of lists) for (const b of list) staged.push(b.staged);
      const { bytes, ends } = await codec.encodeStaged(staged, { compression });
      const out: Uint8Array[] = [];
      let n = 0;
      let start = 0;
      for (const list of lists) {
        n += list.length;
        const end = ends[n - 1];
        out.push(bytes.subarray(start, end));
        start = end;
      }
      return out;
    }
    // Sends with different compression share a request: a buffer per partition.
    const out: Uint8Array[] = [];
    for (const list of lists) {
      const parts: Uint8Array[] = [];
      for (const b of list) parts.push((await codec.encodeStaged([b.staged], { compression: b.compression })).bytes);
      out.push(parts.length === 1 ? parts[0] : concat(parts));
    }
    return out;
  }

  #retryOrFail(list: ProducerBatch[], error: WafkaError): void {
    if (invalidatesMetadata(error)) this.#cluster.markStale();
    const first = list[0];
    if (list.length > 1 && SPLIT_ON.has(error.type)) {
      // Several batches of the partition failed together: send each alone, so only the bad one fails.
      this.#logger.debug(`splitting ${list.length} batches of ${first.topic}-${first.partition} after ${error.type}`);
      for (const b of list) b.sendAlone = true;
      this.#accumulator.requeue(list);
      return;
    }
    if (list.length === 1 && error.type === 'MESSAGE_TOO_LARGE' && first.recordCount > 1) {
      // A batch of several records over the topic's limit: split it and send the parts (Kafka's splitAndReenqueue);
      // only a batch of one record that is too large fails.
      this.#logger.debug(`splitting a batch of ${first.recordCount} records of ${first.topic}-${first.partition} after ${error.type}`);
      const parts = this.#accumulator.split(first);
      const idempotence = this.#idempotence;
      if (idempotence && first.staged.baseSequence >= 0) {
        idempotence.split(first, parts);
        // The parts go back by their sequences (the split put them first in the queue).
        const q = this.#accumulator.queue(first.topic, first.partition);
        for (const part of parts) q.batches.splice(q.batches.indexOf(part), 1);
        for (const part of parts) this.#reenqueue(part);
      }
      return;
    }
    const abortable = this.#transactions?.abortable;
    if (abortable === null || abortable === undefined) {
      if (this.#idempotence && SEQUENCE_GAP.has(error.type) && list.length === 1 && !this.#idempotence.isNext(first)) {
        // Kafka's canRetry: not the batch after the last acknowledged one, so an earlier batch of the partition
        // was not stored (yet): sent again after it, with the same sequences. Not an attempt of its own.
        // (UNKNOWN_PRODUCER_ID: the gap is at the producer's first batch on the partition.)
        this.#logger.debug(`re-sending ${first.topic}-${first.partition} sequence ${first.staged.baseSequence} after the batches before it`, { error: error.message });
        this.#reenqueue(first);
        return;
      }
      if (error.retriable && first.attempts < this.#retry.retries) {
        const retryAtMs = Date.now() + backoffMs(this.#retry, first.attempts);
        for (const b of list) { b.attempts++; b.retryAtMs = retryAtMs; }
        this.#logger.debug(`retrying ${list.length} batch(es) of ${first.topic}-${first.partition}`, { error: error.message, attempt: first.attempts });
        if (this.#idempotence) for (const b of list) this.#reenqueue(b);
        else this.#accumulator.requeue(list);
        return;
      }
    }
    this.#logger.error(`produce to ${first.topic}-${first.partition} failed`, { error: error.message, retriable: error.retriable, attempts: first.attempts });
    // In a transaction a lost batch makes the transaction abort-only (its abort bumps the epoch: sequences start again);
    // once it is, nothing of it is sent again.
    if (this.#transactions) error = this.#transactions.failed(error);
    for (const b of list) this.#fail(b, error);
  }

  async #initProducerId(): Promise<void> {
    const ids = this.#cluster.brokerIds();
    let lastError: unknown;
    for (const nodeId of ids) {
      try {
        const { producerId, producerEpoch } = await this.#cluster.request(nodeId, 'InitProducerId', 0, (api) => api.initProducerId({ transactionalId: null }));
        this.#idempotence!.reset(producerId, producerEpoch);
        this.#logger.debug(`producer id ${producerId} epoch ${producerEpoch}`);
        return;
      } catch (error) {
        lastError = error;
      }
    }
    throw toWafkaError(lastError ?? new WafkaError('BROKER_NOT_AVAILABLE', 'no broker to ask for a producer id'));
  }
}

/** Kafka's limit: an idempotent producer keeps at most this many requests of one partition in flight. */
export const IDEMPOTENT_IN_FLIGHT_MAX = 5;

const SEQUENCE_MOD = 0x80000000;

const sequencesKey = (p: { topic: string; partition: number }) => `${p.topic}\u0000${p.partition}`;

/** One partition's sequences (Kafka's TxnPartitionEntry). */
interface PartitionSequences {
  /** Base sequence of the next batch to be stamped. */
  next: number;
  /** Stamped batches not completed (out, or queued to be sent again), in sequence order. */
  readonly pending: ProducerBatch[];
  /** Of those, the ones that went back to the queue to be sent again. */
  readonly resending: Set<ProducerBatch>;
  /** Produce requests of the partition out now (one batch each). */
  requests: number;
}

/**
 * An idempotent producer's identity and the sequences of each partition.
 * A batch takes its sequences when it is first sent and keeps them through
 * every retry. Up to `inFlightMax` batches of a partition are out at once,
 * each in a request of its own, with consecutive sequences; the leader
 * appends them in sequence order only. When one of them fails with a
 * retriable error the later ones come back OUT_OF_ORDER_SEQUENCE_NUMBER (or
 * with the same error), and all of them go back to the queue in sequence
 * order (Kafka's insertInSequenceOrder): from then on the partition sends
 * only its lowest pending batch, one request at a time, until every batch
 * sent again has completed, and only then new batches (Kafka's Sender has
 * the same rule for batches with a sequence; here new batches wait too, so a
 * re-sent batch is never overtaken while the leader's window of five could
 * lose it).
 */
class Idempotence {
  /** Batches are marked transactional (a transactional producer's). */
  readonly transactional: boolean;
  readonly inFlightMax: number;
  producerId = -1n;
  producerEpoch = -1;
  /** A batch with sequences failed for good: a new producer id is needed before the next send. */
  stale = false;
  /** InitProducerId attempts that failed in a row (for the backoff). */
  initFailures = 0;
  readonly #partitions = new Map<string, PartitionSequences>();
  /** Batches that were their partition's lowest pending one when last sent. */
  readonly #sentFirst = new WeakSet<ProducerBatch>();

  constructor(transactional: boolean, inFlightMax: number) {
    this.transactional = transactional;
    this.inFlightMax = inFlightMax;
  }

  #of(batch: { topic: string; partition: number }): PartitionSequences {
    const key = sequencesKey(batch);
    let entry = this.#partitions.get(key);
    if (!entry) this.#partitions.set(key, (entry = { next: 0, pending: [], resending: new Set(), requests: 0 }));
    return entry;
  }

  /**
   * A new producer id or epoch: every partition starts again at sequence 0.
   * Batches still pending (none is out: the sender waits for them first)
   * take new sequences from 0, in their order.
   */
  reset(producerId: bigint, producerEpoch: number): void {
    this.producerId = producerId;
    this.producerEpoch = producerEpoch;
    for (const [key, entry] of this.#partitions) {
      if (entry.pending.length === 0 && entry.requests === 0) { this.#partitions.delete(key); continue; }
      let sequence = 0;
      for (const b of entry.pending) {
        Object.assign(b.staged, { producerId, producerEpoch, baseSequence: sequence });
        sequence = (sequence + b.recordCount) % SEQUENCE_MOD;
      }
      entry.next = sequence;
    }
    this.stale = false;
    this.initFailures = 0;
  }

  stamp(batch: ProducerBatch): void {
    const s = batch.staged;
    if (s.baseSequence >= 0) return; // a retry: the same id and sequences
    const entry = this.#of(batch);
    s.producerId = this.producerId;
    s.producerEpoch = this.producerEpoch;
    s.baseSequence = entry.next;
    s.isTransactional = this.transactional;
    entry.next = (entry.next + batch.recordCount) % SEQUENCE_MOD;
    entry.pending.push(batch);
  }

  /** Whether the partition of `q` may send its first batch now (see the class comment). */
  maySend(q: PartitionQueue): boolean {
    const entry = this.#partitions.get(sequencesKey(q));
    if (!entry) return true;
    if (entry.requests >= this.inFlightMax) return false;
    const first = q.batches[0];
    if (first && first.staged.baseSequence >= 0) return entry.pending[0] === first;
    return entry.resending.size === 0;
  }

  /** A request with `batch` (the partition's only one in it) went out / was answered. */
  sent(batch: ProducerBatch): void {
    const entry = this.#of(batch);
    entry.requests++;
    if (entry.pending[0] === batch) this.#sentFirst.add(batch);
    else this.#sentFirst.delete(batch);
  }

  answered(batch: ProducerBatch): void { this.#of(batch).requests--; }

  /** The batch goes back to the queue to be sent again. */
  resend(batch: ProducerBatch): void {
    if (batch.staged.baseSequence >= 0) this.#of(batch).resending.add(batch);
  }

  /** Where the batch stands among its partition's pending ones (-1: not pending). */
  order(batch: ProducerBatch): number {
    return this.#of(batch).pending.indexOf(batch);
  }

  /**
   * Whether every batch before this one was acknowledged when it was last
   * sent: an OUT_OF_ORDER_SEQUENCE_NUMBER for it is then a real gap, not a
   * batch that reached the leader before the one preceding it (Kafka asks
   * whether it follows the last acknowledged sequence when the answer comes,
   * which holds on one connection, whose answers come in order; answers from
   * here may not).
   */
  isNext(batch: ProducerBatch): boolean {
    return this.#sentFirst.has(batch);
  }

  acknowledged(batch: ProducerBatch): void {
    this.#remove(batch);
  }

  /** A refused batch split in two: its parts take its sequences, in order, and its place among the pending. */
  split(batch: ProducerBatch, parts: ProducerBatch[]): void {
    const s = batch.staged;
    if (s.baseSequence < 0) return;
    let sequence = s.baseSequence;
    for (const part of parts) {
      Object.assign(part.staged, { producerId: s.producerId, producerEpoch: s.producerEpoch, baseSequence: sequence, isTransactional: s.isTransactional });
      sequence = (sequence + part.recordCount) % SEQUENCE_MOD;
    }
    const entry = this.#of(batch);
    const at = entry.pending.indexOf(batch);
    if (at >= 0) entry.pending.splice(at, 1, ...parts);
    entry.resending.delete(batch);
    for (const part of parts) entry.resending.add(part);
  }

  failed(batch: ProducerBatch): void {
    this.#remove(batch);
    if (batch.staged.baseSequence >= 0 && batch.staged.producerId === this.producerId) this.stale = true;
  }

  #remove(batch: ProducerBatch): void {
    if (batch.staged.baseSequence < 0) return;
    const entry = this.#of(batch);
    const at = entry.pending.indexOf(batch);
    if (at >= 0) entry.pending.splice(at, 1);
    entry.resending.delete(batch);
  }
}

/** What a Transaction asks of the producer that opened it. */
interface TransactionHooks {
  sendBatch: (batch: ProducerBatchInput) => Promise<RecordMetadata[]>;
  ended: (producerId: bigint, producerEpoch: number) => void;
}

/**
 * One open transaction of a transactional producer (KafkaJS's shape):
 * send/sendBatch as the producer's, sendOffsets for consume-transform-produce,
 * then commit() or abort(). Every send of it is flushed before it ends.
 */
export class Transaction {
  readonly #producer: Producer;
  readonly #manager: TransactionManager;
  readonly #hooks: TransactionHooks;
  #active = true;
  #ending: Promise<void> | null = null;
  readonly #sends = new Set<Promise<unknown>>();

  constructor(producer: Producer, manager: TransactionManager, hooks: TransactionHooks) {
    this.#producer = producer;
    this.#manager = manager;
    this.#hooks = hooks;
  }

  isActive(): boolean { return this.#active; }

  send(record: ProducerRecord): Promise<RecordMetadata[]> {
    return this.sendBatch({ topicMessages: [{ topic: record.topic, messages: record.messages }], acks: record.acks, timeout: record.timeout, compression: record.compression });
  }

  sendBatch(batch: ProducerBatchInput): Promise<RecordMetadata[]> {
    if (!this.#active || this.#ending) return Promise.reject(this.#manager.fatal ?? new WafkaError('INVALID_TXN_STATE', 'the transaction has ended'));
    const sent = this.#hooks.sendBatch(batch);
    const tracked = sent.catch(() => {});
    this.#sends.add(tracked);
    void tracked.finally(() => this.#sends.delete(tracked));
    return sent;
  }

  /** Commits `offsets` as the consumer group's in this transaction (visible to the group once it commits). */
  async sendOffsets(offsets: TransactionOffsets): Promise<void> {
    if (!this.#active || this.#ending) throw this.#manager.fatal ?? new WafkaError('INVALID_TXN_STATE', 'the transaction has ended');
    await this.#manager.sendOffsets(offsets);
  }

  commit(): Promise<void> { return this.#end(true); }

  abort(): Promise<void> { return this.#end(false); }

  async #end(committed: boolean): Promise<void> {
    if (!this.#active) throw this.#manager.fatal ?? new WafkaError('INVALID_TXN_STATE', 'the transaction has ended');
    if (this.#ending) throw new WafkaError('INVALID_TXN_STATE', 'the transaction is ending already');
    this.#ending = (async () => {
      await Promise.all([...this.#sends]);
      await this.#producer.flush();
      const { producerId, producerEpoch } = await this.#manager.end(committed);
      this.#active = false;
      this.#hooks.ended(producerId, producerEpoch);
    })();
    try {
      await this.#ending;
    } finally {
      this.#ending = null;
    }
  }
}

function notAllAcks(acks: number): WafkaError {
  return new WafkaError('INVALID_REQUIRED_ACKS', `acks ${acks}: an idempotent producer needs acks -1 (all in-sync replicas), as Kafka's does`);
}

/** What the leader answers a batch that came before the one preceding it. */
const SEQUENCE_GAP = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID']);

/** Errors of one batch that a partition's whole payload gets: retried batch by batch. */
const SPLIT_ON = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'CORRUPT_MESSAGE', 'INVALID_RECORD', 'INVALID_TIMESTAMP']);

function concat(parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.byteLength;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.byteLength; }
  return out;
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const isBytes = (x: unknown) => x instanceof Uint8Array;

const isHeaderValue = (v: unknown) => v === null || typeof v === 'string' || isBytes(v);

/** Checks a topic's messages; returns each one's bytes as estimateRecordBytes counts them. */
function validateMessages(topic: string, messages: Message[], maxRequestSizeBytes: number): Float64Array {
  if (typeof topic !== 'string' || topic.length === 0) throw new WafkaError('INVALID_TOPIC_EXCEPTION', `invalid topic ${JSON.stringify(topic)}`);
  if (!Array.isArray(messages)) throw new TypeError(`wafka: invalid messages array [${String(messages)}] for topic "${topic}"`);
  const sizes = new Float64Array(messages.length);
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (!m || typeof m !== 'object') throw new TypeError(`wafka: a message for topic "${topic}" is not an object`);
    if (m.value !== null && typeof m.value !== 'string' && !isBytes(m.value)) throw new TypeError(`wafka: message value must be a string, a Uint8Array or null (topic "${topic}")`);
    if (m.key != null && typeof m.key !== 'string' && !isBytes(m.key)) throw new TypeError(`wafka: message key must be a string, a Uint8Array or null (topic "${topic}")`);
    // An integer (a fraction would fail the whole request its batch is encoded in).
    if (m.timestamp !== undefined && !Number.isSafeInteger(Number(m.timestamp))) throw new WafkaError('INVALID_TIMESTAMP', `timestamp ${String(m.timestamp)} is not an integer number of ms`);
    const headers = m.headers;
    if (headers !== undefined && headers !== null) {
      if (typeof headers !== 'object' || Array.isArray(headers)) throw new TypeError(`wafka: message headers must be an object (topic "${topic}")`);
      for (const name in headers) {
        const v = headers[name];
        if (v === undefined || isHeaderValue(v) || (Array.isArray(v) && v.every(isHeaderValue))) continue;
        throw new TypeError(`wafka: header "${name}" must be a string, a Uint8Array or an array of them (topic "${topic}")`);
      }
    }
    const bytes = estimateRecordBytes(m);
    if (bytes + BATCH_OVERHEAD_BYTES > maxRequestSizeBytes) {
      throw new WafkaError('MESSAGE_TOO_LARGE', `a message of ${bytes} B is over the producer's maxRequestSizeBytes ${maxRequestSizeBytes} B (topic "${topic}")`);
    }
    sizes[i] = bytes;
  }
  return sizes;
}

/**
 * A staged send: every batch its records landed in, with the index ranges of
 * those records in it ([from, to) pairs), and per partition touched the first
 * batch and index (the offset the send reports).
 */
interface StagedSend {
  batches: Map<ProducerBatch, number[]>;
  firsts: { topic: string; partition: number; batch: ProducerBatch; index: number }[];
}

/**
 * A send's string keys and values as one run (encoded a chunk at a time into
 * the staging buffers), in the order append() stages them; none when a
 * message has headers or bytes (anything else staged between the strings
 * would throw away what was encoded ahead).
 */
function stringRun(messages: Message[]): StringRun | undefined {
  const strings: string[] = [];
  for (let m = 0; m < messages.length; m++) {
    const { key, value, headers } = messages[m];
    if (headers !== undefined && headers !== null) return undefined;
    if (typeof key === 'string') strings.push(key);
    else if (key != null) return undefined;
    if (typeof value === 'string') strings.push(value);
    else if (value != null) return undefined;
  }
  return strings.length >= RUN_MIN_MESSAGES ? new StringRun(strings) : undefined;
}
