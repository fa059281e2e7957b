/**
 * What a broker needs from the log of one partition replica, and from the
 * storage that holds its logs. The storage engine (src/storage) provides the
 * real thing through ./storage-logs.ts; keeping the broker on this narrow port
 * keeps it readable and lets storage evolve behind one adapter.
 *
 * Offsets are bigint, positions and sizes are numbers of bytes.
 */
import type { ResolvedTopicConfig } from '../metadata/topic-config.ts';

export interface AppendResult {
  baseOffset: bigint;
  lastOffset: bigint;
  logStartOffset: bigint;
  batchCount: number;
  recordCount: number;
  sizeBytes: number;
}

export interface ReplicaLog {
  readonly logStartOffset: bigint;
  readonly logEndOffset: bigint;
  /**
   * Offsets below it are committed. Set by the partition (../broker/partition.ts),
   * clamped to [logStartOffset, logEndOffset], persisted at flush and close.
   */
  highWatermark: bigint;
  /** Segments of the log, and the bytes they hold. */
  readonly segmentCount: number;
  readonly sizeBytes: number;
  /** An I/O error that could not be undone left it unusable until it is closed and opened again (../storage/log.ts). */
  readonly offline: boolean;
  /** The epoch of the last batch written; -1 for an empty log. */
  readonly latestEpoch: number;
  /** The leader epoch cache: each epoch and its first offset, oldest first. */
  readonly leaderEpochs: readonly { epoch: number; startOffset: bigint }[];
  /** The largest epoch ≤ `epoch` and where it ends in this log (Kafka's OffsetForLeaderEpoch). */
  endOffsetForEpoch(epoch: number): { leaderEpoch: number; endOffset: bigint };
  /**
   * Appends whole batches as leader: checks each one (framing, magic 2, CRC32C,
   * size ≤ maxMessageBytes) before writing anything, then writes them with
   * their offsets and leader epoch. CORRUPT_MESSAGE / MESSAGE_TOO_LARGE leave
   * the log unchanged. The high watermark does not move (the partition moves it).
   * `origin` 'coordinator': batches this broker built, such as transaction
   * markers (control batches, which a producer may not send).
   */
  append(batches: Uint8Array, leaderEpoch: number, origin?: 'client' | 'coordinator'): Promise<AppendResult>;
  /** Appends a leader's batches as they are (offsets and epochs kept): a follower's copy. */
  appendAsFollower(batches: Uint8Array): Promise<AppendResult>;
  /** Removes every batch holding an offset ≥ `offset` (a follower that diverged from its leader). */
  truncateTo(offset: bigint): Promise<void>;
  /** Empties the log and starts it over at `offset`, forgetting its leader epochs (a follower behind its leader's log start). */
  truncateFullyAndStartAt(offset: bigint): Promise<void>;
  /**
   * Whole batches, as stored, from the one holding `offset`, up to `maxBytes`
   * and below `maxOffset` (exclusive); at least one batch when `minOneBatch`
   * even if it is larger than maxBytes. The bytes are a fresh read that
   * belongs to the caller. null when there is nothing.
   */
  read(offset: bigint, maxBytes: number, maxOffset: bigint, minOneBatch: boolean): Promise<Uint8Array | null>;
  /** The first offset whose timestamp is ≥ timestampMs, or null if there is none. */
  offsetForTimestamp(timestampMs: bigint): Promise<{ offset: bigint; timestampMs: bigint } | null>;
  /** Moves logStartOffset up to `offset` (≤ highWatermark). Returns the new logStartOffset. */
  deleteRecordsBefore(offset: bigint): Promise<bigint>;
  /** The producer-state snapshot kept with the log (./producer-snapshot.ts), or null if there is none. */
  readProducerSnapshot(): Promise<Uint8Array | null>;
  /** Replaces the producer-state snapshot (written whole, then renamed over the old one). */
  writeProducerSnapshot(bytes: Uint8Array): Promise<void>;
  /** Removes the producer-state snapshot (the log was cut below where it was taken); no-op if there is none. */
  removeProducerSnapshot(): Promise<void>;
  /** Retention by time and size, flush.ms: bounded work, called by the broker's maintenance timer. */
  maintain(nowMs: number): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface PartitionRef {
  topic: string;
  partition: number;
  /** Identity of the topic's incarnation: a re-created topic of the same name gets a new log. */
  topicId: string;
}

export interface ReplicaLogStorage {
  /** 'memory' | 'files' | 'opfs' | 'indexeddb', for messages. */
  readonly kind: string;
  /**
   * Opens (creating or recovering) the log of a partition with `config`; a log
   * left by an older topic of the same name (another topicId) is removed first.
   * A config change reopens the log. `onOffline` is called once if an I/O
   * error that cannot be undone takes the opened log offline.
   */
  open(ref: PartitionRef, config: ResolvedTopicConfig, onOffline?: () => void): Promise<ReplicaLog>;
  /** Removes a partition's log (closed). No-op if it does not exist. */
  remove(ref: Omit<PartitionRef, 'topicId'>): Promise<void>;
  close(): Promise<void>;
}
