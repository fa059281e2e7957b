/**
 * One transactional id's state at its coordinator (Kafka's
 * TransactionMetadata), and Kafka's state machine over it:
 *
 *   Empty             ← Empty, CompleteCommit, CompleteAbort   (InitProducerId)
 *   Ongoing           ← Ongoing, Empty, CompleteCommit, CompleteAbort (AddPartitions/AddOffsets)
 *   PrepareCommit     ← Ongoing                                (EndTxn commit)
 *   PrepareAbort      ← Ongoing, PrepareEpochFence             (EndTxn abort, fencing, timeout)
 *   CompleteCommit    ← PrepareCommit                          (every marker written)
 *   CompleteAbort     ← PrepareAbort                           (every marker written)
 *   PrepareEpochFence ← Ongoing                                (InitProducerId or timeout fences an open transaction)
 *   Dead              ← Empty, CompleteCommit, CompleteAbort   (transactionalIdExpirationMs)
 *
 * A change is prepared (`prepare`: checked against the table, held as
 * `pending`, which makes other requests wait with CONCURRENT_TRANSACTIONS),
 * written to __transaction_state, and only then applied (`complete`) or
 * dropped (`abandon`). PrepareEpochFence is never written: it is the
 * in-memory step before the PrepareAbort that carries the fenced epoch.
 */
import { WafkaError } from '../../errors.ts';
import type { TransactionState } from '../../protocol/types.ts';
import type { StoredTransaction } from './transaction-log-records.ts';

export const VALID_PREVIOUS_STATES: Readonly<Record<TransactionState, readonly TransactionState[]>> = Object.freeze({
  Empty: ['Empty', 'CompleteCommit', 'CompleteAbort'],
  Ongoing: ['Ongoing', 'Empty', 'CompleteCommit', 'CompleteAbort'],
  PrepareCommit: ['Ongoing'],
  PrepareAbort: ['Ongoing', 'PrepareEpochFence'],
  CompleteCommit: ['PrepareCommit'],
  CompleteAbort: ['PrepareAbort'],
  PrepareEpochFence: ['Ongoing'],
  Dead: ['Empty', 'CompleteCommit', 'CompleteAbort'],
});

export function isLegalTransition(from: TransactionState, to: TransactionState): boolean {
  return VALID_PREVIOUS_STATES[to].includes(from);
}

/** Kafka's RecordBatch.NO_PRODUCER_EPOCH / NO_PRODUCER_ID. */
export const NO_PRODUCER_EPOCH = -1;
export const NO_PRODUCER_ID = -1n;
const INT16_MAX = 0x7fff;

/** Kafka's TransactionMetadata.isEpochExhausted: the epoch cannot be bumped (twice, for a fence) again. */
export function isEpochExhausted(epoch: number): boolean {
  return epoch >= INT16_MAX - 2;
}

/** A state a transition leads to: every field the record will store. */
export interface Transit {
  state: TransactionState;
  producerId: bigint;
  producerEpoch: number;
  transactionTimeoutMs: number;
  partitions: Set<string>;
  startTimestampMs: number;
  lastUpdateTimestampMs: number;
}

/** `topic\0partition`: the key of one partition in a transaction. */
export function txnPartitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export function splitTxnPartitionKey(key: string): { topic: string; partition: number } {
  const at = key.lastIndexOf('\u0000');
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
}

/** Partition keys grouped by topic, sorted (the stored and answered form). */
export function groupTxnPartitions(keys: Iterable<string>): { topic: string; partitions: number[] }[] {
  const byTopic = new Map<string, number[]>();
  for (const key of keys) {
    const { topic, partition } = splitTxnPartitionKey(key);
    let list = byTopic.get(topic);
    if (!list) byTopic.set(topic, (list = []));
    list.push(partition);
  }
  return [...byTopic].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }));
}

export class TransactionMetadata {
  readonly transactionalId: string;
  /** The transactions partition that holds it. */
  readonly partition: number;
  producerId: bigint;
  /** The producer id before the last rotation (epoch exhaustion), so a retry of that InitProducerId is recognised. */
  previousProducerId = NO_PRODUCER_ID;
  producerEpoch: number;
  /** The epoch before the last bump by InitProducerId (KIP-360: a retry with it gets the same answer). */
  lastProducerEpoch = NO_PRODUCER_EPOCH;
  transactionTimeoutMs: number;
  state: TransactionState;
  readonly partitions = new Set<string>();
  startTimestampMs = -1;
  lastUpdateTimestampMs: number;
  /** The transition being written; requests that would change the state meanwhile get CONCURRENT_TRANSACTIONS. */
  pending: Transit | null = null;
  /** The id an exhausted epoch moves to when the transaction under way ends (Kafka's nextProducerId). */
  nextProducerId = NO_PRODUCER_ID;

  constructor(init: { transactionalId: string; partition: number; producerId: bigint; producerEpoch: number; transactionTimeoutMs: number; state: TransactionState; nowMs: number }) {
    this.transactionalId = init.transactionalId;
    this.partition = init.partition;
    this.producerId = init.producerId;
    this.producerEpoch = init.producerEpoch;
    this.transactionTimeoutMs = init.transactionTimeoutMs;
    this.state = init.state;
    this.lastUpdateTimestampMs = init.nowMs;
  }

  static restored(transactionalId: string, partition: number, stored: StoredTransaction): TransactionMetadata {
    const m = new TransactionMetadata({
      transactionalId, partition, producerId: stored.producerId, producerEpoch: stored.producerEpoch,
      transactionTimeoutMs: stored.transactionTimeoutMs, state: stored.state, nowMs: Number(stored.lastUpdateTimestampMs),
    });
    for (const t of stored.partitions) for (const p of t.partitions) m.partitions.add(txnPartitionKey(t.topic, p));
    m.startTimestampMs = Number(stored.startTimestampMs);
    return m;
  }

  /** A transaction is open or ending: its partitions may hold records that are not yet decided. */
  get hasOpenTransaction(): boolean {
    return this.state === 'Ongoing' || this.state === 'PrepareCommit' || this.state === 'PrepareAbort' || this.state === 'PrepareEpochFence';
  }

  /** The transition to `changes.state`, checked against Kafka's table; it becomes `pending`. */
  prepare(changes: Partial<Transit> & { state: TransactionState }, nowMs: number): Transit {
    if (this.pending) throw new WafkaError('CONCURRENT_TRANSACTIONS', `transactional id '${this.transactionalId}' is changing to ${this.pending.state}`);
    if (!isLegalTransition(this.state, changes.state)) {
      throw new WafkaError('INVALID_TXN_STATE', `transactional id '${this.transactionalId}': ${this.state} cannot become ${changes.state}`);
    }
    const transit: Transit = {
      producerId: this.producerId, producerEpoch: this.producerEpoch, transactionTimeoutMs: this.transactionTimeoutMs,
      partitions: new Set(this.partitions), startTimestampMs: this.startTimestampMs, lastUpdateTimestampMs: nowMs, ...changes,
    };
    if (transit.producerEpoch < 0 || transit.producerEpoch > INT16_MAX) throw new WafkaError('INVALID_PRODUCER_EPOCH', `epoch ${transit.producerEpoch} outside [0, ${INT16_MAX}]`);
    this.pending = transit;
    return transit;
  }

  /** The pending transition was written: it is the state now. */
  complete(transit: Transit): void {
    if (this.pending !== transit) throw new WafkaError('UNKNOWN_SERVER_ERROR', `transactional id '${this.transactionalId}': completing a transition that is not the pending one`);
    this.pending = null;
    this.apply(transit);
  }

  /** Applies a transition without writing it (PrepareEpochFence, which Kafka keeps in memory only). */
  apply(transit: Transit): void {
    if (transit.producerEpoch !== this.producerEpoch && transit.state === 'Empty') this.lastProducerEpoch = this.producerEpoch;
    if (transit.producerId !== this.producerId) this.previousProducerId = this.producerId;
    this.state = transit.state;
    this.producerId = transit.producerId;
    this.producerEpoch = transit.producerEpoch;
    this.transactionTimeoutMs = transit.transactionTimeoutMs;
    this.partitions.clear();
    for (const p of transit.partitions) this.partitions.add(p);
    this.startTimestampMs = transit.startTimestampMs;
    this.lastUpdateTimestampMs = transit.lastUpdateTimestampMs;
  }

  /** The write failed: the state stays as it was. */
  abandon(transit: Transit): void {
    if (this.pending === transit) this.pending = null;
  }

  stored(transit: Transit = this): StoredTransaction {
    return {
      producerId: transit.producerId, producerEpoch: transit.producerEpoch, transactionTimeoutMs: transit.transactionTimeoutMs,
      state: transit.state, partitions: transit.state === 'Empty' ? [] : groupTxnPartitions(transit.partitions),
      lastUpdateTimestampMs: BigInt(transit.lastUpdateTimestampMs), startTimestampMs: BigInt(transit.startTimestampMs),
    };
  }
}
