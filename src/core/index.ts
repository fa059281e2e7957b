/**
 * wafka's core: RecordBatch v2 (build, read, validate), CRC32C, murmur2,
 * varints, codecs, and segment scanning with index lookups, on a WebAssembly
 * core. Call `await loadCore()` once per realm before anything else here.
 */
export { loadCore, coreSync, WASM_URL, Arena, ARENA_RETAINED_BYTES } from './wasm.ts';
export { CompressionTypes, registerCodec, unregisterCodec, lookupCodec } from './codecs.ts';
export type { CompressionType, CompressionCodec } from './codecs.ts';
export {
  encodeBatch, encodeBatchSync, decodeBatch, decodeBatchSync, decodeBatchTable, decodeBatchTableSync, RecordTable,
  readBatchHeader, validateBatch, checkBatchRecords, batchSizeAt, batchSpanAt, batchSpans, headerFits, spanIsWhole, setBaseOffset, setPartitionLeaderEpoch,
  ControlRecordTypes, endTransactionMarkerRecord, encodeEndTransactionMarker, parseControlRecord,
  TimestampTypes, MAX_DECOMPRESSED_BYTES_DEFAULT,
  BASE_OFFSET_OFFSET, LENGTH_OFFSET, PARTITION_LEADER_EPOCH_OFFSET, MAGIC_OFFSET, CRC_OFFSET, ATTRIBUTES_OFFSET,
  LAST_OFFSET_DELTA_OFFSET, BASE_TIMESTAMP_OFFSET, MAX_TIMESTAMP_OFFSET, PRODUCER_ID_OFFSET, PRODUCER_EPOCH_OFFSET,
  BASE_SEQUENCE_OFFSET, RECORDS_COUNT_OFFSET, RECORDS_OFFSET, LOG_OVERHEAD, RECORD_BATCH_OVERHEAD,
  ATTR_COMPRESSION_MASK, ATTR_TIMESTAMP_TYPE, ATTR_TRANSACTIONAL, ATTR_CONTROL, ATTR_DELETE_HORIZON,
} from './batch.ts';
export type {
  RecordInput, EncodeOptions, DecodeOptions, CheckOptions, RecordBatchHeader, BatchSpan, DecodedBatch, DecodedBatchTable, DecodedRecord, RecordHeader,
  RecordHeaders, HeaderValue, TimestampType, ControlRecordType, EndTransactionMarker,
} from './batch.ts';
export {
  crc32c, murmur2, toPositive, defaultPartition,
  encodeVarint, encodeVarlong, decodeVarint, decodeVarlong, sizeOfVarint, sizeOfVarlong,
} from './checksums.ts';
export { scanSegment, lookupOffset, lookupTimestamp, timeIndexFloor } from './index_scan.ts';
export type { ScanOptions, ScanResult, TimeIndexEntries } from './index_scan.ts';
export { lz4Compress, lz4Decompress } from './lz4.ts';
export { snappyCompress, snappyDecompress } from './snappy.ts';
export { StagedRecords, StringRun, encodeStaged, encodeStagedSync, varlongSize } from './staged-batch.ts';
export type { EncodedBatches } from './staged-batch.ts';
