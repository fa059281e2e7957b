// Error codes returned (negated) by every export of the core, and a small
// static area where the failing call leaves the numbers involved so the
// TypeScript side can build a message that carries them (stored vs computed
// CRC, size vs limit, position of the bad byte).
//
// The TypeScript mirror of this table is src/core/errors.ts: keep them in step.

export const ERR_CORRUPT: i32 = -1;        // structure broken: bad length, varint overflow, count mismatch
export const ERR_CRC: i32 = -2;            // CRC32C mismatch
export const ERR_MAGIC: i32 = -3;          // magic byte is not 2
export const ERR_OUT_OF_SPACE: i32 = -4;   // destination capacity too small (caller grows and retries)
export const ERR_TOO_LARGE: i32 = -5;      // decompressed size over the caller's limit
export const ERR_UNSUPPORTED: i32 = -6;    // codec or feature the core does not do (e.g. gzip, zstd)
export const ERR_TRUNCATED: i32 = -7;      // input ends before the structure does

// Four i64 slots of detail for the last error.
const detail = memory.data(32);

export function setDetail(slot: i32, value: i64): void {
  store<i64>(detail + (<usize>slot << 3), value);
}

export function fail(code: i32, a: i64 = 0, b: i64 = 0, c: i64 = 0): i32 {
  setDetail(0, a);
  setDetail(1, b);
  setDetail(2, c);
  return code;
}

export function errorDetail(slot: i32): i64 {
  return load<i64>(detail + (<usize>(slot & 3) << 3));
}

export function heapBase(): usize {
  // Round up so the caller's first region is 16-byte aligned.
  return (__heap_base + 15) & ~<usize>15;
}
