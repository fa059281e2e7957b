/**
 * A log segment: one `.log` file of whole batches starting at `baseOffset`,
 * with its sparse offset index and time index held in memory as typed arrays
 * (and written to `.index` / `.timeindex` when the segment is closed).
 *
 * Offset index entry (Kafka's LogSegment): (relOffset = batch lastOffset -
 * segment baseOffset, position of that batch), added before a batch when more
 * than `indexIntervalBytes` bytes were appended since the last entry (the
 * core's scanSegment builds the same entries). lookup(target) = largest entry
 * with relOffset ≤ target: the batch holding the target starts there or later.
 *
 * Time index entry (Kafka's semantics): (largest timestamp seen so far in the
 * segment, relOffset of the batch that carries it), appended at index points
 * when the largest timestamp grew, and once more when the segment closes.
 * Every batch up to that point has maxTimestamp ≤ the entry's timestamp.
 *
 * File formats (big-endian, as Kafka's):
 *   .index      repeated { relOffset: int32, position: int32 }
 *   .timeindex  repeated { timestampMs: int64, relOffset: int32 }
 */
import type { SegmentFile } from './segment-file.ts';
import type { ManifestEntry } from './segment-manifest.ts';
import {
  scanSegment as coreScan, batchSizeAt, batchSpans, spanIsWhole, LOG_OVERHEAD, RECORD_BATCH_OVERHEAD, type ScanResult,
} from '../core/index.ts';
import { viewOf } from './record-batch.ts';
import { BATCH_BYTES_MAX, SCAN_WINDOW_BYTES } from './config.ts';

const INT32_MAX = 0x7fffffff;
export const OFFSET_ENTRY_BYTES = 8;
export const TIME_ENTRY_BYTES = 12;

export function segmentFileName(baseOffset: bigint, suffix: '.log' | '.index' | '.timeindex'): string {
  return baseOffset.toString().padStart(20, '0') + suffix;
}

export class Segment {
  readonly baseOffset: bigint;
  readonly file: SegmentFile;
  /** Whether idx and time arrays describe the file (false for a segment opened from the manifest until first use). */
  indexesLoaded = true;
  /** Bytes of whole batches in the file. */
  size = 0;
  /** lastOffset + 1 of the last batch, or baseOffset when empty. */
  nextOffset: bigint;
  /** Largest batch maxTimestamp in the segment, -1 when empty. */
  maxTimestampMs = -1;
  /** relOffset (lastOffset of its batch) of the largest timestamp. */
  offsetOfMaxTimestampRel = 0;
  /** Clock time when the first batch was appended (or its maxTimestamp when recovered), for segmentMs. */
  rollBaseMs = -1;
  bytesSinceIndexEntry = 0;

  // The in-memory indexes start empty and shared: a log opened from its manifest holds thousands of
  // closed segments whose indexes are loaded on first use, and four buffers each would cost its start.
  idxRel: Int32Array<ArrayBuffer> = NO_ENTRIES;
  idxPos: Int32Array<ArrayBuffer> = NO_ENTRIES;
  idxCount = 0;
  timeTs: Float64Array<ArrayBuffer> = NO_TIMESTAMPS;
  timeRel: Int32Array<ArrayBuffer> = NO_ENTRIES;
  timeCount = 0;

  constructor(baseOffset: bigint, file: SegmentFile) {
    this.baseOffset = baseOffset;
    this.file = file;
    this.nextOffset = baseOffset;
  }

  /** A closed segment as the manifest describes it: nothing read, indexes loaded on first use. */
  static fromManifest(entry: ManifestEntry, file: SegmentFile): Segment {
    const seg = new Segment(entry.baseOffset, file);
    seg.takeState(entry);
    seg.indexesLoaded = false;
    return seg;
  }

  /** Size, offsets and timestamps as a manifest entry records them. */
  takeState(entry: ManifestEntry): void {
    this.size = entry.sizeBytes;
    this.nextOffset = entry.nextOffset;
    this.maxTimestampMs = entry.maxTimestampMs;
    this.offsetOfMaxTimestampRel = entry.offsetOfMaxTimestampRel;
    this.bytesSinceIndexEntry = entry.bytesSinceIndexEntry;
  }

  /** Whether [baseOffset .. lastOffset] fits the int32 relative offsets of this segment. */
  fits(lastOffset: bigint): boolean {
    return lastOffset - this.baseOffset <= BigInt(INT32_MAX);
  }

  /** Records one appended batch in the indexes (called in file order). */
  onBatch(baseOffset: bigint, lastOffset: bigint, position: number, sizeBytes: number, maxTimestampMs: number, indexIntervalBytes: number): void {
    const relLast = Number(lastOffset - this.baseOffset);
    if (maxTimestampMs > this.maxTimestampMs) {
      this.maxTimestampMs = maxTimestampMs;
      this.offsetOfMaxTimestampRel = relLast;
    }
    if (this.bytesSinceIndexEntry > indexIntervalBytes && (this.idxCount === 0 || relLast > this.idxRel[this.idxCount - 1])) {
      this.#pushOffsetEntry(relLast, position);
      this.#maybePushTimeEntry();
      this.bytesSinceIndexEntry = 0;
    }
    this.bytesSinceIndexEntry += sizeBytes;
    this.size = position + sizeBytes;
    this.nextOffset = lastOffset + 1n;
  }

  /** Kafka appends the final largest timestamp to the time index when a segment becomes inactive. */
  sealTimeIndex(): void {
    this.#maybePushTimeEntry();
  }

  #pushOffsetEntry(rel: number, position: number): void {
    if (this.idxCount === this.idxRel.length) {
      this.idxRel = grow(this.idxRel, OFFSET_ENTRIES_FIRST);
      this.idxPos = grow(this.idxPos, OFFSET_ENTRIES_FIRST);
    }
    this.idxRel[this.idxCount] = rel;
    this.idxPos[this.idxCount] = position;
    this.idxCount++;
  }

  #maybePushTimeEntry(): void {
    if (this.maxTimestampMs < 0) return;
    if (this.timeCount > 0 && this.timeTs[this.timeCount - 1] >= this.maxTimestampMs) return;
    this.#pushTimeEntry(this.maxTimestampMs, this.offsetOfMaxTimestampRel);
  }

  #pushTimeEntry(timestampMs: number, rel: number): void {
    if (this.timeCount === this.timeTs.length) {
      const ts = new Float64Array(Math.max(TIME_ENTRIES_FIRST, this.timeTs.length * 2));
      ts.set(this.timeTs);
      this.timeTs = ts;
      this.timeRel = grow(this.timeRel, TIME_ENTRIES_FIRST);
    }
    this.timeTs[this.timeCount] = timestampMs;
    this.timeRel[this.timeCount] = rel;
    this.timeCount++;
  }

  /** Position to start scanning for `offset`: the largest index entry with relOffset ≤ offset - base, else 0. */
  lookupPosition(offset: bigint): number {
    if (offset <= this.baseOffset || this.idxCount === 0) return 0;
    const rel = offset - this.baseOffset > BigInt(INT32_MAX) ? INT32_MAX : Number(offset - this.baseOffset);
    let lo = 0;
    let hi = this.idxCount - 1;
    if (this.idxRel[0] > rel) return 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.idxRel[mid] <= rel) lo = mid;
      else hi = mid - 1;
    }
    return this.idxPos[lo];
  }

  /** The batch holding `offset` starts at or before this position: the first entry with relOffset > offset - base, else size. */
  upperPosition(offset: bigint): number {
    const relBig = offset - this.baseOffset;
    if (relBig >= BigInt(INT32_MAX)) return this.size;
    const rel = Number(relBig);
    let lo = 0;
    let hi = this.idxCount;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.idxRel[mid] > rel) hi = mid;
      else lo = mid + 1;
    }
    return lo < this.idxCount ? this.idxPos[lo] : this.size;
  }

  /** Position to start scanning for the first batch with maxTimestamp ≥ timestampMs. */
  lookupTimePosition(timestampMs: number): number {
    // Largest time entry with timestamp < target: every batch up to its offset is older than the target.
    let lo = 0;
    let hi = this.timeCount;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timeTs[mid] < timestampMs) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return 0;
    return this.lookupPosition(this.baseOffset + BigInt(this.timeRel[lo - 1]));
  }

  /** Forgets all indexes and positions (before a rebuild). */
  reset(): void {
    this.size = 0;
    this.nextOffset = this.baseOffset;
    this.maxTimestampMs = -1;
    this.offsetOfMaxTimestampRel = 0;
    this.bytesSinceIndexEntry = 0;
    this.idxCount = 0;
    this.timeCount = 0;
    this.indexesLoaded = true;
  }

  encodeOffsetIndex(): Uint8Array {
    const out = new Uint8Array(this.idxCount * OFFSET_ENTRY_BYTES);
    const dv = viewOf(out);
    for (let i = 0; i < this.idxCount; i++) {
      dv.setInt32(i * 8, this.idxRel[i]);
      dv.setInt32(i * 8 + 4, this.idxPos[i]);
    }
    return out;
  }

  encodeTimeIndex(): Uint8Array {
    const out = new Uint8Array(this.timeCount * TIME_ENTRY_BYTES);
    const dv = viewOf(out);
    for (let i = 0; i < this.timeCount; i++) {
      dv.setBigInt64(i * 12, BigInt(this.timeTs[i]));
      dv.setInt32(i * 12 + 8, this.timeRel[i]);
    }
    return out;
  }

  /**
   * Loads index files written when the segment closed. Returns false (and
   * loads nothing) unless both are well formed: whole entries, strictly
   * increasing, positions inside the log file.
   */
  loadIndexes(offsetBytes: Uint8Array, timeBytes: Uint8Array, logSize: number): boolean {
    if (offsetBytes.length % OFFSET_ENTRY_BYTES !== 0 || timeBytes.length % TIME_ENTRY_BYTES !== 0) return false;
    const n = offsetBytes.length / OFFSET_ENTRY_BYTES;
    const m = timeBytes.length / TIME_ENTRY_BYTES;
    const odv = viewOf(offsetBytes);
    const tdv = viewOf(timeBytes);
    const rel = new Int32Array(Math.max(16, n));
    const pos = new Int32Array(Math.max(16, n));
    for (let i = 0; i < n; i++) {
      rel[i] = odv.getInt32(i * 8);
      pos[i] = odv.getInt32(i * 8 + 4);
      if (rel[i] < 0 || pos[i] < 0 || pos[i] >= logSize) return false;
      if (i > 0 && (rel[i] <= rel[i - 1] || pos[i] <= pos[i - 1])) return false;
    }
    const ts = new Float64Array(Math.max(8, m));
    const trel = new Int32Array(Math.max(8, m));
    for (let i = 0; i < m; i++) {
      const t = tdv.getBigInt64(i * 12);
      if (t < 0n || t > BigInt(Number.MAX_SAFE_INTEGER)) return false;
      ts[i] = Number(t);
      trel[i] = tdv.getInt32(i * 12 + 8);
      if (trel[i] < 0 || (i > 0 && (ts[i] <= ts[i - 1] || trel[i] < trel[i - 1]))) return false;
    }
    this.idxRel = rel;
    this.idxPos = pos;
    this.idxCount = n;
    this.timeTs = ts;
    this.timeRel = trel;
    this.timeCount = m;
    if (m > 0) {
      this.maxTimestampMs = ts[m - 1];
      this.offsetOfMaxTimestampRel = trel[m - 1];
    }
    return true;
  }

  /** Takes in what a core scan of the bytes that follow this segment's end found. */
  absorb(r: ScanResult): void {
    const oi = r.offsetIndex;
    for (let i = 0; i < oi.length; i += 2) {
      if (this.idxCount > 0 && oi[i] <= this.idxRel[this.idxCount - 1]) continue;
      this.#pushOffsetEntry(oi[i], oi[i + 1]);
    }
    const ts = r.timeIndex.timestamps;
    const rel = r.timeIndex.relativeOffsets;
    for (let i = 0; i < ts.length; i++) {
      const t = Number(ts[i]);
      if (this.timeCount > 0 && this.timeTs[this.timeCount - 1] >= t) continue;
      this.#pushTimeEntry(t, rel[i]);
    }
    if (r.batchCount > 0) {
      this.size = r.validBytes;
      this.nextOffset = r.lastOffset + 1n;
      this.bytesSinceIndexEntry = r.bytesSinceLastEntry;
      if (r.maxTimestamp >= 0n && Number(r.maxTimestamp) > this.maxTimestampMs) {
        this.maxTimestampMs = Number(r.maxTimestamp);
        this.offsetOfMaxTimestampRel = Number(r.offsetOfMaxTimestamp - this.baseOffset);
      }
    }
  }

  /** Position of the last offset index entry (where a tail scan starts), 0 if none. */
  get lastIndexedPosition(): number {
    return this.idxCount === 0 ? 0 : this.idxPos[this.idxCount - 1];
  }

  /** lastOffset of the last index entry's batch, or -1n when there is no entry. */
  get lastIndexedOffset(): bigint {
    return this.idxCount === 0 ? -1n : this.baseOffset + BigInt(this.idxRel[this.idxCount - 1]);
  }

  /** Drops index entries at or after `position` (a tail rescan follows). */
  dropIndexFrom(position: number): void {
    while (this.idxCount > 0 && this.idxPos[this.idxCount - 1] >= position) this.idxCount--;
  }
}

const NO_ENTRIES = new Int32Array(0);
const NO_TIMESTAMPS = new Float64Array(0);
const OFFSET_ENTRIES_FIRST = 16;
const TIME_ENTRIES_FIRST = 8;

function grow(a: Int32Array, first: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(Math.max(first, a.length * 2));
  b.set(a);
  return b;
}

export interface ScanOutcome {
  /** File position after the last whole valid batch. */
  validEnd: number;
  /** Why scanning stopped before the end of the file, if it did. */
  problem?: { kind: 'partial' | 'corrupt'; message: string };
}

/**
 * Scans the file from `position` (a batch start) to its end with the core's
 * scanSegment (framing, magic, CRC when verifyCrc), feeding the segment's
 * indexes; also checks that offsets increase from batch to batch (baseOffset
 * is outside the CRC). Reads windows of SCAN_WINDOW_BYTES (or one batch, if
 * larger). Stops at the first batch that is torn or wrong.
 */
export async function scanSegment(seg: Segment, position: number, verifyCrc: boolean, indexIntervalBytes: number): Promise<ScanOutcome> {
  const fileSize = seg.file.size;
  let pos = position;
  let windowBytes = SCAN_WINDOW_BYTES;
  while (pos < fileSize) {
    const bytes = await seg.file.read(pos, Math.min(windowBytes, fileSize - pos));
    // Offsets first (a header walk in TS): the core scan then covers [0, limit).
    const dv = viewOf(bytes);
    let limit = 0;
    let next = seg.nextOffset;
    let offsetProblem: string | undefined;
    for (const span of batchSpans(dv)) {
      if (!spanIsWhole(span, bytes.length)) break;
      const { baseOffset: base, lastOffset: last } = span;
      if (base < next || last < base || !seg.fits(last)) {
        offsetProblem = `batch at ${pos + limit} has offsets ${base}..${last}, expected from ${next} inside segment ${seg.baseOffset}`;
        break;
      }
      next = last + 1n;
      limit += span.sizeBytes;
    }
    const scanned = offsetProblem ? bytes.subarray(0, limit) : bytes;
    const r = coreScan(scanned, {
      baseOffset: seg.baseOffset,
      bytesPosition: pos,
      indexIntervalBytes,
      bytesSinceLastEntry: seg.bytesSinceIndexEntry,
      verifyCrc,
      maxTimestampSoFar: seg.maxTimestampMs >= 0 ? BigInt(seg.maxTimestampMs) : -1n,
      offsetOfMaxTimestampSoFar: seg.maxTimestampMs >= 0 ? seg.baseOffset + BigInt(seg.offsetOfMaxTimestampRel) : -1n,
      lastTimeIndexTimestamp: seg.timeCount > 0 ? BigInt(seg.timeTs[seg.timeCount - 1]) : -1n,
    });
    seg.absorb(r);
    const consumed = r.validBytes - pos;
    pos = r.validBytes;
    if (r.stop === null) {
      if (offsetProblem) return { validEnd: pos, problem: { kind: 'corrupt', message: offsetProblem } };
      continue;
    }
    if (r.stop.reason === 'truncated' && pos - consumed + bytes.length < fileSize) {
      // The window may have cut a batch the file holds: read again from its start, large enough.
      const avail = bytes.length - consumed;
      const need = avail >= LOG_OVERHEAD ? batchSizeAt(bytes, consumed) : RECORD_BATCH_OVERHEAD;
      if (need > avail && need >= LOG_OVERHEAD && need <= BATCH_BYTES_MAX && pos + need <= fileSize) {
        windowBytes = Math.max(SCAN_WINDOW_BYTES, need);
        continue;
      }
    }
    if (r.stop.reason === 'truncated') return { validEnd: pos, problem: { kind: 'partial', message: r.stop.error.message } };
    return { validEnd: pos, problem: { kind: 'corrupt', message: r.stop.error.message } };
  }
  return { validEnd: pos };
}
