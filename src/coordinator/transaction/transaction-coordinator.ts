/**
 * The transaction coordinator (Kafka's TransactionCoordinator and
 * TransactionStateManager): a plain class a broker calls for the
 * transactional ids whose partition of __transaction_state it leads.
 *
 * Every state change of a transactional id (./transaction-metadata.ts) is
 * written to its partition through `TransactionStateLog.append`, which
 * resolves once the partition's ISR has it (acks=-1), and only then applied
 * and answered. When the broker becomes leader of a partition it replays it
 * (`load`, at the partition's leader epoch, which is the coordinator epoch
 * its markers carry; requests get COORDINATOR_LOAD_IN_PROGRESS meanwhile),
 * and finishes every transaction the log shows half ended (PrepareCommit,
 * PrepareAbort: the markers are sent again, then the Complete state is
 * written), so a failover in the middle of a commit still commits it. When
 * it stops leading (`unload`) the ids are dropped here and requests get
 * NOT_COORDINATOR.
 *
 * Ending a transaction (EndTxn, a fence by InitProducerId, a timeout): the
 * PrepareCommit/PrepareAbort state is written with the producer epoch bumped
 * (KIP-890 part 2: the markers carry the new epoch, so a late write of the
 * ended transaction is refused by the partition), then the COMMIT/ABORT
 * markers are written to every partition of the transaction through
 * `TxnMarkerWriter` (retried until each is written or its topic is gone),
 * then CompleteCommit/CompleteAbort. EndTxn is answered once the Prepare
 * state is stored, as Kafka answers it (the outcome is decided and durable
 * then; the markers and the Complete state follow). A request for the
 * id's next transaction (AddPartitionsToTxn, AddOffsetsToTxn,
 * InitProducerId) that comes while they are still being written is held
 * until the Complete state is stored (up to transactionEndWaitMs; then
 * CONCURRENT_TRANSACTIONS, which clients retry). The partitions such held
 * requests add are written with the Complete state, in one append of two
 * records (Complete, then the next Ongoing: the transitions Kafka's table
 * allows, in one replicated write instead of two). An add that comes while
 * another add of the id is being written waits for that write instead of
 * being refused. A coordinator-made abort (fence,
 * timeout) bumps the epoch twice (PrepareEpochFence, then the abort), so the
 * fenced producer's epoch is two behind and no retry rule can take it for
 * the producer that ended the transaction: it gets PRODUCER_FENCED.
 *
 * All time and timers come from the injected clock.
 */
import type { Clock, TimerHandle } from '../../clock.ts';
import { WafkaError, type KafkaErrorType, type WafkaErrorJSON } from '../../errors.ts';
import { asWafkaError } from '../../protocol/error-json.ts';
import type {
  AddPartitionsToTxnRequest, AddPartitionsToTxnResponse, DescribedTransaction, DescribeTransactionsRequest,
  DescribeTransactionsResponse, EndTxnRequest, EndTxnResponse, InitProducerIdRequest, InitProducerIdResponse,
  ListTransactionsRequest, ListTransactionsResponse, TransactionState, TxnMarker, TxnPartitionResults, TxnTopicPartitions,
} from '../../protocol/types.ts';
import { coordinatorPartition } from '../coordinator-partition.ts';
import { transactionLogKey, transactionLogValue, TRANSACTION_STATE_IDS, type TransactionLogRecord } from './transaction-log-records.ts';
import {
  groupTxnPartitions, isEpochExhausted, NO_PRODUCER_EPOCH, NO_PRODUCER_ID, splitTxnPartitionKey, TransactionMetadata,
  txnPartitionKey, type Transit,
} from './transaction-metadata.ts';

export interface TransactionCoordinatorConfig {
  /** Kafka: transaction.state.log.num.partitions (50); 10 here, as the offsets topic (each partition is files on every replica). */
  transactionStateTopicNumPartitions: number;
  /** Kafka: transaction.max.timeout.ms (15 min): a longer transactionTimeoutMs is INVALID_TRANSACTION_TIMEOUT. */
  transactionMaxTimeoutMs: number;
  /** Kafka: transactional.id.expiration.ms (7 days): an id idle this long (no transaction open) is removed. */
  transactionalIdExpirationMs: number;
  /** Kafka: transaction.abort.timed.out.transaction.cleanup.interval.ms (10 s). */
  transactionAbortTimedOutTransactionCleanupIntervalMs: number;
  /** Kafka: transaction.remove.expired.transaction.cleanup.interval.ms (1 h). */
  transactionRemoveExpiredTransactionCleanupIntervalMs: number;
  /** Transactional ids one coordinator holds (over all its partitions); more are refused with POLICY_VIOLATION. */
  transactionalIdsPerCoordinatorMax: number;
  /** Partitions one transaction may span; more are refused with POLICY_VIOLATION. */
  transactionPartitionsMax: number;
  /** Wait between attempts to write a transaction's markers to partitions that did not take them. */
  transactionMarkerRetryBackoffMs: number;
  /**
   * How long a request for the next transaction of an id (AddPartitionsToTxn,
   * AddOffsetsToTxn, InitProducerId) that comes while the previous one's
   * markers and Complete state are still being written waits for them. Past
   * it the answer is CONCURRENT_TRANSACTIONS (the client retries), as Kafka
   * answers such a request at once.
   */
  transactionEndWaitMs: number;
}

export const DEFAULT_TRANSACTION_COORDINATOR_CONFIG: Readonly<TransactionCoordinatorConfig> = Object.freeze({
  transactionStateTopicNumPartitions: 10,
  transactionMaxTimeoutMs: 900_000,
  transactionalIdExpirationMs: 604_800_000,
  transactionAbortTimedOutTransactionCleanupIntervalMs: 10_000,
  transactionRemoveExpiredTransactionCleanupIntervalMs: 3_600_000,
  transactionalIdsPerCoordinatorMax: 10_000,
  transactionPartitionsMax: 1_000,
  transactionMarkerRetryBackoffMs: 100,
  transactionEndWaitMs: 5_000,
});

/** Kafka's default transaction.timeout.ms of a producer, used when InitProducerId names none. */
export const TRANSACTION_TIMEOUT_MS_DEFAULT = 60_000;
/** Kafka refuses a transactional id of more than this many bytes nowhere; a limit here bounds what one id costs. */
export const TRANSACTIONAL_ID_BYTES_MAX = 255;

/** What the coordinator needs of its broker: durable, replicated appends to a __transaction_state partition. */
export interface TransactionStateLog {
  /** Appends `records` as one batch; resolves once the partition's ISR has them, rejects with the broker's error otherwise. */
  append(partition: number, records: { key: Uint8Array; value: Uint8Array | null }[]): Promise<void>;
}

/** Writes COMMIT/ABORT markers through the leaders of the marker's partitions. */
export interface TxnMarkerWriter {
  /** Resolves with each partition's outcome (no error: written and committed there); never rejects for one partition. */
  write(marker: TxnMarker): Promise<TxnPartitionResults[]>;
}

type PartitionLoad = { state: 'loading' | 'active'; epoch: number; transactions: Map<string, TransactionMetadata> };
/** Held adds of a transactional id's next transaction: each partition with the number of requests waiting for it. */
type NextAdds = { keys: Map<string, number>; written: (merged: boolean) => void; result: Promise<boolean> };

const errorJSON = (type: KafkaErrorType, message: string): WafkaErrorJSON => new WafkaError(type, message).toJSON();
const fail = (type: KafkaErrorType, message: string): never => { throw new WafkaError(type, message); };
const INT32_MAX = 0x7fffffff;
const REQUEST_ITEMS_MAX = 10_000;
/** An add waits for at most this many writes of other adds of its id before it is answered CONCURRENT_TRANSACTIONS. */
const ADD_WRITES_FOLLOWED_MAX = 8;

export class TransactionCoordinator {
  readonly config: TransactionCoordinatorConfig;
  readonly #clock: Clock;
  readonly #log: TransactionStateLog;
  readonly #markers: TxnMarkerWriter;
  readonly #newProducerId: () => Promise<bigint>;
  readonly #nodeId: number;
  readonly #partitions = new Map<number, PartitionLoad>();
  /** Per transactional id, the end under way (markers, then Complete): the id's next requests wait on it. */
  readonly #ending = new Map<TransactionMetadata, Promise<void>>();
  /** Per transactional id, the partitions its next transaction's held adds ask for, to be written with the Complete state. */
  readonly #nextAdds = new Map<TransactionMetadata, NextAdds>();
  /** Per transactional id, the state write out now. */
  readonly #writing = new Map<TransactionMetadata, Promise<unknown>>();
  #idCount = 0;
  #timeoutTimer: TimerHandle | undefined;
  #expirationTimer: TimerHandle | undefined;
  #closed = false;

  constructor(options: {
    config?: Partial<TransactionCoordinatorConfig>; clock: Clock; log: TransactionStateLog; markers: TxnMarkerWriter;
    newProducerId: () => Promise<bigint>; nodeId: number;
  }) {
    this.config = { ...DEFAULT_TRANSACTION_COORDINATOR_CONFIG, ...options.config };
    this.#clock = options.clock;
    this.#log = options.log;
    this.#markers = options.markers;
    this.#newProducerId = options.newProducerId;
    this.#nodeId = options.nodeId;
  }

  partitionFor(transactionalId: string): number {
    return coordinatorPartition(transactionalId, this.config.transactionStateTopicNumPartitions);
  }

  /** __transaction_state partitions served now (loaded), for tests and the console. */
  activePartitions(): number[] {
    return [...this.#partitions].filter(([, p]) => p.state === 'active').map(([n]) => n).sort((a, b) => a - b);
  }

  // ------------------------------------------------------------------ Loading

  /**
   * Becomes the coordinator of `partition` at leader epoch `epoch`: replays
   * its records in log order, serves its ids, and finishes the transactions
   * the log left half ended. A newer load or an unload meanwhile wins.
   */
  async load(partition: number, epoch: number, records: AsyncIterable<TransactionLogRecord[]>): Promise<void> {
    const current = this.#partitions.get(partition);
    if (current && current.epoch === epoch) return;
    if (current) this.unload(partition);
    const load: PartitionLoad = { state: 'loading', epoch, transactions: new Map() };
    this.#partitions.set(partition, load);
    for await (const chunk of records) {
      if (this.#partitions.get(partition) !== load) return;
      for (const record of chunk) {
        if (record.kind !== 'transaction') continue;
        if (record.value === null) load.transactions.delete(record.transactionalId);
        else load.transactions.set(record.transactionalId, TransactionMetadata.restored(record.transactionalId, partition, record.value));
      }
    }
    if (this.#partitions.get(partition) !== load) return;
    load.state = 'active';
    this.#idCount += load.transactions.size;
    this.#scheduleChecks();
    for (const meta of load.transactions.values()) {
      if (meta.state === 'PrepareCommit' || meta.state === 'PrepareAbort') this.#startEnding(load, meta);
    }
  }

  /** Stops coordinating `partition`: its ids are dropped here; marker sending for them stops. */
  unload(partition: number): void {
    const load = this.#partitions.get(partition);
    if (!load) return;
    this.#partitions.delete(partition);
    if (load.state === 'active') this.#idCount -= load.transactions.size;
  }

  close(): void {
    this.#closed = true;
    this.#clock.clearTimeout(this.#timeoutTimer);
    this.#clock.clearTimeout(this.#expirationTimer);
    for (const partition of [...this.#partitions.keys()]) this.unload(partition);
  }

  /** The partition's ids, or why this broker cannot answer for `transactionalId`. */
  #serving(transactionalId: string): PartitionLoad {
    const partition = this.partitionFor(transactionalId);
    const load = this.#partitions.get(partition);
    if (!load) fail('NOT_COORDINATOR', `broker ${this.#nodeId} is not the coordinator of transactional id '${transactionalId}' (partition ${partition} of __transaction_state)`);
    if (load!.state === 'loading') fail('COORDINATOR_LOAD_IN_PROGRESS', `broker ${this.#nodeId} is loading partition ${partition} of __transaction_state`);
    return load!;
  }

  #stillServing(load: PartitionLoad, meta: TransactionMetadata): boolean {
    return !this.#closed && this.#partitions.get(meta.partition) === load && load.transactions.get(meta.transactionalId) === meta;
  }

  /** Writes `transit` for `meta` (acks=-1), then applies it; on failure the state stays and the error is the coordinator's. */
  async #write(load: PartitionLoad, meta: TransactionMetadata, transit: Transit): Promise<void> {
    await this.#writeTransits(load, meta, [transit]);
  }

  /**
   * Writes `transits` (the first one pending; each a legal step from the one
   * before) in one append, then applies them in order; on failure the state
   * stays as it was.
   */
  async #writeTransits(load: PartitionLoad, meta: TransactionMetadata, transits: Transit[]): Promise<void> {
    const key = transactionLogKey(meta.transactionalId);
    const records = transits.map((t) => ({ key, value: t.state === 'Dead' ? null : transactionLogValue(meta.stored(t)) }));
    const written = this.#log.append(meta.partition, records);
    this.#writing.set(meta, written);
    try {
      await written;
    } catch (error) {
      meta.abandon(transits[0]);
      throw appendError(error);
    } finally {
      if (this.#writing.get(meta) === written) this.#writing.delete(meta);
    }
    if (!this.#stillServing(load, meta)) {
      meta.abandon(transits[0]);
      fail('NOT_COORDINATOR', `broker ${this.#nodeId} stopped coordinating transactional id '${meta.transactionalId}' while its state was written`);
    }
    meta.complete(transits[0]);
    for (const t of transits.slice(1)) meta.apply(t);
  }

  // ------------------------------------------------------------------ InitProducerId

  /**
   * The producer id and epoch of a transactional id: a new id gets a fresh
   * producer id at epoch 0; a known one its epoch bumped, which fences the
   * previous holder. An open transaction of the previous holder is aborted
   * first (the answer is CONCURRENT_TRANSACTIONS until that is done).
   */
  initProducerId(request: InitProducerIdRequest): Promise<InitProducerIdResponse> {
    return this.#initProducerId(request, false);
  }

  async #initProducerId(request: InitProducerIdRequest, waited: boolean): Promise<InitProducerIdResponse> {
    const transactionalId = request.transactionalId!;
    checkTransactionalId(transactionalId);
    const timeoutMs = request.transactionTimeoutMs ?? TRANSACTION_TIMEOUT_MS_DEFAULT;
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > this.config.transactionMaxTimeoutMs) {
      fail('INVALID_TRANSACTION_TIMEOUT', `transactionTimeoutMs ${timeoutMs}: expected (0, ${this.config.transactionMaxTimeoutMs}] (transactionMaxTimeoutMs)`);
    }
    const expected = request.producerId !== undefined && request.producerId >= 0n
      ? { producerId: request.producerId, producerEpoch: request.producerEpoch ?? NO_PRODUCER_EPOCH } : null;
    const load = this.#serving(transactionalId);
    let meta = load.transactions.get(transactionalId);
    if (!meta) {
      if (this.#idCount >= this.config.transactionalIdsPerCoordinatorMax) {
        fail('POLICY_VIOLATION', `broker ${this.#nodeId} coordinates ${this.#idCount} transactional ids, the limit (transactionalIdsPerCoordinatorMax ${this.config.transactionalIdsPerCoordinatorMax})`);
      }
      const producerId = await this.#newProducerId();
      // Another request may have made it while the id was taken.
      meta = load.transactions.get(transactionalId);
      if (!meta) {
        if (!this.#stillServingPartition(load)) fail('NOT_COORDINATOR', `broker ${this.#nodeId} stopped coordinating transactional id '${transactionalId}'`);
        meta = new TransactionMetadata({ transactionalId, partition: this.partitionFor(transactionalId), producerId, producerEpoch: NO_PRODUCER_EPOCH, transactionTimeoutMs: timeoutMs, state: 'Empty', nowMs: this.#clock.nowMs() });
        load.transactions.set(transactionalId, meta);
        this.#idCount++;
      }
    }
    if (!waited && this.#completing(meta)) {
      await this.#awaitCompletion(meta);
      return this.#initProducerId(request, true);
    }
    const where = `transactional id '${transactionalId}'`;
    if (meta.pending) fail('CONCURRENT_TRANSACTIONS', `${where} is changing to ${meta.pending.state}`);
    if (expected && !(meta.producerEpoch === NO_PRODUCER_EPOCH || expected.producerId === meta.producerId
      || (expected.producerId === meta.previousProducerId && isEpochExhausted(expected.producerEpoch)))) {
      fail('PRODUCER_FENCED', `${where}: producer ${expected.producerId} is not its producer (${meta.producerId} now)`);
    }
    const nowMs = this.#clock.nowMs();
    switch (meta.state) {
      case 'PrepareCommit': case 'PrepareAbort':
        return fail('CONCURRENT_TRANSACTIONS', `${where} is ending a transaction (${meta.state}): retry`);
      case 'Ongoing': {
        // The previous holder's transaction is aborted first, with the epoch bumped past it; the caller retries.
        await this.#fenceAndAbort(load, meta);
        return fail('CONCURRENT_TRANSACTIONS', `${where}: the previous producer's open transaction was aborted: retry`);
      }
      case 'Empty': case 'CompleteCommit': case 'CompleteAbort': {
        let transit: Transit;
        if (isEpochExhausted(meta.producerEpoch) && (!expected || expected.producerEpoch === meta.producerEpoch)) {
          const producerId = await this.#newProducerId();
          transit = meta.prepare({ state: 'Empty', producerId, producerEpoch: 0, transactionTimeoutMs: timeoutMs, partitions: new Set(), startTimestampMs: -1 }, nowMs);
        } else {
          let epoch = meta.producerEpoch + 1;
          if (expected && meta.producerEpoch !== NO_PRODUCER_EPOCH && expected.producerEpoch !== meta.producerEpoch) {
            // KIP-360: a retry of the InitProducerId that made the current epoch gets it again.
            if (expected.producerEpoch !== meta.lastProducerEpoch) fail('PRODUCER_FENCED', `${where}: epoch ${expected.producerEpoch} is neither the current ${meta.producerEpoch} nor the previous ${meta.lastProducerEpoch}`);
            epoch = meta.producerEpoch;
          }
          transit = meta.prepare({ state: 'Empty', producerEpoch: epoch, transactionTimeoutMs: timeoutMs, partitions: new Set(), startTimestampMs: -1 }, nowMs);
        }
        await this.#write(load, meta, transit);
        return { producerId: meta.producerId, producerEpoch: meta.producerEpoch };
      }
      default:
        return fail('UNKNOWN_SERVER_ERROR', `${where} is in state ${meta.state}, which no request finds`);
    }
  }

  #stillServingPartition(load: PartitionLoad): boolean {
    return !this.#closed && [...this.#partitions.values()].includes(load);
  }

  // ------------------------------------------------------------------ AddPartitionsToTxn, AddOffsetsToTxn

  /**
   * Adds partitions to the producer's transaction (starting it: Ongoing), or
   * with verifyOnly (KIP-890, from a partition leader) says for each whether
   * it is in the ongoing transaction (TRANSACTION_ABORTABLE when not),
   * changing nothing.
   */
  addPartitionsToTxn(request: AddPartitionsToTxnRequest): Promise<AddPartitionsToTxnResponse> {
    return this.#addPartitionsToTxn(request, false);
  }

  /** `waited`: held once for the previous transaction's end already; `followed`: writes of other adds waited for. */
  async #addPartitionsToTxn(request: AddPartitionsToTxnRequest, waited: boolean, followed = 0): Promise<AddPartitionsToTxnResponse> {
    checkTransactionalId(request.transactionalId);
    checkProducer(request.producerId, request.producerEpoch);
    checkTopics(request.topics);
    const all = (error: WafkaErrorJSON): AddPartitionsToTxnResponse => ({ error, results: resultsFor(request.topics, error) });
    let load: PartitionLoad;
    try {
      load = this.#serving(request.transactionalId);
    } catch (error) {
      return all(asWafkaError(error).toJSON());
    }
    const meta = load.transactions.get(request.transactionalId);
    // The next transaction of the id: held until the previous one is complete (a partition leader's verification is not).
    if (!waited && !request.verifyOnly && meta && this.#completing(meta)) {
      if (await this.#addWithCompletion(meta, request)) return { results: resultsFor(request.topics) };
      return this.#addPartitionsToTxn(request, true);
    }
    // Another add of the id is being written (a send's partitions beside sendOffsets'): this one follows it.
    const writing = meta && !request.verifyOnly && meta.pending?.state === 'Ongoing' ? this.#writing.get(meta) : undefined;
    if (writing && followed < ADD_WRITES_FOLLOWED_MAX) {
      await this.#withinEndWait(writing.catch(() => {}));
      return this.#addPartitionsToTxn(request, waited, followed + 1);
    }
    const where = `transactional id '${request.transactionalId}'`;
    const ending = meta !== undefined && (meta.state === 'PrepareCommit' || meta.state === 'PrepareAbort');
    // After a rotation (epoch exhaustion) the producer already has the next producer id, which the Complete state brings.
    if (ending && meta!.nextProducerId !== NO_PRODUCER_ID && request.producerId === meta!.nextProducerId) {
      return all(errorJSON('CONCURRENT_TRANSACTIONS', `${where} is ending a transaction (${meta!.state})`));
    }
    const mismatch = this.#producerMismatch(meta, request.transactionalId, request.producerId, request.producerEpoch);
    if (mismatch) return all(mismatch);
    if (ending) return all(errorJSON('CONCURRENT_TRANSACTIONS', `${where} is ending a transaction (${meta!.state})`));
    const keys = request.topics.flatMap((t) => t.partitions.map((p) => txnPartitionKey(t.topic, p)));
    if (request.verifyOnly) {
      const inTxn = meta!.state === 'Ongoing' ? meta!.partitions : new Set<string>();
      return {
        results: request.topics.map((t) => ({
          topic: t.topic,
          partitions: t.partitions.map((p) => inTxn.has(txnPartitionKey(t.topic, p)) ? { partition: p }
            : { partition: p, error: errorJSON('TRANSACTION_ABORTABLE', `${t.topic}-${p} is not in the ongoing transaction of ${where} (producer ${request.producerId} epoch ${request.producerEpoch}, ${meta!.state})`) }),
        })),
      };
    }
    if (meta!.pending) return all(errorJSON('CONCURRENT_TRANSACTIONS', `${where} is changing to ${meta!.pending.state}`));
    if (meta!.state === 'Ongoing' && keys.every((k) => meta!.partitions.has(k))) return { results: resultsFor(request.topics) };
    const partitions = new Set(meta!.state === 'Ongoing' ? meta!.partitions : []);
    for (const k of keys) partitions.add(k);
    if (partitions.size > this.config.transactionPartitionsMax) {
      return all(errorJSON('POLICY_VIOLATION', `a transaction of ${partitions.size} partitions, over the limit (transactionPartitionsMax ${this.config.transactionPartitionsMax})`));
    }
    const nowMs = this.#clock.nowMs();
    const startTimestampMs = meta!.state === 'Ongoing' ? meta!.startTimestampMs : nowMs;
    try {
      await this.#write(load, meta!, meta!.prepare({ state: 'Ongoing', partitions, startTimestampMs }, nowMs));
    } catch (error) {
      return all(asWafkaError(error).toJSON());
    }
    return { results: resultsFor(request.topics) };
  }

  /** Why this producer may not act for `meta` now, or null. */
  #producerMismatch(meta: TransactionMetadata | undefined, transactionalId: string, producerId: bigint, producerEpoch: number): WafkaErrorJSON | null {
    if (!meta || meta.producerId !== producerId) {
      return errorJSON('INVALID_PRODUCER_ID_MAPPING', `producer ${producerId} is not the producer of transactional id '${transactionalId}'${meta ? ` (${meta.producerId} is)` : ' (unknown here)'}`);
    }
    if (meta.producerEpoch !== producerEpoch) {
      return errorJSON('PRODUCER_FENCED', `producer ${producerId} epoch ${producerEpoch} of transactional id '${transactionalId}' was fenced: the epoch is ${meta.producerEpoch} now`);
    }
    return null;
  }

  // ------------------------------------------------------------------ EndTxn

  async endTxn(request: EndTxnRequest): Promise<EndTxnResponse> {
    checkTransactionalId(request.transactionalId);
    checkProducer(request.producerId, request.producerEpoch);
    if (typeof request.committed !== 'boolean') fail('INVALID_REQUEST', 'committed must be a boolean');
    const refused = (error: WafkaErrorJSON): EndTxnResponse => ({ error, producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH });
    let load: PartitionLoad;
    try {
      load = this.#serving(request.transactionalId);
    } catch (error) {
      return refused(asWafkaError(error).toJSON());
    }
    const meta = load.transactions.get(request.transactionalId);
    const where = `transactional id '${request.transactionalId}'`;
    const outcome = request.committed ? 'commit' : 'abort';
    if (!meta || meta.producerId !== request.producerId) return refused(this.#producerMismatch(meta, request.transactionalId, request.producerId, request.producerEpoch)!);
    const ended: TransactionState = request.committed ? 'CompleteCommit' : 'CompleteAbort';
    const ending: TransactionState = request.committed ? 'PrepareCommit' : 'PrepareAbort';
    // KIP-890 part 2: a retry of the EndTxn that bumped the epoch (its answer was lost, or its coordinator
    // failed) carries the epoch just before the bump. A coordinator's abort bumps twice: never taken for this.
    // A client that keeps its epoch (EndTxn below version 5) retries with the same epoch.
    const keepsEpoch = request.keepsEpoch === true;
    const retriedEpoch = keepsEpoch ? request.producerEpoch : request.producerEpoch + 1;
    const endingOrEnded = meta.state === 'PrepareCommit' || meta.state === 'PrepareAbort' || meta.state === 'CompleteCommit' || meta.state === 'CompleteAbort';
    if (endingOrEnded && meta.producerEpoch === retriedEpoch && !meta.pending) {
      if (meta.state === ended) return { producerId: meta.producerId, producerEpoch: meta.producerEpoch };
      if (meta.state === ending) return this.#endAnswer(meta, refused);
      return refused(errorJSON('INVALID_TXN_STATE', `${where} is ${meta.state}: a ${outcome} retried does not fit`));
    }
    if (meta.producerEpoch !== request.producerEpoch) return refused(this.#producerMismatch(meta, request.transactionalId, request.producerId, request.producerEpoch)!);
    if (meta.pending) return refused(errorJSON('CONCURRENT_TRANSACTIONS', `${where} is changing to ${meta.pending.state}`));
    if (meta.state !== 'Ongoing') {
      if (meta.state === 'PrepareCommit' || meta.state === 'PrepareAbort') return refused(errorJSON(meta.state === ending ? 'CONCURRENT_TRANSACTIONS' : 'INVALID_TXN_STATE', `${where} is ${meta.state}`));
      return refused(errorJSON('INVALID_TXN_STATE', `${where} has no open transaction to ${outcome} (${meta.state})`));
    }
    try {
      await this.#prepareEnd(load, meta, request.committed, meta.producerEpoch + (keepsEpoch ? 0 : 1));
    } catch (error) {
      return refused(asWafkaError(error).toJSON());
    }
    return this.#endAnswer(meta, refused);
  }

  /** EndTxn's answer once the Prepare state is stored: the id and epoch the producer continues with. */
  #endAnswer(meta: TransactionMetadata, refused: (error: WafkaErrorJSON) => EndTxnResponse): EndTxnResponse {
    const load = this.#partitions.get(meta.partition);
    if (!load || load.transactions.get(meta.transactionalId) !== meta) {
      return refused(errorJSON('NOT_COORDINATOR', `broker ${this.#nodeId} stopped coordinating transactional id '${meta.transactionalId}'; its outcome is decided: retry at the new coordinator`));
    }
    // After a rotation (epoch exhaustion) the producer continues with the next producer id.
    if (meta.nextProducerId !== NO_PRODUCER_ID) return { producerId: meta.nextProducerId, producerEpoch: 0 };
    return { producerId: meta.producerId, producerEpoch: meta.producerEpoch };
  }

  /**
   * Writes PrepareCommit/PrepareAbort at `epoch` and starts the markers. A
   * client's end bumps the epoch once (KIP-890 part 2; not for a client that
   * keeps its epoch, EndTxn below version 5); a coordinator's abort comes
   * from PrepareEpochFence, one bump already made.
   */
  async #prepareEnd(load: PartitionLoad, meta: TransactionMetadata, committed: boolean, epoch: number): Promise<void> {
    if (isEpochExhausted(epoch) && meta.nextProducerId === NO_PRODUCER_ID) meta.nextProducerId = await this.#newProducerId();
    const transit = meta.prepare({ state: committed ? 'PrepareCommit' : 'PrepareAbort', producerEpoch: epoch }, this.#clock.nowMs());
    await this.#write(load, meta, transit);
    this.#startEnding(load, meta);
  }

  /** A coordinator-made abort of an open transaction (InitProducerId of a new holder, timeout): fence, then abort. */
  async #fenceAndAbort(load: PartitionLoad, meta: TransactionMetadata): Promise<void> {
    const before = { state: meta.state, producerEpoch: meta.producerEpoch };
    const fence = meta.prepare({ state: 'PrepareEpochFence', producerEpoch: meta.producerEpoch + 1 }, this.#clock.nowMs());
    meta.pending = null;
    meta.apply(fence);
    try {
      await this.#prepareEnd(load, meta, false, meta.producerEpoch + 1);
    } catch (error) {
      // The abort was not written: the transaction stays open as it was (the next fence or timeout tries again).
      meta.state = before.state;
      meta.producerEpoch = before.producerEpoch;
      throw error;
    }
  }

  /** `meta` has a Prepare state stored whose markers and Complete state are being written here. */
  #completing(meta: TransactionMetadata): boolean {
    return (meta.state === 'PrepareCommit' || meta.state === 'PrepareAbort') && this.#ending.has(meta);
  }

  /** Waits for the end under way of `meta` (markers, then Complete), up to transactionEndWaitMs. */
  async #awaitCompletion(meta: TransactionMetadata): Promise<void> {
    const end = this.#ending.get(meta);
    if (end) await this.#withinEndWait(end.catch(() => {}));
  }

  /** `work`, or nothing once transactionEndWaitMs has passed. */
  async #withinEndWait(work: Promise<unknown>): Promise<void> {
    let timer: TimerHandle | undefined;
    const waited = new Promise<void>((resolve) => { timer = this.#clock.setTimeout(resolve, this.config.transactionEndWaitMs); });
    await Promise.race([work, waited]);
    this.#clock.clearTimeout(timer);
  }

  /**
   * An add for the next transaction of `meta`, whose previous one is ending:
   * its partitions are written with the Complete state. True once they are;
   * false when they were not (another producer, an epoch rotation, the end
   * failed, transactionEndWaitMs passed): the caller goes on as without this.
   */
  async #addWithCompletion(meta: TransactionMetadata, request: AddPartitionsToTxnRequest): Promise<boolean> {
    if (meta.nextProducerId !== NO_PRODUCER_ID || meta.producerId !== request.producerId || meta.producerEpoch !== request.producerEpoch) {
      await this.#awaitCompletion(meta);
      return false;
    }
    let next = this.#nextAdds.get(meta);
    if (!next) {
      let written!: (merged: boolean) => void;
      const result = new Promise<boolean>((resolve) => { written = resolve; });
      next = { keys: new Map(), written, result };
      this.#nextAdds.set(meta, next);
    }
    const keys = [...new Set(request.topics.flatMap((t) => t.partitions.map((p) => txnPartitionKey(t.topic, p))))];
    for (const k of keys) next.keys.set(k, (next.keys.get(k) ?? 0) + 1);
    let merged: boolean | undefined;
    await this.#withinEndWait(next.result.then((m) => { merged = m; }));
    if (merged === undefined && this.#nextAdds.get(meta) === next) {
      // Given up on: what only this request asked for is not written on its behalf.
      for (const k of keys) {
        const waiting = next.keys.get(k)! - 1;
        if (waiting === 0) next.keys.delete(k);
        else next.keys.set(k, waiting);
      }
    }
    return merged === true && meta.state === 'Ongoing' && keys.every((k) => meta.partitions.has(k));
  }

  /** The held adds of `meta`'s next transaction, taken for the Complete write (null when none, or too many partitions: they go on their own). */
  #takeNextAdds(meta: TransactionMetadata): NextAdds | null {
    const next = this.#nextAdds.get(meta);
    if (!next) return null;
    this.#nextAdds.delete(meta);
    if (next.keys.size === 0) return null;
    if (next.keys.size > this.config.transactionPartitionsMax) { next.written(false); return null; }
    return next;
  }

  /** Sends the markers of the transaction `meta` is ending, then writes its Complete state; once per end. */
  #startEnding(load: PartitionLoad, meta: TransactionMetadata): void {
    if (this.#ending.has(meta)) return;
    const end = this.#finishEnd(load, meta).finally(() => {
      this.#ending.delete(meta);
      // Held adds the Complete write did not take go on their own.
      this.#nextAdds.get(meta)?.written(false);
      this.#nextAdds.delete(meta);
    });
    this.#ending.set(meta, end);
    end.catch(() => {});
  }

  async #finishEnd(load: PartitionLoad, meta: TransactionMetadata): Promise<void> {
    const committed = meta.state === 'PrepareCommit';
    let remaining = [...meta.partitions];
    for (let attempt = 0; remaining.length > 0; attempt++) {
      if (!this.#stillServing(load, meta)) return;
      const marker: TxnMarker = {
        producerId: meta.producerId, producerEpoch: meta.producerEpoch, committed, coordinatorEpoch: load.epoch,
        topics: groupTxnPartitions(remaining),
      };
      let results: TxnPartitionResults[];
      try {
        results = await this.#markers.write(marker);
      } catch (error) {
        const e = asWafkaError(error).toJSON();
        results = marker.topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map((partition) => ({ partition, error: e })) }));
      }
      const failed = new Set<string>();
      for (const t of results) {
        for (const p of t.partitions) {
          // A partition whose topic is gone has no reader left to tell: its marker is dropped, as Kafka does.
          if (p.error && p.error.type !== 'UNKNOWN_TOPIC_OR_PARTITION') failed.add(txnPartitionKey(t.topic, p.partition));
        }
      }
      const answered = new Set(results.flatMap((t) => t.partitions.map((p) => txnPartitionKey(t.topic, p.partition))));
      remaining = remaining.filter((k) => failed.has(k) || !answered.has(k));
      if (remaining.length > 0) await sleepOn(this.#clock, Math.min(this.config.transactionMarkerRetryBackoffMs * 2 ** Math.min(attempt, 4), 2_000));
    }
    for (let attempt = 0; ; attempt++) {
      if (!this.#stillServing(load, meta)) return;
      const rotate = meta.nextProducerId !== NO_PRODUCER_ID;
      const next = rotate ? null : this.#takeNextAdds(meta);
      try {
        const nowMs = this.#clock.nowMs();
        const transit = meta.prepare({
          state: committed ? 'CompleteCommit' : 'CompleteAbort', partitions: new Set(),
          ...(rotate ? { producerId: meta.nextProducerId, producerEpoch: 0 } : {}),
        }, nowMs);
        const transits = [transit];
        if (next) transits.push({ ...transit, state: 'Ongoing', partitions: new Set(next.keys.keys()), startTimestampMs: nowMs });
        await this.#writeTransits(load, meta, transits);
        next?.written(true);
        if (rotate) meta.nextProducerId = NO_PRODUCER_ID;
        return;
      } catch (error) {
        next?.written(false);
        const type = asWafkaError(error).type;
        if (type === 'NOT_COORDINATOR' || type === 'INVALID_TXN_STATE') return;
        await sleepOn(this.#clock, Math.min(this.config.transactionMarkerRetryBackoffMs * 2 ** Math.min(attempt, 4), 2_000));
      }
    }
  }

  // ------------------------------------------------------------------ Timeouts and expiration

  #scheduleChecks(): void {
    if (this.#closed) return;
    if (this.#timeoutTimer === undefined) {
      this.#timeoutTimer = this.#clock.setTimeout(() => {
        this.#timeoutTimer = undefined;
        this.abortTimedOutTransactions();
        if (this.#partitions.size > 0) this.#scheduleChecks();
      }, this.config.transactionAbortTimedOutTransactionCleanupIntervalMs);
      (this.#timeoutTimer as { unref?: () => void }).unref?.();
    }
    if (this.#expirationTimer === undefined) {
      this.#expirationTimer = this.#clock.setTimeout(() => {
        this.#expirationTimer = undefined;
        void this.removeExpiredTransactionalIds();
        if (this.#partitions.size > 0) this.#scheduleChecks();
      }, this.config.transactionRemoveExpiredTransactionCleanupIntervalMs);
      (this.#expirationTimer as { unref?: () => void }).unref?.();
    }
  }

  /** Aborts (fencing the producer) every open transaction older than its timeout; returns the ids it started to abort. */
  abortTimedOutTransactions(): string[] {
    const nowMs = this.#clock.nowMs();
    const aborted: string[] = [];
    for (const load of this.#partitions.values()) {
      if (load.state !== 'active') continue;
      for (const meta of load.transactions.values()) {
        if (meta.state !== 'Ongoing' || meta.pending || nowMs - meta.startTimestampMs <= meta.transactionTimeoutMs) continue;
        aborted.push(meta.transactionalId);
        this.#fenceAndAbort(load, meta).catch(() => {});
      }
    }
    return aborted;
  }

  /** Removes ids idle (no transaction open) for transactionalIdExpirationMs: a tombstone each. */
  async removeExpiredTransactionalIds(): Promise<string[]> {
    const nowMs = this.#clock.nowMs();
    const removed: Promise<string | null>[] = [];
    for (const load of this.#partitions.values()) {
      if (load.state !== 'active') continue;
      for (const meta of load.transactions.values()) {
        if (meta.pending || meta.hasOpenTransaction || nowMs - meta.lastUpdateTimestampMs <= this.config.transactionalIdExpirationMs) continue;
        removed.push((async () => {
          try {
            await this.#write(load, meta, meta.prepare({ state: 'Dead', partitions: new Set() }, nowMs));
          } catch {
            return null;
          }
          if (load.transactions.get(meta.transactionalId) === meta) {
            load.transactions.delete(meta.transactionalId);
            this.#idCount--;
          }
          return meta.transactionalId;
        })());
      }
    }
    return (await Promise.all(removed)).filter((id): id is string => id !== null);
  }

  // ------------------------------------------------------------------ Describe, list

  async describeTransactions(request: DescribeTransactionsRequest): Promise<DescribeTransactionsResponse> {
    if (!request || !Array.isArray(request.transactionalIds) || request.transactionalIds.length > REQUEST_ITEMS_MAX) fail('INVALID_REQUEST', `transactionalIds must be an array of at most ${REQUEST_ITEMS_MAX}`);
    return {
      transactionStates: request.transactionalIds.map((transactionalId): DescribedTransaction => {
        const none = { transactionalId, state: 'Dead' as TransactionState, producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH, transactionTimeoutMs: 0, transactionStartTimeMs: -1n, topics: [] };
        try {
          checkTransactionalId(transactionalId);
          const meta = this.#serving(transactionalId).transactions.get(transactionalId);
          if (!meta || meta.state === 'Dead') return { ...none, error: errorJSON('TRANSACTIONAL_ID_NOT_FOUND', `transactional id '${transactionalId}' is not known to its coordinator`) };
          return {
            transactionalId, state: meta.state, producerId: meta.producerId, producerEpoch: meta.producerEpoch,
            transactionTimeoutMs: meta.transactionTimeoutMs, transactionStartTimeMs: BigInt(meta.startTimestampMs),
            topics: groupTxnPartitions(meta.partitions),
          };
        } catch (error) {
          return { ...none, error: asWafkaError(error).toJSON() };
        }
      }),
    };
  }

  async listTransactions(request: ListTransactionsRequest = {}): Promise<ListTransactionsResponse> {
    const states = request?.stateFilters?.length ? new Set(request.stateFilters) : null;
    const producers = request?.producerIdFilters?.length ? new Set(request.producerIdFilters) : null;
    const out: ListTransactionsResponse['transactionStates'] = [];
    for (const load of this.#partitions.values()) {
      if (load.state !== 'active') continue;
      for (const meta of load.transactions.values()) {
        if (meta.state === 'Dead' || (states && !states.has(meta.state)) || (producers && !producers.has(meta.producerId))) continue;
        out.push({ transactionalId: meta.transactionalId, producerId: meta.producerId, state: meta.state });
      }
    }
    return { transactionStates: out.sort((a, b) => (a.transactionalId < b.transactionalId ? -1 : a.transactionalId > b.transactionalId ? 1 : 0)) };
  }

  /** For tests and the console: one id's state as this coordinator holds it. */
  describe(transactionalId: string): { state: TransactionState; producerId: bigint; producerEpoch: number; partitions: { topic: string; partition: number }[] } | null {
    const meta = this.#partitions.get(this.partitionFor(transactionalId))?.transactions.get(transactionalId);
    return meta ? { state: meta.state, producerId: meta.producerId, producerEpoch: meta.producerEpoch, partitions: [...meta.partitions].map(splitTxnPartitionKey) } : null;
  }
}

function sleepOn(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => { clock.setTimeout(resolve, ms); });
}

/**
 * What a requester hears when a write to __transaction_state failed, as
 * Kafka maps it: leadership lost → NOT_COORDINATOR; not enough replicas or a
 * timeout → COORDINATOR_NOT_AVAILABLE (both retriable at the coordinator).
 */
function appendError(error: unknown): WafkaError {
  const e = asWafkaError(error);
  switch (e.type) {
    case 'NOT_COORDINATOR': case 'CONCURRENT_TRANSACTIONS': case 'COORDINATOR_NOT_AVAILABLE':
      return e;
    case 'NOT_LEADER_OR_FOLLOWER': case 'KAFKA_STORAGE_ERROR': case 'FENCED_LEADER_EPOCH': case 'BROKER_NOT_AVAILABLE':
      return new WafkaError('NOT_COORDINATOR', `the __transaction_state partition moved: ${e.message}`, { cause: e });
    case 'UNKNOWN_TOPIC_OR_PARTITION': case 'NOT_ENOUGH_REPLICAS': case 'NOT_ENOUGH_REPLICAS_AFTER_APPEND': case 'REQUEST_TIMED_OUT': case 'LEADER_NOT_AVAILABLE':
      return new WafkaError('COORDINATOR_NOT_AVAILABLE', `the __transaction_state partition cannot take the write now: ${e.message}`, { cause: e });
    default:
      return new WafkaError('UNKNOWN_SERVER_ERROR', e.message, { cause: e });
  }
}

function resultsFor(topics: readonly TxnTopicPartitions[], error?: WafkaErrorJSON): TxnPartitionResults[] {
  return topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map((partition) => (error ? { partition, error } : { partition })) }));
}

export function checkTransactionalId(value: unknown): asserts value is string {
  if (typeof value !== 'string' || value === '') fail('INVALID_REQUEST', 'transactionalId must be a non-empty string');
  if (new TextEncoder().encode(value as string).byteLength > TRANSACTIONAL_ID_BYTES_MAX) fail('INVALID_REQUEST', `a transactional id of more than ${TRANSACTIONAL_ID_BYTES_MAX} B`);
}

function checkProducer(producerId: unknown, producerEpoch: unknown): void {
  if (typeof producerId !== 'bigint' || producerId < 0n || producerId > (1n << 63n) - 1n) fail('INVALID_REQUEST', 'producerId must be a non-negative int64 (bigint)');
  if (!Number.isInteger(producerEpoch) || (producerEpoch as number) < 0 || (producerEpoch as number) > 0x7fff) fail('INVALID_REQUEST', 'producerEpoch must be an int16 ≥ 0');
}

function checkTopics(topics: unknown): void {
  if (!Array.isArray(topics) || topics.length > REQUEST_ITEMS_MAX) fail('INVALID_REQUEST', `topics must be an array of at most ${REQUEST_ITEMS_MAX}`);
  let count = 0;
  for (const t of topics as unknown[]) {
    const topic = t as TxnTopicPartitions | null;
    if (!topic || typeof topic.topic !== 'string' || topic.topic === '' || !Array.isArray(topic.partitions)) fail('INVALID_REQUEST', 'each topic needs topic (string) and partitions (array of numbers)');
    count += topic!.partitions.length;
    if (count > REQUEST_ITEMS_MAX) fail('INVALID_REQUEST', `more than ${REQUEST_ITEMS_MAX} partitions in one request`);
    for (const p of topic!.partitions) if (!Number.isInteger(p) || p < 0 || p > INT32_MAX) fail('INVALID_REQUEST', `partition ${String(p)} of '${topic!.topic}'`);
  }
}

export { TRANSACTION_STATE_IDS };
