// LZ4 frame format, as Kafka's clients write and read it (compression.type=lz4).
//
// Spec: https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md
//       https://github.com/lz4/lz4/blob/dev/doc/lz4_Block_format.md
//
//   frame   := magic:u32le(0x184D2204) FLG BD [contentSize:u64le] [dictID:u32le] HC
//              block* endMark:u32le(0) [contentChecksum:u32le]
//   FLG     := version:2(=01) B.Indep:1 B.Checksum:1 C.Size:1 C.Checksum:1 reserved:1(=0) DictID:1
//   BD      := reserved:1(=0) blockMaxSize:3 (4=64K 5=256K 6=1M 7=4M) reserved:4(=0)
//   HC      := (xxh32(FLG..last descriptor byte, seed 0) >> 8) & 0xFF
//   block   := size:u32le (high bit set: stored uncompressed) data [blockChecksum:u32le = xxh32(data, 0)]
//   content checksum = xxh32(all decompressed bytes, 0)
//
//   LZ4 block: sequences of token(lit:4 | match:4) [lit len +255...] literals
//              offset:u16le [match len +255...]; match length = 4 + field;
//              the last sequence has literals only. Compressors keep the last
//              5 bytes literal and start no match within 12 bytes of the end.
//
// Compression writes what Kafka's KafkaLZ4BlockOutputStream writes: FLG 0x60
// (version 1, independent blocks, no checksums, no content size), BD 0x40
// (64 KiB blocks), incompressible blocks stored raw. Decompression accepts any
// single frame the spec allows except dictionaries (linked blocks, block and
// content checksums, content size, 64 KiB..4 MiB blocks), checks every length
// and offset against both buffers, and rejects trailing bytes after the frame.

import { ERR_CORRUPT, ERR_CRC, ERR_OUT_OF_SPACE, ERR_TOO_LARGE, ERR_TRUNCATED, ERR_UNSUPPORTED, fail } from "./errors";
import { matchCopy, wildCopy16 } from "./lzcopy";

const MAGIC: u32 = 0x184d2204;
const FLG_VERSION: u32 = 0x40;
const FLG_BLOCK_INDEPENDENT: u32 = 0x20;
const FLG_BLOCK_CHECKSUM: u32 = 0x10;
const FLG_CONTENT_SIZE: u32 = 0x08;
const FLG_CONTENT_CHECKSUM: u32 = 0x04;
const FLG_RESERVED: u32 = 0x02;
const FLG_DICT_ID: u32 = 0x01;
const BLOCK_UNCOMPRESSED: u32 = 0x80000000;
const BLOCK_MAX: usize = 65536; // what we write (BD 0x40)

const MINMATCH: usize = 4;
const MFLIMIT: usize = 12;
const LASTLITERALS: usize = 5;
const SKIP_TRIGGER: u32 = 6;

// ---------------------------------------------------------------- xxHash32

const P1: u32 = 2654435761;
const P2: u32 = 2246822519;
const P3: u32 = 3266489917;
const P4: u32 = 668265263;
const P5: u32 = 374761393;

// @ts-ignore: decorator
@inline function round(acc: u32, lane: u32): u32 {
  return rotl<u32>(acc + lane * P2, 13) * P1;
}

/** xxHash32 of [p, p + len). */
function xxh32(p: usize, len: usize, seed: u32): u32 {
  const end = p + len;
  let h: u32;
  if (len >= 16) {
    let v1 = seed + P1 + P2;
    let v2 = seed + P2;
    let v3 = seed;
    let v4 = seed - P1;
    const limit = end - 16;
    do {
      v1 = round(v1, load<u32>(p));
      v2 = round(v2, load<u32>(p, 4));
      v3 = round(v3, load<u32>(p, 8));
      v4 = round(v4, load<u32>(p, 12));
      p += 16;
    } while (p <= limit);
    h = rotl<u32>(v1, 1) + rotl<u32>(v2, 7) + rotl<u32>(v3, 12) + rotl<u32>(v4, 18);
  } else {
    h = seed + P5;
  }
  h += <u32>len;
  while (p + 4 <= end) {
    h = rotl<u32>(h + load<u32>(p) * P3, 17) * P4;
    p += 4;
  }
  while (p < end) {
    h = rotl<u32>(h + <u32>load<u8>(p) * P5, 11) * P1;
    p++;
  }
  h ^= h >> 15;
  h *= P2;
  h ^= h >> 13;
  h *= P3;
  h ^= h >> 16;
  return h;
}

// ---------------------------------------------------------------- block compressor

// Hash table of 4-byte sequences: u16 positions relative to the block start
// (blocks are <= 64 KiB), 2^13 entries. Cleared per block, only as much of it
// as the block's size uses (small batches clear a small table).
const HASH_LOG_MAX: u32 = 13;
const HASH_TABLE: usize = memory.data(2 << HASH_LOG_MAX, 16);

// @ts-ignore: decorator
@inline function hashAt(p: usize, shift: u32): usize {
  return <usize>((load<u32>(p) * P1) >> shift) << 1;
}

/**
 * Compresses one block [src, src + len), len <= 64 KiB, into [dst, oLimit).
 * Returns the compressed size, or 0 when it does not fit (the caller stores the
 * block uncompressed). Never writes at or past oLimit.
 */
function compressBlock(src: usize, len: usize, dst: usize, oLimit: usize): usize {
  let op = dst;
  let anchor = src;
  const iend = src + len;

  if (len > MFLIMIT) {
    // Table size: about the block size, 2^8 .. 2^13 entries.
    let hashLog: u32 = 32 - clz<u32>(<u32>len - 1);
    if (hashLog > HASH_LOG_MAX) hashLog = HASH_LOG_MAX;
    if (hashLog < 8) hashLog = 8;
    const shift: u32 = 32 - hashLog;
    memory.fill(HASH_TABLE, 0, <usize>2 << hashLog);

    const mflimitPlusOne = iend - MFLIMIT + 1;
    const matchlimit = iend - LASTLITERALS;
    const ht = HASH_TABLE;

    let ip = src + 1; // position 0 is in the table already (the table is zero)
    let forwardH = hashAt(ip, shift);

    let done = false;
    while (true) {
      // Find a match: probe positions, stepping faster the longer nothing matches.
      let match: usize;
      let forwardIp = ip;
      let step: usize = 1;
      let searchMatchNb: u32 = 1 << SKIP_TRIGGER;
      do {
        const h = forwardH;
        ip = forwardIp;
        forwardIp += step;
        step = <usize>(searchMatchNb++ >> SKIP_TRIGGER);
        if (forwardIp > mflimitPlusOne) {
          done = true;
          break;
        }
        match = src + <usize>load<u16>(ht + h);
        forwardH = hashAt(forwardIp, shift);
        store<u16>(ht + h, <u16>(ip - src));
      } while (load<u32>(match) != load<u32>(ip));
      if (done) break;

      // Extend backwards over equal bytes.
      while (ip > anchor && match > src && load<u8>(ip - 1) == load<u8>(match - 1)) {
        ip--;
        match--;
      }

      // Literals.
      const litLen = ip - anchor;
      let token = op++;
      // Room for the literals (+16 for the wide copy), their length bytes,
      // the offset, a token and the last literals rule.
      if (op + litLen + (litLen >> 8) + (2 + 1 + LASTLITERALS + 16) > oLimit) return 0;
      let tok: u32;
      if (litLen >= 15) {
        tok = 15 << 4;
        let l = litLen - 15;
        while (l >= 255) {
          store<u8>(op++, 255);
          l -= 255;
        }
        store<u8>(op++, <u8>l);
      } else {
        tok = <u32>litLen << 4;
      }
      // The wide copy reads up to ip + 15: near the end, an exact copy.
      if (ip + 16 <= iend) wildCopy16(op, anchor, litLen);
      else memory.copy(op, anchor, litLen);
      op += litLen;

      // Matches; loop while the position right after one starts another.
      while (true) {
        store<u16>(op, <u16>(ip - match));
        op += 2;

        ip += MINMATCH;
        match += MINMATCH;
        const start = ip;
        while (true) {
          if (ip + 8 <= matchlimit) {
            const diff = load<u64>(match) ^ load<u64>(ip);
            if (diff) {
              ip += <usize>(ctz<u64>(diff) >> 3);
              break;
            }
            ip += 8;
            match += 8;
          } else {
            while (ip < matchlimit && load<u8>(match) == load<u8>(ip)) {
              ip++;
              match++;
            }
            break;
          }
        }
        let ml = ip - start;
        if (op + (ml >> 8) + (1 + LASTLITERALS) > oLimit) return 0;
        if (ml >= 15) {
          tok |= 15;
          ml -= 15;
          while (ml >= 510) {
            store<u16>(op, 0xffff);
            op += 2;
            ml -= 510;
          }
          if (ml >= 255) {
            store<u8>(op++, 255);
            ml -= 255;
          }
          store<u8>(op++, <u8>ml);
        } else {
          tok |= <u32>ml;
        }
        store<u8>(token, <u8>tok);

        anchor = ip;
        if (ip >= mflimitPlusOne) {
          done = true;
          break;
        }

        store<u16>(ht + hashAt(ip - 2, shift), <u16>(ip - 2 - src));
        const h = hashAt(ip, shift);
        match = src + <usize>load<u16>(ht + h);
        store<u16>(ht + h, <u16>(ip - src));
        if (load<u32>(match) != load<u32>(ip)) break;
        // Another match right here: a sequence without literals.
        token = op++;
        tok = 0;
      }
      if (done) break;

      ip++;
      forwardH = hashAt(ip, shift);
    }
  }

  // Last literals.
  const lastRun = iend - anchor;
  if (op + lastRun + 1 + (lastRun + 255 - 15) / 255 > oLimit) return 0;
  if (lastRun >= 15) {
    store<u8>(op++, 15 << 4);
    let l = lastRun - 15;
    while (l >= 255) {
      store<u8>(op++, 255);
      l -= 255;
    }
    store<u8>(op++, <u8>l);
  } else {
    store<u8>(op++, <u8>(lastRun << 4));
  }
  memory.copy(op, anchor, lastRun);
  op += lastRun;
  return op - dst;
}

// ---------------------------------------------------------------- block decompressor

/**
 * Decodes one block [ip, iend) to [op, oend); matches may reach back to `low`.
 * `wend` (>= oend) is the end of the destination we may scribble on; `overflow`
 * is the error to return when the output would pass oend (ERR_OUT_OF_SPACE when
 * oend is the caller's capacity, ERR_CORRUPT when it is the block or content size).
 * Returns the bytes written, or a negative error code (details via fail()).
 */
function decodeBlock(ip: usize, iend: usize, op: usize, oend: usize, low: usize, wend: usize, overflow: i32): i32 {
  const ibase = ip;
  const obase = op;
  while (true) {
    if (ip >= iend) return fail(ERR_TRUNCATED, <i64>(ip - ibase), 0, 1);
    const token = <u32>load<u8>(ip++);

    // Literals.
    let lit = <usize>(token >> 4);
    if (lit < 15 && ip + 16 <= iend && op + 16 <= oend) {
      // Short literals far from both ends: one wide copy. The sequence cannot
      // be the last (ip + lit + 2 <= iend), so an offset follows.
      store<v128>(op, load<v128>(ip));
      ip += lit;
      op += lit;
    } else {
      if (lit == 15) {
        let b: u32;
        do {
          if (ip >= iend) return fail(ERR_TRUNCATED, <i64>(ip - ibase), 0, 2);
          b = load<u8>(ip++);
          lit += b;
        } while (b == 255);
      }
      if (lit > iend - ip) return fail(ERR_TRUNCATED, <i64>(ip - ibase), <i64>lit, 3);
      if (lit > oend - op) return fail(overflow, <i64>(op - obase + lit), <i64>(oend - obase), 4);
      if (ip + lit + 16 <= iend && op + lit + 16 <= wend) {
        wildCopy16(op, ip, lit);
      } else {
        memory.copy(op, ip, lit);
      }
      ip += lit;
      op += lit;
      if (ip == iend) return <i32>(op - obase); // the last sequence: literals only
      if (iend - ip < 2) return fail(ERR_TRUNCATED, <i64>(ip - ibase), 0, 5);
    }

    // Match.
    const off = <usize>load<u16>(ip);
    ip += 2;
    if (off == 0 || off > op - low) return fail(ERR_CORRUPT, <i64>(ip - 2 - ibase), <i64>off, 6);
    let ml = <usize>(token & 15);
    if (ml < 15 && off >= 8 && op + 32 <= wend && ml + MINMATCH <= oend - op) {
      // At most 18 bytes from at least 8 back: fixed wide copies.
      const m = op - off;
      if (off >= 16) {
        store<v128>(op, load<v128>(m));
        store<v128>(op, load<v128>(m, 16), 16);
      } else {
        store<u64>(op, load<u64>(m));
        store<u64>(op, load<u64>(m, 8), 8);
        store<u64>(op, load<u64>(m, 16), 16);
      }
      op += ml + MINMATCH;
      continue;
    }
    if (ml == 15) {
      let b: u32;
      do {
        if (ip >= iend) return fail(ERR_TRUNCATED, <i64>(ip - ibase), 0, 7);
        b = load<u8>(ip++);
        ml += b;
      } while (b == 255);
    }
    ml += MINMATCH;
    if (ml > oend - op) return fail(overflow, <i64>(op - obase + ml), <i64>(oend - obase), 8);
    matchCopy(op, off, ml, wend);
    op += ml;
  }
  return 0; // unreachable
}

// ---------------------------------------------------------------- frame

/** Worst-case frame size for srcLen input bytes (incompressible blocks are stored). */
export function lz4FrameBound(srcLen: i32): i32 {
  if (srcLen < 0) return ERR_CORRUPT;
  if (srcLen > 0x7f000000) return ERR_TOO_LARGE; // the bound would not fit an i32
  const blocks = (srcLen + 65535) >>> 16;
  return 7 + (blocks << 2) + srcLen + 4;
}

/**
 * Compresses [src, src + srcLen) into one frame at dst: 64 KiB independent
 * blocks, no checksums but the header's. Returns bytes written or < 0
 * (ERR_OUT_OF_SPACE: dstCap below what this input needs; lz4FrameBound() always suffices).
 */
export function lz4FrameCompress(src: usize, srcLen: i32, dst: usize, dstCap: i32): i32 {
  if (srcLen < 0 || dstCap < 0) return fail(ERR_CORRUPT, srcLen, dstCap);
  if (srcLen > 0x7f000000) return fail(ERR_TOO_LARGE, srcLen, 0x7f000000);
  if (dstCap < 11) return fail(ERR_OUT_OF_SPACE, 11, dstCap);
  store<u32>(dst, MAGIC);
  store<u8>(dst, <u8>(FLG_VERSION | FLG_BLOCK_INDEPENDENT), 4);
  store<u8>(dst, 0x40, 5);
  store<u8>(dst, <u8>(xxh32(dst + 4, 2, 0) >> 8), 6);

  let op = dst + 7;
  const oend = dst + <usize>dstCap - 4; // keep room for the end mark
  let ip = src;
  const iend = src + <usize>srcLen;
  while (ip < iend) {
    let blen = iend - ip;
    if (blen > BLOCK_MAX) blen = BLOCK_MAX;
    if (op + 4 > oend) return fail(ERR_OUT_OF_SPACE, <i64>lz4FrameBound(srcLen), dstCap);
    const room = oend - op - 4;
    // Worth storing compressed only if strictly smaller than the block.
    const csize = compressBlock(ip, blen, op + 4, op + 4 + (room < blen - 1 ? room : blen - 1));
    if (csize > 0) {
      store<u32>(op, <u32>csize);
      op += 4 + csize;
    } else {
      if (room < blen) return fail(ERR_OUT_OF_SPACE, <i64>lz4FrameBound(srcLen), dstCap);
      store<u32>(op, <u32>blen | BLOCK_UNCOMPRESSED);
      memory.copy(op + 4, ip, blen);
      op += 4 + blen;
    }
    ip += blen;
  }
  store<u32>(op, 0);
  op += 4;
  return <i32>(op - dst);
}

// Parsed header, shared by lz4FrameDecompress and lz4FrameContentSize.
let hdrLen: usize = 0;
let hdrFlags: u32 = 0;
let hdrBlockMax: usize = 0;
let hdrContentSize: u64 = 0;

/** Parses and checks the frame header; returns 0 or a negative error code. */
function parseHeader(src: usize, srcLen: usize): i32 {
  if (srcLen < 4) return fail(ERR_TRUNCATED, <i64>srcLen, 7);
  const magic = load<u32>(src);
  if (magic != MAGIC) return fail(ERR_CORRUPT, magic, MAGIC, 0);
  if (srcLen < 7) return fail(ERR_TRUNCATED, <i64>srcLen, 7);
  const flg = <u32>load<u8>(src, 4);
  const bd = <u32>load<u8>(src, 5);
  if ((flg & 0xc0) != FLG_VERSION) return fail(ERR_CORRUPT, flg, bd, 1);
  if (flg & FLG_RESERVED || bd & 0x8f) return fail(ERR_CORRUPT, flg, bd, 2);
  if (flg & FLG_DICT_ID) return fail(ERR_UNSUPPORTED, flg, bd, 3);
  const bsid = bd >> 4;
  if (bsid < 4) return fail(ERR_CORRUPT, flg, bd, 4);
  let len: usize = 7;
  if (flg & FLG_CONTENT_SIZE) len += 8;
  if (srcLen < len) return fail(ERR_TRUNCATED, <i64>srcLen, <i64>len);
  const stored = <u32>load<u8>(src + len - 1);
  const computed = (xxh32(src + 4, len - 5, 0) >> 8) & 0xff;
  if (stored != computed) return fail(ERR_CRC, stored, computed, <i64>(len - 1));
  hdrLen = len;
  hdrFlags = flg;
  hdrBlockMax = <usize>1 << (bsid * 2 + 8);
  hdrContentSize = flg & FLG_CONTENT_SIZE ? load<u64>(src, 6) : <u64>-1;
  return 0;
}

/** Content size from the frame header, or -1 when it does not carry one (or is malformed). */
export function lz4FrameContentSize(src: usize, srcLen: i32): i64 {
  if (srcLen < 0 || parseHeader(src, <usize>srcLen) < 0) return -1;
  if (!(hdrFlags & FLG_CONTENT_SIZE) || hdrContentSize > <u64>i64.MAX_VALUE) return -1;
  return <i64>hdrContentSize;
}

/**
 * Decompresses one frame [src, src + srcLen) into [dst, dst + dstCap). Checks the
 * header checksum, and block and content checksums when flagged. Returns bytes
 * written or < 0: ERR_OUT_OF_SPACE (grow dst and retry), ERR_CORRUPT,
 * ERR_TRUNCATED, ERR_CRC, ERR_UNSUPPORTED (dictionary). Details: errorDetail().
 */
export function lz4FrameDecompress(src: usize, srcLen: i32, dst: usize, dstCap: i32): i32 {
  if (srcLen < 0 || dstCap < 0) return fail(ERR_CORRUPT, srcLen, dstCap);
  const e = parseHeader(src, <usize>srcLen);
  if (e < 0) return e;
  const flags = hdrFlags;
  const blockMax = hdrBlockMax;
  const wend = dst + <usize>dstCap;
  let dend = wend;
  let dendCode = ERR_OUT_OF_SPACE;
  if (flags & FLG_CONTENT_SIZE) {
    if (hdrContentSize > <u64>dstCap) return fail(ERR_OUT_OF_SPACE, <i64>hdrContentSize, dstCap, 0);
    dend = dst + <usize>hdrContentSize;
    dendCode = ERR_CORRUPT;
  }

  let ip = src + hdrLen;
  const iend = src + <usize>srcLen;
  let op = dst;
  while (true) {
    if (iend - ip < 4) return fail(ERR_TRUNCATED, <i64>(ip - src), <i64>srcLen, 1);
    const bs = load<u32>(ip);
    ip += 4;
    if (bs == 0) break;
    const size = <usize>(bs & ~BLOCK_UNCOMPRESSED);
    if (size > blockMax) return fail(ERR_CORRUPT, <i64>(ip - 4 - src), <i64>size, <i64>blockMax);
    if (size > iend - ip) return fail(ERR_TRUNCATED, <i64>(ip - src), <i64>size, 2);
    if (flags & FLG_BLOCK_CHECKSUM) {
      if (iend - ip - size < 4) return fail(ERR_TRUNCATED, <i64>(ip + size - src), 4, 3);
      const stored = load<u32>(ip + size);
      const computed = xxh32(ip, size, 0);
      if (stored != computed) return fail(ERR_CRC, stored, computed, <i64>(ip + size - src));
    }
    if (bs & BLOCK_UNCOMPRESSED) {
      if (size > dend - op) return fail(dendCode, <i64>(op - dst + size), <i64>(dend - dst), 4);
      memory.copy(op, ip, size);
      op += size;
    } else {
      // A block decodes to at most blockMax bytes.
      let oend = dend;
      let code = dendCode;
      if (dend - op > blockMax) {
        oend = op + blockMax;
        code = ERR_CORRUPT;
      }
      const n = decodeBlock(ip, ip + size, op, oend, flags & FLG_BLOCK_INDEPENDENT ? op : dst, wend, code);
      if (n < 0) return n;
      op += <usize>n;
    }
    ip += size;
    if (flags & FLG_BLOCK_CHECKSUM) ip += 4;
  }
  if (flags & FLG_CONTENT_CHECKSUM) {
    if (iend - ip < 4) return fail(ERR_TRUNCATED, <i64>(ip - src), 4, 5);
    const stored = load<u32>(ip);
    const computed = xxh32(dst, op - dst, 0);
    if (stored != computed) return fail(ERR_CRC, stored, computed, <i64>(ip - src));
    ip += 4;
  }
  if (flags & FLG_CONTENT_SIZE && op != dend) return fail(ERR_CORRUPT, <i64>(op - dst), <i64>hdrContentSize, 6);
  if (ip != iend) return fail(ERR_CORRUPT, <i64>(ip - src), <i64>srcLen, 7);
  return <i32>(op - dst);
}
