// Segment scanning and index lookups, after Kafka's LogSegment.recover() and
// OffsetIndex / TimeIndex.
//
// scanSegment walks consecutive batches from a start position, checks each
// (Length, Magic, CRC), and stops at the first batch that is invalid or not
// complete. While walking it builds the sparse indexes the way LogSegment
// does: before a batch is counted, if more than indexIntervalBytes bytes were
// appended since the last index entry, it adds the offset index entry
// (batch.lastOffset - baseOffset, position of the batch) and offers the time
// index the entry (largest timestamp so far, relative offset of the batch that
// had it), which is taken only if its timestamp is larger than the last one.
//
// Offset index entry: relativeOffset i32, position i32 (8 bytes).
// Time index entries are written as two arrays: timestamps (i64) and relative offsets (i32).

import { ERR_CORRUPT, ERR_OUT_OF_SPACE, errorDetail, fail } from "./errors";
import { batchValidate, LAST_OFFSET_DELTA_OFFSET, MAX_TIMESTAMP_OFFSET } from "./batch";

// Result block written at `out` by scanSegment (i64 fields first):
export const SCAN_LAST_OFFSET = 0;               // i64: last offset of the last valid batch (-1 if none)
export const SCAN_MAX_TIMESTAMP = 8;             // i64: largest batch max timestamp seen (incl. the one passed in)
export const SCAN_OFFSET_OF_MAX_TIMESTAMP = 16;  // i64: last offset of the batch that had it
export const SCAN_LAST_TIME_ENTRY = 24;          // i64: timestamp of the last time index entry (incl. the one passed in)
export const SCAN_VALID_BYTES = 32;              // i32: end position (relative to the segment) of the valid prefix
export const SCAN_BATCH_COUNT = 36;              // i32
export const SCAN_OFFSET_ENTRIES = 40;           // i32
export const SCAN_TIME_ENTRIES = 44;             // i32
export const SCAN_BYTES_SINCE_LAST_ENTRY = 48;   // i32
export const SCAN_STOP = 52;                     // i32: 0 at a clean end, else the error code of the batch where the scan stopped
export const SCAN_STOP_DETAIL0 = 56;             // i64 x 3: the error detail of that batch
export const SCAN_RESULT_BYTES = 80;

// @ts-ignore: decorator
@inline function loadBE32(p: usize): i32 {
  return <i32>bswap<u32>(load<u32>(p));
}
// @ts-ignore: decorator
@inline function loadBE64(p: usize): i64 {
  return <i64>bswap<u64>(load<u64>(p));
}

/**
 * Scans [src, src + len), the bytes of a segment from position startPosition.
 * out receives the result block, then maxEntries offset entries (8 bytes each),
 * then maxEntries time timestamps (8 bytes), then maxEntries time relative offsets (4 bytes).
 * flags: bit 0 verify CRCs.
 * Returns the number of valid batches, or ERR_OUT_OF_SPACE if maxEntries is too small.
 * The batch at which the scan stopped (invalid, or incomplete at the end) is
 * described by SCAN_STOP and its detail; it is not an error of this call.
 */
export function scanSegment(
  src: usize, len: i32, startPosition: i32, baseOffset: i64, indexIntervalBytes: i32, bytesSinceLastEntry: i32,
  maxTimestampSoFar: i64, offsetOfMaxTimestampSoFar: i64, lastTimeEntryTimestamp: i64,
  flags: i32, out: usize, maxEntries: i32,
): i32 {
  const offsetEntries = out + SCAN_RESULT_BYTES;
  const timeStamps = offsetEntries + (<usize>maxEntries << 3);
  const timeOffsets = timeStamps + (<usize>maxEntries << 3);
  const verifyCrc = (flags & 1) != 0;
  let pos: i32 = 0;
  let batches: i32 = 0;
  let nOffset: i32 = 0;
  let nTime: i32 = 0;
  let lastOffset: i64 = -1;
  let stop: i32 = 0;
  let since = bytesSinceLastEntry;
  while (pos < len) {
    const b = src + <usize>pos;
    const size = batchValidate(b, len - pos, verifyCrc);
    if (size < 0) {
      stop = size;
      break;
    }
    const batchLast = loadBE64(b) + <i64>loadBE32(b + LAST_OFFSET_DELTA_OFFSET);
    const relative = batchLast - baseOffset;
    if (relative < 0 || relative > <i64>i32.MAX_VALUE) {
      stop = fail(ERR_CORRUPT, batchLast, baseOffset, 0);
      break;
    }
    const batchMaxTs = loadBE64(b + MAX_TIMESTAMP_OFFSET);
    if (batchMaxTs > maxTimestampSoFar) {
      maxTimestampSoFar = batchMaxTs;
      offsetOfMaxTimestampSoFar = batchLast;
    }
    if (since > indexIntervalBytes) {
      if (nOffset >= maxEntries) return fail(ERR_OUT_OF_SPACE, nOffset + 1);
      store<i32>(offsetEntries + (<usize>nOffset << 3), <i32>relative);
      store<i32>(offsetEntries + (<usize>nOffset << 3), startPosition + pos, 4);
      nOffset++;
      if (maxTimestampSoFar > lastTimeEntryTimestamp) {
        store<i64>(timeStamps + (<usize>nTime << 3), maxTimestampSoFar);
        store<i32>(timeOffsets + (<usize>nTime << 2), <i32>(offsetOfMaxTimestampSoFar - baseOffset));
        lastTimeEntryTimestamp = maxTimestampSoFar;
        nTime++;
      }
      since = 0;
    }
    since += size;
    pos += size;
    batches++;
    lastOffset = batchLast;
  }
  store<i64>(out + SCAN_LAST_OFFSET, lastOffset);
  store<i64>(out + SCAN_MAX_TIMESTAMP, maxTimestampSoFar);
  store<i64>(out + SCAN_OFFSET_OF_MAX_TIMESTAMP, offsetOfMaxTimestampSoFar);
  store<i64>(out + SCAN_LAST_TIME_ENTRY, lastTimeEntryTimestamp);
  store<i32>(out + SCAN_VALID_BYTES, startPosition + pos);
  store<i32>(out + SCAN_BATCH_COUNT, batches);
  store<i32>(out + SCAN_OFFSET_ENTRIES, nOffset);
  store<i32>(out + SCAN_TIME_ENTRIES, nTime);
  store<i32>(out + SCAN_BYTES_SINCE_LAST_ENTRY, since);
  store<i32>(out + SCAN_STOP, stop);
  for (let k = 0; k < 3; k++) store<i64>(out + SCAN_STOP_DETAIL0 + (<usize>k << 3), stop != 0 ? errorDetail(k) : 0);
  return batches;
}

/**
 * Offset index lookup (OffsetIndex.lookup): the slot of the largest entry whose
 * relative offset is <= target, or -1 if there is none (start at position 0).
 * entries: count pairs (relativeOffset i32, position i32).
 */
export function offsetIndexLookup(entries: usize, count: i32, target: i32): i32 {
  let lo = 0;
  let hi = count - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (load<i32>(entries + (<usize>mid << 3)) <= target) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/**
 * Time index lookup: the slot of the first entry whose timestamp is >= target,
 * or count if there is none. timestamps: count i64 values, non-decreasing.
 * (Kafka's TimeIndex.lookup, the largest entry <= target, is timeIndexFloor.)
 */
export function timeIndexLookup(timestamps: usize, count: i32, target: i64): i32 {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (load<i64>(timestamps + (<usize>mid << 3)) < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The slot of the largest entry whose timestamp is <= target, or -1 (Kafka's TimeIndex.lookup). */
export function timeIndexFloor(timestamps: usize, count: i32, target: i64): i32 {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (load<i64>(timestamps + (<usize>mid << 3)) <= target) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}
