// RecordBatch v2, byte-identical to Kafka's DefaultRecordBatch (magic 2).
//
// RecordBatch =>                       position  size
//   BaseOffset           int64            0        8
//   Length               int32            8        4   bytes after this field
//   PartitionLeaderEpoch int32           12        4
//   Magic                int8            16        1   = 2
//   CRC                  uint32          17        4   CRC32C of [Attributes, end)
//   Attributes           int16           21        2
//   LastOffsetDelta      int32           23        4
//   BaseTimestamp        int64           27        8
//   MaxTimestamp         int64           35        8
//   ProducerId           int64           43        8
//   ProducerEpoch        int16           51        2
//   BaseSequence         int32           53        4
//   RecordCount          int32           57        4
//   Records              [Record]        61           compressed as one block if Attributes says so
//
// Attributes: bits 0-2 compression (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd),
// bit 3 timestamp type (1 = LogAppendTime), bit 4 transactional, bit 5 control,
// bit 6 delete horizon. BaseOffset and PartitionLeaderEpoch lie outside the CRC
// so the broker can assign them without recomputing it.
//
// Record =>
//   Length varint (bytes after it), Attributes int8 (unused, 0),
//   TimestampDelta varlong, OffsetDelta varint,
//   KeyLength varint (-1 = null), Key, ValueLength varint (-1 = null), Value,
//   HeaderCount varint, Headers => [HeaderKeyLength varint, HeaderKey (UTF-8),
//   HeaderValueLength varint (-1 = null), HeaderValue]
//
// All multi-byte header fields are big-endian. Every read is bounds-checked
// against the caller's length and every failure is a negative code with the
// numbers left in the error detail area: this code never traps on bad input.

import { ERR_CORRUPT, ERR_CRC, ERR_MAGIC, ERR_OUT_OF_SPACE, ERR_TOO_LARGE, ERR_TRUNCATED, ERR_UNSUPPORTED, errorDetail, fail } from "./errors";
import { crc32c } from "./crc32c";
import { getVarint, getVarlong, putVarint, putVarlong, sizeOfVarint, sizeOfVarlong, varValue } from "./varint";
import { lz4FrameBound, lz4FrameCompress, lz4FrameContentSize, lz4FrameDecompress } from "./lz4";
import { snappyDecompress, snappyUncompressedLength, snappyXerialBound, snappyXerialCompress } from "./snappy";

export const BASE_OFFSET_OFFSET = 0;
export const LENGTH_OFFSET = BASE_OFFSET_OFFSET + 8;
export const PARTITION_LEADER_EPOCH_OFFSET = LENGTH_OFFSET + 4;
export const MAGIC_OFFSET = PARTITION_LEADER_EPOCH_OFFSET + 4;
export const CRC_OFFSET = MAGIC_OFFSET + 1;
export const ATTRIBUTES_OFFSET = CRC_OFFSET + 4;
export const LAST_OFFSET_DELTA_OFFSET = ATTRIBUTES_OFFSET + 2;
export const BASE_TIMESTAMP_OFFSET = LAST_OFFSET_DELTA_OFFSET + 4;
export const MAX_TIMESTAMP_OFFSET = BASE_TIMESTAMP_OFFSET + 8;
export const PRODUCER_ID_OFFSET = MAX_TIMESTAMP_OFFSET + 8;
export const PRODUCER_EPOCH_OFFSET = PRODUCER_ID_OFFSET + 8;
export const BASE_SEQUENCE_OFFSET = PRODUCER_EPOCH_OFFSET + 2;
export const RECORDS_COUNT_OFFSET = BASE_SEQUENCE_OFFSET + 4;
export const RECORDS_OFFSET = RECORDS_COUNT_OFFSET + 4;
/** BaseOffset + Length: the bytes not counted by Length. */
export const LOG_OVERHEAD = LENGTH_OFFSET + 4;
/** Header size: 61 bytes. */
export const RECORD_BATCH_OVERHEAD = RECORDS_OFFSET;
/** Smallest encoded record: length, attributes, timestamp delta, offset delta, key, value, header count (1 byte each). */
export const RECORD_MIN_BYTES = 7;

export const COMPRESSION_MASK = 7;
export const CODEC_NONE = 0;
export const CODEC_GZIP = 1;
export const CODEC_SNAPPY = 2;
export const CODEC_LZ4 = 3;
export const CODEC_ZSTD = 4;

// Record table written by TypeScript for batchBuild, 8 x i32 per record:
//   0 timestampDelta low 32 bits, 1 timestampDelta high 32 bits,
//   2 key ptr, 3 key length (-1 null), 4 value ptr, 5 value length (-1 null),
//   6 headers ptr (4 x i32 per header: key ptr, key length, value ptr, value length or -1), 7 header count
// Every ptr (key, value, headers, header key and value) is relative to batchBuild's `bytesBase`
// (0: absolute), so a table written against a staging buffer needs no rewriting once copied in.
export const BUILD_ENTRY_BYTES = 32;
export const BUILD_HEADER_BYTES = 16;

// Record table written by batchRead, 8 x i32 per record; positions are relative
// to the start of the (decompressed) records:
//   0 offsetDelta, 1 timestampDelta low, 2 timestampDelta high,
//   3 key position, 4 key length (-1 null), 5 value position, 6 value length (-1 null),
//   7 header count (the headers of record i follow those of record i-1 in the header table:
//     4 x i32 per header: key position, key length, value position, value length or -1)
export const READ_ENTRY_BYTES = 32;
export const READ_HEADER_BYTES = 16;
// Result block at the start of batchRead's work area, i32 fields:
export const RESULT_COUNT = 0;          // record count
export const RESULT_RECORDS_PTR = 4;    // where the (decompressed) records start
export const RESULT_RECORDS_LEN = 8;    // their length
export const RESULT_TABLE_PTR = 12;     // record table
export const RESULT_HEADERS_PTR = 16;   // header table
export const RESULT_HEADER_COUNT = 20;  // headers in all records
export const RESULT_BYTES = 32;

// Reasons left in detail slot 2 with ERR_CORRUPT (slot 0: record index, slot 1: byte position in the records).
export const WHY_RECORD_LENGTH = 1;     // record length varint bad or beyond the records
export const WHY_RECORD_FIELD = 2;      // a field runs past the record's declared length
export const WHY_RECORD_SIZE = 3;       // fields do not add up to the declared length
export const WHY_HEADER_COUNT = 4;      // negative header count
export const WHY_HEADER_KEY = 5;        // negative or null header key length
export const WHY_COUNT_SHORT = 6;       // fewer records than RecordCount
export const WHY_TRAILING = 7;          // bytes left after RecordCount records
export const WHY_RECORD_COUNT = 8;      // RecordCount negative or impossible for the size
export const WHY_BATCH_LENGTH = 9;      // Length smaller than the header
export const WHY_DECOMPRESS = 10;       // the codec rejected the compressed records
export const WHY_VARINT = 11;           // varint overflow
// Kafka's LogValidator rules for a batch from a producer (batchCheck), and decode bounds:
export const WHY_OFFSET_DELTA = 12;     // record i's offset delta is not i (detail 1: the delta)
export const WHY_ATTRIBUTES = 13;       // attribute bits 7-15 set (detail 0: attributes)
export const WHY_CODEC = 14;            // compression type 5, 6 or 7 (detail 0: the type)
export const WHY_CONTROL = 15;          // a control batch from a producer
export const WHY_DELETE_HORIZON = 16;   // the delete-horizon flag (compaction's own) from a producer
export const WHY_SEQUENCE = 17;         // a producer id with a negative base sequence (detail 0: sequence)
export const WHY_OFFSET_RANGE = 18;     // RecordCount < 1 or LastOffsetDelta != RecordCount - 1 (detail 0: count, 1: delta)
export const WHY_KEY_REQUIRED = 19;     // a record without a key on a compacted topic
export const WHY_TIMESTAMP = 20;        // BaseTimestamp + TimestampDelta overflows an int64 (detail 1: delta)
export const WHY_DECOMPRESSED_SIZE = 21; // declared size more than the compressed bytes can hold (detail 0: size, 1: bound)

// batchCheck flags.
export const CHECK_CRC = 1;
/** Kafka's rules for a batch a producer sends (LogValidator with AppendOrigin.CLIENT). */
export const CHECK_PRODUCER = 2;
/** Every record has a key (a compacted topic). */
export const CHECK_KEYS = 4;

// What decodeRecords does besides parsing (mode bits).
const SCAN_TABLES: i32 = 1;      // write the record and header tables
const SCAN_OFFSETS: i32 = 2;     // record i has offset delta i
const SCAN_KEYS: i32 = 4;        // every record has a key
const SCAN_TIMESTAMPS: i32 = 8;  // BaseTimestamp + TimestampDelta fits an int64

const ATTR_CONTROL: i32 = 0x20;
const ATTR_DELETE_HORIZON: i32 = 0x40;
const ATTR_TIMESTAMP_TYPE: i32 = 0x08;
/** Bits 0-6 are defined for RecordBatch v2; the rest are written as 0. */
const ATTR_KNOWN_BITS: i32 = 0x7f;

// @ts-ignore: decorator
@inline function loadBE16(p: usize): i32 {
  return <i32><i16>bswap<u16>(load<u16>(p));
}
// @ts-ignore: decorator
@inline function loadBE32(p: usize): i32 {
  return <i32>bswap<u32>(load<u32>(p));
}
// @ts-ignore: decorator
@inline function loadBE64(p: usize): i64 {
  return <i64>bswap<u64>(load<u64>(p));
}
// @ts-ignore: decorator
@inline function storeBE16(p: usize, v: i32): void {
  store<u16>(p, bswap<u16>(<u16>v));
}
// @ts-ignore: decorator
@inline function storeBE32(p: usize, v: i32): void {
  store<u32>(p, bswap<u32>(<u32>v));
}
// @ts-ignore: decorator
@inline function storeBE64(p: usize, v: i64): void {
  store<u64>(p, bswap<u64>(<u64>v));
}

/** Copies n bytes; small copies inline (memory.copy is a call in most engines). */
// @ts-ignore: decorator
@inline function copy(dst: usize, src: usize, n: usize): void {
  if (n <= 16) {
    if (n >= 8) {
      store<u64>(dst, load<u64>(src));
      store<u64>(dst + n - 8, load<u64>(src + n - 8));
    } else if (n >= 4) {
      store<u32>(dst, load<u32>(src));
      store<u32>(dst + n - 4, load<u32>(src + n - 4));
    } else {
      for (let i: usize = 0; i < n; i++) store<u8>(dst + i, load<u8>(src + i));
    }
  } else if (n <= 64) {
    let i: usize = 0;
    for (; i + 16 <= n; i += 16) v128.store(dst + i, v128.load(src + i));
    v128.store(dst + n - 16, v128.load(src + n - 16));
  } else {
    memory.copy(dst, src, n);
  }
}

// @ts-ignore: decorator
@inline function sizeOfBytes(len: i32): i32 {
  return len < 0 ? 1 : sizeOfVarint(len) + len;
}

/** Worst-case bytes of the records area for recordsBytes of uncompressed records under codec (0 = none). */
export function batchRecordsBound(codec: i32, recordsBytes: i32): i32 {
  if (codec == CODEC_LZ4) return lz4FrameBound(recordsBytes);
  if (codec == CODEC_SNAPPY) return snappyXerialBound(recordsBytes);
  return recordsBytes;
}

/**
 * Builds one batch at dst. TypeScript has written BaseOffset, PartitionLeaderEpoch,
 * Attributes, BaseTimestamp, ProducerId, ProducerEpoch and BaseSequence into the
 * header at dst, and the record table (see BUILD_ENTRY_BYTES) at `table`.
 * Encodes the records (at dst + 61, or at `scratch` and then compressed into
 * dst + 61 for snappy and lz4), fills in Magic, LastOffsetDelta, MaxTimestamp
 * (BaseTimestamp + the largest delta), RecordCount, Length and CRC.
 *
 * For gzip and zstd (which the core does not do) the records are written
 * uncompressed at dst + 61 and the batch is not sealed: TypeScript compresses
 * them, puts the result at dst + 61 and calls batchSeal.
 *
 * Returns the batch size in bytes, or < 0 (ERR_OUT_OF_SPACE: dstCap or scratchCap too small).
 */
export function batchBuild(table: usize, count: i32, bytesBase: usize, dst: usize, dstCap: i32, scratch: usize, scratchCap: i32): i32 {
  if (count < 0 || dstCap < RECORD_BATCH_OVERHEAD) return fail(ERR_OUT_OF_SPACE, RECORD_BATCH_OVERHEAD, dstCap);
  const attributes = loadBE16(dst + ATTRIBUTES_OFFSET);
  const codec = attributes & COMPRESSION_MASK;
  const inCore = codec == CODEC_SNAPPY || codec == CODEC_LZ4;
  const start: usize = inCore ? scratch : dst + RECORDS_OFFSET;
  const end: usize = inCore ? scratch + <usize>scratchCap : dst + <usize>dstCap;
  let out = start;
  let maxDelta: i64 = i64.MIN_VALUE;
  for (let i = 0; i < count; i++) {
    const e = table + (<usize>i << 5);
    const tsDelta = <i64>load<u32>(e) | (<i64>load<i32>(e, 4) << 32);
    const keyPtr = bytesBase + <usize>load<u32>(e, 8);
    const keyLen = load<i32>(e, 12);
    const valuePtr = bytesBase + <usize>load<u32>(e, 16);
    const valueLen = load<i32>(e, 20);
    const headersPtr = bytesBase + <usize>load<u32>(e, 24);
    const headerCount = load<i32>(e, 28);
    if (tsDelta > maxDelta) maxDelta = tsDelta;

    let bodySize = 1 + sizeOfVarlong(tsDelta) + sizeOfVarint(i) + sizeOfBytes(keyLen) + sizeOfBytes(valueLen) + sizeOfVarint(headerCount);
    for (let h = 0; h < headerCount; h++) {
      const hp = headersPtr + (<usize>h << 4);
      bodySize += sizeOfBytes(load<i32>(hp, 4)) + sizeOfBytes(load<i32>(hp, 12));
    }
    if (out + <usize>(sizeOfVarint(bodySize) + bodySize) > end) {
      return fail(ERR_OUT_OF_SPACE, i, <i64>(out - start));
    }
    out = putVarint(out, bodySize);
    store<u8>(out++, 0);
    out = putVarlong(out, tsDelta);
    out = putVarint(out, i);
    out = putVarint(out, keyLen);
    if (keyLen > 0) {
      copy(out, keyPtr, <usize>keyLen);
      out += <usize>keyLen;
    }
    out = putVarint(out, valueLen);
    if (valueLen > 0) {
      copy(out, valuePtr, <usize>valueLen);
      out += <usize>valueLen;
    }
    out = putVarint(out, headerCount);
    for (let h = 0; h < headerCount; h++) {
      const hp = headersPtr + (<usize>h << 4);
      const hkLen = load<i32>(hp, 4);
      const hvLen = load<i32>(hp, 12);
      out = putVarint(out, hkLen);
      if (hkLen > 0) {
        copy(out, bytesBase + <usize>load<u32>(hp), <usize>hkLen);
        out += <usize>hkLen;
      }
      out = putVarint(out, hvLen);
      if (hvLen > 0) {
        copy(out, bytesBase + <usize>load<u32>(hp, 8), <usize>hvLen);
        out += <usize>hvLen;
      }
    }
  }
  const recordsLen = <i32>(out - start);
  let size = RECORD_BATCH_OVERHEAD + recordsLen;
  if (inCore) {
    const cap = dstCap - RECORD_BATCH_OVERHEAD;
    const n = codec == CODEC_LZ4
      ? lz4FrameCompress(scratch, recordsLen, dst + RECORDS_OFFSET, cap)
      : snappyXerialCompress(scratch, recordsLen, dst + RECORDS_OFFSET, cap);
    if (n < 0) return fail(n == ERR_OUT_OF_SPACE ? ERR_OUT_OF_SPACE : n, recordsLen, cap);
    size = RECORD_BATCH_OVERHEAD + n;
  }
  store<u8>(dst + MAGIC_OFFSET, 2);
  storeBE32(dst + LAST_OFFSET_DELTA_OFFSET, count - 1);
  const baseTimestamp = loadBE64(dst + BASE_TIMESTAMP_OFFSET);
  storeBE64(dst + MAX_TIMESTAMP_OFFSET, count > 0 ? baseTimestamp + maxDelta : -1);
  storeBE32(dst + RECORDS_COUNT_OFFSET, count);
  if (codec == CODEC_NONE || inCore) return batchSeal(dst, size);
  storeBE32(dst + LENGTH_OFFSET, size - LOG_OVERHEAD);
  return size;
}

/** Writes Length, Magic and CRC of the batch of `size` bytes at dst. Returns size. */
export function batchSeal(dst: usize, size: i32): i32 {
  if (size < RECORD_BATCH_OVERHEAD) return fail(ERR_CORRUPT, size, RECORD_BATCH_OVERHEAD, WHY_BATCH_LENGTH);
  storeBE32(dst + LENGTH_OFFSET, size - LOG_OVERHEAD);
  store<u8>(dst + MAGIC_OFFSET, 2);
  storeBE32(dst + CRC_OFFSET, <i32>crc32c(dst + ATTRIBUTES_OFFSET, <usize>(size - ATTRIBUTES_OFFSET)));
  return size;
}

/**
 * Checks the batch at src (srcLen bytes available): header present, magic 2,
 * Length within srcLen and at least the header, and, if verifyCrc, the CRC.
 * Returns the batch size in bytes (Length + 12) or < 0:
 *   ERR_TRUNCATED (detail: needed, available), ERR_MAGIC (detail: magic),
 *   ERR_CORRUPT (detail: length, minimum, WHY_BATCH_LENGTH), ERR_CRC (detail: stored, computed).
 */
export function batchValidate(src: usize, srcLen: i32, verifyCrc: bool): i32 {
  if (srcLen < LOG_OVERHEAD) return fail(ERR_TRUNCATED, LOG_OVERHEAD, srcLen);
  const length = loadBE32(src + LENGTH_OFFSET);
  if (length < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD) return fail(ERR_CORRUPT, length, RECORD_BATCH_OVERHEAD - LOG_OVERHEAD, WHY_BATCH_LENGTH);
  if (srcLen < MAGIC_OFFSET + 1) return fail(ERR_TRUNCATED, <i64>length + LOG_OVERHEAD, srcLen);
  const magic = <i32>load<i8>(src + MAGIC_OFFSET);
  if (magic != 2) return fail(ERR_MAGIC, magic);
  const size = <i64>length + LOG_OVERHEAD;
  if (size > <i64>srcLen) return fail(ERR_TRUNCATED, size, srcLen);
  if (verifyCrc) {
    const stored = <u32>loadBE32(src + CRC_OFFSET);
    const computed = crc32c(src + ATTRIBUTES_OFFSET, <usize>(size - ATTRIBUTES_OFFSET));
    if (stored != computed) return fail(ERR_CRC, <i64>stored, <i64>computed);
  }
  return <i32>size;
}

/**
 * Validates and decodes the batch at src into a record table in the work area
 * [work, work + workCap): a result block (RESULT_*), then the decompressed records
 * (snappy, lz4), the record table and the header table.
 * flags: bit 0 verify the CRC.
 * Returns the record count, or < 0:
 *   the errors of batchValidate; ERR_UNSUPPORTED (detail: codec) for gzip, zstd
 *   and unknown codecs (TypeScript decompresses and calls batchDecodeRecords);
 *   ERR_TOO_LARGE (detail: size, limit); ERR_CORRUPT (detail: record, position, WHY_*);
 *   ERR_OUT_OF_SPACE (detail: work bytes wanted) when workCap is too small: grow and retry.
 */
export function batchRead(src: usize, srcLen: i32, work: usize, workCap: i32, maxDecompressedBytes: i32, flags: i32): i32 {
  const size = batchValidate(src, srcLen, (flags & 1) != 0);
  if (size < 0) return size;
  if (workCap < RESULT_BYTES) return fail(ERR_OUT_OF_SPACE, RESULT_BYTES + 4096);
  const attributes = loadBE16(src + ATTRIBUTES_OFFSET);
  const codec = attributes & COMPRESSION_MASK;
  const count = loadBE32(src + RECORDS_COUNT_OFFSET);
  const body = src + RECORDS_OFFSET;
  const bodyLen = size - RECORDS_OFFSET;
  if (codec == CODEC_NONE) return batchDecodeRecords(body, bodyLen, count, work, workCap);
  if (codec > CODEC_ZSTD) return fail(ERR_CORRUPT, codec, 0, WHY_CODEC);
  if (codec != CODEC_SNAPPY && codec != CODEC_LZ4) return fail(ERR_UNSUPPORTED, codec);

  const out = work + RESULT_BYTES;
  const room = workCap - RESULT_BYTES;
  // Impossible counts and sizes are refused here, before the caller grows memory for them.
  const declared = declaredSize(codec, body, bodyLen, maxDecompressedBytes);
  if (declared < 0 && declared != SIZE_UNKNOWN) return <i32>declared;
  if (declared >= 0 && (count < 0 || <i64>count * RECORD_MIN_BYTES > declared)) return fail(ERR_CORRUPT, count, declared, WHY_RECORD_COUNT);
  const n = decompress(codec, body, bodyLen, out, room, declared, maxDecompressedBytes);
  if (n == ERR_OUT_OF_SPACE) {
    const want = errorDetail(0);
    return fail(ERR_OUT_OF_SPACE, <i64>RESULT_BYTES + want + tableBound(count, want));
  }
  if (n < 0) return n;
  // The decoder below writes its result block at `work`; the records stay where they are.
  return decodeRecords(out, n, count, work, workCap, align8(out + <usize>n), SCAN_TABLES, 0);
}

// @ts-ignore: decorator
@inline function align8(p: usize): usize {
  return (p + 7) & ~<usize>7;
}

/** Work bytes for the record table of `count` records in recordsLen bytes (header table grows on demand). */
function tableBound(count: i32, recordsLen: i64): i64 {
  let c = <i64>(count < 0 ? 0 : count);
  const most = recordsLen / RECORD_MIN_BYTES;
  if (c > most) c = most;
  return c * READ_ENTRY_BYTES + 4096 + 8;
}

/**
 * The most bytes `compressedLen` bytes of `codec` can decompress to: each
 * format's best ratio (snappy: a 3-byte copy gives 64 bytes; LZ4: each
 * length byte adds 255; deflate: 1032 to 1; zstd: a 4-byte RLE block gives
 * 128 KiB), plus framing slack. A declared size above it is corrupt, and
 * memory is never grown past it.
 */
export function decompressedBound(codec: i32, compressedLen: i32): i64 {
  const n = <i64>(compressedLen < 0 ? 0 : compressedLen);
  if (codec == CODEC_SNAPPY) return n * 22 + 64;
  if (codec == CODEC_LZ4) return n * 256 + 64;
  if (codec == CODEC_GZIP) return n * 1032 + 64;
  if (codec == CODEC_ZSTD) return n * 32768 + 64;
  return n;
}

/** declaredSize(): the format does not say (an LZ4 frame without content size). */
const SIZE_UNKNOWN: i64 = -0x100000000;

/**
 * The decompressed size the records of a snappy or LZ4 body declare: >= 0,
 * SIZE_UNKNOWN, or an error code (corrupt, impossible for the compressed
 * size, or over the limit).
 */
function declaredSize(codec: i32, body: usize, bodyLen: i32, maxDecompressedBytes: i32): i64 {
  let declared: i64;
  if (codec == CODEC_SNAPPY) {
    declared = snappyUncompressedLength(body, bodyLen);
    if (declared < 0) return fail(ERR_CORRUPT, 0, 0, WHY_DECOMPRESS);
  } else {
    declared = lz4FrameContentSize(body, bodyLen);
    if (declared < 0) return SIZE_UNKNOWN;
  }
  const bound = decompressedBound(codec, bodyLen);
  if (declared > bound) return fail(ERR_CORRUPT, declared, bound, WHY_DECOMPRESSED_SIZE);
  if (declared > <i64>maxDecompressedBytes) return fail(ERR_TOO_LARGE, declared, maxDecompressedBytes);
  return declared;
}

/**
 * Decompresses a snappy or LZ4 body into [out, out + room), `declared` being
 * declaredSize()'s answer. Returns the bytes written or < 0; ERR_OUT_OF_SPACE
 * leaves the decompressed bytes wanted in detail 0 (never more than the
 * limit or the codec's bound).
 */
function decompress(codec: i32, body: usize, bodyLen: i32, out: usize, room: i32, declared: i64, maxDecompressedBytes: i32): i32 {
  let n: i32;
  if (declared >= 0) {
    if (declared > <i64>room) return fail(ERR_OUT_OF_SPACE, declared);
    n = codec == CODEC_SNAPPY
      ? snappyDecompress(body, bodyLen, out, <i32>declared)
      : lz4FrameDecompress(body, bodyLen, out, <i32>declared);
  } else {
    const bound = decompressedBound(codec, bodyLen);
    const most = bound < <i64>maxDecompressedBytes ? <i32>bound : maxDecompressedBytes;
    const cap = room < most ? room : most;
    n = lz4FrameDecompress(body, bodyLen, out, cap);
    if (n == ERR_OUT_OF_SPACE) {
      if (cap >= most) {
        if (most == maxDecompressedBytes) return fail(ERR_TOO_LARGE, <i64>cap + 1, maxDecompressedBytes);
        return fail(ERR_CORRUPT, <i64>cap + 1, bound, WHY_DECOMPRESSED_SIZE);
      }
      let want = <i64>cap * 2 + 65536;
      if (want > <i64>most) want = most;
      return fail(ERR_OUT_OF_SPACE, want);
    }
  }
  if (n < 0) return fail(ERR_CORRUPT, 0, n, WHY_DECOMPRESS);
  return n;
}

/**
 * Decodes `count` records from [records, records + recordsLen) (already
 * decompressed) into a result block at work, and the tables after it.
 * Returns count or < 0 (see batchRead).
 */
export function batchDecodeRecords(records: usize, recordsLen: i32, count: i32, work: usize, workCap: i32): i32 {
  return decodeRecords(records, recordsLen, count, work, workCap, align8(work + RESULT_BYTES), SCAN_TABLES, 0);
}

/**
 * Kafka's LogValidator for one batch, in one call: checks the batch at src
 * (srcLen bytes) as batchValidate does (CRC if flags & CHECK_CRC), then, with
 * CHECK_PRODUCER, the rules for a batch from a producer (no control batch, no
 * delete horizon, no unknown attribute bits, RecordCount >= 1 and
 * LastOffsetDelta = RecordCount - 1, a base sequence with a producer id),
 * then every record: lengths, varints, offset delta i for record i, a key on
 * every record with CHECK_KEYS, and CreateTime timestamps within an int64.
 * Snappy and LZ4 records are decompressed into [work, work + workCap) (no
 * table is built). Compression types 5-7 are corrupt.
 * Returns the record count or < 0 (see batchRead; ERR_UNSUPPORTED with the
 * codec in detail 0 for gzip and zstd: TypeScript decompresses and calls
 * batchCheckRecords; ERR_OUT_OF_SPACE with the work bytes wanted in detail 0).
 */
export function batchCheck(src: usize, srcLen: i32, work: usize, workCap: i32, maxDecompressedBytes: i32, flags: i32): i32 {
  const size = batchValidate(src, srcLen, (flags & CHECK_CRC) != 0);
  if (size < 0) return size;
  const attributes = loadBE16(src + ATTRIBUTES_OFFSET);
  const codec = attributes & COMPRESSION_MASK;
  const count = loadBE32(src + RECORDS_COUNT_OFFSET);
  if (codec > CODEC_ZSTD) return fail(ERR_CORRUPT, codec, 0, WHY_CODEC);
  if (flags & CHECK_PRODUCER) {
    if (attributes & ~ATTR_KNOWN_BITS) return fail(ERR_CORRUPT, attributes & 0xffff, 0, WHY_ATTRIBUTES);
    if (attributes & ATTR_CONTROL) return fail(ERR_CORRUPT, 0, 0, WHY_CONTROL);
    if (attributes & ATTR_DELETE_HORIZON) return fail(ERR_CORRUPT, 0, 0, WHY_DELETE_HORIZON);
    const lastOffsetDelta = loadBE32(src + LAST_OFFSET_DELTA_OFFSET);
    if (count < 1 || lastOffsetDelta != count - 1) return fail(ERR_CORRUPT, count, lastOffsetDelta, WHY_OFFSET_RANGE);
    const baseSequence = loadBE32(src + BASE_SEQUENCE_OFFSET);
    if (loadBE64(src + PRODUCER_ID_OFFSET) >= 0 && baseSequence < 0) return fail(ERR_CORRUPT, baseSequence, 0, WHY_SEQUENCE);
  }
  const mode = checkMode(attributes, flags);
  const baseTimestamp = loadBE64(src + BASE_TIMESTAMP_OFFSET);
  const body = src + RECORDS_OFFSET;
  const bodyLen = size - RECORDS_OFFSET;
  if (codec == CODEC_NONE) return decodeRecords(body, bodyLen, count, work, workCap, work, mode, baseTimestamp);
  if (codec != CODEC_SNAPPY && codec != CODEC_LZ4) return fail(ERR_UNSUPPORTED, codec);
  const declared = declaredSize(codec, body, bodyLen, maxDecompressedBytes);
  if (declared < 0 && declared != SIZE_UNKNOWN) return <i32>declared;
  if (declared >= 0 && (count < 0 || <i64>count * RECORD_MIN_BYTES > declared)) return fail(ERR_CORRUPT, count, declared, WHY_RECORD_COUNT);
  const n = decompress(codec, body, bodyLen, work, workCap, declared, maxDecompressedBytes);
  if (n < 0) return n;
  return decodeRecords(work, n, count, work, workCap, work, mode, baseTimestamp);
}

/**
 * batchCheck's record checks for records TypeScript decompressed (gzip,
 * zstd): [records, records + recordsLen), with the batch's Attributes,
 * RecordCount and BaseTimestamp. Returns the count or < 0.
 */
export function batchCheckRecords(records: usize, recordsLen: i32, count: i32, attributes: i32, baseTimestamp: i64, flags: i32): i32 {
  return decodeRecords(records, recordsLen, count, records, 0, records, checkMode(attributes, flags), baseTimestamp);
}

/**
 * A varint at p read without an end check, for a caller that knows p + 5 is
 * within the record: (value << 32) | the position after it, or 0 on overflow.
 */
// @ts-ignore: decorator
@inline function varintAt(p: usize): u64 {
  let b = <u32>load<u8>(p);
  let u = b & 0x7f;
  let n: usize = 1;
  if (b >= 0x80) {
    b = <u32>load<u8>(p, 1);
    u |= (b & 0x7f) << 7;
    n = 2;
    if (b >= 0x80) {
      b = <u32>load<u8>(p, 2);
      u |= (b & 0x7f) << 14;
      n = 3;
      if (b >= 0x80) {
        b = <u32>load<u8>(p, 3);
        u |= (b & 0x7f) << 21;
        n = 4;
        if (b >= 0x80) {
          b = <u32>load<u8>(p, 4);
          if (b >= 0x80) return 0;
          u |= b << 28;
          n = 5;
        }
      }
    }
  }
  const v = (u >>> 1) ^ (0 - (u & 1));
  return (<u64>v << 32) | <u64>(p + n);
}

/** Skips a header count and its headers (key length >= 0, value length >= -1, each within the record); 0 on a problem. */
function skipHeaders(p: usize, bodyEnd: usize): usize {
  let r = varintIn(p, bodyEnd);
  if (r == 0) return 0;
  const headerCount = <i32>(r >> 32);
  p = <usize><u32>r;
  if (headerCount < 0) return 0;
  for (let h = 0; h < headerCount; h++) {
    if (p >= bodyEnd) return 0;
    r = varintIn(p, bodyEnd);
    if (r == 0) return 0;
    const hkLen = <i32>(r >> 32);
    p = <usize><u32>r;
    if (hkLen < 0 || <usize>hkLen > bodyEnd - p) return 0;
    p += <usize>hkLen;
    if (p >= bodyEnd) return 0;
    r = varintIn(p, bodyEnd);
    if (r == 0) return 0;
    const hvLen = <i32>(r >> 32);
    p = <usize><u32>r;
    if (hvLen > 0) {
      if (<usize>hvLen > bodyEnd - p) return 0;
      p += <usize>hvLen;
    } else if (hvLen < -1) return 0;
  }
  return p;
}

/** varintAt where at least 5 bytes remain before `limit`, else the checked reader; 0 on any problem. */
// @ts-ignore: decorator
@inline function varintIn(p: usize, limit: usize): u64 {
  if (limit - p >= 5) return varintAt(p);
  const r = getVarint(p, limit);
  return r < 0 ? 0 : (<u64><u32><i32>varValue << 32) | <u64><usize>r;
}

/**
 * The append check's fast pass over well-formed records: the same rules as
 * decodeRecords in check mode, with the varints before a record's value read
 * without per-byte end checks. Returns count, or -1 at the first problem of
 * any kind and at records too short for the unchecked reads (a null or tiny
 * key and value): decodeRecords then takes the batch, and names a problem.
 */
function checkRecords(records: usize, recordsLen: i32, count: i32, mode: i32, baseTimestamp: i64): i32 {
  const end = records + <usize>recordsLen;
  const checkTimestamps = (mode & SCAN_TIMESTAMPS) != 0;
  const checkKeys = (mode & SCAN_KEYS) != 0;
  let p = records;
  for (let i = 0; i < count; i++) {
    if (end - p < 5) return -1;
    let r = varintAt(p);
    if (r == 0) return -1;
    const bodyLen = <i32>(r >> 32);
    p = <usize><u32>r;
    if (bodyLen < 6 || <usize>bodyLen > end - p) return -1;
    const bodyEnd = p + <usize>bodyLen;
    // attributes, then the timestamp delta (one byte inline, else the general reader)
    p++;
    const t0 = <i64>load<u8>(p);
    let tsDelta: i64;
    if (t0 < 0x80) {
      tsDelta = (t0 >>> 1) ^ (0 - (t0 & 1));
      p++;
    } else {
      const rl = getVarlong(p, bodyEnd);
      if (rl < 0) return -1;
      tsDelta = varValue;
      p = <usize>rl;
    }
    if (checkTimestamps) {
      const ts = baseTimestamp + tsDelta;
      if (((baseTimestamp ^ ts) & (tsDelta ^ ts)) < 0) return -1;
    }
    // offset delta, key length: read unchecked when 10 bytes remain (else the full parser takes the batch)
    if (bodyEnd - p < 10) return -1;
    r = varintAt(p);
    if (r == 0 || <i32>(r >> 32) != i) return -1;
    p = <usize><u32>r;
    r = varintAt(p);
    if (r == 0) return -1;
    const keyLen = <i32>(r >> 32);
    p = <usize><u32>r;
    if (keyLen > 0) {
      if (<usize>keyLen > bodyEnd - p) return -1;
      p += <usize>keyLen;
    } else if (keyLen < -1 || (checkKeys && keyLen < 0)) return -1;
    // value length: -1 (null) or >= 0, within the record
    if (bodyEnd - p < 5) return -1;
    r = varintAt(p);
    if (r == 0) return -1;
    const valueLen = <i32>(r >> 32);
    p = <usize><u32>r;
    if (valueLen > 0) {
      if (<usize>valueLen > bodyEnd - p) return -1;
      p += <usize>valueLen;
    } else if (valueLen < -1) return -1;
    // Headers: usually none (a 0 as the record's last byte). The next record starts at bodyEnd either way:
    // taking p from bodyEnd, not from the parse, lets the CPU start on it before this one is checked.
    if (p + 1 != bodyEnd || load<u8>(p) != 0) {
      if (p >= bodyEnd || skipHeaders(p, bodyEnd) != bodyEnd) return -1;
    }
    p = bodyEnd;
  }
  return p == end ? count : -1;
}

// @ts-ignore: decorator
@inline function checkMode(attributes: i32, flags: i32): i32 {
  let mode = SCAN_OFFSETS;
  if (flags & CHECK_KEYS) mode |= SCAN_KEYS;
  if (!(attributes & ATTR_TIMESTAMP_TYPE)) mode |= SCAN_TIMESTAMPS;
  return mode;
}

/**
 * Parses `count` records in [records, records + recordsLen). With SCAN_TABLES,
 * writes the result block at work and the record and header tables from
 * tableAt (within workCap); the other mode bits add Kafka's append checks.
 */
function decodeRecords(records: usize, recordsLen: i32, count: i32, work: usize, workCap: i32, tableAt: usize, mode: i32, baseTimestamp: i64): i32 {
  if (count < 0 || <i64>count * RECORD_MIN_BYTES > <i64>recordsLen) return fail(ERR_CORRUPT, count, recordsLen, WHY_RECORD_COUNT);
  const tables = (mode & SCAN_TABLES) != 0;
  if (!tables) {
    const r = checkRecords(records, recordsLen, count, mode, baseTimestamp);
    if (r >= 0) return r;
    // Something is wrong: the full parser below finds it and says what and where.
  }
  const workEnd = work + <usize>workCap;
  const tableEnd = tables ? tableAt + (<usize>count << 5) : tableAt;
  if (tableEnd > workEnd) return fail(ERR_OUT_OF_SPACE, <i64>(tableEnd - work) + 4096);
  const headersAt = tableEnd;
  let hOut = headersAt;
  const end = records + <usize>recordsLen;
  let p = records;
  for (let i = 0; i < count; i++) {
    const recStart = p;
    const e = tableAt + (<usize>i << 5);
    if (p >= end) return fail(ERR_CORRUPT, i, <i64>(p - records), WHY_COUNT_SHORT);
    let r = getVarint(p, end);
    if (r < 0) return fail(ERR_CORRUPT, i, <i64>(p - records), r == ERR_TRUNCATED ? WHY_RECORD_LENGTH : WHY_VARINT);
    const bodyLen = <i32>varValue;
    p = <usize>r;
    if (bodyLen < 0 || <i64>bodyLen > <i64>(end - p)) return fail(ERR_CORRUPT, i, <i64>(recStart - records), WHY_RECORD_LENGTH);
    const bodyEnd = p + <usize>bodyLen;
    // attributes
    if (p >= bodyEnd) return fail(ERR_CORRUPT, i, <i64>(p - records), WHY_RECORD_FIELD);
    p++;
    r = getVarlong(p, bodyEnd);
    if (r < 0) return fail(ERR_CORRUPT, i, <i64>(p - records), r == ERR_TRUNCATED ? WHY_RECORD_FIELD : WHY_VARINT);
    const tsDelta = varValue;
    if (mode & SCAN_TIMESTAMPS) {
      const ts = baseTimestamp + tsDelta;
      if (((baseTimestamp ^ ts) & (tsDelta ^ ts)) < 0) return fail(ERR_CORRUPT, i, tsDelta, WHY_TIMESTAMP);
    }
    p = <usize>r;
    r = getVarint(p, bodyEnd);
    if (r < 0) return fail(ERR_CORRUPT, i, <i64>(p - records), r == ERR_TRUNCATED ? WHY_RECORD_FIELD : WHY_VARINT);
    const offsetDelta = <i32>varValue;
    if ((mode & SCAN_OFFSETS) && offsetDelta != i) return fail(ERR_CORRUPT, i, offsetDelta, WHY_OFFSET_DELTA);
    p = <usize>r;
    // key
    r = getVarint(p, bodyEnd);
    if (r < 0) return fail(ERR_CORRUPT, i, <i64>(p - records), r == ERR_TRUNCATED ? WHY_RECORD_FIELD : WHY_VARINT);
    const keyLen = <i32>varValue;
    p = <usize>r;
    const keyPos = <i32>(p - records);
    if ((mode & SCAN_KEYS) && keyLen < 0) return fail(ERR_CORRUPT, i, <i64>(p - records), WHY_KEY_REQUIRED);
    if (keyLen > 0) {
      if (<i64>keyLen > <i64>(bodyEnd - p)) return fail(ERR_CORRUPT, i, <i64>(p - records), WHY_RECORD_FIELD);
      p += <usize>keyLen;
    }
    // value
    r = getVarint(p, bodyEnd);
    if (r < 0) return fail(ERR_CORRUPT, i, <i64>(p - records), r == ERR_TRUNCATED ? WHY_RECORD_FIELD : WHY_VARINT);
    const valueLen = <i32>varValue;
    p = <usize>r;
    const valuePos = <i32>(p - records);
    if (valueLen > 0) {
      if (<i64>valueLen > <i64>(bodyEnd - p)) return fail(ERR_CORRUPT, i, <i64>(p - records), WHY_RECORD_FIELD);
      p += <usize>valueLen;
    }
    // headers
    r = getVarint(p, bodyEnd);
    if (r < 0) return fail(ERR_CORRUPT, i, <i64>(p - records), r == ERR_TRUNCATED ? WHY_RECORD_FIELD : WHY_VARINT);
    const headerCount = <i32>varValue;
    p = <usize>r;
    if (headerCount < 0) return fail(ERR_CORRUPT, i, <i64>(p - records), WHY_HEADER_COUNT);
    if (<i64>headerCount * 2 > <i64>(bodyEnd - p)) return fail(ERR_CORRUPT, i, <i64>(p - records), WHY_RECORD_FIELD);
    if (tables && hOut + (<usize>headerCount << 4) > workEnd) {
      // Room for this record's headers, and at least as much again for those after it (the table doubles).
      const used = <i64>(hOut - headersAt);
      const more = <i64>headerCount * READ_HEADER_BYTES;
      return fail(ERR_OUT_OF_SPACE, <i64>(hOut - work) + more + (used > more ? used : more) + 4096);
    }
    for (let h = 0; h < headerCount; h++) {
      r = getVarint(p, bodyEnd);
      if (r < 0) return fail(ERR_CORRUPT, i, <i64>(p - records), r == ERR_TRUNCATED ? WHY_RECORD_FIELD : WHY_VARINT);
      const hkLen = <i32>varValue;
      p = <usize>r;
      if (hkLen < 0) return fail(ERR_CORRUPT, i, <i64>(p - records), WHY_HEADER_KEY);
      if (<i64>hkLen > <i64>(bodyEnd - p)) return fail(ERR_CORRUPT, i, <i64>(p - records), WHY_RECORD_FIELD);
      const hkPos = <i32>(p - records);
      p += <usize>hkLen;
      r = getVarint(p, bodyEnd);
      if (r < 0) return fail(ERR_CORRUPT, i, <i64>(p - records), r == ERR_TRUNCATED ? WHY_RECORD_FIELD : WHY_VARINT);
      const hvLen = <i32>varValue;
      p = <usize>r;
      const hvPos = <i32>(p - records);
      if (hvLen > 0) {
        if (<i64>hvLen > <i64>(bodyEnd - p)) return fail(ERR_CORRUPT, i, <i64>(p - records), WHY_RECORD_FIELD);
        p += <usize>hvLen;
      }
      if (tables) {
        store<i32>(hOut, hkPos);
        store<i32>(hOut, hkLen, 4);
        store<i32>(hOut, hvPos, 8);
        store<i32>(hOut, hvLen < 0 ? -1 : hvLen, 12);
        hOut += READ_HEADER_BYTES;
      }
    }
    if (p != bodyEnd) return fail(ERR_CORRUPT, i, <i64>(p - records), WHY_RECORD_SIZE);
    if (!tables) continue;
    store<i32>(e, offsetDelta);
    store<i64>(e, tsDelta, 4);
    store<i32>(e, keyPos, 12);
    store<i32>(e, keyLen < 0 ? -1 : keyLen, 16);
    store<i32>(e, valuePos, 20);
    store<i32>(e, valueLen < 0 ? -1 : valueLen, 24);
    store<i32>(e, headerCount, 28);
  }
  if (p != end) return fail(ERR_CORRUPT, count, <i64>(p - records), WHY_TRAILING);
  if (!tables) return count;
  store<i32>(work + RESULT_COUNT, count);
  store<i32>(work + RESULT_RECORDS_PTR, <i32>records);
  store<i32>(work + RESULT_RECORDS_LEN, recordsLen);
  store<i32>(work + RESULT_TABLE_PTR, <i32>tableAt);
  store<i32>(work + RESULT_HEADERS_PTR, <i32>headersAt);
  store<i32>(work + RESULT_HEADER_COUNT, <i32>((hOut - headersAt) >>> 4));
  return count;
}
