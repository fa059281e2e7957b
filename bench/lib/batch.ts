/**
 * A plain-TypeScript RecordBatch v2 builder for preparing storage and e2e
 * input outside the timed region (runtime-agnostic, no dependency on the
 * core's API). Uncompressed, no headers, CRC32C over attributes..end.
 */

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c;
  }
  return t;
})();

export function crc32cJs(b: Uint8Array, from = 0, to = b.length): number {
  let crc = -1;
  for (let i = from; i < to; i++) crc = CRC_TABLE[(crc ^ b[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function varint(out: number[], n: number): void {
  let v = zigzag(n);
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

/** One uncompressed batch of `values` (null keys), base offset `baseOffset`. */
export function buildBatch(values: Uint8Array[], baseOffset = 0n, timestamp = 1_763_700_000_000): Uint8Array {
  const recs: number[][] = values.map((v, i) => {
    const body: number[] = [0];
    varint(body, 0); // timestamp delta
    varint(body, i); // offset delta
    varint(body, -1); // null key
    varint(body, v.length);
    const head: number[] = [];
    const tail: number[] = [];
    varint(tail, 0); // no headers
    varint(head, body.length + v.length + tail.length);
    return [...head, ...body, -1, ...tail]; // -1 marks where the value goes
  });
  let size = 61;
  recs.forEach((r, i) => (size += r.length - 1 + values[i].length));
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setBigInt64(0, baseOffset);
  dv.setInt32(8, size - 12);
  dv.setInt32(12, 0); // partition leader epoch
  out[16] = 2; // magic
  dv.setInt16(21, 0); // attributes
  dv.setInt32(23, values.length - 1);
  dv.setBigInt64(27, BigInt(timestamp));
  dv.setBigInt64(35, BigInt(timestamp));
  dv.setBigInt64(43, -1n); // producer id
  dv.setInt16(51, -1);
  dv.setInt32(53, -1);
  dv.setInt32(57, values.length);
  let p = 61;
  recs.forEach((r, i) => {
    for (const x of r) {
      if (x === -1) {
        out.set(values[i], p);
        p += values[i].length;
      } else out[p++] = x;
    }
  });
  dv.setUint32(17, crc32cJs(out, 21));
  return out;
}

/** Batches of about `batchBytes` each, of `valueBytes`-byte JSON-ish values, totalling about `totalBytes`. */
export function batchesOf(values: Uint8Array[], batchBytes: number): { batches: Uint8Array[]; records: number[] } {
  const perRecord = values[0].length + 8; // value + record overhead (length, attrs, deltas, key, headers)
  const n = Math.max(1, Math.floor((batchBytes - 61) / perRecord));
  const batches: Uint8Array[] = [];
  const records: number[] = [];
  for (let i = 0; i < values.length; i += n) {
    const vs = values.slice(i, i + n);
    batches.push(buildBatch(vs));
    records.push(vs.length);
  }
  return { batches, records };
}
