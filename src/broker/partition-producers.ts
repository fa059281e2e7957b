/**
 * A replica's idempotent-producer state kept in step with its log: loaded on
 * first need by walking the headers of what the log holds (from its start:
 * producers silent past producer.id.expiration.ms drop out as they are met),
 * then updated by every append (the leader's and a follower's copy) and cut
 * back by every truncation. Until it is first needed nothing is read, so a
 * partition no idempotent producer writes to costs nothing.
 *
 * Callers run these in the partition's append order (Broker#runInOrder).
 */
import { WafkaError } from '../errors.ts';
import { batchSpans, readBatchHeader, spanIsWhole } from '../core/index.ts';
import { ProducerState, PRODUCER_ID_EXPIRATION_MS_DEFAULT, type IdempotentBatch, type SequenceCheck } from './producer-state.ts';
import type { ReplicaLog } from './replica-log.ts';

/** Bytes read per step while rebuilding from the log. */
const REBUILD_READ_BYTES = 1024 * 1024;

/** The idempotence fields of each batch in `bytes` (whole batches); batches without a producer id are left out. */
export function idempotentBatches(bytes: Uint8Array): IdempotentBatch[] {
  const out: IdempotentBatch[] = [];
  for (const span of batchSpans(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength))) {
    if (!spanIsWhole(span, bytes.byteLength)) break;
    const h = readBatchHeader(bytes, span.at);
    // Control batches come from coordinators, never from a producer's sequence.
    if (h.producerId < 0n || h.isControlBatch) continue;
    out.push({
      producerId: h.producerId, producerEpoch: h.producerEpoch, baseSequence: h.baseSequence,
      lastOffsetDelta: Number(h.lastOffset - h.baseOffset), baseOffset: h.baseOffset, maxTimestampMs: Number(h.maxTimestamp),
    });
  }
  return out;
}

export class PartitionProducers {
  #state: ProducerState | null = null;
  readonly expirationMs: number;

  constructor(expirationMs = PRODUCER_ID_EXPIRATION_MS_DEFAULT) {
    this.expirationMs = expirationMs;
  }

  get loaded(): boolean {
    return this.#state !== null;
  }

  /**
   * Checks a produce's records as leader. Idempotent batches come one per
   * partition per request (as Kafka requires of RecordBatch v2): a duplicate
   * gets the offsets it was stored at.
   */
  async check(log: ReplicaLog, records: Uint8Array, nowMs: number): Promise<SequenceCheck> {
    const batches = idempotentBatches(records);
    if (batches.length === 0) return { kind: 'append' };
    let batchCount = 0;
    for (const _ of batchSpans(new DataView(records.buffer, records.byteOffset, records.byteLength))) batchCount++;
    if (batchCount !== 1) {
      throw new WafkaError('INVALID_RECORD', `${batchCount} batches for one partition in one request: an idempotent producer sends exactly one`);
    }
    // A producer id without a sequence is for the batch validation to refuse (it says why in Kafka's words).
    if (batches[0].baseSequence < 0) return { kind: 'append' };
    const state = await this.#load(log, nowMs);
    return state.check(batches[0]);
  }

  /** `records` were appended at `baseOffset` (leader: offsets assigned by the append) or as stored (follower). */
  appended(records: Uint8Array, nowMs: number, baseOffset?: bigint): void {
    if (!this.#state) return;
    for (const batch of idempotentBatches(records)) this.#state.apply(baseOffset === undefined ? batch : { ...batch, baseOffset }, nowMs);
  }

  truncatedTo(offset: bigint): void {
    this.#state?.truncateTo(offset);
  }

  /** The log was emptied and started over: nothing it held is known any more. */
  cleared(): void {
    this.#state?.clear();
  }

  expire(nowMs: number): void {
    this.#state?.expire(nowMs, this.expirationMs);
  }

  async #load(log: ReplicaLog, nowMs: number): Promise<ProducerState> {
    if (this.#state) return this.#state;
    const state = new ProducerState();
    let offset = log.logStartOffset;
    const end = log.logEndOffset;
    while (offset < end) {
      const bytes = await log.read(offset, REBUILD_READ_BYTES, end, true);
      if (!bytes || bytes.byteLength === 0) break;
      let next = offset;
      for (const span of batchSpans(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength))) {
        if (!spanIsWhole(span, bytes.byteLength)) break;
        if (span.lastOffset + 1n > next) next = span.lastOffset + 1n;
      }
      for (const batch of idempotentBatches(bytes)) if (batch.baseOffset >= offset || batch.baseOffset + BigInt(batch.lastOffsetDelta) >= offset) state.apply(batch, batch.maxTimestampMs);
      if (next <= offset) break;
      offset = next;
    }
    state.expire(nowMs, this.expirationMs);
    this.#state = state;
    return state;
  }
}
