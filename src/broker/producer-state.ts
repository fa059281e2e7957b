/**
 * Idempotent producers' state on one partition replica (Kafka's
 * ProducerStateManager): for each producer id, its epoch and its last five
 * batches (first/last sequence and offsets), read from batch headers only.
 *
 * The leader checks every idempotent batch against it before appending: a
 * batch already stored (a retry after a lost answer) is answered with its
 * original offsets and not written again; a sequence gap is
 * OUT_OF_ORDER_SEQUENCE_NUMBER; an older epoch INVALID_PRODUCER_EPOCH; a
 * producer this partition never saw starting past sequence 0
 * UNKNOWN_PRODUCER_ID. Followers apply the same headers as they copy the
 * leader's batches, so a new leader already knows every producer; a replica
 * that opens its log rebuilds the state by walking the headers of what it
 * holds (see ../broker/partition.ts).
 *
 * Transactions (Kafka's ProducerAppendInfo): a producer's first transactional
 * batch opens its transaction at that batch's offset; an end-transaction
 * marker (a control batch the coordinator has the leader write) closes it,
 * and may bump the producer's epoch. A non-transactional batch from a
 * producer with an open transaction is INVALID_TXN_STATE; a marker of an
 * older producer epoch INVALID_PRODUCER_EPOCH, of an older coordinator epoch
 * TRANSACTION_COORDINATOR_FENCED. The first offset of every open transaction,
 * and of every closed one whose marker is not yet below the high watermark
 * (Kafka's unreplicated transactions), bounds the last stable offset. A
 * producer with an open transaction never expires nor is evicted.
 */
import { WafkaError } from '../errors.ts';

/** Kafka's ProducerStateEntry.NumBatchesToRetain: how far back a retry is recognised. */
export const PRODUCER_BATCHES_KEPT = 5;
/** Producer ids one partition keeps; past it the least recently used is forgotten. */
export const PRODUCER_IDS_PER_PARTITION_MAX = 10_000;
/** Kafka's producer.id.expiration.ms default: a producer silent this long is forgotten. */
export const PRODUCER_ID_EXPIRATION_MS_DEFAULT = 86_400_000;

const INT32_MAX = 0x7fffffff;

/** The idempotence fields of one batch header, and the offsets it holds. */
export interface IdempotentBatch {
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  /** lastOffsetDelta: the batch covers baseSequence .. baseSequence + this (wrapping past int32). */
  lastOffsetDelta: number;
  baseOffset: bigint;
  maxTimestampMs: number;
  /** Part of a transaction (the batch's transactional attribute). */
  isTransactional?: boolean;
}

/** An end-transaction marker (a control batch) as stored at `offset`. */
export interface TxnMarkerBatch {
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  committed: boolean;
  offset: bigint;
  timestampMs: number;
}

/** A transaction a marker closed (Kafka's CompletedTxn): its data lies in [firstOffset, lastOffset), the marker at lastOffset. */
export interface CompletedTxn {
  producerId: bigint;
  firstOffset: bigint;
  lastOffset: bigint;
  aborted: boolean;
}

export interface BatchEntry {
  firstSequence: number;
  lastSequence: number;
  firstOffset: bigint;
  lastOffset: bigint;
}

/** One producer as a snapshot keeps it (./producer-snapshot.ts). */
export interface ProducerSnapshotEntry {
  producerId: bigint;
  epoch: number;
  coordinatorEpoch: number;
  currentTxnFirstOffset: bigint | null;
  lastSeenMs: number;
  batches: BatchEntry[];
}

interface ProducerEntry {
  epoch: number;
  batches: BatchEntry[];
  lastSeenMs: number;
  /** The coordinator epoch of the last marker; -1 before any. */
  coordinatorEpoch: number;
  /** Where the producer's open transaction starts; null when none is open. */
  currentTxnFirstOffset: bigint | null;
}

export type SequenceCheck = { kind: 'append' } | { kind: 'duplicate'; firstOffset: bigint; lastOffset: bigint };

/** Kafka's sequence arithmetic: int32, wrapping to 0 after INT32_MAX. */
export function lastSequenceOf(baseSequence: number, lastOffsetDelta: number): number {
  return baseSequence > INT32_MAX - lastOffsetDelta ? lastOffsetDelta - (INT32_MAX - baseSequence) - 1 : baseSequence + lastOffsetDelta;
}

/** Kafka's rule: while a producer's transaction is open, its batches are transactional. */
function checkTransactional(entry: ProducerEntry, batch: IdempotentBatch, where: string): void {
  if (entry.currentTxnFirstOffset !== null && !batch.isTransactional) {
    throw new WafkaError('INVALID_TXN_STATE', `${where}: a non-transactional batch while the producer's transaction from offset ${entry.currentTxnFirstOffset} is open`);
  }
}

function nextSequence(sequence: number): number {
  return sequence === INT32_MAX ? 0 : sequence + 1;
}

export class ProducerState {
  readonly #producers = new Map<bigint, ProducerEntry>();
  /** Open transactions: producer id → first offset. */
  readonly #ongoing = new Map<bigint, bigint>();
  /** Closed transactions whose marker the high watermark has not passed yet, in marker order. */
  #unreplicated: CompletedTxn[] = [];
  /** Whether any transactional batch or marker was applied (truncation then needs a rebuild: see PartitionProducers). */
  #sawTransactions = false;

  get producerCount(): number {
    return this.#producers.size;
  }

  get sawTransactions(): boolean {
    return this.#sawTransactions;
  }

  /** The open transactions, producer id → first offset. */
  get ongoingTransactions(): ReadonlyMap<bigint, bigint> {
    return this.#ongoing;
  }

  /**
   * The first offset a read_committed reader may not pass yet (Kafka's
   * firstUnstableOffset), or null: the lowest first offset of an open
   * transaction or of a closed one whose marker lies at or above
   * `highWatermark`.
   */
  firstUnstableOffset(highWatermark: bigint): bigint | null {
    if (this.#unreplicated.length > 0 && this.#unreplicated[0].lastOffset < highWatermark) {
      this.#unreplicated = this.#unreplicated.filter((t) => t.lastOffset >= highWatermark);
    }
    let first: bigint | null = null;
    for (const offset of this.#ongoing.values()) if (first === null || offset < first) first = offset;
    for (const t of this.#unreplicated) if (first === null || t.firstOffset < first) first = t.firstOffset;
    return first;
  }

  /** Whether the producer has a transaction open here at `producerEpoch` (Kafka's hasOngoingTransaction: no verification needed). */
  hasOngoingTransaction(producerId: bigint, producerEpoch: number): boolean {
    const entry = this.#producers.get(producerId);
    return entry !== undefined && entry.currentTxnFirstOffset !== null && entry.epoch === producerEpoch;
  }

  /**
   * Whether `batch` may be appended now (or is a retry of one stored), read
   * against the state as it is; throws the Kafka error that refuses it.
   */
  check(batch: IdempotentBatch): SequenceCheck {
    const entry = this.#producers.get(batch.producerId);
    const firstSequence = batch.baseSequence;
    const lastSequence = lastSequenceOf(firstSequence, batch.lastOffsetDelta);
    const where = `producer ${batch.producerId} epoch ${batch.producerEpoch} sequence ${firstSequence}..${lastSequence}`;
    if (firstSequence < 0) throw new WafkaError('INVALID_RECORD', `${where}: an idempotent batch needs a base sequence ≥ 0`);
    if (!entry) {
      if (firstSequence !== 0) throw new WafkaError('UNKNOWN_PRODUCER_ID', `${where}: this partition has no state for the producer and the batch does not start at sequence 0`);
      return { kind: 'append' };
    }
    if (batch.producerEpoch < entry.epoch) {
      throw new WafkaError('INVALID_PRODUCER_EPOCH', `${where}: epoch ${batch.producerEpoch} is older than the producer's current epoch ${entry.epoch}`);
    }
    if (batch.producerEpoch > entry.epoch) {
      if (firstSequence !== 0) throw new WafkaError('OUT_OF_ORDER_SEQUENCE_NUMBER', `${where}: a new epoch starts at sequence 0`);
      checkTransactional(entry, batch, where);
      return { kind: 'append' };
    }
    const duplicate = entry.batches.find((b) => b.firstSequence === firstSequence && b.lastSequence === lastSequence);
    if (duplicate) return { kind: 'duplicate', firstOffset: duplicate.firstOffset, lastOffset: duplicate.lastOffset };
    const last = entry.batches[entry.batches.length - 1];
    const expected = last ? nextSequence(last.lastSequence) : 0;
    if (firstSequence !== expected) {
      throw new WafkaError('OUT_OF_ORDER_SEQUENCE_NUMBER', `${where}: expected sequence ${expected} next`);
    }
    checkTransactional(entry, batch, where);
    return { kind: 'append' };
  }

  /**
   * Whether the leader may write this marker now; throws INVALID_PRODUCER_EPOCH
   * for an epoch older than the producer's, TRANSACTION_COORDINATOR_FENCED for
   * a coordinator epoch older than the last marker's.
   */
  checkMarker(marker: { producerId: bigint; producerEpoch: number; coordinatorEpoch: number }): void {
    const entry = this.#producers.get(marker.producerId);
    if (!entry) return;
    const where = `marker of producer ${marker.producerId} epoch ${marker.producerEpoch} coordinator epoch ${marker.coordinatorEpoch}`;
    if (marker.producerEpoch < entry.epoch) {
      throw new WafkaError('INVALID_PRODUCER_EPOCH', `${where}: epoch ${marker.producerEpoch} is older than the producer's current epoch ${entry.epoch}`);
    }
    if (marker.coordinatorEpoch < entry.coordinatorEpoch) {
      throw new WafkaError('TRANSACTION_COORDINATOR_FENCED', `${where}: coordinator epoch ${marker.coordinatorEpoch} is older than ${entry.coordinatorEpoch} of the last marker`);
    }
  }

  /**
   * A marker was written (as leader or follower, or found when rebuilding):
   * the producer's transaction, if one is open, is complete. Returns it (null
   * for a marker of no data: it changes neither the last stable offset nor
   * the aborted index).
   */
  applyMarker(marker: TxnMarkerBatch, nowMs: number): CompletedTxn | null {
    if (marker.producerId < 0n) return null;
    this.#sawTransactions = true;
    const entry = this.#touch(marker.producerId, marker.producerEpoch, nowMs, marker.timestampMs);
    const first = entry.currentTxnFirstOffset;
    entry.coordinatorEpoch = marker.coordinatorEpoch;
    entry.currentTxnFirstOffset = null;
    this.#ongoing.delete(marker.producerId);
    if (first === null) return null;
    const completed: CompletedTxn = { producerId: marker.producerId, firstOffset: first, lastOffset: marker.offset, aborted: !marker.committed };
    this.#unreplicated.push(completed);
    return completed;
  }

  /** A batch was written to the log (as leader or as follower, or found when rebuilding). */
  apply(batch: IdempotentBatch, nowMs: number): void {
    if (batch.producerId < 0n) return;
    const entry = this.#touch(batch.producerId, batch.producerEpoch, nowMs, batch.maxTimestampMs);
    if (batch.isTransactional) {
      this.#sawTransactions = true;
      if (entry.currentTxnFirstOffset === null) {
        entry.currentTxnFirstOffset = batch.baseOffset;
        this.#ongoing.set(batch.producerId, batch.baseOffset);
      }
    }
    if (batch.baseSequence < 0) return;
    entry.batches.push({
      firstSequence: batch.baseSequence,
      lastSequence: lastSequenceOf(batch.baseSequence, batch.lastOffsetDelta),
      firstOffset: batch.baseOffset,
      lastOffset: batch.baseOffset + BigInt(batch.lastOffsetDelta),
    });
    if (entry.batches.length > PRODUCER_BATCHES_KEPT) entry.batches.shift();
  }

  /** The entry of `producerId`, made the most recently used, at `epoch` if that is newer (which forgets its batches). */
  #touch(producerId: bigint, epoch: number, nowMs: number, timestampMs: number): ProducerEntry {
    let entry = this.#producers.get(producerId);
    if (entry && epoch > entry.epoch) {
      entry.epoch = epoch;
      entry.batches = [];
    }
    if (!entry) {
      entry = { epoch, batches: [], lastSeenMs: nowMs, coordinatorEpoch: -1, currentTxnFirstOffset: null };
      this.#evictIfFull();
    }
    this.#producers.delete(producerId); // re-inserted last: the map's order is least recently used first
    this.#producers.set(producerId, entry);
    entry.lastSeenMs = Math.max(entry.lastSeenMs, nowMs, timestampMs);
    return entry;
  }

  /**
   * The log lost everything at or above `offset`: so does the state (of
   * idempotent producers only: a state that saw transactions is rebuilt from
   * the log instead, since a cut marker reopens its transaction). Returns
   * false when the state can no longer tell what the cut log holds and must
   * be rebuilt from it (Kafka's truncateAndReload): a producer lost batches
   * while it had all five kept (older ones, not kept, may lie below the cut
   * and become its last five), or lost all it had (an older epoch may lie
   * below). Each producer's batches below the cut are kept either way.
   */
  truncateTo(offset: bigint): boolean {
    let exact = true;
    for (const [id, entry] of this.#producers) {
      const kept = entry.batches.filter((b) => b.lastOffset < offset);
      if (kept.length === entry.batches.length) continue;
      if (entry.batches.length >= PRODUCER_BATCHES_KEPT || kept.length === 0) exact = false;
      entry.batches = kept;
      if (kept.length === 0) this.#producers.delete(id);
    }
    return exact;
  }

  /** Forgets producers not seen for `expirationMs` (Kafka's producer.id.expiration.ms). */
  expire(nowMs: number, expirationMs: number): void {
    for (const [id, entry] of this.#producers) {
      if (entry.currentTxnFirstOffset === null && nowMs - entry.lastSeenMs > expirationMs) this.#producers.delete(id);
    }
  }

  /** Every producer, least recently used first, and the closed transactions not yet replicated (for a snapshot). */
  snapshot(): { producers: ProducerSnapshotEntry[]; unreplicated: CompletedTxn[]; sawTransactions: boolean } {
    return {
      producers: [...this.#producers].map(([producerId, e]) => ({
        producerId, epoch: e.epoch, coordinatorEpoch: e.coordinatorEpoch, currentTxnFirstOffset: e.currentTxnFirstOffset, lastSeenMs: e.lastSeenMs,
        batches: e.batches.map((b) => ({ ...b })),
      })),
      unreplicated: this.#unreplicated.map((t) => ({ ...t })),
      sawTransactions: this.#sawTransactions,
    };
  }

  /** A state as a snapshot kept it. */
  static restore(snapshot: { producers: readonly ProducerSnapshotEntry[]; unreplicated: readonly CompletedTxn[]; sawTransactions: boolean }): ProducerState {
    const state = new ProducerState();
    for (const p of snapshot.producers.slice(-PRODUCER_IDS_PER_PARTITION_MAX)) {
      state.#producers.set(p.producerId, {
        epoch: p.epoch, coordinatorEpoch: p.coordinatorEpoch, currentTxnFirstOffset: p.currentTxnFirstOffset, lastSeenMs: p.lastSeenMs,
        batches: p.batches.slice(-PRODUCER_BATCHES_KEPT).map((b) => ({ ...b })),
      });
      if (p.currentTxnFirstOffset !== null) state.#ongoing.set(p.producerId, p.currentTxnFirstOffset);
    }
    state.#unreplicated = snapshot.unreplicated.map((t) => ({ ...t }));
    state.#sawTransactions = snapshot.sawTransactions || state.#ongoing.size > 0 || state.#unreplicated.length > 0;
    return state;
  }

  clear(): void {
    this.#producers.clear();
    this.#ongoing.clear();
    this.#unreplicated = [];
  }

  /** Forgets the least recently used producer without an open transaction (open ones are bounded by the coordinators' transaction timeouts). */
  #evictIfFull(): void {
    if (this.#producers.size < PRODUCER_IDS_PER_PARTITION_MAX) return;
    for (const [id, entry] of this.#producers) {
      if (entry.currentTxnFirstOffset !== null) continue;
      this.#producers.delete(id);
      return;
    }
  }
}
