// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as Kafka's
// org.apache.kafka.common.utils.Crc32C computes it for RecordBatch v2:
// initial value 0xFFFFFFFF, final xor 0xFFFFFFFF. Check value of the ASCII
// bytes "123456789" is 0xE3069283.
//
// Slicing-by-16: sixteen 256-entry tables (16 KiB of static memory, computed
// once when the module starts), 16 input bytes per step. Inputs of 2 KiB and
// more are cut in two halves that are run interleaved (two independent
// dependency chains) and joined with crc32cCombine (zlib's crc32_combine:
// multiply by x^(8 * len) modulo the polynomial).

const POLY: u32 = 0x82f63b78;
const TABLES = memory.data(16 * 256 * 4, 16);
/** X2N[k] = x^(2^k) mod P, for the combine. */
const X2N = memory.data(32 * 4, 16);
const TWO_STREAM_MIN: usize = 2048;

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
}

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

initTables();

/** CRC32C of A||B from crcA = CRC32C(A), crcB = CRC32C(B) and the length of B. */
export function crc32cCombine(crcA: u32, crcB: u32, lenB: u32): u32 {
  return multModP(x2nModP(<u64>lenB, 3), crcA) ^ crcB;
}

// @ts-ignore: decorator
@inline function byteStep(c: u32, p: usize): u32 {
  return load<u32>(TABLES + (((c ^ <u32>load<u8>(p)) & 0xff) << 2)) ^ (c >>> 8);
}

/** Raw register update over [p, end): no pre/post inversion. */
function update(c: u32, p: usize, end: usize): u32 {
  while (p < end && (p & 7) != 0) {
    c = byteStep(c, p);
    p++;
  }
  while (p + 16 <= end) {
    const ac = load<u32>(p) ^ c;
    c = load<u32>(TABLES + 15360 + ((ac & 0xff) << 2)) ^
        load<u32>(TABLES + 14336 + ((ac >>> 6) & 0x3fc)) ^
        load<u32>(TABLES + 13312 + ((ac >>> 14) & 0x3fc)) ^
        load<u32>(TABLES + 12288 + ((ac >>> 24) << 2)) ^
        load<u32>(TABLES + 11264 + (<usize>load<u8>(p, 4) << 2)) ^
        load<u32>(TABLES + 10240 + (<usize>load<u8>(p, 5) << 2)) ^
        load<u32>(TABLES + 9216 + (<usize>load<u8>(p, 6) << 2)) ^
        load<u32>(TABLES + 8192 + (<usize>load<u8>(p, 7) << 2)) ^
        load<u32>(TABLES + 7168 + (<usize>load<u8>(p, 8) << 2)) ^
        load<u32>(TABLES + 6144 + (<usize>load<u8>(p, 9) << 2)) ^
        load<u32>(TABLES + 5120 + (<usize>load<u8>(p, 10) << 2)) ^
        load<u32>(TABLES + 4096 + (<usize>load<u8>(p, 11) << 2)) ^
        load<u32>(TABLES + 3072 + (<usize>load<u8>(p, 12) << 2)) ^
        load<u32>(TABLES + 2048 + (<usize>load<u8>(p, 13) << 2)) ^
        load<u32>(TABLES + 1024 + (<usize>load<u8>(p, 14) << 2)) ^
        load<u32>(TABLES + 0 + (<usize>load<u8>(p, 15) << 2));
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
  if (len < TWO_STREAM_MIN) return ~update(~crc, ptr, ptr + len);
  const half = (len >>> 1) & ~<usize>15;
  let p = ptr;
  let q = ptr + half;
  const qEnd = q + half;
  let c = ~crc;
  let d: u32 = ~0;
  while (q < qEnd) {
    const ac = load<u32>(p) ^ c;
    c = load<u32>(TABLES + 15360 + ((ac & 0xff) << 2)) ^
        load<u32>(TABLES + 14336 + ((ac >>> 6) & 0x3fc)) ^
        load<u32>(TABLES + 13312 + ((ac >>> 14) & 0x3fc)) ^
        load<u32>(TABLES + 12288 + ((ac >>> 24) << 2)) ^
        load<u32>(TABLES + 11264 + (<usize>load<u8>(p, 4) << 2)) ^
        load<u32>(TABLES + 10240 + (<usize>load<u8>(p, 5) << 2)) ^
        load<u32>(TABLES + 9216 + (<usize>load<u8>(p, 6) << 2)) ^
        load<u32>(TABLES + 8192 + (<usize>load<u8>(p, 7) << 2)) ^
        load<u32>(TABLES + 7168 + (<usize>load<u8>(p, 8) << 2)) ^
        load<u32>(TABLES + 6144 + (<usize>load<u8>(p, 9) << 2)) ^
        load<u32>(TABLES + 5120 + (<usize>load<u8>(p, 10) << 2)) ^
        load<u32>(TABLES + 4096 + (<usize>load<u8>(p, 11) << 2)) ^
        load<u32>(TABLES + 3072 + (<usize>load<u8>(p, 12) << 2)) ^
        load<u32>(TABLES + 2048 + (<usize>load<u8>(p, 13) << 2)) ^
        load<u32>(TABLES + 1024 + (<usize>load<u8>(p, 14) << 2)) ^
        load<u32>(TABLES + 0 + (<usize>load<u8>(p, 15) << 2));
    const ad = load<u32>(q) ^ d;
    d = load<u32>(TABLES + 15360 + ((ad & 0xff) << 2)) ^
        load<u32>(TABLES + 14336 + ((ad >>> 6) & 0x3fc)) ^
        load<u32>(TABLES + 13312 + ((ad >>> 14) & 0x3fc)) ^
        load<u32>(TABLES + 12288 + ((ad >>> 24) << 2)) ^
        load<u32>(TABLES + 11264 + (<usize>load<u8>(q, 4) << 2)) ^
        load<u32>(TABLES + 10240 + (<usize>load<u8>(q, 5) << 2)) ^
        load<u32>(TABLES + 9216 + (<usize>load<u8>(q, 6) << 2)) ^
        load<u32>(TABLES + 8192 + (<usize>load<u8>(q, 7) << 2)) ^
        load<u32>(TABLES + 7168 + (<usize>load<u8>(q, 8) << 2)) ^
        load<u32>(TABLES + 6144 + (<usize>load<u8>(q, 9) << 2)) ^
        load<u32>(TABLES + 5120 + (<usize>load<u8>(q, 10) << 2)) ^
        load<u32>(TABLES + 4096 + (<usize>load<u8>(q, 11) << 2)) ^
        load<u32>(TABLES + 3072 + (<usize>load<u8>(q, 12) << 2)) ^
        load<u32>(TABLES + 2048 + (<usize>load<u8>(q, 13) << 2)) ^
        load<u32>(TABLES + 1024 + (<usize>load<u8>(q, 14) << 2)) ^
        load<u32>(TABLES + 0 + (<usize>load<u8>(q, 15) << 2));
    p += 16;
    q += 16;
  }
  d = update(d, q, ptr + len);
  return crc32cCombine(~c, ~d, <u32>(len - half));
}

/** CRC32C of [ptr, ptr+len). */
export function crc32c(ptr: usize, len: usize): u32 {
  return crc32cUpdate(0, ptr, len);
}
