// Snappy, raw and in the xerial framing Kafka's Java client writes
// (compression.type=snappy).
//
// Spec: https://github.com/google/snappy/blob/main/format_description.txt
//   raw     := uncompressedLength:uvarint(<= 2^32-1) element*
//   element := tag with the low 2 bits:
//              00 literal: len-1 in tag>>2 if < 60, else in the next (tag>>2)-59 bytes (LE)
//              01 copy-1:  len = 4 + ((tag>>2)&7), offset = (tag>>5)<<8 | next byte (11 bits)
//              10 copy-2:  len = 1 + (tag>>2), offset = next u16le
//              11 copy-4:  len = 1 + (tag>>2), offset = next u32le
// xerial (org.xerial.snappy.SnappyOutputStream, as Kafka's client uses it):
//   header  := 0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00  version:i32be(1)  compatibleVersion:i32be(1)
//   chunk*  := compressedLength:i32be  raw snappy of up to 32 KiB of input
//
// Compression writes the xerial framing with 32 KiB chunks, each a raw snappy
// stream compressed like the reference compressor (hash table of 4-byte
// sequences, skip heuristic, copy-1 for short near matches). Decompression
// takes xerial (detected by its 8 magic bytes) or plain raw snappy, as Kafka
// does, and checks every length and offset against both buffers.

import { ERR_CORRUPT, ERR_OUT_OF_SPACE, ERR_TOO_LARGE, ERR_TRUNCATED, errorDetail, fail } from "./errors";
import { matchCopy, wildCopy16 } from "./lzcopy";

const XERIAL_HEADER_LEN: usize = 16;
const XERIAL_MAGIC_LO: u32 = 0x414e5382; // 0x82 'S' 'N' 'A' (little-endian load)
const XERIAL_MAGIC_HI: u32 = 0x00595050; // 'P' 'P' 'Y' 0x00
const XERIAL_CHUNK: usize = 32768;

// ---------------------------------------------------------------- compressor

const HASH_LOG_MAX: u32 = 14;
const HASH_TABLE: usize = memory.data(2 << HASH_LOG_MAX, 16);
const INPUT_MARGIN: usize = 15;
const HASH_MUL: u32 = 0x1e35a7bd;

// @ts-ignore: decorator
@inline function hashAt(p: usize, shift: u32): usize {
  return <usize>((load<u32>(p) * HASH_MUL) >> shift) << 1;
}

/** Worst-case raw snappy size for n input bytes (the reference's MaxCompressedLength). */
// @ts-ignore: decorator
@inline function maxCompressedLength(n: usize): usize {
  return 32 + n + n / 6;
}

// @ts-ignore: decorator
@inline function emitCopy(op: usize, off: usize, len: usize): usize {
  if (len < 12 && off < 2048) {
    store<u8>(op, <u8>(1 | ((len - 4) << 2) | ((off >> 8) << 5)));
    store<u8>(op, <u8>off, 1);
    return op + 2;
  }
  while (len >= 68) {
    store<u8>(op, <u8>(2 | (63 << 2)));
    store<u16>(op, <u16>off, 1);
    op += 3;
    len -= 64;
  }
  if (len > 64) {
    store<u8>(op, <u8>(2 | (59 << 2)));
    store<u16>(op, <u16>off, 1);
    op += 3;
    len -= 60;
  }
  if (len < 12 && off < 2048) {
    store<u8>(op, <u8>(1 | ((len - 4) << 2) | ((off >> 8) << 5)));
    store<u8>(op, <u8>off, 1);
    return op + 2;
  }
  store<u8>(op, <u8>(2 | ((len - 1) << 2)));
  store<u16>(op, <u16>off, 1);
  return op + 3;
}

// @ts-ignore: decorator
@inline function emitLiteralTag(op: usize, len: usize): usize {
  const n = len - 1;
  if (n < 60) {
    store<u8>(op, <u8>(n << 2));
    return op + 1;
  }
  const count: usize = n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x1000000 ? 3 : 4;
  store<u8>(op, <u8>((59 + count) << 2));
  store<u32>(op + 1, <u32>n); // the bytes past `count` are overwritten by the literal
  return op + 1 + count;
}

/**
 * Compresses [src, src + len) (len <= 64 KiB) as one raw snappy stream at dst,
 * which must hold maxCompressedLength(len). Returns bytes written.
 */
function compressRaw(src: usize, len: usize, dst: usize): usize {
  // Preamble: the uncompressed length as a varint.
  let op = dst;
  let v = <u32>len;
  while (v >= 0x80) {
    store<u8>(op++, <u8>(v | 0x80));
    v >>= 7;
  }
  store<u8>(op++, <u8>v);

  const iend = src + len;
  let nextEmit = src;
  if (len >= INPUT_MARGIN) {
    let hashLog: u32 = 32 - clz<u32>(<u32>len - 1);
    if (hashLog > HASH_LOG_MAX) hashLog = HASH_LOG_MAX;
    if (hashLog < 8) hashLog = 8;
    const shift: u32 = 32 - hashLog;
    const ht = HASH_TABLE;
    memory.fill(ht, 0, <usize>2 << hashLog);

    const ipLimit = iend - INPUT_MARGIN;
    let ip = src + 1;
    let nextHash = hashAt(ip, shift);
    let done = false;
    while (true) {
      let skip: u32 = 32;
      let nextIp = ip;
      let candidate: usize;
      do {
        ip = nextIp;
        const h = nextHash;
        nextIp = ip + <usize>(skip++ >> 5);
        if (nextIp > ipLimit) {
          done = true;
          break;
        }
        nextHash = hashAt(nextIp, shift);
        candidate = src + <usize>load<u16>(ht + h);
        store<u16>(ht + h, <u16>(ip - src));
      } while (load<u32>(ip) != load<u32>(candidate));
      if (done) break;

      // Literal [nextEmit, ip); wide copy reads to ip + 15 <= iend.
      const litLen = ip - nextEmit;
      if (litLen > 0) {
        op = emitLiteralTag(op, litLen);
        wildCopy16(op, nextEmit, litLen);
        op += litLen;
      }

      // Copies, while the position after one starts another.
      while (true) {
        const base = ip;
        let m = candidate + 4;
        ip += 4;
        while (true) {
          if (ip + 8 <= iend) {
            const diff = load<u64>(m) ^ load<u64>(ip);
            if (diff) {
              ip += <usize>(ctz<u64>(diff) >> 3);
              break;
            }
            ip += 8;
            m += 8;
          } else {
            while (ip < iend && load<u8>(m) == load<u8>(ip)) {
              ip++;
              m++;
            }
            break;
          }
        }
        op = emitCopy(op, base - candidate, ip - base);
        nextEmit = ip;
        if (ip >= ipLimit) {
          done = true;
          break;
        }
        store<u16>(ht + hashAt(ip - 1, shift), <u16>(ip - 1 - src));
        const h = hashAt(ip, shift);
        candidate = src + <usize>load<u16>(ht + h);
        store<u16>(ht + h, <u16>(ip - src));
        if (load<u32>(ip) != load<u32>(candidate)) break;
      }
      if (done) break;
      ip++;
      nextHash = hashAt(ip, shift);
    }
  }

  // Remainder.
  if (nextEmit < iend) {
    const litLen = iend - nextEmit;
    op = emitLiteralTag(op, litLen);
    memory.copy(op, nextEmit, litLen);
    op += litLen;
  }
  return op - dst;
}

// ---------------------------------------------------------------- decompressor

/**
 * Decodes one raw snappy stream [ip, iend) to [dst, dst + declared length),
 * failing with ERR_OUT_OF_SPACE when that is over `cap`. `wend` (>= dst + cap)
 * is the end we may scribble on. Returns bytes written or < 0.
 */
function decodeRaw(ip: usize, iend: usize, dst: usize, cap: usize, wend: usize): i64 {
  const ibase = ip;
  // Preamble varint, at most 5 bytes, value < 2^32.
  let ulen: u64 = 0;
  let shift: u64 = 0;
  while (true) {
    if (ip >= iend) return fail(ERR_TRUNCATED, <i64>(ip - ibase), 0, 10);
    const b = <u64>load<u8>(ip++);
    ulen |= (b & 0x7f) << shift;
    if (b < 0x80) break;
    shift += 7;
    if (shift > 28) return fail(ERR_CORRUPT, <i64>(ip - ibase), 0, 11);
  }
  if (ulen > 0xffffffff) return fail(ERR_CORRUPT, <i64>ulen, 0, 12);
  if (ulen > <u64>cap) return fail(ERR_OUT_OF_SPACE, <i64>ulen, <i64>cap, 13);
  let op = dst;
  const oend = dst + <usize>ulen;

  while (ip < iend) {
    const tag = <usize>load<u8>(ip++);
    if ((tag & 3) == 0) {
      let len = (tag >> 2) + 1;
      if (len <= 16 && ip + 16 <= iend && op + 16 <= wend) {
        // The common short literal: one wide copy (len <= 16 <= iend - ip).
        if (len > oend - op) return fail(ERR_CORRUPT, <i64>(op - dst + len), <i64>ulen, 15);
        store<v128>(op, load<v128>(ip));
        ip += len;
        op += len;
        continue;
      }
      if (len > 60) {
        const nb = len - 60;
        if (iend - ip < nb) return fail(ERR_TRUNCATED, <i64>(ip - ibase), <i64>nb, 16);
        let n: usize = load<u8>(ip);
        if (nb > 1) n |= <usize>load<u8>(ip, 1) << 8;
        if (nb > 2) n |= <usize>load<u8>(ip, 2) << 16;
        if (nb > 3) n |= <usize>load<u8>(ip, 3) << 24;
        ip += nb;
        if (n >= iend - ip) return fail(ERR_TRUNCATED, <i64>(ip - ibase), <i64>n + 1, 17);
        len = n + 1;
      }
      if (len > iend - ip) return fail(ERR_TRUNCATED, <i64>(ip - ibase), <i64>len, 18);
      if (len > oend - op) return fail(ERR_CORRUPT, <i64>(op - dst + len), <i64>ulen, 19);
      if (ip + len + 16 <= iend && op + len + 16 <= wend) wildCopy16(op, ip, len);
      else memory.copy(op, ip, len);
      ip += len;
      op += len;
    } else {
      let len: usize;
      let off: usize;
      if ((tag & 3) == 1) {
        if (ip >= iend) return fail(ERR_TRUNCATED, <i64>(ip - ibase), 1, 20);
        len = ((tag >> 2) & 7) + 4;
        off = ((tag & 0xe0) << 3) | <usize>load<u8>(ip);
        ip += 1;
      } else if ((tag & 3) == 2) {
        if (iend - ip < 2) return fail(ERR_TRUNCATED, <i64>(ip - ibase), 2, 21);
        len = (tag >> 2) + 1;
        off = <usize>load<u16>(ip);
        ip += 2;
      } else {
        if (iend - ip < 4) return fail(ERR_TRUNCATED, <i64>(ip - ibase), 4, 22);
        len = (tag >> 2) + 1;
        off = <usize>load<u32>(ip);
        ip += 4;
      }
      if (off == 0 || off > op - dst) return fail(ERR_CORRUPT, <i64>(ip - ibase), <i64>off, 23);
      if (len > oend - op) return fail(ERR_CORRUPT, <i64>(op - dst + len), <i64>ulen, 24);
      matchCopy(op, off, len, wend);
      op += len;
    }
  }
  if (op != oend) return fail(ERR_CORRUPT, <i64>(op - dst), <i64>ulen, 25);
  return <i64>ulen;
}

// @ts-ignore: decorator
@inline function isXerial(src: usize, srcLen: usize): bool {
  return srcLen >= XERIAL_HEADER_LEN && load<u32>(src) == XERIAL_MAGIC_LO && load<u32>(src, 4) == XERIAL_MAGIC_HI;
}

// ---------------------------------------------------------------- exports

/** Worst-case xerial-framed size for srcLen input bytes. */
export function snappyXerialBound(srcLen: i32): i32 {
  if (srcLen < 0) return ERR_CORRUPT;
  if (srcLen > 0x60000000) return ERR_TOO_LARGE; // the bound would not fit an i32
  const chunks = (srcLen + 32767) >>> 15;
  return <i32>XERIAL_HEADER_LEN + chunks * 36 + srcLen + srcLen / 6;
}

/**
 * Compresses [src, src + srcLen) in the xerial framing (32 KiB chunks) at dst.
 * Returns bytes written or < 0 (ERR_OUT_OF_SPACE when dstCap is under what a
 * chunk may need; snappyXerialBound() always suffices).
 */
export function snappyXerialCompress(src: usize, srcLen: i32, dst: usize, dstCap: i32): i32 {
  if (srcLen < 0 || dstCap < 0) return fail(ERR_CORRUPT, srcLen, dstCap);
  if (srcLen > 0x60000000) return fail(ERR_TOO_LARGE, srcLen, 0x60000000);
  if (<usize>dstCap < XERIAL_HEADER_LEN) return fail(ERR_OUT_OF_SPACE, <i64>snappyXerialBound(srcLen), dstCap);
  store<u32>(dst, XERIAL_MAGIC_LO);
  store<u32>(dst, XERIAL_MAGIC_HI, 4);
  store<u32>(dst, bswap<u32>(1), 8);
  store<u32>(dst, bswap<u32>(1), 12);
  let op = dst + XERIAL_HEADER_LEN;
  const oend = dst + <usize>dstCap;
  let ip = src;
  const iend = src + <usize>srcLen;
  while (ip < iend) {
    let n = iend - ip;
    if (n > XERIAL_CHUNK) n = XERIAL_CHUNK;
    if (oend - op < 4 + maxCompressedLength(n)) return fail(ERR_OUT_OF_SPACE, <i64>snappyXerialBound(srcLen), dstCap);
    const c = compressRaw(ip, n, op + 4);
    store<u32>(op, bswap<u32>(<u32>c));
    op += 4 + c;
    ip += n;
  }
  return <i32>(op - dst);
}

/**
 * Decompresses xerial-framed or raw snappy [src, src + srcLen) into
 * [dst, dst + dstCap). Returns bytes written or < 0: ERR_OUT_OF_SPACE (grow
 * and retry; snappyUncompressedLength() gives the size), ERR_CORRUPT, ERR_TRUNCATED.
 */
export function snappyDecompress(src: usize, srcLen: i32, dst: usize, dstCap: i32): i32 {
  if (srcLen < 0 || dstCap < 0) return fail(ERR_CORRUPT, srcLen, dstCap);
  const iend = src + <usize>srcLen;
  const wend = dst + <usize>dstCap;
  if (!isXerial(src, <usize>srcLen)) {
    const n = decodeRaw(src, iend, dst, <usize>dstCap, wend);
    return <i32>n;
  }
  let ip = src + XERIAL_HEADER_LEN;
  let op = dst;
  while (ip < iend) {
    if (iend - ip < 4) return fail(ERR_TRUNCATED, <i64>(ip - src), <i64>srcLen, 1);
    const clen = <usize>bswap<u32>(load<u32>(ip));
    ip += 4;
    if (clen > iend - ip) return fail(ERR_TRUNCATED, <i64>(ip - src), <i64>clen, 2);
    const n = decodeRaw(ip, ip + clen, op, wend - op, wend);
    if (n < 0) {
      // Sizes in the detail are relative to this chunk: make the capacity total.
      if (<i32>n == ERR_OUT_OF_SPACE) return fail(ERR_OUT_OF_SPACE, <i64>(op - dst) + errorDetail(0), dstCap, 3);
      return <i32>n;
    }
    op += <usize>n;
    ip += clen;
  }
  return <i32>(op - dst);
}

/** Total uncompressed length (sum over xerial chunks, or the raw preamble), or -1 if malformed. */
export function snappyUncompressedLength(src: usize, srcLen: i32): i64 {
  if (srcLen < 0) return -1;
  const iend = src + <usize>srcLen;
  if (!isXerial(src, <usize>srcLen)) return preamble(src, iend);
  let ip = src + XERIAL_HEADER_LEN;
  let total: i64 = 0;
  while (ip < iend) {
    if (iend - ip < 4) return -1;
    const clen = <usize>bswap<u32>(load<u32>(ip));
    ip += 4;
    if (clen > iend - ip) return -1;
    const n = preamble(ip, ip + clen);
    if (n < 0) return -1;
    total += n;
    ip += clen;
  }
  return total;
}

function preamble(ip: usize, iend: usize): i64 {
  let v: u64 = 0;
  let shift: u64 = 0;
  while (true) {
    if (ip >= iend) return -1;
    const b = <u64>load<u8>(ip++);
    v |= (b & 0x7f) << shift;
    if (b < 0x80) break;
    shift += 7;
    if (shift > 28) return -1;
  }
  return v > 0xffffffff ? -1 : <i64>v;
}
