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
}

interface BatchEntry {
  firstSequence: number;
  lastSequence: number;
  firstOffset: bigint;
  lastOffset: bigint;
}

interface ProducerEntry {
  epoch: number;
  batches: BatchEntry[];
  lastSeenMs: number;
}

export type SequenceCheck = { kind: 'append' } | { kind: 'duplicate'; firstOffset: bigint; lastOffset: bigint };

/** Kafka's sequence arithmetic: int32, wrapping to 0 after INT32_MAX. */
export function lastSequenceOf(baseSequence: number, lastOffsetDelta: number): number {
  return baseSequence > INT32_MAX - lastOffsetDelta ? lastOffsetDelta - (INT32_MAX - baseSequence) - 1 : baseSequence + lastOffsetDelta;
}

function nextSequence(sequence: number): number {
  return sequence === INT32_MAX ? 0 : sequence + 1;
}

export class ProducerState {
  readonly #producers = new Map<bigint, ProducerEntry>();

  get producerCount(): number {
    return this.#producers.size;
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
      return { kind: 'append' };
    }
    const duplicate = entry.batches.find((b) => b.firstSequence === firstSequence && b.lastSequence === lastSequence);
    if (duplicate) return { kind: 'duplicate', firstOffset: duplicate.firstOffset, lastOffset: duplicate.lastOffset };
    const last = entry.batches[entry.batches.length - 1];
    const expected = last ? nextSequence(last.lastSequence) : 0;
    if (firstSequence !== expected) {
      throw new WafkaError('OUT_OF_ORDER_SEQUENCE_NUMBER', `${where}: expected sequence ${expected} next`);
    }
    return { kind: 'append' };
  }

  /** A batch was written to the log (as leader or as follower, or found when rebuilding). */
  apply(batch: IdempotentBatch, nowMs: number): void {
    if (batch.producerId < 0n) return;
    let entry = this.#producers.get(batch.producerId);
    if (entry && batch.producerEpoch > entry.epoch) {
      entry.epoch = batch.producerEpoch;
      entry.batches = [];
    }
    if (!entry) {
      entry = { epoch: batch.producerEpoch, batches: [], lastSeenMs: nowMs };
      this.#evictIfFull();
    }
    this.#producers.delete(batch.producerId); // re-inserted last: the map's order is least recently used first
    this.#producers.set(batch.producerId, entry);
    entry.lastSeenMs = Math.max(entry.lastSeenMs, nowMs, batch.maxTimestampMs);
    if (batch.baseSequence < 0) return;
    entry.batches.push({
      firstSequence: batch.baseSequence,
      lastSequence: lastSequenceOf(batch.baseSequence, batch.lastOffsetDelta),
      firstOffset: batch.baseOffset,
      lastOffset: batch.baseOffset + BigInt(batch.lastOffsetDelta),
    });
    if (entry.batches.length > PRODUCER_BATCHES_KEPT) entry.batches.shift();
  }

  /**
   * The log lost everything at or above `offset`: so does the state. A
   * producer left with none of its kept batches is forgotten (its next batch
   * is UNKNOWN_PRODUCER_ID, on which the client takes a new producer id).
   */
  truncateTo(offset: bigint): void {
    for (const [id, entry] of this.#producers) {
      entry.batches = entry.batches.filter((b) => b.lastOffset < offset);
      if (entry.batches.length === 0) this.#producers.delete(id);
    }
  }

  /** Forgets producers not seen for `expirationMs` (Kafka's producer.id.expiration.ms). */
  expire(nowMs: number, expirationMs: number): void {
    for (const [id, entry] of this.#producers) if (nowMs - entry.lastSeenMs > expirationMs) this.#producers.delete(id);
  }

  clear(): void {
    this.#producers.clear();
  }

  #evictIfFull(): void {
    if (this.#producers.size < PRODUCER_IDS_PER_PARTITION_MAX) return;
    const oldest = this.#producers.keys().next();
    if (!oldest.done) this.#producers.delete(oldest.value);
  }
}
