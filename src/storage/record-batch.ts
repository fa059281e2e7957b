/**
 * What the storage engine adds to the core's RecordBatch v2 (header positions,
 * readBatchHeader: src/core/batch.ts; the format: assembly/batch.ts): the
 * checks applied to every batch before it is written and after it is read,
 * which tell a torn tail ('partial') from corruption, and compaction's
 * decode and re-encode.
 *
 * The CRC is computed by the Wasm core (src/core). A leader's append checks
 * every record of every batch as Kafka's LogValidator does, one core call per
 * batch (checkProducedBatch); records are decoded (into tables) only by
 * compaction and by offsetForTimestamp, through the core.
 */
import { WafkaError } from '../errors.ts';
import { concatBytes } from '../bytes.ts';
import {
  checkBatchRecords, crc32c, decodeBatch, encodeBatch, readBatchHeader,
  ATTRIBUTES_OFFSET, CRC_OFFSET, LAST_OFFSET_DELTA_OFFSET, LENGTH_OFFSET, LOG_OVERHEAD, MAGIC_OFFSET, RECORD_BATCH_OVERHEAD, RECORDS_COUNT_OFFSET,
  type DecodedRecord,
} from '../core/index.ts';
import { BATCH_BYTES_MAX } from './config.ts';

/** batchLength of an empty batch: the header after the length field. */
export const BATCH_LENGTH_MIN = RECORD_BATCH_OVERHEAD - LOG_OVERHEAD;

export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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
  const batchLength = dv.getInt32(pos + LENGTH_OFFSET);
  if (batchLength < BATCH_LENGTH_MIN) return { kind: 'corrupt', message: `batchLength ${batchLength} below the ${BATCH_LENGTH_MIN} B header` };
  const size = LOG_OVERHEAD + batchLength;
  if (size > BATCH_BYTES_MAX) return { kind: 'corrupt', message: `batch of ${size} B over the ${BATCH_BYTES_MAX} B limit` };
  if (remaining < RECORD_BATCH_OVERHEAD) return { kind: 'partial', needBytes: size };
  const magic = dv.getInt8(pos + MAGIC_OFFSET);
  if (magic !== 2) return { kind: 'corrupt', message: `magic ${magic}, expected 2` };
  if (remaining < size) return { kind: 'partial', needBytes: size };
  const lastOffsetDelta = dv.getInt32(pos + LAST_OFFSET_DELTA_OFFSET);
  const recordCount = dv.getInt32(pos + RECORDS_COUNT_OFFSET);
  if (lastOffsetDelta < 0 || recordCount < 0 || recordCount - 1 > lastOffsetDelta) {
    return { kind: 'corrupt', message: `lastOffsetDelta ${lastOffsetDelta} with recordCount ${recordCount}` };
  }
  if (verifyCrc) {
    const stored = dv.getUint32(pos + CRC_OFFSET);
    const computed = crc32c(bytes.subarray(pos + ATTRIBUTES_OFFSET, pos + size)) >>> 0;
    if (stored !== computed) {
      return { kind: 'corrupt', message: `CRC stored 0x${stored.toString(16)} computed 0x${computed.toString(16)}` };
    }
  }
  return size;
}

/**
 * As checkBatch, for input from outside: a problem becomes CORRUPT_MESSAGE
 * naming the batch and position. verifyCrc false: the caller checks the CRC
 * itself (checkProducedBatch does, in the same core call as the records).
 */
export function checkIncomingBatch(bytes: Uint8Array, dv: DataView, pos: number, index: number, verifyCrc = true): number {
  const r = checkBatch(bytes, dv, pos, bytes.length, verifyCrc);
  if (typeof r === 'number') return r;
  if (r.kind === 'partial') {
    throw new WafkaError('CORRUPT_MESSAGE', `batch ${index} at byte ${pos}: ${bytes.length - pos} B left, batch needs ${r.needBytes} B`);
  }
  throw new WafkaError('CORRUPT_MESSAGE', `batch ${index} at byte ${pos}: ${r.message}`);
}

/**
 * Kafka's LogValidator for a batch a producer sent, before a leader appends
 * it: CRC, the producer's rules and every record (see checkBatchRecords in
 * src/core/batch.ts), one core call per batch (gzip and zstd: their codec,
 * then one call). requireKeys: the topic is compacted. fromProducer false: a
 * batch a coordinator built (a control batch may be one). Throws CORRUPT_MESSAGE,
 * INVALID_RECORD, INVALID_TIMESTAMP, MESSAGE_TOO_LARGE or
 * UNSUPPORTED_COMPRESSION_TYPE; returns a Promise only for an async codec.
 */
export function checkProducedBatch(bytes: Uint8Array, pos: number, index: number, requireKeys: boolean, fromProducer = true): void | Promise<void> {
  const r = checkBatchRecords(bytes, { position: pos, label: `batch ${index} at byte ${pos}`, requireKeys, fromProducer });
  if (typeof r !== 'number') return r.then(() => {});
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
  const header = readBatchHeader(batch);
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
          compression: header.compression,
          timestampType: header.timestampType,
          baseOffset: first,
          baseTimestamp: run.reduce((m, r) => (r.record.timestamp < m ? r.record.timestamp : m), run[0].record.timestamp),
          producerId: header.producerId,
          producerEpoch: header.producerEpoch,
          baseSequence: header.baseSequence < 0 ? -1 : (header.baseSequence + Number(first - header.baseOffset)) | 0,
          partitionLeaderEpoch: header.partitionLeaderEpoch,
        },
      ),
    );
    i = j;
  }
  return concatBytes(parts);
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
    const { baseOffset, maxTimestamp } = readBatchHeader(batch);
    return { offset: baseOffset < minOffset ? minOffset : baseOffset, timestampMs: Number(maxTimestamp) };
  }
  for (const r of decoded.records) {
    if (r.offset >= minOffset && Number(r.timestamp) >= timestampMs) return { offset: r.offset, timestampMs: Number(r.timestamp) };
  }
  return undefined;
}
