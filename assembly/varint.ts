// Zig-zag varints as Kafka writes them (org.apache.kafka.common.utils.ByteUtils):
// a varint is an i32 in at most 5 bytes, a varlong an i64 in at most 10, 7 bits
// per byte, least significant group first, high bit set on every byte but the
// last. Like Kafka, the high bits of the last allowed byte are dropped; a
// continuation bit on it is an overflow (ERR_CORRUPT).
//
// Readers take [pos, end) and return the position after the varint, or a
// negative error code; the value is left in `varValue` (one global: the core is
// single-threaded), readable from TypeScript with varintValue().

import { ERR_CORRUPT, ERR_TRUNCATED } from "./errors";

export let varValue: i64 = 0;

/** Bytes taken by the zig-zag varint of v. */
// @ts-ignore: decorator
@inline export function sizeOfVarint(v: i32): i32 {
  const u = <u32>((v << 1) ^ (v >> 31));
  // 1 + floor(bits / 7), bits = 32 - clz(u|1)
  return (((38 - clz<u32>(u | 1)) * 37) >> 8);
}

/** Bytes taken by the zig-zag varlong of v. */
// @ts-ignore: decorator
@inline export function sizeOfVarlong(v: i64): i32 {
  const u = <u64>((v << 1) ^ (v >> 63));
  return <i32>(((70 - clz<u64>(u | 1)) * 37) >> 8);
}

/** Writes the zig-zag varint of v at p; returns the position after it. No bounds check. */
// @ts-ignore: decorator
@inline export function putVarint(p: usize, v: i32): usize {
  let u = <u32>((v << 1) ^ (v >> 31));
  while (u >= 0x80) {
    store<u8>(p++, <u8>(u | 0x80));
    u >>>= 7;
  }
  store<u8>(p++, <u8>u);
  return p;
}

/** Writes the zig-zag varlong of v at p; returns the position after it. No bounds check. */
// @ts-ignore: decorator
@inline export function putVarlong(p: usize, v: i64): usize {
  let u = <u64>((v << 1) ^ (v >> 63));
  while (u >= 0x80) {
    store<u8>(p++, <u8>(u | 0x80));
    u >>>= 7;
  }
  store<u8>(p++, <u8>u);
  return p;
}

/** Reads a zig-zag varint in [p, end); value in varValue. Position after it, or < 0. */
export function getVarint(p: usize, end: usize): isize {
  let u: u32 = 0;
  let shift: u32 = 0;
  for (;;) {
    if (p >= end) return ERR_TRUNCATED;
    const b = <u32>load<u8>(p++);
    u |= (b & 0x7f) << shift;
    if (b < 0x80) break;
    shift += 7;
    if (shift > 28) return ERR_CORRUPT;
  }
  varValue = <i64>(<i32>((u >>> 1) ^ (0 - (u & 1))));
  return <isize>p;
}

/** Reads a zig-zag varlong in [p, end); value in varValue. Position after it, or < 0. */
export function getVarlong(p: usize, end: usize): isize {
  let u: u64 = 0;
  let shift: u64 = 0;
  for (;;) {
    if (p >= end) return ERR_TRUNCATED;
    const b = <u64>load<u8>(p++);
    u |= (b & 0x7f) << shift;
    if (b < 0x80) break;
    shift += 7;
    if (shift > 63) return ERR_CORRUPT;
  }
  varValue = <i64>((u >>> 1) ^ (0 - (u & 1)));
  return <isize>p;
}

// --- exports for TypeScript (tests, protocol code); the batch code uses the inline forms.

/** Writes the zig-zag varint of value at dst; returns bytes written (1..5). */
export function varintWrite(value: i32, dst: usize): i32 {
  return <i32>(putVarint(dst, value) - dst);
}

/** Writes the zig-zag varlong of value at dst; returns bytes written (1..10). */
export function varlongWrite(value: i64, dst: usize): i32 {
  return <i32>(putVarlong(dst, value) - dst);
}

/** Reads a varint from [src, src+len): bytes read, or < 0 (ERR_TRUNCATED, ERR_CORRUPT on overflow). Value: varintValue(). */
export function varintRead(src: usize, len: usize): i32 {
  const r = getVarint(src, src + len);
  return r < 0 ? <i32>r : <i32>(<usize>r - src);
}

/** Reads a varlong from [src, src+len): bytes read, or < 0. Value: varintValue(). */
export function varlongRead(src: usize, len: usize): i32 {
  const r = getVarlong(src, src + len);
  return r < 0 ? <i32>r : <i32>(<usize>r - src);
}

/** The value of the last successful varintRead / varlongRead. */
export function varintValue(): i64 {
  return varValue;
}

export function varintSize(value: i32): i32 {
  return sizeOfVarint(value);
}

export function varlongSize(value: i64): i32 {
  return sizeOfVarlong(value);
}
