/**
 * The cluster simulation's transaction workload (the `transactions` option
 * of ./cluster.ts): one transactional producer ('sim-txn') that finds its
 * transaction coordinator, takes its producer id (InitProducerId), and runs
 * transactions one after another: AddPartitionsToTxn for 1..3 partitions,
 * one transactional batch of unique values to each (retried as the
 * idempotent producer retries), then EndTxn commit or abort at random, the
 * next transaction at the epoch EndTxn answered (KIP-890), as the client's
 * TransactionManager does. A read_committed consumer per partition drops
 * control batches and aborted transactions' batches as the client consumer
 * does (../client/aborted-transactions.ts).
 *
 * Each transaction's outcome is what the producer learnt: committed (its
 * commit acknowledged), aborted (its abort acknowledged, or the coordinator
 * fenced it, which it does only after aborting it itself), or unknown. The
 * checks (Jepsen's and Kafka's transaction properties):
 * - no value of an aborted transaction is read by a read_committed consumer;
 * - after the final heal, every value of a committed transaction is read;
 * - a transaction's values are read all or none (whatever its outcome);
 * - read_committed never delivers a value twice (at different offsets), nor
 *   a record at or above the answer's last stable offset.
 */
import { AbortedTransactionFilter } from '../client/aborted-transactions.ts';
import { decodeBatchSync, encodeBatchSync } from '../core/index.ts';
import type { WafkaError, WafkaErrorJSON } from '../errors.ts';
import {
  COORDINATOR_KEY_TYPE_TRANSACTION, type BrokerApi, type FetchPartitionResponse, type GroupApi, type TransactionApi,
} from '../protocol/types.ts';
import type { SimScheduler } from './scheduler.ts';

export const TRANSACTIONAL_ID = 'sim-txn';
/** Short, so the coordinator's timeout abort happens under the faults too. */
export const SIM_TRANSACTION_TIMEOUT_MS = 1_500;

/** What the workload needs from the cluster it runs in. */
export interface TransactionWorkloadContext {
  scheduler: SimScheduler;
  topic: string;
  partitions: number;
  brokers: number;
  nowMs(): number;
  sleep(ms: number): Promise<void>;
  /** The client's view of broker `id` (requests time out, get lost). */
  api(id: number): BrokerApi & GroupApi & TransactionApi;
  leaderOf(partition: number): Promise<number>;
  violations: string[];
  /** A produce acknowledged with acks=-1 (checked to stay in the log whatever its transaction's outcome). */
  acknowledged(partition: number, offset: bigint, value: string): void;
  failed(type: string): void;
}

type Outcome = 'committed' | 'aborted' | 'unknown';
interface Transaction { id: number; values: { partition: number; value: string }[]; outcome: Outcome }

/** Errors after which the transaction is over for this producer: the coordinator aborted it and bumped the epoch. */
const FENCED = new Set(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH', 'INVALID_TXN_STATE']);
/** Produce refusals nothing the producer did warrants. */
const REFUSED = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_RECORD']);
/** How long past the faulty phase the producer still retries to learn a transaction's fate. */
const RETRY_PAST_END_MS = 20_000;

const errorOf = (e: unknown): string => (e as WafkaError)?.type ?? 'UNKNOWN';

export class TransactionWorkload {
  readonly #ctx: TransactionWorkloadContext;
  readonly transactions: Transaction[] = [];
  /** partition → value → offsets it was delivered at, by the read_committed consumers. */
  readonly #read = new Map<number, Map<string, bigint>>();
  readonly #positions = new Map<number, bigint>();
  #valueSeq = 0;
  #producerId = -1n;
  #producerEpoch = -1;

  constructor(ctx: TransactionWorkloadContext) {
    this.#ctx = ctx;
    for (let p = 0; p < ctx.partitions; p++) {
      this.#read.set(p, new Map());
      this.#positions.set(p, 0n);
    }
  }

  get committed(): number { return this.transactions.filter((t) => t.outcome === 'committed').length; }
  get aborted(): number { return this.transactions.filter((t) => t.outcome === 'aborted').length; }

  // ------------------------------------------------------------------ the producer

  /** The transaction coordinator as a random broker names it; -1 when none answers. */
  async #coordinator(): Promise<number> {
    const ctx = this.#ctx;
    try {
      const { coordinators } = await ctx.api(ctx.scheduler.int(0, ctx.brokers - 1))
        .findCoordinator({ keyType: COORDINATOR_KEY_TYPE_TRANSACTION, coordinatorKeys: [TRANSACTIONAL_ID] });
      return coordinators[0]?.error ? -1 : coordinators[0]?.nodeId ?? -1;
    } catch {
      return -1;
    }
  }

  /**
   * One request to the coordinator, retried (finding the coordinator again
   * each time) while it fails retriably, until `untilMs`. Answers the
   * response, or the error type that ended the retries ('GAVE_UP' at the end).
   */
  async #call<R extends object & { error?: WafkaErrorJSON }>(send: (api: TransactionApi & BrokerApi) => Promise<R>, untilMs: number): Promise<R | string> {
    const ctx = this.#ctx;
    for (;;) {
      let error = 'COORDINATOR_NOT_AVAILABLE';
      const coordinator = await this.#coordinator();
      if (coordinator >= 0) {
        try {
          const response = await send(ctx.api(coordinator));
          if (!response.error) return response;
          error = response.error.type;
        } catch (e) {
          error = errorOf(e);
        }
      }
      if (FENCED.has(error) || REFUSED.has(error) || error === 'INVALID_TRANSACTION_TIMEOUT' || error === 'INVALID_REQUEST') return error;
      if (ctx.nowMs() > untilMs) return 'GAVE_UP';
      await ctx.sleep(ctx.scheduler.int(10, 60));
    }
  }

  /** InitProducerId for the transactional id (it fences and aborts what an earlier epoch left open). */
  async #initProducerId(untilMs: number): Promise<boolean> {
    const r = await this.#call((api) => api.initProducerId({ transactionalId: TRANSACTIONAL_ID, transactionTimeoutMs: SIM_TRANSACTION_TIMEOUT_MS }), untilMs);
    if (typeof r === 'string') return false;
    this.#producerId = r.producerId;
    this.#producerEpoch = r.producerEpoch;
    return true;
  }

  /** Before the faults: the first FindCoordinator creates __transaction_state; waits until the coordinator gives an id. */
  async setUp(untilMs: number): Promise<void> {
    if (!await this.#initProducerId(untilMs)) throw new Error(`no producer id for '${TRANSACTIONAL_ID}' within the set-up`);
  }

  async produceLoop(endMs: number): Promise<void> {
    const ctx = this.#ctx;
    const untilMs = endMs + RETRY_PAST_END_MS;
    while (ctx.nowMs() < endMs) {
      await ctx.sleep(ctx.scheduler.int(1, 20));
      if (this.#producerId < 0n && !await this.#initProducerId(untilMs)) return;
      const count = ctx.scheduler.int(1, Math.min(3, ctx.partitions));
      const partitions: number[] = [];
      while (partitions.length < count) {
        const p = ctx.scheduler.int(0, ctx.partitions - 1);
        if (!partitions.includes(p)) partitions.push(p);
      }
      const txn: Transaction = { id: this.transactions.length, values: [], outcome: 'unknown' };
      const outcome = await this.#runTransaction(txn, partitions, untilMs);
      if (txn.values.length > 0) this.transactions.push(txn);
      txn.outcome = outcome;
      if (outcome === 'unknown' && ctx.nowMs() > untilMs) return;
    }
  }

  /** One transaction; answers its outcome, and leaves the producer ready for the next one (or without an id: -1). */
  async #runTransaction(txn: Transaction, partitions: number[], untilMs: number): Promise<Outcome> {
    const ctx = this.#ctx;
    const producerId = this.#producerId;
    const producerEpoch = this.#producerEpoch;
    const fenced = (): Outcome => { this.#producerId = -1n; return 'aborted'; };
    const added = await this.#call((api) => api.addPartitionsToTxn({
      transactionalId: TRANSACTIONAL_ID, producerId, producerEpoch, topics: [{ topic: ctx.topic, partitions }],
    }).then((r) => ({ ...r, error: r.error ?? r.results[0]?.partitions.find((p) => p.error)?.error })), untilMs);
    if (typeof added === 'string') {
      ctx.failed(`AddPartitionsToTxn ${added}`);
      // Nothing was written: whatever the coordinator holds is ended by the next InitProducerId.
      this.#producerId = -1n;
      return 'aborted';
    }
    let abortOnly = false;
    for (const partition of partitions) {
      const value = `t${txn.id}.${this.#valueSeq++}`;
      // The first batch of each partition in this epoch: sequence 0 (every transaction runs at a fresh epoch).
      const records = encodeBatchSync([{ key: null, value, timestamp: ctx.nowMs() }], {
        baseTimestamp: ctx.nowMs(), producerId, producerEpoch, baseSequence: 0, isTransactional: true,
      });
      txn.values.push({ partition, value });
      const result = await this.#produce(partition, records, value, untilMs);
      if (result === 'acknowledged') continue;
      if (FENCED.has(result)) return fenced();
      if (REFUSED.has(result)) ctx.violations.push(`transactional batch ${value} (partition ${partition}, producer ${producerId} epoch ${producerEpoch}) refused with ${result}`);
      abortOnly = true;
      break;
    }
    const commit = !abortOnly && ctx.scheduler.random() < 0.5;
    let attempts = 0;
    const ended = await this.#call((api) => {
      attempts++;
      return api.endTxn({ transactionalId: TRANSACTIONAL_ID, producerId, producerEpoch, committed: commit });
    }, untilMs);
    if (typeof ended !== 'string') {
      this.#producerId = ended.producerId;
      this.#producerEpoch = ended.producerEpoch;
      return commit ? 'committed' : 'aborted';
    }
    ctx.failed(`EndTxn ${ended}`);
    this.#producerId = -1n;
    // Fenced at the first commit attempt: the coordinator had aborted it (timeout). Fenced on a retry: an
    // earlier attempt may have committed it (and bumped the epoch) with its answer lost.
    if (FENCED.has(ended) && (!commit || attempts === 1)) return 'aborted';
    return 'unknown';
  }

  /** One batch sent to its partition's leader until acknowledged: 'acknowledged', or the error type that stopped it. */
  async #produce(partition: number, records: Uint8Array, value: string, untilMs: number): Promise<string> {
    const ctx = this.#ctx;
    for (;;) {
      const leader = await ctx.leaderOf(partition);
      let error = 'LEADER_NOT_AVAILABLE';
      if (leader >= 0) {
        try {
          const answer = (await ctx.api(leader).produce({
            acks: -1, timeoutMs: 500, transactionalId: TRANSACTIONAL_ID, topics: [{ topic: ctx.topic, partitions: [{ partition, records }] }],
          })).topics[0]?.partitions[0];
          if (answer && !answer.error) {
            ctx.acknowledged(partition, answer.baseOffset, value);
            return 'acknowledged';
          }
          error = answer?.error?.type ?? 'NO_ANSWER';
        } catch (e) {
          error = errorOf(e);
        }
      }
      ctx.failed(error);
      if (FENCED.has(error) || REFUSED.has(error)) return error;
      if (ctx.nowMs() > untilMs) return 'GAVE_UP';
      await ctx.sleep(ctx.scheduler.int(5, 50));
    }
  }

  // ------------------------------------------------------------------ the read_committed consumers

  async consumeLoop(partition: number, endMs: number): Promise<void> {
    const ctx = this.#ctx;
    while (ctx.nowMs() < endMs + 2_000) {
      await ctx.sleep(ctx.scheduler.int(5, 50));
      await this.#fetchOnce(partition);
    }
  }

  /** After the final heal: reads on until every consumer's position is its partition's log end (`logEnds`). */
  async drain(logEnds: Map<number, bigint>, untilMs: number): Promise<void> {
    const ctx = this.#ctx;
    for (const [partition, end] of logEnds) {
      let lastStable = -1n;
      while (this.#positions.get(partition)! < end) {
        if (ctx.nowMs() > untilMs) {
          ctx.violations.push(`read_committed consumer of partition ${partition} stuck at ${this.#positions.get(partition)} below the log end ${end} (last stable offset ${lastStable}) after the final heal`);
          break;
        }
        lastStable = await this.#fetchOnce(partition) ?? lastStable;
        await ctx.sleep(20);
      }
    }
  }

  /** One read_committed fetch at the consumer's position; answers the last stable offset, or null. */
  async #fetchOnce(partition: number): Promise<bigint | null> {
    const ctx = this.#ctx;
    const leader = await ctx.leaderOf(partition);
    if (leader < 0) return null;
    const position = this.#positions.get(partition)!;
    let r: FetchPartitionResponse | undefined;
    try {
      r = (await ctx.api(leader).fetch({
        maxWaitMs: 100, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 'read_committed',
        topics: [{ topic: ctx.topic, partitions: [{ partition, fetchOffset: position, partitionMaxBytes: 1 << 20 }] }],
      })).topics[0]?.partitions[0];
    } catch {
      return null; // A timeout or an unreachable leader: try again.
    }
    if (!r || r.error) return null;
    if (!r.records) return r.lastStableOffset;
    const filter = new AbortedTransactionFilter(r.abortedTransactions);
    const read = this.#read.get(partition)!;
    let next = position;
    const td = new TextDecoder();
    for (let pos = 0; pos < r.records.length;) {
      const batch = decodeBatchSync(r.records, { position: pos });
      pos += batch.sizeInBytes;
      const delivers = filter.delivers({ ...batch, isAbortMarker: batch.isControlBatch && isAbortMarker(batch.records[0]?.key ?? null) });
      if (batch.lastOffset < next) continue;
      if (delivers) {
        for (const record of batch.records) {
          if (record.offset < next) continue;
          const value = record.value ? td.decode(record.value) : '';
          if (record.offset >= r.lastStableOffset) ctx.violations.push(`read_committed fetch of partition ${partition} delivered ${value} at offset ${record.offset}, at or above its last stable offset ${r.lastStableOffset}`);
          const earlier = read.get(value);
          if (earlier !== undefined && earlier !== record.offset) ctx.violations.push(`read_committed delivered ${value} twice in partition ${partition}: offsets ${earlier} and ${record.offset}`);
          read.set(value, record.offset);
        }
      }
      next = batch.lastOffset + 1n;
    }
    this.#positions.set(partition, next);
    return r.lastStableOffset;
  }

  // ------------------------------------------------------------------ the checks

  finalChecks(): void {
    const ctx = this.#ctx;
    for (const txn of this.transactions) {
      const read = txn.values.filter((v) => this.#read.get(v.partition)!.has(v.value));
      const names = txn.values.map((v) => `${v.value}@p${v.partition}`).join(', ');
      if (txn.outcome === 'aborted' && read.length > 0) ctx.violations.push(`transaction ${txn.id} was aborted, yet read_committed read ${read.map((v) => v.value).join(', ')} (of ${names})`);
      else if (txn.outcome === 'committed' && read.length < txn.values.length) ctx.violations.push(`transaction ${txn.id} was committed, yet read_committed read only ${read.length} of ${names}`);
      else if (read.length > 0 && read.length < txn.values.length) ctx.violations.push(`transaction ${txn.id} (${txn.outcome}) read in part: ${read.map((v) => v.value).join(', ')} of ${names}`);
    }
  }
}

/** A control record's key: version int16, type int16 (0 ABORT, 1 COMMIT). */
function isAbortMarker(key: Uint8Array | null): boolean {
  return !!key && key.length >= 4 && new DataView(key.buffer, key.byteOffset, key.byteLength).getInt16(2) === 0;
}
