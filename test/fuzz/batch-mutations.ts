/**
 * CRC-valid mutations of valid RecordBatch v2 batches, driven by a source of
 * random u32s (a seeded generator in the fuzz loops, fast-check's integers in
 * the property tests, so failures shrink). Every mutation re-seals the CRC,
 * so what is tested is the record and header checks behind it. Compressed
 * batches are also mutated inside: their records are decompressed, changed
 * and compressed again.
 */
import {
  CompressionTypes, encodeBatchSync, lz4Compress, lz4Decompress, snappyCompress, snappyDecompress, type RecordInput,
} from '../../src/core/index.ts';
import { reseal } from '../core/batch-bytes.ts';

/** Returns a u32 per call. */
export type Random = () => number;

/** xorshift32 from a seed: the fuzz loops' source (reproducible from the printed seed). */
export function seeded(seed: number): Random {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** A random source that replays `values` (then zeros): fast-check generates and shrinks the list. */
export function replay(values: readonly number[]): Random {
  let i = 0;
  return () => (i < values.length ? values[i++]! >>> 0 : 0);
}

const pick = <T>(rnd: Random, items: readonly T[]): T => items[rnd() % items.length]!;

const INTERESTING_I32 = [0, 1, -1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, -0x80000000, 1 << 24];
const INTERESTING_I64 = [0n, -1n, 1n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n), 1_700_000_000_000n];
/** Header fields under the CRC, with their sizes (position: bytes). */
const HEADER_FIELDS: [number, number][] = [[21, 2], [23, 4], [27, 8], [35, 8], [43, 8], [51, 2], [53, 4], [57, 4]];

/** A valid batch of 1..8 small records (keys, null values, headers, timestamps) in one of the core's sync codecs. */
export function validBatch(rnd: Random): Uint8Array {
  const count = 1 + (rnd() % 8);
  const records: RecordInput[] = [];
  for (let i = 0; i < count; i++) {
    const key = rnd() % 4 === 0 ? null : `k${rnd() % 100}`;
    const value = rnd() % 8 === 0 ? null : 'v'.repeat(rnd() % 40);
    const headers = Array.from({ length: rnd() % 3 }, () => ({ key: `h${rnd() % 3}`, value: rnd() % 5 === 0 ? null : `x${rnd() % 10}` }));
    records.push({ key, value, headers, timestamp: 1_700_000_000_000 + (rnd() % 5000) });
  }
  const compression = pick(rnd, [CompressionTypes.None, CompressionTypes.None, CompressionTypes.Snappy, CompressionTypes.LZ4]);
  return encodeBatchSync(records, { compression });
}

function withRecords(batch: Uint8Array, records: Uint8Array): Uint8Array {
  const out = new Uint8Array(61 + records.byteLength);
  out.set(batch.subarray(0, 61));
  out.set(records, 61);
  new DataView(out.buffer).setInt32(8, out.byteLength - 12);
  return out;
}

/** Changes the bytes of `area` in one of several ways (in a copy). */
function mutateBytes(area: Uint8Array, rnd: Random): Uint8Array {
  const n = area.byteLength;
  switch (rnd() % 6) {
    case 0: { // flip bits
      const out = area.slice();
      for (let k = 1 + (rnd() % 3); k > 0 && n > 0; k--) out[rnd() % n] ^= 1 << (rnd() % 8);
      return out;
    }
    case 1: { // an interesting byte
      const out = area.slice();
      if (n > 0) out[rnd() % n] = pick(rnd, [0, 1, 0x7f, 0x80, 0xfe, 0xff]);
      return out;
    }
    case 2: { // cut the tail or the middle
      const len = Math.min(n, 1 + (rnd() % 8));
      const at = rnd() % (n - len + 1);
      const out = new Uint8Array(n - len);
      out.set(area.subarray(0, at));
      out.set(area.subarray(at + len), at);
      return out;
    }
    case 3: { // insert an overlong or huge varint
      const at = n === 0 ? 0 : rnd() % n;
      const varint = pick(rnd, [[0xff, 0xff, 0xff, 0xff, 0x7f], [0xff, 0xff, 0xff, 0xff, 0xff, 0x01], [0x01], [0xfe, 0xff, 0xff, 0xff, 0x0f], [0x81, 0x80, 0x80, 0x80, 0x00]]);
      const out = new Uint8Array(n + varint.length);
      out.set(area.subarray(0, at));
      out.set(varint, at);
      out.set(area.subarray(at), at + varint.length);
      return out;
    }
    case 4: { // duplicate a slice (records repeated)
      const at = n === 0 ? 0 : rnd() % n;
      const len = Math.min(n - at, 1 + (rnd() % 32));
      const out = new Uint8Array(n + len);
      out.set(area.subarray(0, at + len));
      out.set(area.subarray(at), at + len);
      return out;
    }
    default: { // random bytes appended
      const extra = 1 + (rnd() % 16);
      const out = new Uint8Array(n + extra);
      out.set(area);
      for (let i = n; i < out.byteLength; i++) out[i] = rnd() & 0xff;
      return out;
    }
  }
}

/** One CRC-valid mutation of `batch`: a header field, the records area, or the records inside the compression. */
export function mutateBatch(batch: Uint8Array, rnd: Random): Uint8Array {
  const codec = batch[22]! & 7;
  const records = batch.subarray(61);
  const kind = rnd() % 5;
  if (kind === 4 && codec === CompressionTypes.Snappy && records.byteLength > 20) {
    // A large declared size in the first xerial chunk's preamble (an unsigned varint after the 16-byte header and the chunk length).
    const out = batch.slice();
    let v = rnd() % 2 === 0 ? rnd() : rnd() % (64 << 20);
    let p = 61 + 20;
    while (v >= 0x80 && p < out.byteLength) { out[p++] = (v & 0x7f) | 0x80; v = Math.floor(v / 128); }
    if (p < out.byteLength) out[p] = v;
    return reseal(out);
  }
  if (kind === 0) {
    const out = batch.slice();
    const dv = new DataView(out.buffer);
    const [at, size] = pick(rnd, HEADER_FIELDS);
    if (size === 8) dv.setBigInt64(at, BigInt.asIntN(64, rnd() % 3 === 0 ? BigInt(rnd()) << BigInt(rnd() % 40) : pick(rnd, INTERESTING_I64)));
    else {
      const v = rnd() % 3 === 0 ? rnd() | 0 : pick(rnd, INTERESTING_I32);
      if (size === 4) dv.setInt32(at, v);
      else dv.setInt16(at, rnd() % 2 === 0 ? v : (dv.getInt16(at) ^ (1 << (rnd() % 16))));
    }
    return reseal(out);
  }
  if (kind === 1 && (codec === CompressionTypes.Snappy || codec === CompressionTypes.LZ4)) {
    let plain: Uint8Array | undefined;
    try {
      plain = codec === CompressionTypes.Snappy ? snappyDecompress(records) : lz4Decompress(records);
    } catch {
      // Mutated before into something that does not decompress: change the compressed bytes instead.
    }
    if (plain) {
      const changed = mutateBytes(plain, rnd);
      return reseal(withRecords(batch, codec === CompressionTypes.Snappy ? snappyCompress(changed) : lz4Compress(changed)));
    }
  }
  return reseal(withRecords(batch, mutateBytes(records, rnd)));
}
