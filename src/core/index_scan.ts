/**
 * Segment scan (recovery, index rebuild) and index lookups, after Kafka's
 * LogSegment.recover(), OffsetIndex and TimeIndex. The scan runs in the core
 * (assembly/index_scan.ts) in one call; the lookups are binary searches over
 * the arrays the scan returns (done here: copying an index into the core to
 * search it would cost more than the search; the core has the same searches
 * for indexes kept in its memory).
 */
import type { WafkaError } from '../errors.ts';
import { coreError, ERR_TRUNCATED } from './errors.ts';
import { coreSync } from './wasm.ts';

export interface ScanOptions {
  /** The segment's base offset: index entries are relative to it. */
  baseOffset: bigint;
  /** Segment position of bytes[0] (default 0). */
  bytesPosition?: number;
  /** Segment position where the scan starts (default bytesPosition). */
  startPosition?: number;
  /** Kafka's index.interval.bytes (default 4096). */
  indexIntervalBytes?: number;
  /** Bytes appended since the last offset index entry, before startPosition (default 0). */
  bytesSinceLastEntry?: number;
  /** Check every batch's CRC (default true). */
  verifyCrc?: boolean;
  /** Carried over from an earlier scan of the same segment (default -1n: none). */
  maxTimestampSoFar?: bigint;
  offsetOfMaxTimestampSoFar?: bigint;
  /** Timestamp of the last time index entry already written (default -1n: none). */
  lastTimeIndexTimestamp?: bigint;
}

/** Time index entries as two arrays: entry i is (timestamps[i], relativeOffsets[i]). */
export interface TimeIndexEntries {
  timestamps: BigInt64Array;
  relativeOffsets: Int32Array;
}

export interface ScanResult {
  /** Segment position where the valid prefix ends: truncate here. */
  validBytes: number;
  batchCount: number;
  /** Last offset of the last valid batch, or -1n if none. */
  lastOffset: bigint;
  /** Largest batch MaxTimestamp seen (incl. maxTimestampSoFar), and the last offset of that batch. */
  maxTimestamp: bigint;
  offsetOfMaxTimestamp: bigint;
  /** Pairs (relativeOffset, position): entry i at [2i], [2i+1]. */
  offsetIndex: Int32Array;
  timeIndex: TimeIndexEntries;
  /** To carry into a scan of the bytes that follow. */
  bytesSinceLastEntry: number;
  lastTimeIndexTimestamp: bigint;
  /**
   * Why the scan stopped before the end of the bytes: null if it reached the
   * end exactly; 'truncated' if the last batch is incomplete (a torn write, or
   * the end of a chunk); 'corrupt' for a bad length, magic, CRC or offset.
   */
  stop: null | { position: number; reason: 'truncated' | 'corrupt'; error: WafkaError };
}

const R = {
  LAST_OFFSET: 0, MAX_TIMESTAMP: 8, OFFSET_OF_MAX_TIMESTAMP: 16, LAST_TIME_ENTRY: 24,
  VALID_BYTES: 32, BATCH_COUNT: 36, OFFSET_ENTRIES: 40, TIME_ENTRIES: 44, BYTES_SINCE: 48, STOP: 52, BYTES: 80,
};

/** Walks the batches of `bytes`, verifying each, and builds the sparse offset and time indexes. */
export function scanSegment(bytes: Uint8Array, options: ScanOptions): ScanResult {
  const arena = coreSync();
  const ex = arena.exports;
  const bytesPosition = options.bytesPosition ?? 0;
  const startPosition = options.startPosition ?? bytesPosition;
  const skip = startPosition - bytesPosition;
  if (skip < 0 || skip > bytes.byteLength) throw new RangeError(`startPosition ${startPosition} outside the bytes given (${bytesPosition}..${bytesPosition + bytes.byteLength})`);
  const interval = options.indexIntervalBytes ?? 4096;
  const len = bytes.byteLength - skip;
  // Entries: at most one per batch (>= 61 bytes), and at most one per interval.
  const maxEntries = Math.floor(Math.min(len / 61, len / (interval + 1) + 1)) + 2;
  const outBytes = R.BYTES + maxEntries * 20 + 16;
  const src = arena.base;
  const out = (src + len + 15) & ~15;
  arena.reserve(out - src + outBytes);
  arena.u8.set(skip === 0 ? bytes : bytes.subarray(skip), src);
  const n = ex.scanSegment(
    src, len, startPosition, options.baseOffset, interval, options.bytesSinceLastEntry ?? 0,
    options.maxTimestampSoFar ?? -1n, options.offsetOfMaxTimestampSoFar ?? -1n, options.lastTimeIndexTimestamp ?? -1n,
    options.verifyCrc === false ? 0 : 1, out, maxEntries,
  );
  if (n < 0) throw coreError(ex, n, 'segment scan');
  const dv = arena.dv;
  const nOffset = dv.getInt32(out + R.OFFSET_ENTRIES, true);
  const nTime = dv.getInt32(out + R.TIME_ENTRIES, true);
  const entries = out + R.BYTES;
  const tsAt = entries + maxEntries * 8;
  const relAt = tsAt + maxEntries * 8;
  const buf = arena.u8.buffer;
  const validBytes = dv.getInt32(out + R.VALID_BYTES, true);
  const stopCode = dv.getInt32(out + R.STOP, true);
  let stop: ScanResult['stop'] = null;
  if (stopCode !== 0) {
    // Re-validate the failing batch to build its error with the numbers (the detail area holds them).
    const error = coreError(ex, stopCode, `batch at position ${validBytes}`);
    stop = { position: validBytes, reason: stopCode === ERR_TRUNCATED ? 'truncated' : 'corrupt', error };
  }
  return {
    validBytes,
    batchCount: dv.getInt32(out + R.BATCH_COUNT, true),
    lastOffset: dv.getBigInt64(out + R.LAST_OFFSET, true),
    maxTimestamp: dv.getBigInt64(out + R.MAX_TIMESTAMP, true),
    offsetOfMaxTimestamp: dv.getBigInt64(out + R.OFFSET_OF_MAX_TIMESTAMP, true),
    offsetIndex: new Int32Array(buf.slice(entries, entries + nOffset * 8)),
    timeIndex: {
      timestamps: new BigInt64Array(buf.slice(tsAt, tsAt + nTime * 8)),
      relativeOffsets: new Int32Array(buf.slice(relAt, relAt + nTime * 4)),
    },
    bytesSinceLastEntry: dv.getInt32(out + R.BYTES_SINCE, true),
    lastTimeIndexTimestamp: dv.getBigInt64(out + R.LAST_TIME_ENTRY, true),
    stop,
  };
}

/**
 * OffsetIndex.lookup: the entry with the largest relative offset <= target, or
 * (0, 0) (the segment's start) if there is none. offsetIndex: (relativeOffset, position) pairs, ascending.
 */
export function lookupOffset(offsetIndex: Int32Array, targetRelativeOffset: number): { relativeOffset: number; position: number; slot: number } {
  let lo = 0;
  let hi = (offsetIndex.length >> 1) - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (offsetIndex[mid * 2]! <= targetRelativeOffset) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (found < 0) return { relativeOffset: 0, position: 0, slot: -1 };
  return { relativeOffset: offsetIndex[found * 2]!, position: offsetIndex[found * 2 + 1]!, slot: found };
}

/** The first time index entry whose timestamp is >= target, or null if every entry is older. */
export function lookupTimestamp(timeIndex: TimeIndexEntries, targetTimestamp: bigint): { timestamp: bigint; relativeOffset: number; slot: number } | null {
  const ts = timeIndex.timestamps;
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! < targetTimestamp) lo = mid + 1;
    else hi = mid;
  }
  if (lo === ts.length) return null;
  return { timestamp: ts[lo]!, relativeOffset: timeIndex.relativeOffsets[lo]!, slot: lo };
}

/**
 * Kafka's TimeIndex.lookup: the entry with the largest timestamp <= target, or
 * (-1n, 0) if there is none; where a search for the first record with
 * timestamp >= target starts.
 */
export function timeIndexFloor(timeIndex: TimeIndexEntries, targetTimestamp: bigint): { timestamp: bigint; relativeOffset: number; slot: number } {
  const ts = timeIndex.timestamps;
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! <= targetTimestamp) lo = mid + 1;
    else hi = mid;
  }
  if (lo === 0) return { timestamp: -1n, relativeOffset: 0, slot: -1 };
  return { timestamp: ts[lo - 1]!, relativeOffset: timeIndex.relativeOffsets[lo - 1]!, slot: lo - 1 };
}
