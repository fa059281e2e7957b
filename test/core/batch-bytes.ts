/**
 * RecordBatch v2 bytes written by hand for tests: records with any field
 * (wrong lengths, offset deltas, overlong varints), and batches around them
 * with any header field and a valid CRC, so that only the records (or the
 * field under test) are wrong. Independent of the core's encoder, except for
 * crc32c and the snappy/lz4 compressors.
 */
import { crc32c, lz4Compress, snappyCompress } from '../../src/core/index.ts';

/** Kafka's zig-zag varlong (also its varint for values that fit an int32). */
export function varlong(value: bigint | number): number[] {
  const v = BigInt.asIntN(64, BigInt(value));
  let u = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
  const out: number[] = [];
  while (u >= 0x80n) {
    out.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  out.push(Number(u));
  return out;
}

const utf8 = (s: string) => [...new TextEncoder().encode(s)];

export interface RecordSpec {
  offsetDelta: number;
  timestampDelta?: bigint | number;
  key?: string | null;
  value?: string | null;
  headers?: { key: string; value: string | null }[];
  /** Replaces the computed length varint (the bytes after it). */
  lengthBytes?: number[];
  /** Replaces the header count varint. */
  headerCountBytes?: number[];
}

/** One record: length varint, attributes, deltas, key, value, headers. */
export function recordBytes(spec: RecordSpec): number[] {
  const bytes = (s: string | null | undefined) => (s === null || s === undefined ? varlong(-1) : [...varlong(utf8(s).length), ...utf8(s)]);
  const headers = spec.headers ?? [];
  const body = [
    0,
    ...varlong(spec.timestampDelta ?? 0),
    ...varlong(spec.offsetDelta),
    ...bytes(spec.key),
    ...bytes(spec.value === undefined ? 'v' : spec.value),
    ...(spec.headerCountBytes ?? varlong(headers.length)),
    ...headers.flatMap((h) => [...bytes(h.key), ...bytes(h.value)]),
  ];
  return [...(spec.lengthBytes ?? varlong(body.length)), ...body];
}

/** n well-formed records with offset deltas 0..n-1. */
export function goodRecords(n: number, valuePrefix = 'v'): number[] {
  return Array.from({ length: n }, (_, i) => recordBytes({ offsetDelta: i, key: `k${i}`, value: `${valuePrefix}${i}` })).flat();
}

export interface BatchSpec {
  /** The records area as it goes on the wire (compressed already unless `compress` is given). */
  records: number[] | Uint8Array;
  recordCount: number;
  lastOffsetDelta?: number;
  /** Attributes; compression bits are set from `compress` when given. */
  attributes?: number;
  compress?: 'snappy' | 'lz4';
  baseOffset?: bigint;
  baseTimestamp?: bigint;
  maxTimestamp?: bigint;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
}

/** A batch around `records` with a valid CRC. */
export function batchBytes(spec: BatchSpec): Uint8Array {
  let records = spec.records instanceof Uint8Array ? spec.records : Uint8Array.from(spec.records);
  let attributes = spec.attributes ?? 0;
  if (spec.compress === 'snappy') {
    records = snappyCompress(records);
    attributes = (attributes & ~7) | 2;
  } else if (spec.compress === 'lz4') {
    records = lz4Compress(records);
    attributes = (attributes & ~7) | 3;
  }
  const out = new Uint8Array(61 + records.byteLength);
  const dv = new DataView(out.buffer);
  dv.setBigInt64(0, spec.baseOffset ?? 0n);
  dv.setInt32(8, out.byteLength - 12);
  dv.setInt32(12, -1);
  out[16] = 2;
  dv.setInt16(21, attributes);
  dv.setInt32(23, spec.lastOffsetDelta ?? spec.recordCount - 1);
  dv.setBigInt64(27, spec.baseTimestamp ?? 1_700_000_000_000n);
  dv.setBigInt64(35, spec.maxTimestamp ?? spec.baseTimestamp ?? 1_700_000_000_000n);
  dv.setBigInt64(43, spec.producerId ?? -1n);
  dv.setInt16(51, spec.producerEpoch ?? -1);
  dv.setInt32(53, spec.baseSequence ?? -1);
  dv.setInt32(57, spec.recordCount);
  out.set(records, 61);
  return reseal(out);
}

/** Recomputes the CRC of the batch at `position` after its bytes were changed. */
export function reseal(batch: Uint8Array, position = 0): Uint8Array {
  const dv = new DataView(batch.buffer, batch.byteOffset);
  const size = dv.getInt32(position + 8) + 12;
  dv.setUint32(position + 17, crc32c(batch.subarray(position + 21, position + size)));
  return batch;
}
