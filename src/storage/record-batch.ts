/**
 * What the storage engine reads of a RecordBatch v2 (Kafka's
 * DefaultRecordBatch): header fields as views at fixed positions, and the
 * checks applied to every batch before it is written and after it is read.
 *
 *   baseOffset: int64            @0   (written by the log, outside the CRC)
 *   batchLength: int32           @8   (bytes after this field)
 *   partitionLeaderEpoch: int32  @12  (written by the log, outside the CRC)
 *   magic: int8                  @16  (2)
 *   crc: uint32                  @17  (CRC32C of attributes..end)
 *   attributes: int16            @21  (bits 0-2 codec, 3 timestampType, 4 transactional, 5 control)
 *   lastOffsetDelta: int32       @23
 *   baseTimestamp: int64         @27
 *   maxTimestamp: int64          @35
 *   producerId: int64            @43
 *   producerEpoch: int16         @51
 *   baseSequence: int32          @53
 *   recordCount: int32           @57
 *   records                      @61
 *
 * The CRC is computed by the Wasm core (src/core); records are decoded only
 * by compaction and by offsetForTimestamp, through the core.
 */
import { WafkaError } from '../errors.ts';
import { crc32c, decodeBatch, encodeBatch, type DecodedRecord } from '../core/index.ts';
import { BATCH_BYTES_MAX } from './config.ts';

export const BASE_OFFSET_POS = 0;
export const BATCH_LENGTH_POS = 8;
export const LOG_OVERHEAD = 12;
export const PARTITION_LEADER_EPOCH_POS = 12;
export const MAGIC_POS = 16;
export const CRC_POS = 17;
export const ATTRIBUTES_POS = 21;
export const LAST_OFFSET_DELTA_POS = 23;
export const BASE_TIMESTAMP_POS = 27;
export const MAX_TIMESTAMP_POS = 35;
export const PRODUCER_ID_POS = 43;
export const PRODUCER_EPOCH_POS = 51;
export const BASE_SEQUENCE_POS = 53;
export const RECORD_COUNT_POS = 57;
export const RECORDS_POS = 61;
export const HEADER_BYTES = 61;
/** batchLength of an empty batch: the header after the length field. */
export const BATCH_LENGTH_MIN = HEADER_BYTES - LOG_OVERHEAD;

export const ATTR_TRANSACTIONAL = 0x10;
export const ATTR_CONTROL = 0x20;

export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export interface BatchFields {
  baseOffset: bigint;
  /** Whole batch in bytes (12 + batchLength). */
  sizeBytes: number;
  partitionLeaderEpoch: number;
  attributes: number;
  lastOffsetDelta: number;
  maxTimestampMs: number;
  recordCount: number;
}

export function readFields(dv: DataView, pos: number): BatchFields {
  return {
    baseOffset: dv.getBigInt64(pos + BASE_OFFSET_POS),
    sizeBytes: LOG_OVERHEAD + dv.getInt32(pos + BATCH_LENGTH_POS),
    partitionLeaderEpoch: dv.getInt32(pos + PARTITION_LEADER_EPOCH_POS),
    attributes: dv.getInt16(pos + ATTRIBUTES_POS),
    lastOffsetDelta: dv.getInt32(pos + LAST_OFFSET_DELTA_POS),
    maxTimestampMs: Number(dv.getBigInt64(pos + MAX_TIMESTAMP_POS)),
    recordCount: dv.getInt32(pos + RECORD_COUNT_POS),
  };
}

/** Why a batch at some position cannot be taken as data. */
export type BatchProblem = { kind: 'partial'; needBytes: number } | { kind: 'corrupt'; message: string };

/**
 * Checks the batch at `pos` (bytes[pos..end)): framing, magic, CRC, deltas.
 * Returns its size in bytes, or a problem: 'partial' when the bytes end
 * before the batch does (a torn tail or a short read window).
 */
export function checkBatch(bytes: Uint8Array, dv: DataView, pos: number, end: number, verifyCrc: boolean): number | BatchProblem {
  const remaining = end - pos;
  if (remaining < LOG_OVERHEAD) return { kind: 'partial', needBytes: LOG_OVERHEAD };
  const batchLength = dv.getInt32(pos + BATCH_LENGTH_POS);
  if (batchLength < BATCH_LENGTH_MIN) return { kind: 'corrupt', message: `batchLength ${batchLength} below the ${BATCH_LENGTH_MIN} B header` };
  const size = LOG_OVERHEAD + batchLength;
  if (size > BATCH_BYTES_MAX) return { kind: 'corrupt', message: `batch of ${size} B over the ${BATCH_BYTES_MAX} B limit` };
  if (remaining < HEADER_BYTES) return { kind: 'partial', needBytes: size };
  const magic = dv.getInt8(pos + MAGIC_POS);
  if (magic !== 2) return { kind: 'corrupt', message: `magic ${magic}, expected 2` };
  if (remaining < size) return { kind: 'partial', needBytes: size };
  const lastOffsetDelta = dv.getInt32(pos + LAST_OFFSET_DELTA_POS);
  const recordCount = dv.getInt32(pos + RECORD_COUNT_POS);
  if (lastOffsetDelta < 0 || recordCount < 0 || recordCount - 1 > lastOffsetDelta) {
    return { kind: 'corrupt', message: `lastOffsetDelta ${lastOffsetDelta} with recordCount ${recordCount}` };
  }
  if (verifyCrc) {
    const stored = dv.getUint32(pos + CRC_POS);
    const computed = crc32c(bytes.subarray(pos + ATTRIBUTES_POS, pos + size)) >>> 0;
    if (stored !== computed) {
      return { kind: 'corrupt', message: `CRC stored 0x${stored.toString(16)} computed 0x${computed.toString(16)}` };
    }
  }
  return size;
}

/** As checkBatch, for input from outside: a problem becomes CORRUPT_MESSAGE naming the batch and position. */
export function checkIncomingBatch(bytes: Uint8Array, dv: DataView, pos: number, index: number): number {
  const r = checkBatch(bytes, dv, pos, bytes.length, true);
  if (typeof r === 'number') return r;
  if (r.kind === 'partial') {
    throw new WafkaError('CORRUPT_MESSAGE', `batch ${index} at byte ${pos}: ${bytes.length - pos} B left, batch needs ${r.needBytes} B`);
  }
  throw new WafkaError('CORRUPT_MESSAGE', `batch ${index} at byte ${pos}: ${r.message}`);
}

/** A record as compaction sees it: its key as a latin1 string (a Map key), and whether it is a tombstone. */
export interface CompactionRecord {
  offset: bigint;
  key: string | null;
  isTombstone: boolean;
  timestampMs: number;
  record: DecodedRecord;
}

function keyString(key: Uint8Array): string {
  let s = '';
  for (let i = 0; i < key.length; i += 8192) s += String.fromCharCode.apply(null, key.subarray(i, i + 8192) as unknown as number[]);
  return s;
}

/** Decodes a stored batch (through the core) for compaction. */
export async function decodeForCompaction(batch: Uint8Array): Promise<CompactionRecord[]> {
  const decoded = await decodeBatch(batch, { verifyCrc: false });
  return decoded.records.map((r) => ({
    offset: r.offset,
    key: r.key === null ? null : keyString(r.key),
    isTombstone: r.value === null,
    timestampMs: Number(r.timestamp),
    record: r,
  }));
}

/**
 * Re-encodes the retained records of a stored batch, keeping their offsets:
 * one batch per run of consecutive offsets (the core's encoder numbers
 * records consecutively), with the original compression, timestamp type,
 * producer id/epoch, partition leader epoch, and the base sequence moved by
 * the run's distance from the batch start.
 */
export async function encodeRetained(batch: Uint8Array, keep: CompactionRecord[]): Promise<Uint8Array> {
  const dv = viewOf(batch);
  const base = dv.getBigInt64(BASE_OFFSET_POS);
  const attributes = dv.getInt16(ATTRIBUTES_POS);
  const baseSequence = dv.getInt32(BASE_SEQUENCE_POS);
  const parts: Uint8Array[] = [];
  let i = 0;
  while (i < keep.length) {
    let j = i + 1;
    while (j < keep.length && keep[j].offset === keep[j - 1].offset + 1n) j++;
    const run = keep.slice(i, j);
    const first = run[0].offset;
    parts.push(
      await encodeBatch(
        run.map((r) => ({ key: r.record.key, value: r.record.value, headers: r.record.headers, timestamp: r.record.timestamp })),
        {
          compression: (attributes & 0x07) as never,
          timestampType: ((attributes >> 3) & 1) as never,
          baseOffset: first,
          baseTimestamp: run.reduce((m, r) => (r.record.timestamp < m ? r.record.timestamp : m), run[0].record.timestamp),
          producerId: dv.getBigInt64(PRODUCER_ID_POS),
          producerEpoch: dv.getInt16(PRODUCER_EPOCH_POS),
          baseSequence: baseSequence < 0 ? -1 : (baseSequence + Number(first - base)) | 0,
          partitionLeaderEpoch: dv.getInt32(PARTITION_LEADER_EPOCH_POS),
        },
      ),
    );
    i = j;
  }
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The first record of a stored batch with timestamp ≥ timestampMs and offset
 * ≥ minOffset, or undefined. If the batch cannot be decoded (a codec not
 * registered), the batch's baseOffset and maxTimestamp stand in for it.
 */
export async function firstRecordAtOrAfter(batch: Uint8Array, timestampMs: number, minOffset: bigint): Promise<{ offset: bigint; timestampMs: number } | undefined> {
  let decoded;
  try {
    decoded = await decodeBatch(batch, { verifyCrc: false });
  } catch {
    const dv = viewOf(batch);
    const base = dv.getBigInt64(BASE_OFFSET_POS);
    return { offset: base < minOffset ? minOffset : base, timestampMs: Number(dv.getBigInt64(MAX_TIMESTAMP_POS)) };
  }
  for (const r of decoded.records) {
    if (r.offset >= minOffset && Number(r.timestamp) >= timestampMs) return { offset: r.offset, timestampMs: Number(r.timestamp) };
  }
  return undefined;
}
