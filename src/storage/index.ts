/**
 * wafka storage: Kafka's partition log (segments of RecordBatch v2 bytes,
 * sparse offset and time indexes, recovery, retention, compaction, leader
 * epochs) over a small file-like backend, in every runtime wafka targets.
 *
 *   const log = await openPartitionLog({ backend: new MemoryBackend(), dir: 'orders-0', config: { segmentBytes: 1 << 20 } });
 *   const { baseOffset } = await log.append(batchBytes, { leaderEpoch: 0 });
 *   const { bytes, nextOffset } = await log.read(baseOffset, 1 << 20, { maxOffset: log.highWatermark });
 *   await log.close();
 *
 * PartitionLog (all offsets bigint; every method runs alone, in call order):
 *   append(batches: Uint8Array, { leaderEpoch: number }): Promise<AppendResult>
 *       whole batches, concatenated; validated (magic, length, CRC, maxMessageBytes);
 *       baseOffset and partitionLeaderEpoch written into the caller's bytes.
 *   appendAsFollower(batches: Uint8Array): Promise<AppendResult>     keeps the batches' offsets and epochs
 *   read(offset: bigint, maxBytes: number, { maxOffset? }): Promise<ReadResult>
 *       whole batches from the one holding `offset`, ≤ maxBytes but at least one batch.
 *   offsetForTimestamp(timestampMs: number): Promise<{ offset, timestampMs } | undefined>  (-1 latest, -2 earliest)
 *   logStartOffset, logEndOffset, highWatermark (settable, clamped), sizeBytes, segmentCount
 *   truncateTo(offset: bigint): Promise<void>
 *   deleteRecordsBefore(offset: bigint): Promise<bigint>
 *   runRetention(nowMs?: number): Promise<RetentionResult>
 *   compact(nowMs?: number): Promise<CompactionResult>
 *   leaderEpochs, latestEpoch, endOffsetForEpoch(epoch: number): { leaderEpoch, endOffset }
 *   flush(), close(), delete(): Promise<void>
 *   recovery: RecoveryReport (what open found: bytes truncated, segments dropped, ...)
 *
 * Opening reads the log's segment manifest (its recovery point) and opens only
 * the active segment: closed segments, their index files and file handles are
 * opened on first use, at most `openFilesMax` closed-segment files per backend
 * (SegmentFileCache, OPEN_SEGMENT_FILES_DEFAULT), least recently used closed first.
 *
 * Errors are WafkaError (src/errors.ts): CORRUPT_MESSAGE (bad batch in),
 * MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE, OFFSET_OUT_OF_RANGE,
 * INVALID_FETCH_SIZE, INVALID_CONFIG, KAFKA_STORAGE_ERROR (I/O, quota, a file
 * already open elsewhere). After an error nothing stored is lost or changed.
 *
 * Backends (docs/storage.md has the durability matrix):
 *   MemoryBackend         tests and ephemeral logs (with a crash model)
 *   NodeFileBackend       node:fs (Node, Deno, Bun): `await NodeFileBackend.create(rootDir)`
 *   OpfsBackend           OPFS sync access handles, dedicated workers only: `await OpfsBackend.create(subdir?)`
 *   IndexedDbBackend      IndexedDB through idb, files as ≤ 56 KiB chunks: `await IndexedDbBackend.open(dbName)`
 *   FaultInjectingBackend wraps any backend; torn/short writes, failed flushes, quota errors from a seed
 */
export { PartitionLog, openPartitionLog, systemClock, LATEST_TIMESTAMP, EARLIEST_TIMESTAMP } from './log.ts';
export type {
  Clock, OpenPartitionLogOptions, RecoveryReport, AppendResult, ReadOptions, ReadResult, RetentionResult, CompactionResult,
} from './log.ts';
export {
  DEFAULT_LOG_CONFIG, FLUSH_NEVER, resolveLogConfig,
  SEGMENT_BYTES_MAX, BATCH_BYTES_MAX, READ_BYTES_MAX, SEGMENT_COUNT_MAX, COMPACTION_KEYS_MAX,
} from './config.ts';
export type { LogConfig, CleanupPolicy } from './config.ts';
export type { StorageBackend, StorageFile, SyncStorageFile } from './backend.ts';
export { isSyncFile } from './backend.ts';
export type { EpochEntry } from './leader-epoch.ts';
export { UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET } from './leader-epoch.ts';
export { segmentFileName } from './segment.ts';
export { SegmentFileCache, segmentFileCacheFor, OPEN_SEGMENT_FILES_DEFAULT } from './segment-file.ts';
export { SEGMENT_MANIFEST } from './segment-manifest.ts';
export { MemoryBackend } from './memory.ts';
export type { MemoryBackendOptions } from './memory.ts';
export { NodeFileBackend } from './node-fs.ts';
export { OpfsBackend } from './opfs.ts';
export { IndexedDbBackend, CHUNK_BYTES } from './indexeddb.ts';
export type { IndexedDbBackendOptions, IdbDurability } from './indexeddb.ts';
export { FaultInjectingBackend } from './faulty.ts';
export type { FaultKind, FaultOptions } from './faulty.ts';
