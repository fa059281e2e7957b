// Copy helpers shared by the LZ77-family decoders (./lz4.ts, ./snappy.ts).
// Nothing here is exported from the module (index.ts does not re-export this
// file): these are @inline building blocks, not entry points.
//
// Every helper documents what its caller must have checked. They write in
// 16-byte v128 chunks, so they may scribble up to 15 bytes past the logical
// end of a copy; callers pass `wend`, the physical end of the destination
// they own, and fall back to exact copies near it.

// i8x16.swizzle indices that repeat a pattern of period `off` (1..15) over 16
// bytes: row `off` holds i % off for i in 0..15. Row 0 is unused.
const PATTERN: usize = memory.data<u8>([
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1,
  0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0,
  0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3,
  0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0,
  0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3,
  0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1,
  0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 2, 3, 4, 5, 6,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1, 2, 3, 4,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 1, 2, 3,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 1, 2,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 0, 1,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0,
], 16);

// The smallest multiple of `off` that is >= 16: once 16 bytes of a period-`off`
// run are written, the run continues as a plain copy from that far back.
const STRIDE: usize = memory.data<u8>([0, 16, 16, 18, 16, 20, 18, 21, 16, 18, 20, 22, 24, 26, 28, 30]);

/**
 * Copies `len` bytes from `s` to `d` in 16-byte chunks (0 bytes still writes one
 * chunk). Caller: s + len + 15 is readable and d + len + 15 <= its write end;
 * the ranges do not overlap within 16 bytes (literals: different buffers).
 */
// @ts-ignore: decorator
@inline export function wildCopy16(d: usize, s: usize, len: usize): void {
  const e = d + len;
  do {
    store<v128>(d, load<v128>(s));
    d += 16;
    s += 16;
  } while (d < e);
}

/**
 * LZ77 match copy: `len` bytes from `op - off` to `op`, where an overlapping
 * source repeats its pattern (off < len). Caller: 1 <= off <= op - (start of
 * the window) and op + len <= logical end <= wend (the physical write end).
 */
// @ts-ignore: decorator
@inline export function matchCopy(op: usize, off: usize, len: usize, wend: usize): void {
  let s = op - off;
  const e = op + len;
  if (e + 16 <= wend) {
    if (off >= 16) {
      let d = op;
      do {
        store<v128>(d, load<v128>(s));
        d += 16;
        s += 16;
      } while (d < e);
    } else {
      // The first 16 bytes by shuffling the period, the rest as a copy from
      // STRIDE[off] back (a multiple of the period, >= 16, so chunks never overlap).
      store<v128>(op, v128.swizzle(load<v128>(s), load<v128>(PATTERN + (off << 4))));
      let d = op + 16;
      if (d < e) {
        s = d - <usize>load<u8>(STRIDE + off);
        do {
          store<v128>(d, load<v128>(s));
          d += 16;
          s += 16;
        } while (d < e);
      }
    }
  } else if (off >= len) {
    memory.copy(op, s, len);
  } else {
    // Near the end of the destination and overlapping: byte by byte.
    for (let d = op; d < e; d++, s++) store<u8>(d, load<u8>(s));
  }
}
