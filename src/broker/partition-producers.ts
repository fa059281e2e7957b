/**
 * A replica's producer state kept in step with its log: idempotent producers'
 * sequences, open transactions and the aborted-transaction index. Loaded on
 * first need from the snapshot kept with the log (written when the replica
 * closes and after segment rolls) and the batches after it, or by walking the
 * headers of what the log holds (from its start:
 * producers silent past producer.id.expiration.ms drop out as they are met;
 * markers are read from their one control record), then updated by every
 * append (the leader's and a follower's copy) and cut back by every
 * truncation (which also removes the snapshot, as a cut log no longer
 * extends it). Until it is first needed nothing is read, so a partition no
 * idempotent or transactional producer writes to, and no read_committed
 * consumer reads, costs nothing.
 *
 * Callers run these in the partition's append order (Broker#runInOrder).
 */
import { WafkaError } from '../errors.ts';
import { batchSpans, ControlRecordTypes, decodeBatchSync, parseControlRecord, PRODUCER_ID_OFFSET, readBatchHeader, spanIsWhole } from '../core/index.ts';
import {
  ProducerState, PRODUCER_ID_EXPIRATION_MS_DEFAULT, type CompletedTxn, type IdempotentBatch, type SequenceCheck, type TxnMarkerBatch,
} from './producer-state.ts';
import { decodeProducerSnapshot, encodeProducerSnapshot } from './producer-snapshot.ts';
import { AbortedTxnIndex } from './transaction-index.ts';
import type { ReplicaLog } from './replica-log.ts';

/** Bytes read per step while rebuilding from the log. */
const REBUILD_READ_BYTES = 1024 * 1024;

/** A batch of a producer as the state sees it: data (idempotent or transactional) or an end-transaction marker. */
export type ProducerBatch = { kind: 'data'; batch: IdempotentBatch } | { kind: 'marker'; marker: TxnMarkerBatch };

/**
 * The producer batches in `bytes` (whole batches, in order); batches without
 * a producer id, and control batches that are not markers (or lost their
 * record to compaction), are left out.
 */
export function producerBatches(bytes: Uint8Array): ProducerBatch[] {
  const out: ProducerBatch[] = [];
  for (const span of batchSpans(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength))) {
    if (!spanIsWhole(span, bytes.byteLength)) break;
    const h = readBatchHeader(bytes, span.at);
    if (h.producerId < 0n) continue;
    if (h.isControlBatch) {
      const marker = markerAt(bytes, span.at, span.sizeBytes);
      if (marker) {
        out.push({ kind: 'marker', marker: {
          producerId: h.producerId, producerEpoch: h.producerEpoch, coordinatorEpoch: marker.coordinatorEpoch,
          committed: marker.committed, offset: h.baseOffset, timestampMs: Number(h.maxTimestamp),
        } });
      }
      continue;
    }
    out.push({ kind: 'data', batch: {
      producerId: h.producerId, producerEpoch: h.producerEpoch, baseSequence: h.baseSequence,
      lastOffsetDelta: Number(h.lastOffset - h.baseOffset), baseOffset: h.baseOffset, maxTimestampMs: Number(h.maxTimestamp),
      isTransactional: h.isTransactional,
    } });
  }
  return out;
}

/** Whether any whole batch in `bytes` carries a producer id (idempotent, transactional or a marker). */
export function hasProducerBatches(bytes: Uint8Array): boolean {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const span of batchSpans(dv)) {
    if (!spanIsWhole(span, bytes.byteLength)) return false;
    if (dv.getBigInt64(span.at + PRODUCER_ID_OFFSET) >= 0n) return true;
  }
  return false;
}

/** The idempotence fields of each data batch in `bytes` (whole batches); batches without a producer id are left out. */
export function idempotentBatches(bytes: Uint8Array): IdempotentBatch[] {
  return producerBatches(bytes).flatMap((b) => (b.kind === 'data' ? [b.batch] : []));
}

/** A control batch's end-transaction marker, or null (no record left, another control type, bytes the decoder refuses). */
function markerAt(bytes: Uint8Array, at: number, sizeBytes: number): { committed: boolean; coordinatorEpoch: number } | null {
  try {
    const batch = decodeBatchSync(bytes.subarray(at, at + sizeBytes), { verifyCrc: false });
    const record = batch.records[0];
    if (!record) return null;
    const control = parseControlRecord(record);
    if (control.type !== ControlRecordTypes.ABORT && control.type !== ControlRecordTypes.COMMIT) return null;
    return { committed: control.type === ControlRecordTypes.COMMIT, coordinatorEpoch: control.coordinatorEpoch ?? -1 };
  } catch {
    return null;
  }
}

export class PartitionProducers {
  #state: ProducerState | null = null;
  #aborted: AbortedTxnIndex | null = null;
  readonly expirationMs: number;
  /** The log end offset when the log opened: a snapshot taken past it describes a log that lost its tail. */
  #openedAtEndOffset = -1n;
  /** Where the last snapshot written or read ended, and the segment count then. */
  #snapshotAt: { endOffset: bigint; segmentCount: number } | null = null;
  /**
   * Where the last snapshot this replica made since it opened ends: a
   * snapshot file ending there was written from this log as it is (a
   * truncation below it removes the file first), whatever its end at open.
   */
  #madeSnapshotEndOffset: bigint | null = null;

  constructor(expirationMs = PRODUCER_ID_EXPIRATION_MS_DEFAULT) {
    this.expirationMs = expirationMs;
  }

  get loaded(): boolean {
    return this.#state !== null;
  }

  /** The state, loaded (for tests and for readers that ran load()). */
  get state(): ProducerState | null {
    return this.#state;
  }

  get abortedIndex(): AbortedTxnIndex | null {
    return this.#aborted;
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
    const { state } = await this.load(log, nowMs);
    return state.check(batches[0]);
  }

  /** Checks a marker the leader is about to write (INVALID_PRODUCER_EPOCH, TRANSACTION_COORDINATOR_FENCED). */
  async checkMarker(log: ReplicaLog, marker: { producerId: bigint; producerEpoch: number; coordinatorEpoch: number }, nowMs: number): Promise<void> {
    const { state } = await this.load(log, nowMs);
    state.checkMarker(marker);
  }

  /**
   * `records` were appended at `baseOffset` (leader: offsets assigned by the
   * append) or as stored (follower). Returns the transactions its markers
   * completed.
   */
  appended(records: Uint8Array, nowMs: number, baseOffset?: bigint): CompletedTxn[] {
    if (!this.#state || !this.#aborted) return [];
    const batches = producerBatches(records);
    if (baseOffset !== undefined && batches.length === 1) {
      const only = batches[0];
      if (only.kind === 'data') only.batch.baseOffset = baseOffset;
      else only.marker.offset = baseOffset;
    }
    return applyAll(this.#state, this.#aborted, batches, nowMs);
  }

  /**
   * The last stable offset (Kafka's): the high watermark, or the first offset
   * of a transaction not yet decided and replicated if that is lower. Needs
   * the state loaded (see load()).
   */
  lastStableOffset(highWatermark: bigint): bigint {
    const first = this.#state?.firstUnstableOffset(highWatermark) ?? null;
    return first !== null && first < highWatermark ? first : highWatermark;
  }

  /** The aborted transactions with data in [fetchOffset, upperBoundOffset) (loaded state; else none). */
  abortedTransactions(fetchOffset: bigint, upperBoundOffset: bigint): { producerId: bigint; firstOffset: bigint }[] {
    return this.#aborted?.collect(fetchOffset, upperBoundOffset) ?? [];
  }

  /**
   * The log is about to lose everything at or above `offset`. Its snapshot
   * goes first, unless it ends at or below the cut: a cut log no longer
   * extends a snapshot past the cut, whatever happens next.
   */
  async truncating(log: ReplicaLog, offset: bigint): Promise<void> {
    const bytes = await log.readProducerSnapshot().catch(() => null);
    const snapshot = bytes ? decodeProducerSnapshot(bytes) : null;
    if (snapshot && snapshot.endOffset <= offset) return;
    await log.removeProducerSnapshot();
  }

  truncatedTo(offset: bigint): void {
    this.#snapshotAt = null;
    if (!this.#state) return;
    // A cut marker reopens its transaction, and a cut may uncover a producer's older batches: only the log can
    // tell then, so it is read again on next need.
    if (this.#state.sawTransactions || !this.#state.truncateTo(offset)) {
      this.#state = null;
      this.#aborted = null;
      return;
    }
    this.#aborted?.truncateTo(offset);
  }

  /**
   * Cuts `log` at `offset` (Log#truncateTo) and the state with it. A cut
   * that fails part way may already have shortened the log, so the state is
   * then dropped and read again from the log on next need: a state that kept
   * batches the log lost would answer a producer's retry of one of them as a
   * duplicate, with offsets that now hold other records.
   */
  async truncateLog(log: ReplicaLog, offset: bigint): Promise<void> {
    await this.truncating(log, offset);
    try {
      await log.truncateTo(offset);
    } catch (error) {
      this.#forget();
      throw error;
    }
    this.truncatedTo(offset);
  }

  /** Empties `log` and starts it over at `offset` (Log#truncateFullyAndStartAt), the state with it; on a failure part way as truncateLog. */
  async restartLogAt(log: ReplicaLog, offset: bigint): Promise<void> {
    await log.removeProducerSnapshot();
    try {
      await log.truncateFullyAndStartAt(offset);
    } catch (error) {
      this.#forget();
      throw error;
    }
    this.cleared();
  }

  /** Nothing held is trusted: the state is loaded again from the log on next need. */
  #forget(): void {
    this.#snapshotAt = null;
    this.#state = null;
    this.#aborted = null;
  }

  /** The log was emptied and started over: nothing it held is known any more. */
  cleared(): void {
    this.#snapshotAt = null;
    this.#madeSnapshotEndOffset = null;
    this.#state?.clear();
    this.#aborted?.clear();
  }

  /** The log start moved up (retention, DeleteRecords): aborted transactions wholly below it go. */
  logStartMoved(logStartOffset: bigint): void {
    this.#aborted?.trimBefore(logStartOffset);
  }

  expire(nowMs: number): void {
    this.#state?.expire(nowMs, this.expirationMs);
  }

  /**
   * `log` was opened (created or recovered). An empty log's state is known
   * without reading anything: it is kept from the first append on. A
   * snapshot is due once the log rolls a segment.
   */
  logOpened(log: ReplicaLog): void {
    this.#openedAtEndOffset = log.logEndOffset;
    this.#madeSnapshotEndOffset = null;
    this.#snapshotAt = { endOffset: log.logEndOffset, segmentCount: log.segmentCount };
    if (log.logEndOffset === log.logStartOffset && !this.#state) {
      this.#state = new ProducerState();
      this.#aborted = new AbortedTxnIndex();
    }
  }

  /**
   * The state as a snapshot of the log as it ends now (./producer-snapshot.ts);
   * null when it is not loaded.
   */
  snapshot(log: ReplicaLog): Uint8Array | null {
    if (!this.#state || !this.#aborted) return null;
    const { producers, unreplicated, sawTransactions } = this.#state.snapshot();
    this.#snapshotAt = { endOffset: log.logEndOffset, segmentCount: log.segmentCount };
    this.#madeSnapshotEndOffset = log.logEndOffset;
    return encodeProducerSnapshot({
      endOffset: log.logEndOffset, logStartOffset: log.logStartOffset, sawTransactions, producers, unreplicated, aborted: [...this.#aborted.entries],
    });
  }

  /** Whether a snapshot is worth writing now: the state is loaded and the log rolled a segment since the last one (as Kafka takes one per roll). */
  snapshotDue(log: ReplicaLog): boolean {
    if (!this.#state) return false;
    const at = this.#snapshotAt;
    return !at || (log.segmentCount !== at.segmentCount && log.logEndOffset !== at.endOffset);
  }

  /**
   * Loads the state if it is not loaded (run in the partition's append
   * order): from the snapshot kept with the log, if it describes a prefix of
   * this log, then the batches after it; else from the whole log.
   */
  async load(log: ReplicaLog, nowMs: number): Promise<{ state: ProducerState; aborted: AbortedTxnIndex }> {
    if (this.#state && this.#aborted) return { state: this.#state, aborted: this.#aborted };
    let state = new ProducerState();
    let aborted = new AbortedTxnIndex();
    let offset = log.logStartOffset;
    const end = log.logEndOffset;
    const bytes = await log.readProducerSnapshot().catch(() => null);
    const snapshot = bytes ? decodeProducerSnapshot(bytes) : null;
    const trusted = snapshot && (snapshot.endOffset <= this.#openedAtEndOffset || snapshot.endOffset === this.#madeSnapshotEndOffset);
    if (snapshot && trusted && snapshot.endOffset <= end) {
      state = ProducerState.restore(snapshot);
      aborted = AbortedTxnIndex.restore(snapshot.aborted);
      aborted.trimBefore(log.logStartOffset);
      if (snapshot.endOffset > offset) offset = snapshot.endOffset;
      this.#snapshotAt = { endOffset: snapshot.endOffset, segmentCount: -1 };
    }
    while (offset < end) {
      const bytes = await log.read(offset, REBUILD_READ_BYTES, end, true);
      if (!bytes || bytes.byteLength === 0) break;
      let next = offset;
      for (const span of batchSpans(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength))) {
        if (!spanIsWhole(span, bytes.byteLength)) break;
        if (span.lastOffset + 1n > next) next = span.lastOffset + 1n;
      }
      const from = offset;
      const batches = producerBatches(bytes).filter((b) => (b.kind === 'data' ? b.batch.baseOffset + BigInt(b.batch.lastOffsetDelta) : b.marker.offset) >= from);
      for (const b of batches) applyAll(state, aborted, [b], b.kind === 'data' ? b.batch.maxTimestampMs : b.marker.timestampMs);
      state.firstUnstableOffset(log.highWatermark); // forgets closed transactions already replicated
      if (next <= offset) break;
      offset = next;
    }
    state.expire(nowMs, this.expirationMs);
    this.#state = state;
    this.#aborted = aborted;
    return { state, aborted };
  }
}

function applyAll(state: ProducerState, aborted: AbortedTxnIndex, batches: ProducerBatch[], nowMs: number): CompletedTxn[] {
  const completed: CompletedTxn[] = [];
  for (const b of batches) {
    if (b.kind === 'data') {
      state.apply(b.batch, nowMs);
      continue;
    }
    const txn = state.applyMarker(b.marker, nowMs);
    if (!txn) continue;
    completed.push(txn);
    if (txn.aborted) {
      let stableBefore = txn.lastOffset + 1n;
      for (const first of state.ongoingTransactions.values()) if (first < stableBefore) stableBefore = first;
      aborted.add({ producerId: txn.producerId, firstOffset: txn.firstOffset, lastOffset: txn.lastOffset, stableBefore });
    }
  }
  return completed;
}
