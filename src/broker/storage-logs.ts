/**
 * The broker's port to the storage engine (src/storage): partition logs in
 * `<topic>-<partition>/` directories of one StorageBackend (Kafka's layout),
 * each with a `partition.metadata` file naming the topicId it belongs to (as
 * Kafka's PartitionMetadataFile does), so that the log of a deleted topic is
 * never taken for the log of a re-created topic of the same name.
 */
import { openPartitionLog, type PartitionLog, type StorageBackend } from '../storage/index.ts';
import { replaceFile } from '../storage/checkpoint.ts';
import type { ResolvedTopicConfig } from '../metadata/topic-config.ts';
import { PRODUCER_SNAPSHOT_FILE } from './producer-snapshot.ts';
import type { AppendResult, PartitionRef, ReplicaLog, ReplicaLogStorage } from './replica-log.ts';

const PARTITION_METADATA_FILE = 'partition.metadata';
/** A snapshot larger than this is not read (one of the most producers and aborted transactions kept is ≈ 35 MB). */
const PRODUCER_SNAPSHOT_BYTES_MAX = 64 * 1024 * 1024;

export function logDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

export class StorageReplicaLogs implements ReplicaLogStorage {
  readonly kind: string;
  readonly backend: StorageBackend;
  readonly #closeBackend: () => Promise<void>;

  /** `closeBackend` releases what the backend holds (handles, a database connection) when the broker closes. */
  constructor(backend: StorageBackend, kind: string, closeBackend: () => Promise<void> = async () => {}) {
    this.backend = backend;
    this.kind = kind;
    this.#closeBackend = closeBackend;
  }

  async open(ref: PartitionRef, config: ResolvedTopicConfig, onOffline?: () => void): Promise<ReplicaLog> {
    const dir = logDirName(ref.topic, ref.partition);
    const recorded = await this.#readTopicId(dir);
    if (recorded !== undefined && recorded !== ref.topicId) await this.backend.removeDir(dir);
    const { minInsyncReplicas: _notALogConfig, ...logConfig } = config;
    const log = await openPartitionLog({ backend: this.backend, dir, config: logConfig, onOffline });
    try {
      if (recorded !== ref.topicId) await this.#writeTopicId(dir, ref.topicId);
    } catch (error) {
      await log.close().catch(() => {});
      throw error;
    }
    return new StoredReplicaLog(log);
  }

  async remove(ref: Omit<PartitionRef, 'topicId'>): Promise<void> {
    await this.backend.removeDir(logDirName(ref.topic, ref.partition));
  }

  close(): Promise<void> {
    return this.#closeBackend();
  }

  async #readTopicId(dir: string): Promise<string | undefined> {
    // Opened, not looked for in a listing: a log directory may hold tens of thousands of segment files.
    let file;
    try {
      file = await this.backend.openFile(`${dir}/${PARTITION_METADATA_FILE}`, { create: false });
    } catch {
      return undefined;
    }
    try {
      const text = new TextDecoder().decode(await file.read(0, file.size));
      return /^topic_id: (\S+)$/m.exec(text)?.[1];
    } finally {
      await file.close();
    }
  }

  async #writeTopicId(dir: string, topicId: string): Promise<void> {
    const file = await this.backend.openFile(`${dir}/${PARTITION_METADATA_FILE}`);
    try {
      await file.truncate(0);
      await file.write(0, new TextEncoder().encode(`version: 0\ntopic_id: ${topicId}\n`));
      await file.flush();
    } finally {
      await file.close();
    }
  }
}

/**
 * A PartitionLog as the broker's ReplicaLog. The high watermark is the
 * partition's to move (../broker/partition.ts); it reopens where the last
 * flush or close left it.
 */
class StoredReplicaLog implements ReplicaLog {
  readonly #log: PartitionLog;

  constructor(log: PartitionLog) {
    this.#log = log;
  }

  get logStartOffset(): bigint {
    return this.#log.logStartOffset;
  }
  get logEndOffset(): bigint {
    return this.#log.logEndOffset;
  }
  get highWatermark(): bigint {
    return this.#log.highWatermark;
  }
  set highWatermark(offset: bigint) {
    this.#log.highWatermark = offset;
  }
  get segmentCount(): number {
    return this.#log.segmentCount;
  }
  get sizeBytes(): number {
    return this.#log.sizeBytes;
  }
  get offline(): boolean {
    return this.#log.offline;
  }
  get latestEpoch(): number {
    return this.#log.latestEpoch;
  }
  get leaderEpochs(): readonly { epoch: number; startOffset: bigint }[] {
    return this.#log.leaderEpochs;
  }

  endOffsetForEpoch(epoch: number): { leaderEpoch: number; endOffset: bigint } {
    return this.#log.endOffsetForEpoch(epoch);
  }

  append(batches: Uint8Array, leaderEpoch: number, origin: 'client' | 'coordinator' = 'client'): Promise<AppendResult> {
    return this.#log.append(batches, { leaderEpoch, origin });
  }

  appendAsFollower(batches: Uint8Array): Promise<AppendResult> {
    return this.#log.appendAsFollower(batches);
  }

  truncateTo(offset: bigint): Promise<void> {
    return this.#log.truncateTo(offset);
  }

  truncateFullyAndStartAt(offset: bigint): Promise<void> {
    return this.#log.truncateFullyAndStartAt(offset);
  }

  async read(offset: bigint, maxBytes: number, maxOffset: bigint, minOneBatch: boolean): Promise<Uint8Array | null> {
    if (maxBytes === 0 && !minOneBatch) return null;
    const { bytes } = await this.#log.read(offset, maxBytes, { maxOffset });
    // The log always returns at least one batch; past the first partition of a fetch Kafka returns none that does not fit.
    if (bytes.byteLength === 0 || (!minOneBatch && bytes.byteLength > maxBytes)) return null;
    return bytes;
  }

  async offsetForTimestamp(timestampMs: bigint): Promise<{ offset: bigint; timestampMs: bigint } | null> {
    const found = await this.#log.offsetForTimestamp(Number(timestampMs));
    return found ? { offset: found.offset, timestampMs: BigInt(found.timestampMs) } : null;
  }

  deleteRecordsBefore(offset: bigint): Promise<bigint> {
    return this.#log.deleteRecordsBefore(offset);
  }

  async readProducerSnapshot(): Promise<Uint8Array | null> {
    let file;
    try {
      file = await this.#log.backend.openFile(this.#snapshotPath, { create: false });
    } catch {
      return null;
    }
    try {
      if (file.size > PRODUCER_SNAPSHOT_BYTES_MAX) return null;
      return await file.read(0, file.size);
    } finally {
      await file.close();
    }
  }

  writeProducerSnapshot(bytes: Uint8Array): Promise<void> {
    return replaceFile(this.#log.backend, this.#snapshotPath, bytes);
  }

  removeProducerSnapshot(): Promise<void> {
    return this.#log.backend.remove(this.#snapshotPath);
  }

  get #snapshotPath(): string {
    return `${this.#log.dir}/${PRODUCER_SNAPSHOT_FILE}`;
  }

  async maintain(nowMs: number): Promise<void> {
    // Retention also drops segments wholly below logStartOffset (after DeleteRecords), whatever the policy.
    await this.#log.runRetention(nowMs);
    if (this.#log.config.cleanupPolicy.includes('compact')) await this.#log.compact(nowMs);
  }

  flush(): Promise<void> {
    return this.#log.flush();
  }

  close(): Promise<void> {
    return this.#log.close();
  }
}
