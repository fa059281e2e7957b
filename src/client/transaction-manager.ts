/**
 * A transactional producer's side of Kafka's transaction protocol (the Java
 * client's TransactionManager): its producer id and epoch from the
 * transaction coordinator (InitProducerId), the partitions added to the open
 * transaction (AddPartitionsToTxn, always before the first batch to a
 * partition is sent), consumed offsets sent in it (AddOffsetsToTxn, then
 * TxnOffsetCommit to the group's coordinator), and its end (EndTxn; the
 * coordinator answers the epoch the next transaction uses, KIP-890).
 *
 * Requests to the transaction coordinator go in the order they are made:
 * InitProducerId and EndTxn one at a time, after every request before them
 * and before every request after them (as the Java client's one in-flight
 * transactional request). Adds (a send's AddPartitionsToTxn, sendOffsets'
 * AddOffsetsToTxn) may be out together: wafka's coordinator takes an add that
 * comes during another add's write after it, and writes adds held behind the
 * previous transaction's end with its Complete state, in one write.
 *
 * Errors: a retriable one (CONCURRENT_TRANSACTIONS, the coordinator moving
 * or loading) is retried with backoff (CONCURRENT_TRANSACTIONS first after
 * 20 ms); PRODUCER_FENCED (or a produce's
 * INVALID_PRODUCER_EPOCH) is fatal: a newer producer holds the id, and
 * every call from then on fails with it; any other failure inside a
 * transaction makes it abortable: commit fails, abort is what is left.
 */
import { WafkaError } from '../errors.ts';
import {
  COORDINATOR_KEY_TYPE_TRANSACTION, transactionMethodsOf, type TransactionApi, type TxnTopicPartitions,
} from '../protocol/types.ts';
import { fromErrorJSON, toWafkaError, type ClusterClient } from './connection.ts';
import { COORDINATOR_MOVED, findCoordinators, groupCall } from './group/group-requests.ts';
import type { Logger } from './logger.ts';
import { backoffMs, type RetryOptions } from './retry.ts';
import type { ConsumerGroupMetadata } from './types.ts';

/** Errors that end the producer: it can only be disconnected. */
export const FATAL_TRANSACTION_ERRORS = new Set(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 'INVALID_PRODUCER_ID_MAPPING']);
/** Attempts of one coordinator request before the error is given to the caller (each after a backoff). */
const COORDINATOR_ATTEMPTS_MAX = 30;
/**
 * First wait before retrying a CONCURRENT_TRANSACTIONS answer, doubled each
 * time up to the usual backoff (Kafka's client retries one AddPartitionsToTxn
 * after 20 ms): the previous transaction of the id is only finishing its
 * markers, a matter of milliseconds.
 */
export const CONCURRENT_TRANSACTIONS_BACKOFF_MS = 20;

export interface TransactionOffsets {
  consumerGroupId: string;
  topics: { topic: string; partitions: { partition: number; offset: string | number | bigint; metadata?: string | null }[] }[];
  /** KIP-447: the consumer's group metadata (consumer.groupMetadata()), so a zombie's offsets are refused. */
  consumerGroupMetadata?: ConsumerGroupMetadata;
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class TransactionManager {
  readonly transactionalId: string;
  readonly transactionTimeoutMs: number;
  readonly #cluster: ClusterClient;
  readonly #logger: Logger;
  readonly #retry: Required<RetryOptions>;
  producerId = -1n;
  producerEpoch = -1;
  #coordinatorId = -1;
  /** The group coordinator of the last group sendOffsets committed for (found again once it moves). */
  #groupCoordinator: { groupId: string; nodeId: number } | null = null;
  /** The turn of the last InitProducerId or EndTxn: every request after it waits for it. */
  #exclusiveTurn: Promise<void> = Promise.resolve();
  /** The adds made since then: the next InitProducerId or EndTxn waits for them too. */
  readonly #addsOut = new Set<Promise<void>>();
  /** A transaction is open (transaction() was called and it has not ended). */
  inTransaction = false;
  /** Partitions added to the open transaction (the coordinator has them). */
  readonly #added = new Set<string>();
  /** Partitions being added now, and the request adding them. */
  #adding: Promise<void> | null = null;
  #addingKeys = new Set<string>();
  /** Offsets sent in the open transaction (an end must be sent even with no records). */
  #offsetsSent = false;
  /** The fatal error, once fenced. */
  fatal: WafkaError | null = null;
  /** The error that makes the open transaction abort-only. */
  abortable: WafkaError | null = null;

  constructor(options: { transactionalId: string; transactionTimeoutMs: number; cluster: ClusterClient; logger: Logger; retry: Required<RetryOptions> }) {
    this.transactionalId = options.transactionalId;
    this.transactionTimeoutMs = options.transactionTimeoutMs;
    this.#cluster = options.cluster;
    this.#logger = options.logger;
    this.#retry = options.retry;
  }

  checkUsable(): void {
    if (this.fatal) throw this.fatal;
  }

  /** Records a failure: fatal ones fence the producer; others make the open transaction abort-only. Returns it. */
  failed(error: WafkaError): WafkaError {
    if (FATAL_TRANSACTION_ERRORS.has(error.type)) {
      const fenced = error.type === 'PRODUCER_FENCED' ? error
        : new WafkaError('PRODUCER_FENCED', `transactional id '${this.transactionalId}': ${error.message}`, { cause: error });
      this.fatal ??= fenced;
      return this.fatal;
    }
    if (this.inTransaction) this.abortable ??= error;
    return error;
  }

  async #coordinator(): Promise<number> {
    if (this.#coordinatorId < 0) {
      this.#coordinatorId = (await findCoordinators(this.#cluster, [this.transactionalId], COORDINATOR_KEY_TYPE_TRANSACTION)).get(this.transactionalId)!;
    }
    return this.#coordinatorId;
  }

  /**
   * One request to the transaction coordinator, sent in its turn (see the
   * top of this file), and retried (with backoff, after
   * finding the coordinator again when it moved) while its error is
   * retriable; `answer` turns a response into its error or its result.
   */
  async #call<R, T>(apiName: string, send: (api: TransactionApi & { initProducerId: (r: never) => Promise<unknown> }, nodeId: number) => Promise<R>, answer: (response: R) => T): Promise<T> {
    this.checkUsable();
    const add = apiName === 'AddPartitionsToTxn' || apiName === 'AddOffsetsToTxn';
    const before = add ? this.#exclusiveTurn : Promise.all([this.#exclusiveTurn, ...this.#addsOut]);
    let release!: () => void;
    const mine = new Promise<void>((resolve) => { release = resolve; });
    if (add) {
      this.#addsOut.add(mine);
    } else {
      this.#exclusiveTurn = mine;
      this.#addsOut.clear();
    }
    try {
      await before;
      return await this.#callNow(apiName, send, answer);
    } finally {
      release();
      this.#addsOut.delete(mine);
    }
  }

  async #callNow<R, T>(apiName: string, send: (api: TransactionApi & { initProducerId: (r: never) => Promise<unknown> }, nodeId: number) => Promise<R>, answer: (response: R) => T): Promise<T> {
    this.checkUsable();
    let lastError: WafkaError | undefined;
    let concurrent = 0;
    for (let attempt = 0; attempt < COORDINATOR_ATTEMPTS_MAX; attempt++) {
      if (attempt > 0) {
        const usual = backoffMs(this.#retry, Math.min(attempt - 1, 6));
        const wait = lastError?.type === 'CONCURRENT_TRANSACTIONS' ? Math.min(usual, CONCURRENT_TRANSACTIONS_BACKOFF_MS * 2 ** Math.min(concurrent++, 8)) : usual;
        await new Promise((r) => setTimeout(r, wait));
      }
      let nodeId: number;
      try {
        nodeId = await this.#coordinator();
      } catch (error) {
        lastError = toWafkaError(error);
        if (!lastError.retriable && !COORDINATOR_MOVED.has(lastError.type)) throw lastError;
        this.#cluster.markStale();
        continue;
      }
      try {
        const response = await this.#cluster.request(nodeId, apiName, 0, (api) => {
          if (apiName !== 'InitProducerId' && !transactionMethodsOf(api).includes('endTxn')) {
            throw new WafkaError('UNSUPPORTED_VERSION', `broker ${nodeId} does not serve transaction requests (${apiName})`);
          }
          return send(api as never, nodeId);
        });
        return answer(response);
      } catch (error) {
        lastError = toWafkaError(error);
        if (COORDINATOR_MOVED.has(lastError.type)) { this.#coordinatorId = -1; continue; }
        if (lastError.type === 'CONCURRENT_TRANSACTIONS' || lastError.retriable) continue;
        throw this.failed(lastError);
      }
    }
    throw lastError ?? new WafkaError('COORDINATOR_NOT_AVAILABLE', `no transaction coordinator answered for '${this.transactionalId}'`);
  }

  /** InitProducerId from the coordinator: the id and epoch; the previous holder of the id is fenced by it. */
  async initProducerId(): Promise<{ producerId: bigint; producerEpoch: number }> {
    const { producerId, producerEpoch } = await this.#call('InitProducerId',
      (api) => (api as unknown as { initProducerId: (r: object) => Promise<{ producerId: bigint; producerEpoch: number }> })
        .initProducerId({ transactionalId: this.transactionalId, transactionTimeoutMs: this.transactionTimeoutMs }),
      (r) => r);
    this.producerId = producerId;
    this.producerEpoch = producerEpoch;
    this.#logger.debug(`transactional id '${this.transactionalId}': producer id ${producerId} epoch ${producerEpoch}`);
    return { producerId, producerEpoch };
  }

  begin(): void {
    this.checkUsable();
    if (this.inTransaction) throw new WafkaError('INVALID_TXN_STATE', `transactional id '${this.transactionalId}' already has an open transaction`);
    this.inTransaction = true;
    this.#added.clear();
    this.#offsetsSent = false;
    this.abortable = null;
  }

  isAdded(topic: string, partition: number): boolean {
    return this.#added.has(key(topic, partition));
  }

  /**
   * Adds these partitions to the open transaction (one request at a time;
   * partitions asked for meanwhile go in the next). Resolves once they are
   * added; rejects with the error that refused them.
   */
  async addPartitions(partitions: { topic: string; partition: number }[]): Promise<void> {
    for (;;) {
      const wanted = partitions.filter((p) => !this.#added.has(key(p.topic, p.partition)));
      if (wanted.length === 0) return;
      if (this.#adding) {
        const mine = wanted.every((p) => this.#addingKeys.has(key(p.topic, p.partition)));
        await this.#adding.catch(() => {});
        if (mine && wanted.some((p) => !this.#added.has(key(p.topic, p.partition)))) {
          if (this.abortable) throw this.abortable;
          this.checkUsable();
        }
        continue;
      }
      const keys = new Set(wanted.map((p) => key(p.topic, p.partition)));
      const topics = new Map<string, number[]>();
      for (const p of wanted) {
        let list = topics.get(p.topic);
        if (!list) topics.set(p.topic, (list = []));
        if (!list.includes(p.partition)) list.push(p.partition);
      }
      const request: TxnTopicPartitions[] = [...topics].map(([topic, ps]) => ({ topic, partitions: ps }));
      this.#addingKeys = keys;
      this.#adding = this.#call('AddPartitionsToTxn',
        (api) => api.addPartitionsToTxn({ transactionalId: this.transactionalId, producerId: this.producerId, producerEpoch: this.producerEpoch, topics: request }),
        (r) => {
          const error = fromErrorJSON(r.error) ?? r.results.map((t) => t.partitions.map((p) => fromErrorJSON(p.error)).find((e) => e)).find((e) => e);
          if (error) throw error;
        }).then(() => { for (const k of keys) this.#added.add(k); });
      try {
        await this.#adding;
      } catch (error) {
        throw this.failed(toWafkaError(error));
      } finally {
        this.#adding = null;
        this.#addingKeys = new Set();
      }
    }
  }

  /**
   * Commits consumed offsets in the open transaction: the group's offsets
   * partition joins the transaction (AddOffsetsToTxn), then the offsets go to
   * the group's coordinator (TxnOffsetCommit), visible once the transaction
   * commits.
   */
  async sendOffsets(offsets: TransactionOffsets): Promise<void> {
    this.checkUsable();
    if (!this.inTransaction) throw new WafkaError('INVALID_TXN_STATE', 'sendOffsets needs an open transaction');
    const groupId = offsets.consumerGroupId ?? offsets.consumerGroupMetadata?.groupId;
    if (typeof groupId !== 'string' || groupId === '') throw new TypeError('wafka: sendOffsets needs consumerGroupId');
    if (!Array.isArray(offsets.topics)) throw new TypeError('wafka: sendOffsets needs topics: [{ topic, partitions: [{ partition, offset }] }]');
    const topics = offsets.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p) => {
        const offset = BigInt(p.offset);
        if (offset < 0n) throw new WafkaError('INVALID_COMMIT_OFFSET_SIZE', `offset ${p.offset} of ${t.topic}-${p.partition}: expected ≥ 0`);
        return { partition: p.partition, committedOffset: offset, committedMetadata: p.metadata ?? null };
      }),
    }));
    try {
      await this.#call('AddOffsetsToTxn',
        (api) => api.addOffsetsToTxn({ transactionalId: this.transactionalId, producerId: this.producerId, producerEpoch: this.producerEpoch, groupId }),
        (r) => { const e = fromErrorJSON(r.error); if (e) throw e; });
      this.#offsetsSent = true;
      const member = offsets.consumerGroupMetadata;
      let groupCoordinator = this.#groupCoordinator?.groupId === groupId ? this.#groupCoordinator.nodeId : -1;
      let lastError: WafkaError | undefined;
      for (let attempt = 0; attempt < COORDINATOR_ATTEMPTS_MAX; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, backoffMs(this.#retry, Math.min(attempt - 1, 6))));
        try {
          if (groupCoordinator < 0) {
            groupCoordinator = (await findCoordinators(this.#cluster, [groupId])).get(groupId)!;
            this.#groupCoordinator = { groupId, nodeId: groupCoordinator };
          }
          const response = await groupCall(this.#cluster, groupCoordinator, 'TxnOffsetCommit', (api) => {
            if (!transactionMethodsOf(api).includes('txnOffsetCommit')) throw new WafkaError('UNSUPPORTED_VERSION', `broker ${groupCoordinator} does not serve TxnOffsetCommit`);
            return (api as unknown as TransactionApi).txnOffsetCommit({
              transactionalId: this.transactionalId, groupId, producerId: this.producerId, producerEpoch: this.producerEpoch,
              generationId: member?.generationId ?? -1, memberId: member?.memberId ?? '', groupInstanceId: member?.groupInstanceId ?? null, topics,
            });
          });
          const error = fromErrorJSON(response.error) ?? response.topics.flatMap((t) => t.partitions.map((p) => fromErrorJSON(p.error))).find((e) => e);
          if (error) throw error;
          return;
        } catch (error) {
          lastError = toWafkaError(error);
          if (COORDINATOR_MOVED.has(lastError.type)) { groupCoordinator = -1; this.#groupCoordinator = null; continue; }
          if (lastError.type === 'CONCURRENT_TRANSACTIONS' || lastError.type === 'UNSTABLE_OFFSET_COMMIT' || lastError.retriable) continue;
          throw lastError;
        }
      }
      throw lastError!;
    } catch (error) {
      throw this.failed(toWafkaError(error));
    }
  }

  /**
   * Ends the open transaction (after its records are flushed): EndTxn, unless
   * nothing was added to it (then there is nothing to decide). Returns the
   * producer id and epoch the next transaction uses.
   */
  async end(committed: boolean): Promise<{ producerId: bigint; producerEpoch: number }> {
    this.checkUsable();
    if (!this.inTransaction) throw new WafkaError('INVALID_TXN_STATE', 'no open transaction to end');
    if (committed && this.abortable) throw new WafkaError(this.abortable.type, `the transaction cannot commit, only abort: ${this.abortable.message}`, { cause: this.abortable, retriable: false });
    if (this.#added.size > 0 || this.#offsetsSent) {
      const { producerId, producerEpoch } = await this.#call('EndTxn',
        (api) => api.endTxn({ transactionalId: this.transactionalId, producerId: this.producerId, producerEpoch: this.producerEpoch, committed }),
        (r) => { const e = fromErrorJSON(r.error); if (e) throw e; return r; });
      this.producerId = producerId;
      this.producerEpoch = producerEpoch;
    }
    this.inTransaction = false;
    this.#added.clear();
    this.#offsetsSent = false;
    this.abortable = null;
    return { producerId: this.producerId, producerEpoch: this.producerEpoch };
  }
}
