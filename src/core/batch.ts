/**
 * RecordBatch v2 from TypeScript: build, read, validate, patch. The format is
 * specified at the top of assembly/batch.ts (Kafka's DefaultRecordBatch).
 *
 * One Wasm call per batch. Encoding: keys, values and headers are written
 * straight into the core's memory (the batch's string keys and values with
 * one TextEncoder.encodeInto when they are ASCII, else one by one), with a
 * record table of pointers; the core encodes
 * the varints, writes the records, compresses (snappy, lz4), writes the header
 * and the CRC. Gzip and zstd are done here between two core calls. Decoding:
 * the core checks the batch, decompresses (snappy, lz4) and returns a table of
 * positions; records are lazy views over the caller's bytes (uncompressed) or
 * over one copy of the decompressed records per batch.
 */
import { WafkaError, corrupt } from '../errors.ts';
import { CompressionTypes, lookupCodec, type CompressionType } from './codecs.ts';
import { coreError, ERR_OUT_OF_SPACE, ERR_UNSUPPORTED } from './errors.ts';
import { coreSync, type Arena } from './wasm.ts';

// Header layout (positions in the batch); see assembly/batch.ts.
export const BASE_OFFSET_OFFSET = 0;
export const LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORDS_COUNT_OFFSET = 57;
export const RECORDS_OFFSET = 61;
/** BaseOffset + Length: the bytes of a batch not counted by its Length field. */
export const LOG_OVERHEAD = 12;
export const RECORD_BATCH_OVERHEAD = 61;

export const TimestampTypes = { CREATE_TIME: 0, LOG_APPEND_TIME: 1 } as const;
export type TimestampType = (typeof TimestampTypes)[keyof typeof TimestampTypes];

export const ATTR_COMPRESSION_MASK = 0x07;
export const ATTR_TIMESTAMP_TYPE = 0x08;
export const ATTR_TRANSACTIONAL = 0x10;
export const ATTR_CONTROL = 0x20;
export const ATTR_DELETE_HORIZON = 0x40;

/** Default cap on the decompressed records of one batch. */
export const MAX_DECOMPRESSED_BYTES_DEFAULT = 64 * 1024 * 1024;

export type HeaderValue = string | Uint8Array | null;
/** KafkaJS style (`{ a: 'x', b: ['y', 'z'] }`) or an ordered list. */
export type RecordHeaders = Record<string, HeaderValue | HeaderValue[] | undefined> | readonly { key: string; value: HeaderValue }[];

export interface RecordInput {
  key?: Uint8Array | string | null;
  value: Uint8Array | string | null;
  headers?: RecordHeaders;
  /** Milliseconds since the epoch; KafkaJS passes strings. Defaults to the batch's baseTimestamp. */
  timestamp?: number | bigint | string;
}

export interface EncodeOptions {
  compression?: CompressionType;
  baseOffset?: bigint | number;
  /** Defaults to the first record's timestamp, else Date.now(). */
  baseTimestamp?: bigint | number;
  producerId?: bigint | number;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  isControlBatch?: boolean;
  partitionLeaderEpoch?: number;
  timestampType?: TimestampType;
}

export interface RecordBatchHeader {
  baseOffset: bigint;
  /** The Length field: bytes after it. */
  batchLength: number;
  /** Length + 12: the whole batch. */
  sizeInBytes: number;
  partitionLeaderEpoch: number;
  magic: number;
  /** Stored CRC32C (u32). */
  crc: number;
  attributes: number;
  compression: CompressionType;
  timestampType: TimestampType;
  isTransactional: boolean;
  isControlBatch: boolean;
  hasDeleteHorizon: boolean;
  lastOffsetDelta: number;
  lastOffset: bigint;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

export interface RecordHeader {
  key: string;
  value: Uint8Array | null;
}

export interface DecodedRecord {
  readonly offset: bigint;
  readonly timestamp: bigint;
  /** A view (not a copy) over the batch bytes or the batch's decompressed records. */
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: RecordHeader[];
  readonly offsetDelta: number;
  readonly timestampDelta: number;
}

export interface DecodedBatch extends RecordBatchHeader {
  records: DecodedRecord[];
}

export interface DecodeOptions {
  /** Where the batch starts in `bytes` (default 0). */
  position?: number;
  /** Limit on the decompressed records (default 64 MiB): over it, MESSAGE_TOO_LARGE. */
  maxDecompressedBytes?: number;
  /** Check the CRC (default true). */
  verifyCrc?: boolean;
}

// ---------------------------------------------------------------- header views

const dataView = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** Reads the 61-byte header at `position` (no Wasm, no CRC check, no record decode). */
export function readBatchHeader(bytes: Uint8Array, position = 0): RecordBatchHeader {
  if (position < 0 || bytes.byteLength - position < RECORD_BATCH_OVERHEAD) {
    throw corrupt(`batch at position ${position}: truncated: header needs ${RECORD_BATCH_OVERHEAD} bytes, ${Math.max(0, bytes.byteLength - position)} available`);
  }
  return headerAt(dataView(bytes), position);
}

function headerAt(dv: DataView, p: number): RecordBatchHeader {
  const baseOffset = dv.getBigInt64(p + BASE_OFFSET_OFFSET);
  const batchLength = dv.getInt32(p + LENGTH_OFFSET);
  const attributes = dv.getInt16(p + ATTRIBUTES_OFFSET);
  const lastOffsetDelta = dv.getInt32(p + LAST_OFFSET_DELTA_OFFSET);
  return {
    baseOffset,
    batchLength,
    sizeInBytes: batchLength + LOG_OVERHEAD,
    partitionLeaderEpoch: dv.getInt32(p + PARTITION_LEADER_EPOCH_OFFSET),
    magic: dv.getInt8(p + MAGIC_OFFSET),
    crc: dv.getUint32(p + CRC_OFFSET),
    attributes,
    compression: (attributes & ATTR_COMPRESSION_MASK) as CompressionType,
    timestampType: (attributes & ATTR_TIMESTAMP_TYPE ? 1 : 0) as TimestampType,
    isTransactional: (attributes & ATTR_TRANSACTIONAL) !== 0,
    isControlBatch: (attributes & ATTR_CONTROL) !== 0,
    hasDeleteHorizon: (attributes & ATTR_DELETE_HORIZON) !== 0,
    lastOffsetDelta,
    lastOffset: baseOffset + BigInt(lastOffsetDelta),
    baseTimestamp: dv.getBigInt64(p + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: dv.getBigInt64(p + MAX_TIMESTAMP_OFFSET),
    producerId: dv.getBigInt64(p + PRODUCER_ID_OFFSET),
    producerEpoch: dv.getInt16(p + PRODUCER_EPOCH_OFFSET),
    baseSequence: dv.getInt32(p + BASE_SEQUENCE_OFFSET),
    recordCount: dv.getInt32(p + RECORDS_COUNT_OFFSET),
  };
}

/** Writes BaseOffset (outside the CRC: no re-seal needed). */
export function setBaseOffset(bytes: Uint8Array, position: number, offset: bigint | number): void {
  dataView(bytes).setBigInt64(position + BASE_OFFSET_OFFSET, BigInt(offset));
}

/** Writes PartitionLeaderEpoch (outside the CRC: no re-seal needed). */
export function setPartitionLeaderEpoch(bytes: Uint8Array, position: number, epoch: number): void {
  dataView(bytes).setInt32(position + PARTITION_LEADER_EPOCH_OFFSET, epoch);
}

/** Bytes a batch at `position` claims (Length + 12), or -1 if fewer than 12 bytes are there. */
export function batchSizeAt(bytes: Uint8Array, position = 0): number {
  if (bytes.byteLength - position < LOG_OVERHEAD) return -1;
  return dataView(bytes).getInt32(position + LENGTH_OFFSET) + LOG_OVERHEAD;
}

// ------------------------------------------------------------ batch spans
// The one reader of stored batch headers that the log and its segments walk:
// where a batch starts, how long it is, and which offsets it holds, from the
// header alone (no decode, no CRC). Callers decide what a bad size or a batch
// running past their buffer means (corruption, a shorter read, a stop).

export interface BatchSpan {
  /** Byte position of the batch in the buffer walked. */
  readonly at: number;
  /** The whole batch in bytes (the length field plus the 12 bytes before it); may be bogus if the bytes are. */
  readonly sizeBytes: number;
  readonly baseOffset: bigint;
  /** baseOffset + lastOffsetDelta. */
  readonly lastOffset: bigint;
}

/** Whether a whole batch header starting at `at` lies within `length` bytes. */
export function headerFits(length: number, at: number): boolean {
  return at + RECORD_BATCH_OVERHEAD <= length;
}

/** The span of the batch whose header starts at `at` (the header must be whole in `dv`). */
export function batchSpanAt(dv: DataView, at: number): BatchSpan {
  const baseOffset = dv.getBigInt64(at);
  return { at, sizeBytes: LOG_OVERHEAD + dv.getInt32(at + LENGTH_OFFSET), baseOffset, lastOffset: baseOffset + BigInt(dv.getInt32(at + LAST_OFFSET_DELTA_OFFSET)) };
}

/**
 * The spans of the batches in `dv` from `from`, in order, for as long as each
 * header is whole. A batch's bytes may run past the buffer (at + sizeBytes >
 * its length): that one is yielded and the walk ends after it. A size below a
 * header's ends the walk after yielding it too (it cannot be stepped over).
 */
export function* batchSpans(dv: DataView, from = 0): Generator<BatchSpan> {
  let at = from;
  while (headerFits(dv.byteLength, at)) {
    const span = batchSpanAt(dv, at);
    yield span;
    if (span.sizeBytes < RECORD_BATCH_OVERHEAD) return;
    at += span.sizeBytes;
  }
}

/** Whether `span` is a sane batch lying whole within `length` bytes. */
export function spanIsWhole(span: BatchSpan, length: number): boolean {
  return span.sizeBytes >= RECORD_BATCH_OVERHEAD && span.at + span.sizeBytes <= length;
}

/**
 * Checks the batch at `position`: complete, magic 2, Length sane, CRC32C.
 * Returns its size in bytes; throws CORRUPT_MESSAGE (with stored vs computed CRC, needed vs available bytes).
 */
export function validateBatch(bytes: Uint8Array, position = 0): number {
  const arena = coreSync();
  try {
    const len = copyBatchIn(arena, bytes, position, 0);
    const r = arena.exports.batchValidate(arena.base, len, 1);
    if (r < 0) throw coreError(arena.exports, r, `batch at position ${position}`);
    return r;
  } finally {
    arena.release();
  }
}

export interface CheckOptions {
  /** Where the batch starts in `bytes` (default 0). */
  position?: number;
  /** Names the batch in error messages (default "batch at position N"). */
  label?: string;
  /** Check the CRC (default true). */
  verifyCrc?: boolean;
  /** Kafka's rules for a batch a producer sends: no control batch, consecutive offsets, ... (default true). */
  fromProducer?: boolean;
  /** Every record must have a key (a compacted topic; default false). */
  requireKeys?: boolean;
  /** Limit on the decompressed records (default 64 MiB): over it, MESSAGE_TOO_LARGE. */
  maxDecompressedBytes?: number;
}

const CHECK_CRC = 1;
const CHECK_PRODUCER = 2;
const CHECK_KEYS = 4;

/**
 * Kafka's LogValidator for one batch before it is appended, in one core call
 * (a second for gzip and zstd, after their codec): framing, magic, CRC; the
 * rules for a producer's batch (no control batch or delete horizon, attribute
 * bits 7-15 clear, compression 0-4, RecordCount ≥ 1 and LastOffsetDelta =
 * RecordCount - 1, a base sequence with a producer id); every record's
 * lengths and varints, offset delta i for record i, a key if required, and a
 * CreateTime timestamp within an int64. Compressed records are decompressed
 * within the limit and the codec's ratio bound; no record table is built.
 * Returns the record count (a Promise only for an async codec); throws
 * CORRUPT_MESSAGE (broken bytes), INVALID_RECORD (a broken rule),
 * INVALID_TIMESTAMP, MESSAGE_TOO_LARGE or UNSUPPORTED_COMPRESSION_TYPE.
 */
export function checkBatchRecords(bytes: Uint8Array, options: CheckOptions = {}): number | Promise<number> {
  const position = options.position ?? 0;
  const what = options.label ?? `batch at position ${position}`;
  const limit = options.maxDecompressedBytes ?? MAX_DECOMPRESSED_BYTES_DEFAULT;
  let flags = (options.verifyCrc === false ? 0 : CHECK_CRC) | (options.fromProducer === false ? 0 : CHECK_PRODUCER) | (options.requireKeys ? CHECK_KEYS : 0);
  const arena = coreSync();
  let r = 0;
  try {
    const ex = arena.exports;
    const len = copyBatchIn(arena, bytes, position, 0);
    const work = (arena.base + len + 7) & ~7;
    for (let attempt = 0; ; attempt++) {
      r = ex.batchCheck(arena.base, len, work, arena.capacity - (work - arena.base), limit, flags);
      if (r !== ERR_OUT_OF_SPACE || attempt === MAX_RETRIES) break;
      flags &= ~CHECK_CRC; // checked already
      arena.reserve(work - arena.base + Number(ex.errorDetail(0)));
    }
    if (r >= 0) return r;
    if (r !== ERR_UNSUPPORTED) throw coreError(ex, r, what);
  } finally {
    arena.release();
  }
  const header = readBatchHeader(bytes, position);
  const body = bytes.subarray(position + RECORDS_OFFSET, position + header.sizeInBytes);
  const records = decompressOutside(header.compression, body, limit, what);
  const check = (decompressed: Uint8Array) => checkDecompressed(header, decompressed, flags, what);
  return records instanceof Promise ? records.then(check) : check(records);
}

function checkDecompressed(header: RecordBatchHeader, records: Uint8Array, flags: number, what: string): number {
  const arena = coreSync();
  try {
    arena.reserve(records.byteLength);
    arena.u8.set(records, arena.base);
    const ex = arena.exports;
    const r = ex.batchCheckRecords(arena.base, records.byteLength, header.recordCount, header.attributes, header.baseTimestamp, flags);
    if (r < 0) throw coreError(ex, r, what);
    return r;
  } finally {
    arena.release();
  }
}

/**
 * Decompresses a gzip or zstd body with a registered (or the platform's)
 * codec, within the limit and the codec's ratio bound: a body that would
 * decompress past the bound is corrupt, not merely large.
 */
function decompressOutside(codec: number, body: Uint8Array, limit: number, what: string): Uint8Array | Promise<Uint8Array> {
  const impl = lookupCodec(codec);
  const bound = Number(coreSync().exports.decompressedBound(codec, body.byteLength));
  const maxBytes = Math.min(limit, bound);
  const overBound = (error: unknown): never => {
    if (maxBytes < limit && WafkaError.is(error, 'MESSAGE_TOO_LARGE')) {
      throw corrupt(`${what}: ${body.byteLength} B of compression type ${codec} decompress past ${bound} B, more than the codec can produce`, error);
    }
    throw error;
  };
  let out: Uint8Array | Promise<Uint8Array>;
  try {
    out = impl.decompress(body, maxBytes);
  } catch (error) {
    return overBound(error);
  }
  const checked = (records: Uint8Array) => {
    if (records.byteLength > maxBytes) overBound(new WafkaError('MESSAGE_TOO_LARGE', `${what}: decompressed size ${records.byteLength} bytes over the limit of ${maxBytes} bytes`));
    return records;
  };
  return out instanceof Promise ? out.then(checked, overBound) : checked(out);
}

/** Copies the batch at position (as many bytes as it claims, at most what is there) to arena.base, reserving `extra` more. */
function copyBatchIn(arena: Arena, bytes: Uint8Array, position: number, extra: number): number {
  const available = bytes.byteLength - position;
  if (position < 0 || available < 0) throw corrupt(`batch at position ${position}: beyond the ${bytes.byteLength} bytes given`);
  let len = available;
  if (available >= LOG_OVERHEAD) {
    const claimed = batchSizeAt(bytes, position);
    if (claimed >= RECORD_BATCH_OVERHEAD && claimed < available) len = claimed;
  }
  arena.reserve(len + extra);
  arena.u8.set(position === 0 && len === bytes.byteLength ? bytes : bytes.subarray(position, position + len), arena.base);
  return len;
}

// ---------------------------------------------------------------- encode

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const TWO_32 = 4294967296;

/** What the core produced: a sealed batch, or records waiting for a TS codec. */
interface Built {
  batch?: Uint8Array;
  header?: Uint8Array;
  records?: Uint8Array;
  codec?: number;
}

/** Encodes one batch. Gzip and zstd codecs are async; snappy and lz4 run in the core. */
export async function encodeBatch(records: readonly RecordInput[], options: EncodeOptions = {}): Promise<Uint8Array> {
  const built = buildReleasing(records, options);
  if (built.batch) return built.batch;
  const compressed = await lookupCodec(built.codec!).compress(built.records!);
  return seal(built.header!, compressed);
}

/** Encodes one batch synchronously: none, snappy, lz4, or a registered codec whose compress is synchronous. */
export function encodeBatchSync(records: readonly RecordInput[], options: EncodeOptions = {}): Uint8Array {
  const built = buildReleasing(records, options);
  if (built.batch) return built.batch;
  const compressed = lookupCodec(built.codec!).compress(built.records!);
  if (compressed instanceof Promise) {
    throw new WafkaError('UNSUPPORTED_COMPRESSION_TYPE', `the codec for compression type ${built.codec} is async: use encodeBatch`);
  }
  return seal(built.header!, compressed);
}

/** buildInCore, then the arena's memory given back if it grew past its retained size (the result is a copy). */
function buildReleasing(records: readonly RecordInput[], options: EncodeOptions): Built {
  try {
    return buildInCore(records, options);
  } finally {
    coreSync().release();
  }
}

function seal(header: Uint8Array, compressed: Uint8Array): Uint8Array {
  const arena = coreSync();
  const size = RECORD_BATCH_OVERHEAD + compressed.byteLength;
  arena.reserve(size);
  const u8 = arena.u8;
  u8.set(header, arena.base);
  u8.set(compressed, arena.base + RECORD_BATCH_OVERHEAD);
  const n = arena.exports.batchSeal(arena.base, size);
  if (n < 0) throw coreError(arena.exports, n, 'batch');
  const sealed = u8.slice(arena.base, arena.base + n);
  arena.release();
  return sealed;
}

/** A timestamp (ms) as an int64, exactly, or INVALID_TIMESTAMP. */
function toInt64(v: bigint | number | string, what: string): bigint {
  let t: bigint;
  try {
    t = toBigInt(v, what);
  } catch (error) {
    throw new WafkaError('INVALID_TIMESTAMP', `${what} ${String(v)} is not an integer number of ms`, { cause: error });
  }
  if (BigInt.asIntN(64, t) !== t) throw new WafkaError('INVALID_TIMESTAMP', `${what} ${t} is beyond an int64`);
  return t;
}

function toBigInt(v: bigint | number | string, what: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new WafkaError('INVALID_RECORD', `${what} ${v} is not an integer`);
  return BigInt(v);
}

function buildInCore(records: readonly RecordInput[], options: EncodeOptions): Built {
  const count = records.length;
  if (count === 0) throw new WafkaError('INVALID_RECORD', 'a batch needs at least one record');
  if (count > 0x3fffffff) throw new WafkaError('RECORD_LIST_TOO_LARGE', `${count} records in one batch`);
  const compression = options.compression ?? CompressionTypes.None;
  if (!Number.isInteger(compression) || compression < 0 || compression > 4) {
    throw new WafkaError('UNSUPPORTED_COMPRESSION_TYPE', `compression type ${compression} is not supported`);
  }
  const inCore = compression === CompressionTypes.None || compression === CompressionTypes.Snappy || compression === CompressionTypes.LZ4;
  if (!inCore) lookupCodec(compression); // fail before doing the work

  let baseTimestamp: bigint;
  if (options.baseTimestamp !== undefined) baseTimestamp = toInt64(options.baseTimestamp, 'baseTimestamp');
  else if (records[0]!.timestamp !== undefined && records[0]!.timestamp !== null) baseTimestamp = toInt64(records[0]!.timestamp, 'record 0: timestamp');
  else baseTimestamp = BigInt(Date.now());
  const baseTsNumber = Number(baseTimestamp);

  const arena = coreSync();
  const base = arena.base;
  const tableBytes = count * 32;
  // Start with room for typical records; grow on demand (growing re-creates the views).
  let cap = tableBytes + count * 160 + 65536;
  arena.reserve(cap);
  let u8 = arena.u8;
  let i32 = arena.i32;
  let end = base + cap;
  let pos = base + tableBytes;
  let recordsBound = 0;

  const grow = (need: number) => {
    cap = Math.max(cap * 2, pos - base + need + 65536);
    arena.reserve(cap);
    u8 = arena.u8;
    i32 = arena.i32;
    end = base + cap;
  };

  /** Writes a key, value or header value at pos; returns its length or -1 for null. */
  const put = (v: Uint8Array | string | null | undefined): number => {
    if (v === null || v === undefined) return -1;
    if (typeof v === 'string') {
      const n = v.length;
      if (pos + n * 3 > end) grow(n * 3);
      if (n <= 48) {
        let i = 0;
        for (; i < n; i++) {
          const c = v.charCodeAt(i);
          if (c >= 0x80) break;
          u8[pos + i] = c;
        }
        if (i === n) {
          pos += n;
          return n;
        }
      }
      const written = encoder.encodeInto(v, u8.subarray(pos, pos + n * 3)).written;
      pos += written;
      return written;
    }
    if (!(v instanceof Uint8Array)) throw new WafkaError('INVALID_RECORD', `keys, values and header values are Uint8Array, string or null, not ${typeof v}`);
    const n = v.byteLength;
    if (pos + n > end) grow(n);
    u8.set(v, pos);
    pos += n;
    return n;
  };

  // Every string key and value of the batch in one encodeInto: a call costs more than encoding
  // 100 ASCII characters does (≈ 0.5-0.8 µs per call in Chromium). When the joined text is all
  // ASCII (one byte per character), each string's bytes start at its character offset in it;
  // otherwise (or for a single string) the strings are encoded one by one below.
  let bulkAt = -1;
  if (count > 1) {
    const strings: string[] = [];
    for (let i = 0; i < count; i++) {
      const r = records[i]!;
      if (typeof r.key === 'string') strings.push(r.key);
      if (typeof r.value === 'string') strings.push(r.value);
    }
    if (strings.length > 1) {
      const joined = strings.join('');
      const n = joined.length;
      if (pos + n * 3 > end) grow(n * 3);
      if (encoder.encodeInto(joined, u8.subarray(pos, pos + n * 3)).written === n) {
        bulkAt = pos;
        pos += n;
      }
    }
  }

  for (let i = 0; i < count; i++) {
    const r = records[i]!;
    const e = (base >> 2) + i * 8;
    // timestamp delta
    const ts = r.timestamp;
    if (ts === undefined || ts === null) {
      i32[e] = 0;
      i32[e + 1] = 0;
    } else if (typeof ts === 'number') {
      const delta = ts - baseTsNumber;
      if (!Number.isSafeInteger(ts) || !Number.isSafeInteger(delta)) throw new WafkaError('INVALID_TIMESTAMP', `record ${i}: timestamp ${String(ts)} is not an integer number of ms`);
      const hi = Math.floor(delta / TWO_32);
      i32[e] = delta - hi * TWO_32;
      i32[e + 1] = hi;
    } else {
      // bigint and decimal strings stay exact: the delta is an int64 or the record is refused.
      const delta = toInt64(ts, `record ${i}: timestamp`) - baseTimestamp;
      if (BigInt.asIntN(64, delta) !== delta) throw new WafkaError('INVALID_TIMESTAMP', `record ${i}: timestamp ${String(ts)} is ${delta} ms from the batch's base timestamp ${baseTimestamp}, beyond an int64`);
      i32[e] = Number(BigInt.asIntN(32, delta));
      i32[e + 1] = Number(delta >> 32n);
    }
    // key, value
    let at: number;
    const key = r.key;
    let keyLen: number;
    if (bulkAt >= 0 && typeof key === 'string') {
      i32[e + 2] = bulkAt;
      keyLen = key.length;
      bulkAt += keyLen;
    } else {
      i32[e + 2] = pos;
      keyLen = put(key);
    }
    i32[e + 3] = keyLen;
    const value = r.value;
    let valueLen: number;
    if (bulkAt >= 0 && typeof value === 'string') {
      i32[e + 4] = bulkAt;
      valueLen = value.length;
      bulkAt += valueLen;
    } else {
      i32[e + 4] = pos;
      valueLen = put(value);
    }
    i32[e + 5] = valueLen;
    recordsBound += 31 + (keyLen > 0 ? keyLen : 0) + (valueLen > 0 ? valueLen : 0);
    // headers
    const headers = r.headers;
    if (headers === undefined || headers === null) {
      i32[e + 6] = 0;
      i32[e + 7] = 0;
      continue;
    }
    const pairs = headerPairs(headers);
    const hc = pairs.length >> 1;
    // The header table of this record: 16 bytes per header, 4-aligned, then the bytes.
    pos = (pos + 3) & ~3;
    if (pos + hc * 16 > end) grow(hc * 16);
    const ht = pos;
    pos += hc * 16;
    for (let h = 0; h < hc; h++) {
      const hk = pairs[2 * h];
      if (typeof hk !== 'string') throw new WafkaError('INVALID_RECORD', `record ${i}: header keys are strings`);
      at = pos;
      const hkLen = put(hk);
      i32[(ht >> 2) + h * 4] = at;
      i32[(ht >> 2) + h * 4 + 1] = hkLen;
      at = pos;
      const hvLen = put(pairs[2 * h + 1] as HeaderValue);
      i32[(ht >> 2) + h * 4 + 2] = at;
      i32[(ht >> 2) + h * 4 + 3] = hvLen;
      recordsBound += 10 + hkLen + (hvLen > 0 ? hvLen : 0);
    }
    i32[e + 6] = ht;
    i32[e + 7] = hc;
  }

  if (recordsBound > 0x7fff0000) throw new WafkaError('RECORD_LIST_TOO_LARGE', `${recordsBound} bytes of records in one batch`);
  const ex = arena.exports;
  const dst = (pos + 7) & ~7;
  const codecInCore = compression === CompressionTypes.Snappy || compression === CompressionTypes.LZ4;
  const dstCap = RECORD_BATCH_OVERHEAD + (codecInCore ? ex.batchRecordsBound(compression, recordsBound) : recordsBound);
  const scratch = codecInCore ? (dst + dstCap + 15) & ~15 : 0;
  const scratchCap = codecInCore ? recordsBound : 0;
  const total = (codecInCore ? scratch + scratchCap : dst + dstCap) - base;
  if (total > cap) {
    cap = total;
    arena.reserve(cap);
  }

  let attributes = compression;
  if (options.timestampType === TimestampTypes.LOG_APPEND_TIME) attributes |= ATTR_TIMESTAMP_TYPE;
  if (options.isTransactional || options.isControlBatch) attributes |= ATTR_TRANSACTIONAL;
  if (options.isControlBatch) attributes |= ATTR_CONTROL;
  const dv = arena.dv;
  dv.setBigInt64(dst + BASE_OFFSET_OFFSET, toBigInt(options.baseOffset ?? 0n, 'baseOffset'));
  dv.setInt32(dst + PARTITION_LEADER_EPOCH_OFFSET, options.partitionLeaderEpoch ?? -1);
  dv.setInt16(dst + ATTRIBUTES_OFFSET, attributes);
  dv.setBigInt64(dst + BASE_TIMESTAMP_OFFSET, baseTimestamp);
  dv.setBigInt64(dst + PRODUCER_ID_OFFSET, toBigInt(options.producerId ?? -1n, 'producerId'));
  dv.setInt16(dst + PRODUCER_EPOCH_OFFSET, options.producerEpoch ?? -1);
  dv.setInt32(dst + BASE_SEQUENCE_OFFSET, options.baseSequence ?? -1);

  const n = ex.batchBuild(base, count, 0, dst, dstCap, scratch, scratchCap);
  if (n < 0) throw coreError(ex, n, 'building a batch');
  const out = arena.u8;
  if (inCore) return { batch: out.slice(dst, dst + n) };
  return { header: out.slice(dst, dst + RECORD_BATCH_OVERHEAD), records: out.slice(dst + RECORD_BATCH_OVERHEAD, dst + n), codec: compression };
}

/** Flattens headers (KafkaJS object or [{ key, value }]) to [key, value, key, value, ...]. */
export function headerPairs(headers: RecordHeaders): unknown[] {
  const pairs: unknown[] = [];
  if (Array.isArray(headers)) {
    for (const h of headers as readonly { key: string; value: HeaderValue }[]) pairs.push(h.key, h.value ?? null);
    return pairs;
  }
  for (const key in headers) {
    const v = (headers as Record<string, HeaderValue | HeaderValue[] | undefined>)[key];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v) pairs.push(key, item ?? null);
    else pairs.push(key, v);
  }
  return pairs;
}

// ---------------------------------------------------------------- decode

/**
 * The records of one decoded batch as a table: record i's fields are read by
 * index, with no object per record (the consumer builds its messages straight
 * from it). Key and value are views over the batch bytes (uncompressed) or
 * over one copy of the decompressed records.
 */
export class RecordTable {
  constructor(
    readonly baseOffset: bigint,
    readonly baseTimestamp: bigint,
    /** LogAppendTime batches: every record's timestamp is the batch's max timestamp. */
    readonly appendTime: bigint | null,
    readonly src: Uint8Array,
    /** Position in src of the first record byte (table positions are relative to it). */
    readonly at: number,
    /** 8 ints per record: offsetDelta, timestampDelta lo/hi, key pos/len, value pos/len, header count. */
    readonly table: Int32Array,
    readonly headerTable: Int32Array | null,
  ) {}

  headerStarts: Int32Array | null = null;

  get count(): number { return this.table.length >> 3; }

  offsetDelta(i: number): number { return this.table[i * 8]!; }

  /**
   * Record i's timestamp delta as a number, exact up to ±2^53 ms; past that
   * INVALID_TIMESTAMP rather than a rounded value (timestamp(i) is exact).
   */
  timestampDelta(i: number): number {
    const t = this.table;
    const j = i * 8;
    const delta = t[j + 2]! * TWO_32 + (t[j + 1]! >>> 0);
    if (!Number.isSafeInteger(delta)) {
      throw new WafkaError('INVALID_TIMESTAMP', `record ${i}: timestamp delta ${this.#timestampDeltaBig(j)} does not fit a number exactly: read timestamp`);
    }
    return delta;
  }

  /** Whether records i and j have the same timestamp delta. */
  sameTimestampDelta(i: number, j: number): boolean {
    const t = this.table;
    return t[i * 8 + 1] === t[j * 8 + 1] && t[i * 8 + 2] === t[j * 8 + 2];
  }

  /** Record i's timestamp (ms), exact: the batch's MaxTimestamp for LogAppendTime, else BaseTimestamp + the record's delta. */
  timestamp(i: number): bigint {
    if (this.appendTime !== null) return this.appendTime;
    const t = this.table;
    const j = i * 8;
    const hi = t[j + 2]!;
    // Within ±2^53 the delta is an exact number: one BigInt instead of three.
    if (hi >= -0x200000 && hi < 0x200000) return this.baseTimestamp + BigInt(hi * TWO_32 + (t[j + 1]! >>> 0));
    return this.baseTimestamp + this.#timestampDeltaBig(j);
  }

  #timestampDeltaBig(j: number): bigint {
    return (BigInt(this.table[j + 2]!) << 32n) | BigInt(this.table[j + 1]! >>> 0);
  }

  /** -1 for a null key. */
  keyLength(i: number): number { return this.table[i * 8 + 4]!; }
  /** -1 for a null value. */
  valueLength(i: number): number { return this.table[i * 8 + 6]!; }
  headerCount(i: number): number { return this.table[i * 8 + 7]!; }

  key(i: number): Uint8Array | null {
    const j = i * 8;
    const len = this.table[j + 4]!;
    if (len < 0) return null;
    const p = this.at + this.table[j + 3]!;
    return this.src.subarray(p, p + len);
  }

  value(i: number): Uint8Array | null {
    const j = i * 8;
    const len = this.table[j + 6]!;
    if (len < 0) return null;
    const p = this.at + this.table[j + 5]!;
    return this.src.subarray(p, p + len);
  }

  headersOf(i: number): RecordHeader[] {
    const t = this.table;
    const n = t[i * 8 + 7]!;
    if (n === 0) return [];
    let starts = this.headerStarts;
    if (!starts) {
      const count = t.length >> 3;
      starts = new Int32Array(count);
      let s = 0;
      for (let r = 0; r < count; r++) {
        starts[r] = s;
        s += t[r * 8 + 7]!;
      }
      this.headerStarts = starts;
    }
    const h = this.headerTable!;
    const out: RecordHeader[] = new Array(n);
    for (let k = 0, j = starts[i]! * 4; k < n; k++, j += 4) {
      const kp = this.at + h[j]!;
      const vl = h[j + 3]!;
      const vp = this.at + h[j + 2]!;
      out[k] = { key: decoder.decode(this.src.subarray(kp, kp + h[j + 1]!)), value: vl < 0 ? null : this.src.subarray(vp, vp + vl) };
    }
    return out;
  }
}

class LazyRecord implements DecodedRecord {
  readonly #b: RecordTable;
  readonly #i: number;

  constructor(b: RecordTable, i: number) {
    this.#b = b;
    this.#i = i;
  }

  get offsetDelta(): number {
    return this.#b.offsetDelta(this.#i);
  }

  get timestampDelta(): number {
    return this.#b.timestampDelta(this.#i);
  }

  get offset(): bigint {
    return this.#b.baseOffset + BigInt(this.#b.offsetDelta(this.#i));
  }

  get timestamp(): bigint {
    return this.#b.timestamp(this.#i);
  }

  get key(): Uint8Array | null {
    return this.#b.key(this.#i);
  }

  get value(): Uint8Array | null {
    return this.#b.value(this.#i);
  }

  get headers(): RecordHeader[] {
    return this.#b.headersOf(this.#i);
  }

  /** A plain object with every field (for logging, structured clone, deep equality). */
  toJSON(): { offset: bigint; timestamp: bigint; key: Uint8Array | null; value: Uint8Array | null; headers: RecordHeader[] } {
    return { offset: this.offset, timestamp: this.timestamp, key: this.key, value: this.value, headers: this.headers };
  }
}

/** One decoded batch as its header and a record table (no object per record). */
export interface DecodedBatchTable {
  header: RecordBatchHeader;
  records: RecordTable;
}

/** What the first core call said. */
type ReadResult = { batch: DecodedBatchTable } | { pending: { header: RecordBatchHeader; body: Uint8Array; codec: number } };

/** Decodes one batch (any compression; gzip and zstd codecs may be async). */
export async function decodeBatch(bytes: Uint8Array, options: DecodeOptions = {}): Promise<DecodedBatch> {
  return withLazyRecords(await decodeBatchTable(bytes, options));
}

/** Decodes one batch synchronously: none, snappy, lz4, or a registered codec whose decompress is synchronous. */
export function decodeBatchSync(bytes: Uint8Array, options: DecodeOptions = {}): DecodedBatch {
  return withLazyRecords(decodeBatchTableSync(bytes, options));
}

/** decodeBatch, with the records as a table (the consumer's path: no object per record). */
export async function decodeBatchTable(bytes: Uint8Array, options: DecodeOptions = {}): Promise<DecodedBatchTable> {
  const r = readInCore(bytes, options);
  if ('batch' in r) return r.batch;
  const limit = options.maxDecompressedBytes ?? MAX_DECOMPRESSED_BYTES_DEFAULT;
  const position = options.position ?? 0;
  const records = await decompressOutside(r.pending.codec, r.pending.body, limit, `batch at position ${position}`);
  return decodeDecompressed(r.pending.header, records, limit, position);
}

/** decodeBatchSync, with the records as a table. */
export function decodeBatchTableSync(bytes: Uint8Array, options: DecodeOptions = {}): DecodedBatchTable {
  const r = readInCore(bytes, options);
  if ('batch' in r) return r.batch;
  const limit = options.maxDecompressedBytes ?? MAX_DECOMPRESSED_BYTES_DEFAULT;
  const position = options.position ?? 0;
  const records = decompressOutside(r.pending.codec, r.pending.body, limit, `batch at position ${position}`);
  if (records instanceof Promise) {
    records.catch(() => {});
    throw new WafkaError('UNSUPPORTED_COMPRESSION_TYPE', `the codec for compression type ${r.pending.codec} is async: use decodeBatch`);
  }
  return decodeDecompressed(r.pending.header, records, limit, position);
}

function withLazyRecords({ header, records: table }: DecodedBatchTable): DecodedBatch {
  const count = table.count;
  const records: DecodedRecord[] = new Array(count);
  for (let i = 0; i < count; i++) records[i] = new LazyRecord(table, i);
  return { ...header, records };
}

const MAX_RETRIES = 40;

function readInCore(bytes: Uint8Array, options: DecodeOptions): ReadResult {
  const position = options.position ?? 0;
  const limit = options.maxDecompressedBytes ?? MAX_DECOMPRESSED_BYTES_DEFAULT;
  const arena = coreSync();
  try {
    return readWith(arena, bytes, position, limit, options.verifyCrc !== false);
  } finally {
    arena.release();
  }
}

function readWith(arena: Arena, bytes: Uint8Array, position: number, limit: number, verifyCrc: boolean): ReadResult {
  const ex = arena.exports;
  const base = arena.base;
  const available = bytes.byteLength - position;
  // Work area guess: the table for the declared count, room for decompressed records if compressed.
  let guess = 4096;
  if (available >= RECORD_BATCH_OVERHEAD) {
    const dv = dataView(bytes);
    const count = Math.min(Math.max(dv.getInt32(position + RECORDS_COUNT_OFFSET), 0), available / 7);
    guess += count * 32;
    const codec = dv.getInt16(position + ATTRIBUTES_OFFSET) & ATTR_COMPRESSION_MASK;
    if (codec === CompressionTypes.Snappy || codec === CompressionTypes.LZ4) guess += Math.min(limit, available * 4) + 65536;
  }
  const len = copyBatchIn(arena, bytes, position, guess + 8);
  const work = (base + len + 7) & ~7;
  let flags = verifyCrc ? 1 : 0;
  let r = 0;
  for (let attempt = 0; ; attempt++) {
    r = ex.batchRead(base, len, work, arena.capacity - (work - base), limit, flags);
    if (r !== ERR_OUT_OF_SPACE || attempt === MAX_RETRIES) break;
    flags = 0; // validated already
    arena.reserve(work - base + Number(ex.errorDetail(0)));
  }
  if (r === ERR_UNSUPPORTED) {
    const codec = Number(ex.errorDetail(0));
    lookupCodec(codec);
    const header = readBatchHeader(bytes, position);
    return { pending: { header, body: bytes.subarray(position + RECORDS_OFFSET, position + header.sizeInBytes), codec } };
  }
  if (r < 0) throw coreError(ex, r, `batch at position ${position}`);
  const header = headerAt(dataView(bytes), position);
  return { batch: collect(arena, header, r, work, bytes, position) };
}

function decodeDecompressed(header: RecordBatchHeader, records: Uint8Array, limit: number, position: number): DecodedBatchTable {
  if (records.byteLength > limit) {
    throw new WafkaError('MESSAGE_TOO_LARGE', `batch at position ${position}: decompressed size ${records.byteLength} bytes over the limit of ${limit} bytes`);
  }
  const arena = coreSync();
  try {
    const ex = arena.exports;
    const len = records.byteLength;
    arena.reserve(len + 8 + 4096 + Math.max(0, Math.min(header.recordCount, len / 7)) * 32);
    arena.u8.set(records, arena.base);
    const work = (arena.base + len + 7) & ~7;
    let r = 0;
    for (let attempt = 0; ; attempt++) {
      r = ex.batchDecodeRecords(arena.base, len, header.recordCount, work, arena.capacity - (work - arena.base));
      if (r !== ERR_OUT_OF_SPACE || attempt === MAX_RETRIES) break;
      arena.reserve(work - arena.base + Number(ex.errorDetail(0)));
    }
    if (r < 0) throw coreError(ex, r, `batch at position ${position}`);
    return collect(arena, header, r, work, records, -RECORDS_OFFSET);
  } finally {
    arena.release();
  }
}

/** Copies the tables out of the core's memory. */
function collect(arena: Arena, header: RecordBatchHeader, count: number, work: number, src: Uint8Array, position: number): DecodedBatchTable {
  const i32 = arena.i32;
  const w = work >> 2;
  const recordsPtr = i32[w + 1]!;
  const recordsLen = i32[w + 2]!;
  const tablePtr = i32[w + 3]!;
  const headersPtr = i32[w + 4]!;
  const headerCount = i32[w + 5]!;
  const table = i32.slice(tablePtr >> 2, (tablePtr >> 2) + count * 8);
  const headerTable = headerCount > 0 ? i32.slice(headersPtr >> 2, (headersPtr >> 2) + headerCount * 4) : null;
  let at: number;
  if (header.compression === CompressionTypes.Snappy || header.compression === CompressionTypes.LZ4) {
    // One copy of the decompressed records for the whole batch.
    src = arena.u8.slice(recordsPtr, recordsPtr + recordsLen);
    at = 0;
  } else {
    at = position + RECORDS_OFFSET;
  }
  const appendTime = header.timestampType === TimestampTypes.LOG_APPEND_TIME ? header.maxTimestamp : null;
  return { header, records: new RecordTable(header.baseOffset, header.baseTimestamp, appendTime, src, at, table, headerTable) };
}

// ---------------------------------------------------------------- control batches

/** Transaction markers (Kafka's ControlRecordType). */
export const ControlRecordTypes = { ABORT: 0, COMMIT: 1 } as const;
export type ControlRecordType = (typeof ControlRecordTypes)[keyof typeof ControlRecordTypes];

export interface EndTransactionMarker {
  /** ControlRecordTypes.ABORT or COMMIT. */
  type: ControlRecordType;
  coordinatorEpoch: number;
}

/** The control record of an end-transaction marker: key = version i16 (0), type i16; value = version i16 (0), coordinatorEpoch i32. */
export function endTransactionMarkerRecord(marker: EndTransactionMarker, timestamp?: number | bigint): RecordInput {
  const key = new Uint8Array(4);
  new DataView(key.buffer).setInt16(2, marker.type);
  const value = new Uint8Array(6);
  new DataView(value.buffer).setInt32(2, marker.coordinatorEpoch);
  return { key, value, timestamp };
}

/**
 * A control batch with one end-transaction marker, as a transaction coordinator
 * writes it (transactional + control, no compression, baseSequence -1).
 */
export function encodeEndTransactionMarker(
  marker: EndTransactionMarker,
  options: { producerId: bigint | number; producerEpoch: number; baseOffset?: bigint | number; timestamp?: number | bigint; partitionLeaderEpoch?: number },
): Uint8Array {
  const timestamp = options.timestamp ?? Date.now();
  return encodeBatchSync([endTransactionMarkerRecord(marker, timestamp)], {
    baseOffset: options.baseOffset,
    baseTimestamp: timestamp,
    producerId: options.producerId,
    producerEpoch: options.producerEpoch,
    baseSequence: -1,
    partitionLeaderEpoch: options.partitionLeaderEpoch,
    isTransactional: true,
    isControlBatch: true,
  });
}

/** Reads the control record of a control batch: its type (0 abort, 1 commit, others unknown) and, for markers, the coordinator epoch. */
export function parseControlRecord(record: { key: Uint8Array | null; value: Uint8Array | null }): { version: number; type: number; coordinatorEpoch: number | null } {
  const key = record.key;
  if (!key || key.byteLength < 4) throw corrupt(`control record key of ${key?.byteLength ?? 'null'} bytes, expected 4`);
  const kv = dataView(key);
  const version = kv.getInt16(0);
  const type = kv.getInt16(2);
  let coordinatorEpoch: number | null = null;
  if (type === ControlRecordTypes.ABORT || type === ControlRecordTypes.COMMIT) {
    const value = record.value;
    if (!value || value.byteLength < 6) throw corrupt(`end transaction marker value of ${value?.byteLength ?? 'null'} bytes, expected 6`);
    coordinatorEpoch = dataView(value).getInt32(2);
  }
  return { version, type, coordinatorEpoch };
}
