// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as Kafka's
// org.apache.kafka.common.utils.Crc32C computes it for RecordBatch v2:
// initial value 0xFFFFFFFF, final xor 0xFFFFFFFF. Check value of the ASCII
// bytes "123456789" is 0xE3069283.
//
// Inputs of 8 KiB and more: the table-free Chorba sweep (below, ≈ 3-4× the
// tables' speed), then the table code for its last 1672 bytes.
//
// Shorter inputs: table-driven (Wasm has no CRC or carry-less multiply
// instruction). Inputs of 1 KiB and more run as four interleaved streams, slicing-by-8: the input is
// cut into chunks of 4 × B bytes (B = 2048, then B = 256 for what is left);
// each chunk's four B-byte parts run at once as four independent dependency
// chains from a zero register, addressed from one pointer with constant load
// offsets, and are folded into the running register with a "shift by B zero
// bytes" table (the GF(2) multiply by x^(8B) mod P as four 256-entry tables,
// one per register byte: four loads per part, off the streams' critical
// path). What is left (under 1 KiB) runs as one stream, slicing-by-16.
//
// The shape is what V8 compiles well in both Node 20 and Chromium 156
// (2-core Sapphire Rapids, 2026-11-21; the same .wasm in both):
// - every table term XORed as a balanced tree, not a left-to-right chain:
//   Chromium's V8 ran the chained 16-term step at ≈3.0 GB/s against 4.4 in
//   Node; balanced trees alone took the two-stream slicing-by-16 to 4.3;
// - slicing-by-8 with all eight bytes cut from two u32 loads by shift and
//   mask (no byte loads), four streams, the loop unrolled twice;
// - the combine is table-driven: the previous bit-serial crc32cCombine per
//   call cost about a microsecond, which made inputs of 2 to 8 KiB slow.
// Tried and slower in one runtime or both: 3, 5, 6 streams; slicing-by-4
// with 6 or 8 streams; slicing-by-16 with 3 or 4 streams; u64 loads; byte
// loads for the upper bytes; one pointer per stream; blocks of 128, 512,
// 1024, 4096, 8192 bytes alone (2048 then 256 keeps 1–16 KiB batches fast).

const POLY: u32 = 0x82f63b78;
/** Slicing tables: T_k (k = 0..15) at TABLES + 1024 k, T_k[n] = CRC register of byte n followed by k zero bytes. */
const TABLES = memory.data(16 * 256 * 4, 64);
/** Shift-by-LONG_B and shift-by-SHORT_B zero bytes: four 256-entry tables each (one per register byte). */
const SHIFT_LONG = memory.data(4 * 256 * 4, 64);
const SHIFT_SHORT = memory.data(4 * 256 * 4, 64);
/** X2N[k] = x^(2^k) mod P, for crc32cCombine. */
const X2N = memory.data(32 * 4, 16);
const STREAMS: usize = 4;
const LONG_B: usize = 2048;
const SHORT_B: usize = 256;

/** a * b modulo P, both reflected polynomials (bit 31 is x^0). */
function multModP(a: u32, b: u32): u32 {
  let m: u32 = 1 << 31;
  let p: u32 = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) == 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p;
}

/** x^(n * 2^k) modulo P. */
function x2nModP(n: u64, k: u32): u32 {
  let p: u32 = 1 << 31; // x^0
  while (n) {
    if (n & 1) p = multModP(load<u32>(X2N + (<usize>(k & 31) << 2)), p);
    n >>= 1;
    k++;
  }
  return p;
}

function initShift(table: usize, bytes: u64): void {
  const k = x2nModP(bytes, 3);
  for (let j: u32 = 0; j < 4; j++) {
    for (let n: u32 = 0; n < 256; n++) store<u32>(table + (j << 10) + (n << 2), multModP(k, n << (j << 3)));
  }
}

function initTables(): void {
  for (let n: u32 = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    store<u32>(TABLES + (n << 2), c);
  }
  for (let n: u32 = 0; n < 256; n++) {
    let c = load<u32>(TABLES + (n << 2));
    for (let t: u32 = 1; t < 16; t++) {
      c = load<u32>(TABLES + ((c & 0xff) << 2)) ^ (c >>> 8);
      store<u32>(TABLES + (t << 10) + (n << 2), c);
    }
  }
  let p: u32 = 1 << 30; // x^1
  store<u32>(X2N, p);
  for (let k = 1; k < 32; k++) {
    p = multModP(p, p);
    store<u32>(X2N + (<usize>k << 2), p);
  }
  initShift(SHIFT_LONG, <u64>LONG_B);
  initShift(SHIFT_SHORT, <u64>SHORT_B);
}

initTables();

/** CRC32C of A||B from crcA = CRC32C(A), crcB = CRC32C(B) and the length of B. */
export function crc32cCombine(crcA: u32, crcB: u32, lenB: u32): u32 {
  return multModP(x2nModP(<u64>lenB, 3), crcA) ^ crcB;
}

// @ts-ignore: decorator
@inline function byteStep(c: u32, p: usize): u32 {
  return load<u32>(((c ^ <u32>load<u8>(p)) & 0xff) << 2, TABLES) ^ (c >>> 8);
}

/** Slicing-by-8 step: a = first word ^ register, b = second word. */
// @ts-ignore: decorator
@inline function step8(a: u32, b: u32): u32 {
  return ((load<u32>((a & 0xff) << 2, TABLES + 7168) ^
    load<u32>((a >>> 6) & 0x3fc, TABLES + 6144)) ^
    (load<u32>((a >>> 14) & 0x3fc, TABLES + 5120) ^
    load<u32>((a >>> 24) << 2, TABLES + 4096))) ^
    ((load<u32>((b & 0xff) << 2, TABLES + 3072) ^
    load<u32>((b >>> 6) & 0x3fc, TABLES + 2048)) ^
    (load<u32>((b >>> 14) & 0x3fc, TABLES + 1024) ^
    load<u32>((b >>> 24) << 2, TABLES)));
}

/** Register r followed by B zero bytes (the B its table was built for). */
// @ts-ignore: decorator
@inline function shift(r: u32, table: usize): u32 {
  return load<u32>(table + ((r & 0xff) << 2)) ^
    load<u32>(table + 1024 + ((r >>> 6) & 0x3fc)) ^
    load<u32>(table + 2048 + ((r >>> 14) & 0x3fc)) ^
    load<u32>(table + 3072 + ((r >>> 24) << 2));
}

/** One stream, slicing-by-16, over [p, end): raw register update, no pre/post inversion. */
function update(c: u32, p: usize, end: usize): u32 {
  while (p + 16 <= end) {
    const a = load<u32>(p) ^ c;
    c = ((((load<u32>((a & 0xff) << 2, TABLES + 15360) ^
        load<u32>((a >>> 6) & 0x3fc, TABLES + 14336)) ^
        (load<u32>((a >>> 14) & 0x3fc, TABLES + 13312) ^
        load<u32>((a >>> 24) << 2, TABLES + 12288))) ^
        ((load<u32>(<usize>load<u8>(p, 4) << 2, TABLES + 11264) ^
        load<u32>(<usize>load<u8>(p, 5) << 2, TABLES + 10240)) ^
        (load<u32>(<usize>load<u8>(p, 6) << 2, TABLES + 9216) ^
        load<u32>(<usize>load<u8>(p, 7) << 2, TABLES + 8192)))) ^
        (((load<u32>(<usize>load<u8>(p, 8) << 2, TABLES + 7168) ^
        load<u32>(<usize>load<u8>(p, 9) << 2, TABLES + 6144)) ^
        (load<u32>(<usize>load<u8>(p, 10) << 2, TABLES + 5120) ^
        load<u32>(<usize>load<u8>(p, 11) << 2, TABLES + 4096))) ^
        ((load<u32>(<usize>load<u8>(p, 12) << 2, TABLES + 3072) ^
        load<u32>(<usize>load<u8>(p, 13) << 2, TABLES + 2048)) ^
        (load<u32>(<usize>load<u8>(p, 14) << 2, TABLES + 1024) ^
        load<u32>(<usize>load<u8>(p, 15) << 2, TABLES)))));
    p += 16;
  }
  while (p < end) {
    c = byteStep(c, p);
    p++;
  }
  return c;
}

/** Continues a CRC32C: `crc` is a previous result (0 to start). Reads [ptr, ptr+len). */
export function crc32cUpdate(crc: u32, ptr: usize, len: usize): u32 {
  if (len >= CHORBA_MIN_BYTES) return ~chorba(~crc, ptr, ptr + len);
  return ~tables(~crc, ptr, ptr + len);
}

// Chorba (Sam Russell, 2024: "Chorba: A novel CRC32 implementation"), for
// the Castagnoli polynomial: P divides the sparse polynomial
//   Q(y) = y^209 + y^144 + y^54 + y^39 + y^14 + 1,  y = x^64
// (found by a meet-in-the-middle search over x^(64 i) mod P; P has an even
// number of terms, so every multiple has even weight, and 6 is the fewest
// with a degree this low). Hence x^(64 209) ≡ x^(64 144) + x^(64 54) +
// x^(64 39) + x^(64 14) + 1 (mod P): a 64-bit word of the message may be
// replaced by copies of itself 65, 155, 170, 195 and 209 words further on
// without changing the CRC. Sweeping front to back, each word is XORed with
// the words already carried into it and carried on (no table, no multiply:
// two-word v128 loads and XORs), until only the last 209 words (1672 bytes)
// are left; those run through the table code. The words carried forward
// live in a window of the last 209 results (CHORBA_WINDOW), slid down every
// CHORBA_CHUNK words.
const CHORBA_MIN_BYTES: usize = 8192;
const CHORBA_SPAN: usize = 209;
const CHORBA_CHUNK: usize = 2048;
/** The 209 words carried in, then room for CHORBA_CHUNK results. */
const CHORBA_WINDOW = memory.data(<i32>((CHORBA_SPAN + CHORBA_CHUNK) * 8), 16);
const CHORBA_TAIL = memory.data(<i32>(CHORBA_SPAN * 8), 16);

/** The carried word due at window position w (w = the slot 209 words back; the new word goes to w + 209 words). */
// @ts-ignore: decorator
@inline function carried(w: usize): v128 {
  // Offsets: (209 - d) words for d = 209, 195, 170, 155, 65.
  return v128.xor(
    v128.xor(v128.load(w), v128.load(w, 14 * 8)),
    v128.xor(v128.xor(v128.load(w, 39 * 8), v128.load(w, 54 * 8)), v128.load(w, 144 * 8)),
  );
}

// @ts-ignore: decorator
@inline function carried64(w: usize): u64 {
  return (load<u64>(w) ^ load<u64>(w, 14 * 8)) ^ ((load<u64>(w, 39 * 8) ^ load<u64>(w, 54 * 8)) ^ load<u64>(w, 144 * 8));
}

/** Raw register update over [p, end), len ≥ CHORBA_MIN_BYTES. */
function chorba(c: u32, p: usize, end: usize): u32 {
  while ((p & 7) != 0) {
    c = byteStep(c, p);
    p++;
  }
  const words = (end - p) >> 3;
  const sweep = words - CHORBA_SPAN; // words carried forward; the last CHORBA_SPAN words are what is left
  memory.fill(CHORBA_WINDOW, 0, CHORBA_SPAN * 8);
  // The register enters as the first word's low 32 bits (reflected CRC: a register is a prefix XORed in).
  store<u64>(CHORBA_WINDOW, load<u64>(p) ^ <u64>c, CHORBA_SPAN * 8);
  let q = p + 8;
  let w = CHORBA_WINDOW + 8;
  let done: usize = 1;
  while (done < sweep) {
    const n = min(sweep - done, CHORBA_CHUNK - (w - CHORBA_WINDOW) / 8);
    const stop = w + (n & ~1) * 8;
    while (w < stop) {
      v128.store(w, v128.xor(v128.load(q), carried(w)), CHORBA_SPAN * 8);
      q += 16;
      w += 16;
    }
    if (n & 1) {
      store<u64>(w, load<u64>(q) ^ carried64(w), CHORBA_SPAN * 8);
      q += 8;
      w += 8;
    }
    done += n;
    if (w - CHORBA_WINDOW == CHORBA_CHUNK * 8) {
      memory.copy(CHORBA_WINDOW, w, CHORBA_SPAN * 8);
      w = CHORBA_WINDOW;
    }
  }
  // The last 209 words: their own bits plus what was carried into them; nothing is carried on.
  for (let i: usize = 0; i < CHORBA_SPAN; i++) {
    const slot = w + i * 8;
    let x = load<u64>(q + i * 8);
    // Only results of swept words count: slots at or past the sweep's end hold none.
    if (i < CHORBA_SPAN - 144) x ^= load<u64>(slot, 144 * 8);
    if (i < CHORBA_SPAN - 54) x ^= load<u64>(slot, 54 * 8);
    if (i < CHORBA_SPAN - 39) x ^= load<u64>(slot, 39 * 8);
    if (i < CHORBA_SPAN - 14) x ^= load<u64>(slot, 14 * 8);
    x ^= load<u64>(slot);
    store<u64>(CHORBA_TAIL + i * 8, x);
  }
  c = tables(0, CHORBA_TAIL, CHORBA_TAIL + CHORBA_SPAN * 8);
  return tables(c, q + CHORBA_SPAN * 8, end);
}

/** Raw register update over [p, end) with the tables: four streams from 1 KiB, else one. */
function tables(c: u32, p: usize, end: usize): u32 {
  const len = end - p;
  if (len >= STREAMS * SHORT_B) {
    while ((p & 7) != 0) {
      c = byteStep(c, p);
      p++;
    }
    // Chunks of 4 × LONG_B: the parts start at p, p + 2048, p + 4096, p + 6144 (constant load offsets).
    while (end - p >= STREAMS * LONG_B) {
      let c0: u32 = 0, c1: u32 = 0, c2: u32 = 0, c3: u32 = 0;
      const stop = p + LONG_B;
      do {
        c0 = step8(load<u32>(p) ^ c0, load<u32>(p, 4));
        c1 = step8(load<u32>(p, 2048) ^ c1, load<u32>(p, 2052));
        c2 = step8(load<u32>(p, 4096) ^ c2, load<u32>(p, 4100));
        c3 = step8(load<u32>(p, 6144) ^ c3, load<u32>(p, 6148));
        c0 = step8(load<u32>(p, 8) ^ c0, load<u32>(p, 12));
        c1 = step8(load<u32>(p, 2056) ^ c1, load<u32>(p, 2060));
        c2 = step8(load<u32>(p, 4104) ^ c2, load<u32>(p, 4108));
        c3 = step8(load<u32>(p, 6152) ^ c3, load<u32>(p, 6156));
        p += 16;
      } while (p < stop);
      c = shift(c, SHIFT_LONG) ^ c0;
      c = shift(c, SHIFT_LONG) ^ c1;
      c = shift(c, SHIFT_LONG) ^ c2;
      c = shift(c, SHIFT_LONG) ^ c3;
      p += (STREAMS - 1) * LONG_B;
    }
    while (end - p >= STREAMS * SHORT_B) {
      let c0: u32 = 0, c1: u32 = 0, c2: u32 = 0, c3: u32 = 0;
      const stop = p + SHORT_B;
      do {
        c0 = step8(load<u32>(p) ^ c0, load<u32>(p, 4));
        c1 = step8(load<u32>(p, 256) ^ c1, load<u32>(p, 260));
        c2 = step8(load<u32>(p, 512) ^ c2, load<u32>(p, 516));
        c3 = step8(load<u32>(p, 768) ^ c3, load<u32>(p, 772));
        c0 = step8(load<u32>(p, 8) ^ c0, load<u32>(p, 12));
        c1 = step8(load<u32>(p, 264) ^ c1, load<u32>(p, 268));
        c2 = step8(load<u32>(p, 520) ^ c2, load<u32>(p, 524));
        c3 = step8(load<u32>(p, 776) ^ c3, load<u32>(p, 780));
        p += 16;
      } while (p < stop);
      c = shift(c, SHIFT_SHORT) ^ c0;
      c = shift(c, SHIFT_SHORT) ^ c1;
      c = shift(c, SHIFT_SHORT) ^ c2;
      c = shift(c, SHIFT_SHORT) ^ c3;
      p += (STREAMS - 1) * SHORT_B;
    }
  }
  return update(c, p, end);
}

/** CRC32C of [ptr, ptr+len). */
export function crc32c(ptr: usize, len: usize): u32 {
  return crc32cUpdate(0, ptr, len);
}
