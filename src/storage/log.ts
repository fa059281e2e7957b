/**
 * PartitionLog: one partition replica's log, Kafka's UnifiedLog/LocalLog over
 * a file-like StorageBackend.
 *
 * Layout of a log directory `dir`:
 *   00000000000000000000.log        whole RecordBatch v2 batches, as produced
 *   00000000000000000000.index      sparse offset index (closed segments, and the active one after close)
 *   00000000000000000000.timeindex  time index
 *   leader-epoch-checkpoint         epoch → start offset
 *   log-state-checkpoint            logStartOffset, highWatermark
 *   segment-manifest                the recovery point: every closed segment's size and offsets (segment-manifest.ts)
 *   <base>.log.cleaned / .log.swap  compaction in progress (finished or dropped on open)
 *
 * Invariants that recovery rests on: the manifest lists only closed segments
 * as they are (flushed before their entry was appended; emptied before any
 * change but a roll, rewritten after), and index files, when present,
 * describe a prefix of their segment that was flushed before they were
 * written (they are written after the log is flushed, and removed before a
 * segment is truncated or replaced). Opening a log takes the closed segments
 * the manifest lists without opening them (their files and index files are
 * opened on first use, file handles bounded per backend by a
 * SegmentFileCache); where the backend reports sizes in one listing, each
 * must match its entry. After a clean close nothing is scanned; otherwise
 * every other segment (the active one, after a crash) loads its index files
 * and scans, with CRC checks, only what follows the last index entry; a
 * segment without index files is scanned whole. The scan stops at the first batch whose length, magic, CRC or offsets
 * are wrong; everything from there is truncated and reported. Segments chain:
 * each starts where the previous ends (a roll starts the new segment at the
 * log end offset, compaction keeps each segment's last record), so a segment
 * that does not start at its predecessor's end means the predecessor lost its
 * tail, and it and every later segment are dropped rather than served with a
 * hole (Kafka truncates at the first corruption the same way).
 *
 * Every operation runs alone (an internal queue), so a log may be used from
 * many async callers. Offsets are bigint, positions and sizes number.
 *
 * Fast path: on a backend with synchronous file calls (OPFS sync access
 * handles, node:fs, memory), an append or a read that finds the queue empty
 * runs to the end inside the call (validation, one write or one read, index
 * update) and returns a settled promise; anything that needs an async step
 * (a roll, a new leader epoch to checkpoint) or finds other work queued takes
 * the queue. Either way, operations take effect in call order.
 */
import { WafkaError } from '../errors.ts';
import { concatBytes } from '../bytes.ts';
import { joinPath, storageError, type StorageBackend, type StorageFile } from './backend.ts';
import { readCheckpoint, writeCheckpoint } from './checkpoint.ts';
import {
  BATCH_BYTES_MAX,
  COMPACTION_KEYS_MAX,
  READ_BYTES_MAX,
  SEGMENT_COUNT_MAX,
  SCAN_WINDOW_BYTES,
  FLUSH_NEVER,
  resolveLogConfig,
  type LogConfig,
} from './config.ts';
import { LeaderEpochCache, type EpochEntry } from './leader-epoch.ts';
import {
  loadCore,
  batchSizeAt,
  batchSpanAt,
  batchSpans,
  headerFits,
  spanIsWhole,
  ATTRIBUTES_OFFSET,
  ATTR_CONTROL,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT_OFFSET,
  ATTR_TRANSACTIONAL,
} from '../core/index.ts';
import { checkIncomingBatch, checkProducedBatch, viewOf, decodeForCompaction, encodeRetained, firstRecordAtOrAfter } from './record-batch.ts';
import { scanSegment, Segment, segmentFileName } from './segment.ts';
import { SegmentFile, segmentFileCacheFor, type SegmentFileCache } from './segment-file.ts';
import {
  decodeManifest, encodeEntries, headerEntry, ENTRY_BYTES, KIND_CLEAN_CLOSE, KIND_CLOSED, SEGMENT_MANIFEST, type Manifest, type ManifestEntry,
} from './segment-manifest.ts';

export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

export interface OpenPartitionLogOptions {
  backend: StorageBackend;
  /** Directory of this log in the backend, e.g. 'orders-0' (Kafka: `<topic>-<partition>`). */
  dir: string;
  config?: Partial<LogConfig>;
  clock?: Clock;
  /** The open-file budget for closed segments; default: one per backend (segmentFileCacheFor). */
  fileCache?: SegmentFileCache;
  /** Called once when an I/O error that cannot be undone takes the log offline (see `offline`). */
  onOffline?: (failure: WafkaError) => void;
}

/** What opening the log found and repaired. */
export interface RecoveryReport {
  segmentCount: number;
  /** Bytes cut from torn or corrupt tails, plus bytes of segments dropped after a corrupt one. */
  bytesTruncated: number;
  /** Segments removed because an earlier segment was corrupt (they would leave a hole). */
  segmentsDeleted: number;
  /** Bytes read and checked by recovery scans. */
  bytesScanned: number;
  /** Compactions found half done and finished (swap files) or dropped (cleaned files). */
  swapsCompleted: number;
  /** What stopped each scan that truncated (first 16). */
  problems: string[];
}

export interface AppendResult {
  /** Offset of the first record appended. */
  baseOffset: bigint;
  /** Offset of the last record appended. */
  lastOffset: bigint;
  /** -1: batches keep their CreateTime (LogAppendTime is not implemented). */
  logAppendTimeMs: number;
  logStartOffset: bigint;
  batchCount: number;
  recordCount: number;
  sizeBytes: number;
}

export interface ReadOptions {
  /** Exclusive upper bound: only batches whose lastOffset < maxOffset (e.g. the highWatermark for consumers). */
  maxOffset?: bigint;
}

export interface ReadResult {
  /** Whole batches, as stored (a view of one read buffer). Empty at the end of the log. */
  bytes: Uint8Array;
  /** baseOffset of the first batch returned (may be below the requested offset), or the requested offset if none. */
  firstOffset: bigint;
  /** Where the next read continues: lastOffset + 1 of the last batch, or the requested offset if none. */
  nextOffset: bigint;
  logStartOffset: bigint;
  logEndOffset: bigint;
  highWatermark: bigint;
}

export interface RetentionResult {
  segmentsDeleted: number;
  bytesDeleted: number;
  logStartOffset: bigint;
}

export interface CompactionResult {
  segmentsCleaned: number;
  bytesBefore: number;
  bytesAfter: number;
  recordsRemoved: number;
  tombstonesRemoved: number;
}

/** Kafka's ListOffsets sentinels. */
export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;

const LOG_STATE_CHECKPOINT = 'log-state-checkpoint';
const LEADER_EPOCH_CHECKPOINT = 'leader-epoch-checkpoint';
/** Offsets one segment can hold past its base: relative offsets are int32. */
const SEGMENT_OFFSET_SPAN_MAX = 0x7fffffffn;

const SEGMENT_NAME = /^(\d{20})\.(log|index|timeindex|log\.cleaned|log\.swap)$/;

/** Per-batch facts gathered while validating an append. */
interface Incoming {
  count: number;
  positions: number[];
  sizes: number[];
  deltas: number[];
  maxTimestamps: number[];
  recordCount: number;
  /** Offsets the batches span: the sum of lastOffsetDelta + 1. */
  offsetCount: number;
  /** Record checks still running (batches with an async codec: gzip, zstd). */
  checking: Promise<void>[];
}

/** Where the last read by offset stopped: the next sequential read starts there without an index lookup. */
interface ReadHint {
  offset: bigint;
  segment: Segment;
  position: number;
}

/** A read by offset as steps: it yields the file reads it needs and returns the result. */
type ReadStep = { file: SegmentFile; position: number; length: number } | { prepare: Segment };
type ReadSteps = Generator<ReadStep, ReadResult, Uint8Array>;
const NO_BYTES = new Uint8Array(0);

export class PartitionLog {
  readonly backend: StorageBackend;
  readonly dir: string;
  readonly config: LogConfig;
  readonly clock: Clock;
  recovery: RecoveryReport = { segmentCount: 0, bytesTruncated: 0, segmentsDeleted: 0, bytesScanned: 0, swapsCompleted: 0, problems: [] };

  #segments: Segment[] = [];
  #logStartOffset = 0n;
  #highWatermark = 0n;
  #epochs: LeaderEpochCache;
  #queue: Promise<unknown> = Promise.resolve();
  /** Operations queued or running; the synchronous fast path runs only at 0. */
  #pending = 0;
  /** Valid until an operation other than an append or a read runs (those may move or cut bytes). */
  #readHint: ReadHint | undefined;
  #closed = false;
  #failure: WafkaError | undefined;
  readonly #onOffline: ((failure: WafkaError) => void) | undefined;
  #unflushedRecords = 0;
  #lastFlushMs: number;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  #savedState = '';
  readonly #fileCache: SegmentFileCache;
  #manifestFile: StorageFile | undefined;
  /** Where the next roll's manifest entry goes. */
  #manifestBytes = 0;
  /** Whether the manifest lists every closed segment (else the next roll rewrites it whole). */
  #manifestComplete = false;

  private constructor(options: OpenPartitionLogOptions) {
    this.backend = options.backend;
    this.#fileCache = options.fileCache ?? segmentFileCacheFor(options.backend);
    this.dir = options.dir;
    this.config = resolveLogConfig(options.config);
    this.clock = options.clock ?? systemClock;
    this.#epochs = new LeaderEpochCache(this.backend, this.#path(LEADER_EPOCH_CHECKPOINT));
    this.#lastFlushMs = this.clock.nowMs();
    this.#onOffline = options.onOffline;
  }

  /** Opens (creating if needed) and recovers the log in `dir`. */
  static async open(options: OpenPartitionLogOptions): Promise<PartitionLog> {
    await loadCore();
    const log = new PartitionLog(options);
    try {
      await log.#recover();
    } catch (error) {
      await log.#closeFiles();
      throw storageError(`cannot open log ${options.dir}`, error);
    }
    return log;
  }

  // ---------------------------------------------------------------- state

  get logStartOffset(): bigint {
    return this.#logStartOffset;
  }

  /** Offset the next appended record gets. */
  get logEndOffset(): bigint {
    return this.#active.nextOffset;
  }

  get highWatermark(): bigint {
    return this.#highWatermark;
  }

  /** Sets the high watermark, clamped to [logStartOffset, logEndOffset] (as Kafka does). Persisted at flush and close. */
  set highWatermark(offset: bigint) {
    this.#checkOpen();
    const leo = this.logEndOffset;
    this.#highWatermark = offset < this.#logStartOffset ? this.#logStartOffset : offset > leo ? leo : offset;
  }

  /** Bytes in all segments. */
  get sizeBytes(): number {
    let n = 0;
    for (const s of this.#segments) n += s.size;
    return n;
  }

  get segmentCount(): number {
    return this.#segments.length;
  }

  /** Base offsets of the segments, oldest first. */
  get segmentBaseOffsets(): bigint[] {
    return this.#segments.map((s) => s.baseOffset);
  }

  /** The leader epoch cache (epoch → first offset), oldest first. */
  get leaderEpochs(): readonly EpochEntry[] {
    return this.#epochs.entries;
  }

  get latestEpoch(): number {
    return this.#epochs.latestEpoch;
  }

  /**
   * Kafka's OffsetForLeaderEpoch answer: the largest epoch ≤ `leaderEpoch`
   * and its end offset; { leaderEpoch: -1, endOffset: -1n } if none.
   */
  endOffsetForEpoch(leaderEpoch: number): { leaderEpoch: number; endOffset: bigint } {
    return this.#epochs.endOffsetFor(leaderEpoch, this.logEndOffset);
  }

  get #active(): Segment {
    return this.#segments[this.#segments.length - 1];
  }

  #path(name: string): string {
    return joinPath(this.dir, name);
  }

  /** Runs fn after every operation queued before it. keepReadHint: fn only appends or reads. */
  #exclusive<T>(fn: () => Promise<T>, keepReadHint = false): Promise<T> {
    return this.#enqueue(() => {
      this.#checkOpen();
      if (!keepReadHint) this.#readHint = undefined;
      return fn();
    });
  }

  #enqueue<T>(fn: () => Promise<T>): Promise<T> {
    this.#pending++;
    const run = this.#queue.then(fn);
    const settled = () => {
      this.#pending--;
    };
    this.#queue = run.then(settled, settled);
    return run;
  }

  /** The active segment when an operation may run synchronously now: nothing queued, the log open, a synchronous backend. */
  #syncActive(): Segment | undefined {
    if (this.#pending !== 0) return undefined;
    this.#checkOpen();
    const seg = this.#active;
    return seg.file.syncFile() ? seg : undefined;
  }

  /**
   * An I/O error that could not be undone left the log unusable: every call
   * fails with KAFKA_STORAGE_ERROR until it is closed and opened again, which
   * recovers it from what the files hold.
   */
  get offline(): boolean {
    return !this.#closed && this.#failure !== undefined;
  }

  /** Keeps the first failure: later calls fail with it until the log is reopened. */
  #takeOffline(failure: WafkaError): WafkaError {
    if (this.#failure) return this.#failure;
    this.#failure = failure;
    this.#onOffline?.(failure);
    return failure;
  }

  #checkOpen(): void {
    if (this.#closed) throw new WafkaError('KAFKA_STORAGE_ERROR', `log ${this.dir} is closed`, { retriable: false });
    if (this.#failure) throw new WafkaError('KAFKA_STORAGE_ERROR', `log ${this.dir} is offline after an I/O error: ${this.#failure.message}; reopen it to recover`, { cause: this.#failure });
  }

  // ---------------------------------------------------------------- append

  /**
   * Appends one or more concatenated batches as leader: checks each batch
   * (framing, magic, CRC, size ≤ maxMessageBytes), then writes baseOffset and
   * partitionLeaderEpoch into each header (in place: the caller's bytes are
   * changed; both fields are outside the CRC) and writes them in one write.
   * On any error nothing is appended and logEndOffset is unchanged.
   * `origin` 'coordinator': batches a coordinator of this broker built (a
   * transaction marker is a control batch, which a producer may not send).
   */
  append(batches: Uint8Array, options: { leaderEpoch: number; origin?: 'client' | 'coordinator' }): Promise<AppendResult> {
    try {
      const incoming = this.#validate(batches, true, options.origin !== 'coordinator');
      const leaderEpoch = options.leaderEpoch;
      if (!Number.isInteger(leaderEpoch) || leaderEpoch < -1 || leaderEpoch > 0x7fffffff) throw new RangeError(`leaderEpoch ${leaderEpoch}`);
      const seg = incoming.checking.length === 0 ? this.#syncActive() : undefined;
      if (seg) {
        const baseOffset = this.logEndOffset;
        // A roll and a new epoch's checkpoint are async steps: those appends take the queue.
        if (!this.#rollNeeded(batches.length, baseOffset, baseOffset + BigInt(incoming.offsetCount) - 1n) && leaderEpoch <= this.#epochs.latestEpoch && !this.#epochs.unsaved) {
          this.#assignOffsets(batches, incoming, baseOffset, leaderEpoch);
          return Promise.resolve(this.#writeSync(seg, batches, incoming, baseOffset));
        }
      }
      return this.#exclusive(async () => {
        await Promise.all(incoming.checking);
        const baseOffset = this.logEndOffset;
        await this.#maybeRoll(batches.length, baseOffset, baseOffset + BigInt(incoming.offsetCount) - 1n);
        this.#assignOffsets(batches, incoming, baseOffset, leaderEpoch);
        return this.#write(batches, incoming, baseOffset, leaderEpoch >= 0 ? [leaderEpoch] : []);
      }, true);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Writes baseOffset and partitionLeaderEpoch into each batch header (both outside the CRC). */
  #assignOffsets(batches: Uint8Array, incoming: Incoming, baseOffset: bigint, leaderEpoch: number): void {
    const dv = viewOf(batches);
    let next = baseOffset;
    for (let i = 0; i < incoming.count; i++) {
      const p = incoming.positions[i];
      dv.setBigInt64(p, next);
      dv.setInt32(p + PARTITION_LEADER_EPOCH_OFFSET, leaderEpoch);
      next += BigInt(incoming.deltas[i] + 1);
    }
  }

  /**
   * Appends batches that already carry their offsets and epochs (a follower
   * copying its leader). Offsets must increase and start at or after
   * logEndOffset (gaps are allowed: a compacted leader has them).
   */
  appendAsFollower(batches: Uint8Array): Promise<AppendResult> {
    try {
      const incoming = this.#validate(batches, false);
      const seg = this.#syncActive();
      if (seg) {
        const plan = this.#followerPlan(batches, incoming);
        if (!this.#rollNeeded(batches.length, plan.first, plan.last) && plan.epochMax <= this.#epochs.latestEpoch && !this.#epochs.unsaved) {
          return Promise.resolve(this.#writeSync(seg, batches, incoming, plan.first));
        }
      }
      return this.#exclusive(async () => {
        const plan = this.#followerPlan(batches, incoming);
        await this.#maybeRoll(batches.length, plan.first, plan.last);
        return this.#write(batches, incoming, plan.first, plan.epochs);
      }, true);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** A follower append's offsets (checked against logEndOffset) and the epochs of its batches. */
  #followerPlan(batches: Uint8Array, incoming: Incoming): { first: bigint; last: bigint; epochs: number[]; epochMax: number } {
    const dv = viewOf(batches);
    let expected = this.logEndOffset;
    const epochs: number[] = [];
    let epochMax = -1;
    for (let i = 0; i < incoming.count; i++) {
      const p = incoming.positions[i];
      const base = dv.getBigInt64(p);
      if (base < expected) {
        throw new WafkaError('OFFSET_OUT_OF_RANGE', `follower batch ${i} baseOffset ${base} below the expected ${expected} (logEndOffset ${this.logEndOffset})`);
      }
      expected = base + BigInt(incoming.deltas[i] + 1);
      const epoch = dv.getInt32(p + PARTITION_LEADER_EPOCH_OFFSET);
      epochs.push(epoch);
      if (epoch > epochMax) epochMax = epoch;
    }
    return { first: dv.getBigInt64(incoming.positions[0]), last: expected - 1n, epochs, epochMax };
  }

  #validate(batches: Uint8Array, leader: boolean, fromProducer = true): Incoming {
    if (!(batches instanceof Uint8Array)) throw new TypeError('append takes a Uint8Array of whole batches');
    if (batches.length === 0) throw new WafkaError('CORRUPT_MESSAGE', 'append of 0 bytes: no batch');
    if (batches.length > this.config.segmentBytes) {
      throw new WafkaError('RECORD_LIST_TOO_LARGE', `append of ${batches.length} B over segmentBytes ${this.config.segmentBytes}`);
    }
    const dv = viewOf(batches);
    const incoming: Incoming = { count: 0, positions: [], sizes: [], deltas: [], maxTimestamps: [], recordCount: 0, offsetCount: 0, checking: [] };
    const requireKeys = this.config.cleanupPolicy !== 'delete';
    const limit = leader ? this.config.maxMessageBytes : BATCH_BYTES_MAX;
    let pos = 0;
    while (pos < batches.length) {
      // Size first, so an oversized batch is MESSAGE_TOO_LARGE rather than "truncated".
      if (batches.length - pos >= LOG_OVERHEAD) {
        const size = batchSizeAt(batches, pos);
        if (size > limit) throw new WafkaError('MESSAGE_TOO_LARGE', `batch ${incoming.count} at byte ${pos} is ${size} B, over maxMessageBytes ${limit}`);
      }
      // A leader checks the CRC with the records (Kafka's LogValidator), in one core call per batch.
      const size = checkIncomingBatch(batches, dv, pos, incoming.count, !leader);
      const delta = dv.getInt32(pos + LAST_OFFSET_DELTA_OFFSET);
      const records = dv.getInt32(pos + RECORDS_COUNT_OFFSET);
      if (leader && (records < 1 || delta !== records - 1)) {
        throw new WafkaError('CORRUPT_MESSAGE', `batch ${incoming.count} at byte ${pos}: recordCount ${records} with lastOffsetDelta ${delta} (a producer batch has consecutive offsets)`);
      }
      if (leader) {
        const checking = checkProducedBatch(batches, pos, incoming.count, requireKeys, fromProducer);
        if (checking) {
          checking.catch(() => {}); // awaited by append; a later batch may fail first
          incoming.checking.push(checking);
        }
      }
      incoming.positions.push(pos);
      incoming.sizes.push(size);
      incoming.deltas.push(delta);
      incoming.maxTimestamps.push(Number(dv.getBigInt64(pos + MAX_TIMESTAMP_OFFSET)));
      incoming.recordCount += records;
      incoming.offsetCount += delta + 1;
      incoming.count++;
      pos += size;
    }
    return incoming;
  }

  /** Whether an append must first roll (or, on an empty active segment, re-base) the active segment. */
  #rollNeeded(sizeBytes: number, firstOffset: bigint, lastOffset: bigint): boolean {
    const active = this.#active;
    if (active.size === 0) return !active.fits(lastOffset) || firstOffset < active.baseOffset;
    const tooBig = active.size + sizeBytes > this.config.segmentBytes;
    const tooOld = active.rollBaseMs >= 0 && this.clock.nowMs() - active.rollBaseMs >= this.config.segmentMs;
    return tooBig || tooOld || !active.fits(lastOffset);
  }

  /**
   * Rolls first if the append would overflow the active segment, it is too old, or offsets would not fit.
   * The new segment starts at the log end offset, so that each segment ends where the next begins (what
   * recovery checks); only offsets that cannot be held relative to the log end (a follower's batch after a
   * gap of more than 2^31 offsets) start a segment at the batch's first offset.
   */
  async #maybeRoll(sizeBytes: number, firstOffset: bigint, lastOffset: bigint): Promise<void> {
    if (!this.#rollNeeded(sizeBytes, firstOffset, lastOffset)) return;
    const leo = this.logEndOffset;
    const base = firstOffset >= leo && lastOffset - leo <= SEGMENT_OFFSET_SPAN_MAX ? leo : firstOffset;
    if (this.#active.size === 0) await this.#replaceEmptyActive(base);
    else await this.#roll(base);
  }

  #flushDue(nowMs: number): boolean {
    return this.#unflushedRecords >= this.config.flushMessages || nowMs - this.#lastFlushMs >= this.config.flushMs;
  }

  async #write(batches: Uint8Array, incoming: Incoming, baseOffset: bigint, epochs: number[]): Promise<AppendResult> {
    const seg = this.#active;
    const position = seg.size;
    // Epochs first: data without its epoch would be wrong. An epoch left without data (the write failed, below; or
    // a crash between the two, which open() cleans up) is taken back. A checkpoint whose last save failed is written
    // again before data goes after it.
    let epochChanged = false;
    const dv = viewOf(batches);
    for (let i = 0; i < epochs.length; i++) {
      const at = epochs.length === incoming.count ? dv.getBigInt64(incoming.positions[i]) : baseOffset;
      epochChanged = this.#epochs.assign(epochs[i], at) || epochChanged;
    }
    try {
      if (this.#epochs.unsaved) await this.#epochs.save();
      await seg.file.write(position, batches);
      this.#unflushedRecords += incoming.recordCount;
      const now = this.clock.nowMs();
      if (this.#flushDue(now)) {
        await seg.file.flush();
        this.#unflushedRecords = 0;
        this.#lastFlushMs = now;
      }
    } catch (error) {
      // Nothing was appended, so no epoch may start past the end: a follower fetches with its latest epoch, and
      // one without data makes its leader answer a divergence that truncating to the log end cannot settle.
      if (epochChanged && this.#epochs.truncateFromEnd(this.logEndOffset)) await this.#epochs.save().catch(() => {});
      await this.#rollback(seg, position, error);
    }
    return this.#appended(seg, position, batches, incoming, baseOffset);
  }

  /** #write inside the call, for a synchronous file, when no epoch changes (the caller checked) and no roll is due. */
  #writeSync(seg: Segment, batches: Uint8Array, incoming: Incoming, baseOffset: bigint): AppendResult {
    const position = seg.size;
    try {
      seg.file.writeSync(position, batches);
      this.#unflushedRecords += incoming.recordCount;
      const now = this.clock.nowMs();
      if (this.#flushDue(now)) {
        seg.file.flushSync();
        this.#unflushedRecords = 0;
        this.#lastFlushMs = now;
      }
    } catch (error) {
      const cause = storageError(`append to ${seg.file.path} failed; nothing was appended`, error);
      try {
        if (seg.file.size > position) seg.file.truncateSync(position);
      } catch (truncateError) {
        this.#takeOffline(storageError(`cannot undo a failed append to ${seg.file.path} at ${position}`, truncateError));
      }
      throw cause;
    }
    return this.#appended(seg, position, batches, incoming, baseOffset);
  }

  /** After the bytes are written: the segment's indexes and size, the flush timer, the result. */
  #appended(seg: Segment, position: number, batches: Uint8Array, incoming: Incoming, baseOffset: bigint): AppendResult {
    const dv = viewOf(batches);
    let last = baseOffset;
    for (let i = 0; i < incoming.count; i++) {
      const p = incoming.positions[i];
      const base = dv.getBigInt64(p);
      last = base + BigInt(incoming.deltas[i]);
      seg.onBatch(base, last, position + p, incoming.sizes[i], incoming.maxTimestamps[i], this.config.indexIntervalBytes);
    }
    if (seg.rollBaseMs < 0) seg.rollBaseMs = this.clock.nowMs();
    this.#armFlushTimer();
    return {
      baseOffset,
      lastOffset: last,
      logAppendTimeMs: -1,
      logStartOffset: this.#logStartOffset,
      batchCount: incoming.count,
      recordCount: incoming.recordCount,
      sizeBytes: batches.length,
    };
  }

  /** A failed write or flush: cut the file back so nothing partial stays; if even that fails, the log goes offline. */
  async #rollback(seg: Segment, position: number, error: unknown): Promise<never> {
    const cause = storageError(`append to ${seg.file.path} failed; nothing was appended`, error);
    try {
      if (seg.file.size > position) await seg.file.truncate(position);
    } catch (truncateError) {
      this.#takeOffline(storageError(`cannot undo a failed append to ${seg.file.path} at ${position}`, truncateError));
    }
    throw cause;
  }

  #armFlushTimer(): void {
    if (this.config.flushMs >= FLUSH_NEVER || this.#flushTimer !== undefined || this.#unflushedRecords === 0) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      if (this.#closed || this.#unflushedRecords === 0) return;
      this.flush().catch((error) => {
        this.#takeOffline(storageError(`scheduled flush of ${this.dir} failed`, error));
      });
    }, this.config.flushMs);
    (this.#flushTimer as { unref?: () => void }).unref?.();
  }

  // ---------------------------------------------------------------- segments

  async #openSegment(baseOffset: bigint, truncate: boolean): Promise<Segment> {
    const path = this.#path(segmentFileName(baseOffset, '.log'));
    const file = await this.backend.openFile(path);
    if (truncate && file.size > 0) await file.truncate(0);
    return new Segment(baseOffset, new SegmentFile(this.backend, this.#fileCache, path, file.size, file));
  }

  /** The active segment's file stays open; the one before it may be closed for the open-file budget. */
  #pinActive(): void {
    const n = this.#segments.length;
    if (n > 1) this.#segments[n - 2].file.pinned = false;
    this.#segments[n - 1].file.pinned = true;
  }

  /** Loads a closed segment's index files on its first use (or rebuilds them from its bytes, without CRC checks). */
  async #ready(seg: Segment): Promise<void> {
    if (seg.indexesLoaded) return;
    const size = seg.size;
    const next = seg.nextOffset;
    const offsetIndex = await readWhole(this.backend, this.#path(segmentFileName(seg.baseOffset, '.index')));
    const timeIndex = await readWhole(this.backend, this.#path(segmentFileName(seg.baseOffset, '.timeindex')));
    if (offsetIndex && timeIndex && seg.loadIndexes(offsetIndex, timeIndex, size)) {
      seg.indexesLoaded = true;
      return;
    }
    const rollBaseMs = seg.rollBaseMs;
    seg.reset();
    const outcome = await scanSegment(seg, 0, false, this.config.indexIntervalBytes);
    seg.rollBaseMs = rollBaseMs;
    seg.sealTimeIndex();
    if (outcome.validEnd !== size || seg.nextOffset !== next) {
      // The file is not what the manifest says: nothing more is served from this log until it is reopened.
      throw this.#takeOffline(storageError(`${seg.file.path}: ${outcome.validEnd} B of batches up to offset ${seg.nextOffset} where the manifest has ${size} B up to ${next}`));
    }
  }

  // ---------------------------------------------------------------- manifest

  #entryOf(seg: Segment, kind: ManifestEntry['kind'], nextSegmentBase: bigint): ManifestEntry {
    return {
      kind,
      baseOffset: seg.baseOffset,
      nextOffset: seg.nextOffset,
      nextSegmentBase,
      sizeBytes: seg.size,
      maxTimestampMs: seg.maxTimestampMs,
      offsetOfMaxTimestampRel: seg.offsetOfMaxTimestampRel,
      bytesSinceIndexEntry: seg.bytesSinceIndexEntry,
    };
  }

  /** Writes the manifest whole: `closed` (oldest first), the segment after them at nextBase, and an optional clean-close record. */
  async #saveManifest(closed: Segment[] = this.#segments.slice(0, -1), nextBase: bigint = this.#active.baseOffset, clean?: ManifestEntry): Promise<void> {
    const file = this.#manifestFile!;
    this.#manifestComplete = false;
    const entries = [headerEntry(closed.length + (clean ? 1 : 0))];
    for (let i = 0; i < closed.length; i++) entries.push(this.#entryOf(closed[i], KIND_CLOSED, i + 1 < closed.length ? closed[i + 1].baseOffset : nextBase));
    if (clean) entries.push(clean);
    await file.truncate(0);
    await file.write(0, encodeEntries(entries));
    await file.flush();
    this.#manifestBytes = (1 + closed.length) * ENTRY_BYTES;
    this.#manifestComplete = true;
  }

  /** Empties the manifest (durably) before a change other than a roll: a crash during it leaves no manifest to mislead. */
  async #emptyManifest(): Promise<void> {
    const file = this.#manifestFile!;
    this.#manifestComplete = false;
    this.#manifestBytes = 0;
    if (file.size > 0) {
      await file.truncate(0);
      await file.flush();
    }
  }

  /** A change of closed segments other than a roll: the manifest is emptied first and written whole after. */
  async #structural<T>(fn: () => Promise<T>): Promise<T> {
    await this.#emptyManifest();
    const result = await fn();
    await this.#saveManifestAfterChange();
    return result;
  }

  /** The change took effect: a manifest that cannot be written stays empty or torn (never used), and the next roll rewrites it. */
  async #saveManifestAfterChange(): Promise<void> {
    try {
      await this.#saveManifest();
    } catch {
      this.#manifestComplete = false;
    }
  }

  /** After a roll flushed `old` and wrote its indexes: its manifest entry (the new segment starts at nextBase). */
  async #recordRoll(old: Segment, nextBase: bigint): Promise<void> {
    try {
      if (!this.#manifestComplete) {
        await this.#saveManifest(this.#segments, nextBase);
        return;
      }
      const file = this.#manifestFile!;
      await file.write(this.#manifestBytes, encodeEntries([this.#entryOf(old, KIND_CLOSED, nextBase)]));
      await file.flush();
      this.#manifestBytes += ENTRY_BYTES;
    } catch (error) {
      // The roll fails and `old` stays active: no entry may claim it closed (it may have reached the disk).
      try {
        await this.#emptyManifest();
      } catch (undoError) {
        this.#takeOffline(storageError(`cannot undo a failed manifest write of ${this.dir}`, undoError));
      }
      throw error;
    }
  }

  async #roll(newBaseOffset: bigint): Promise<void> {
    if (this.#segments.length >= SEGMENT_COUNT_MAX) {
      throw new WafkaError('KAFKA_STORAGE_ERROR', `log ${this.dir} has ${this.#segments.length} segments, the limit is ${SEGMENT_COUNT_MAX}: raise segmentBytes or lower retention`, { retriable: false });
    }
    const old = this.#active;
    await old.file.flush();
    this.#unflushedRecords = 0;
    this.#lastFlushMs = this.clock.nowMs();
    old.sealTimeIndex();
    await this.#writeIndexes(old);
    await this.#recordRoll(old, newBaseOffset);
    const seg = await this.#openSegment(newBaseOffset, true);
    this.#segments.push(seg);
    this.#pinActive();
  }

  async #replaceEmptyActive(baseOffset: bigint): Promise<void> {
    await this.#structural(async () => {
      const old = this.#active;
      await old.file.close();
      await this.#removeSegmentFiles(old.baseOffset);
      this.#segments[this.#segments.length - 1] = await this.#openSegment(baseOffset, true);
      this.#pinActive();
    });
  }

  async #writeIndexes(seg: Segment): Promise<void> {
    await writeWhole(this.backend, this.#path(segmentFileName(seg.baseOffset, '.index')), seg.encodeOffsetIndex());
    await writeWhole(this.backend, this.#path(segmentFileName(seg.baseOffset, '.timeindex')), seg.encodeTimeIndex());
  }

  async #removeIndexes(baseOffset: bigint): Promise<void> {
    await this.backend.remove(this.#path(segmentFileName(baseOffset, '.index')));
    await this.backend.remove(this.#path(segmentFileName(baseOffset, '.timeindex')));
  }

  async #removeSegmentFiles(baseOffset: bigint): Promise<void> {
    await this.#removeIndexes(baseOffset);
    await this.backend.remove(this.#path(segmentFileName(baseOffset, '.log')));
  }

  async #deleteSegment(seg: Segment): Promise<void> {
    await seg.file.close();
    await this.#removeSegmentFiles(seg.baseOffset);
  }

  // ---------------------------------------------------------------- read

  /**
   * Reads whole batches starting with the batch that holds `offset` (or the
   * first batch after it, across a gap), up to `maxBytes` (0 ≤ maxBytes ≤
   * READ_BYTES_MAX) but at least one whole batch (Kafka's minOneMessage),
   * from one segment. OFFSET_OUT_OF_RANGE outside [logStartOffset, logEndOffset].
   */
  read(offset: bigint, maxBytes: number, options: ReadOptions = {}): Promise<ReadResult> {
    try {
      if (typeof offset !== 'bigint') throw new TypeError('offset must be a bigint');
      if (!Number.isSafeInteger(maxBytes) || maxBytes < 0 || maxBytes > READ_BYTES_MAX) {
        throw new WafkaError('INVALID_FETCH_SIZE', `maxBytes ${maxBytes} outside [0, ${READ_BYTES_MAX}]`);
      }
      const maxOffset = options.maxOffset;
      if (this.#syncActive()) {
        // Inside the call while every file the read needs is open with its indexes loaded; else (nothing
        // changed yet: the steps set the read hint only as they return) the read takes the queue.
        const steps = this.#readSteps(offset, maxBytes, maxOffset);
        let step = steps.next();
        while (!step.done) {
          const v = step.value;
          if ('prepare' in v) break;
          const file = v.file.syncFile();
          if (!file) break;
          step = steps.next(file.readSync(v.position, v.length));
        }
        if (step.done) return Promise.resolve(step.value);
      }
      return this.#exclusive(async () => {
        const steps = this.#readSteps(offset, maxBytes, maxOffset);
        let step = steps.next();
        while (!step.done) {
          const v = step.value;
          if ('prepare' in v) {
            await this.#ready(v.prepare);
            step = steps.next(NO_BYTES);
          } else step = steps.next(await v.file.read(v.position, v.length));
        }
        return step.value;
      }, true);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #result(bytes: Uint8Array, firstOffset: bigint, nextOffset: bigint): ReadResult {
    return { bytes, firstOffset, nextOffset, logStartOffset: this.#logStartOffset, logEndOffset: this.logEndOffset, highWatermark: this.#highWatermark };
  }

  *#readSteps(offset: bigint, maxBytes: number, maxOffset: bigint | undefined): ReadSteps {
    const leo = this.logEndOffset;
    if (offset < this.#logStartOffset || offset > leo) {
      throw new WafkaError('OFFSET_OUT_OF_RANGE', `offset ${offset} outside [logStartOffset ${this.#logStartOffset}, logEndOffset ${leo}] of ${this.dir}`);
    }
    const upper = maxOffset === undefined || maxOffset > leo ? leo : maxOffset;
    if (offset >= upper) return this.#result(new Uint8Array(0), offset, offset);
    for (let i = this.#segmentIndexFor(offset); i < this.#segments.length; i++) {
      const seg = this.#segments[i];
      if (offset >= seg.nextOffset) continue; // past this segment's last batch (compaction gap)
      const found = yield* this.#readFromSegment(seg, offset, maxBytes, upper);
      if (found) return found;
    }
    return this.#result(new Uint8Array(0), offset, offset);
  }

  *#readFromSegment(seg: Segment, offset: bigint, maxBytes: number, upper: bigint): Generator<ReadStep, ReadResult | undefined, Uint8Array> {
    if (!seg.indexesLoaded) yield { prepare: seg };
    const end = seg.size;
    const hint = this.#readHint;
    // A sequential read (at the nextOffset of the last read) starts where that read stopped: at
    // the batch after the last one returned, which holds `offset` or is the first after it.
    const sequential = hint !== undefined && hint.offset === offset && hint.segment === seg && hint.position < end;
    const start = sequential ? hint.position : seg.lookupPosition(offset);
    const before = sequential ? 0 : Math.min(seg.upperPosition(offset), end) - start;
    let bufPos = start;
    let buf = yield { file: seg.file, position: start, length: Math.min(end - start, before + Math.max(maxBytes, RECORD_BATCH_OVERHEAD)) };
    let dv = viewOf(buf);
    // Find the first batch whose lastOffset ≥ offset.
    let at = 0;
    for (;;) {
      if (bufPos + at >= end) return undefined;
      if (!headerFits(buf.length, at)) {
        bufPos += at;
        buf = yield { file: seg.file, position: bufPos, length: Math.min(end - bufPos, Math.max(maxBytes, RECORD_BATCH_OVERHEAD)) };
        dv = viewOf(buf);
        at = 0;
        if (buf.length < LOG_OVERHEAD) return undefined;
        continue;
      }
      const { sizeBytes, lastOffset } = batchSpanAt(dv, at);
      if (sizeBytes < RECORD_BATCH_OVERHEAD || sizeBytes > BATCH_BYTES_MAX) {
        throw new WafkaError('CORRUPT_MESSAGE', `${seg.file.path}: batch at position ${bufPos + at} has size ${sizeBytes}`);
      }
      if (lastOffset >= offset) break;
      at += sizeBytes;
    }
    const firstOffset = dv.getBigInt64(at);
    // Take whole batches from `at` while they fit in maxBytes (the first one always).
    let stop = at;
    let nextOffset = offset;
    for (;;) {
      if (!headerFits(buf.length, stop)) break;
      const { sizeBytes: size, lastOffset: last } = batchSpanAt(dv, stop);
      if (last >= upper) break;
      if (stop > at && stop + size - at > maxBytes) break;
      if (stop + size > buf.length) {
        if (stop > at) break;
        // The first batch is larger than what was read (minOneMessage): read exactly it.
        const whole = yield { file: seg.file, position: bufPos + at, length: size };
        if (whole.length < size) throw new WafkaError('CORRUPT_MESSAGE', `${seg.file.path}: batch at ${bufPos + at} runs past the segment end`);
        this.#readHint = { offset: last + 1n, segment: seg, position: bufPos + at + size };
        return this.#result(whole, firstOffset, last + 1n);
      }
      stop += size;
      nextOffset = last + 1n;
      if (stop - at >= maxBytes) break;
    }
    if (stop === at) return this.#result(new Uint8Array(0), offset, offset);
    this.#readHint = { offset: nextOffset, segment: seg, position: bufPos + stop };
    return this.#result(buf.subarray(at, stop), firstOffset, nextOffset);
  }

  /** Index of the segment with the largest baseOffset ≤ offset (0 if none). */
  #segmentIndexFor(offset: bigint): number {
    let lo = 0;
    let hi = this.#segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.#segments[mid].baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * Kafka's ListOffsets by timestamp: the first offset (≥ logStartOffset)
   * whose record timestamp is ≥ timestampMs, with that timestamp; undefined if
   * every record is older. LATEST_TIMESTAMP (-1) → logEndOffset,
   * EARLIEST_TIMESTAMP (-2) → logStartOffset (timestampMs -1 in both).
   */
  offsetForTimestamp(timestampMs: number): Promise<{ offset: bigint; timestampMs: number } | undefined> {
    return this.#exclusive(async () => {
      if (timestampMs === LATEST_TIMESTAMP) return { offset: this.logEndOffset, timestampMs: -1 };
      if (timestampMs === EARLIEST_TIMESTAMP) return { offset: this.#logStartOffset, timestampMs: -1 };
      // Any time in ms up to 2^63 (record timestamps are int64); above 2^53 compared as doubles, as they are stored.
      if (!Number.isInteger(timestampMs) || timestampMs < 0 || timestampMs > 2 ** 63) {
        throw new WafkaError('INVALID_REQUEST', `timestampMs ${timestampMs}: expected an integer in [0, 2^63]`);
      }
      for (const seg of this.#segments) {
        if (seg.maxTimestampMs < timestampMs || seg.nextOffset <= this.#logStartOffset) continue;
        await this.#ready(seg);
        let pos = seg.lookupTimePosition(timestampMs);
        while (pos < seg.size) {
          const buf = await seg.file.read(pos, Math.min(seg.size - pos, SCAN_WINDOW_BYTES));
          const dv = viewOf(buf);
          let at = 0;
          for (const span of batchSpans(dv)) {
            if (span.sizeBytes < RECORD_BATCH_OVERHEAD) throw new WafkaError('CORRUPT_MESSAGE', `${seg.file.path}: batch at ${pos + at} has size ${span.sizeBytes}`);
            if (!spanIsWhole(span, buf.length)) break;
            if (Number(dv.getBigInt64(at + MAX_TIMESTAMP_OFFSET)) >= timestampMs && span.lastOffset >= this.#logStartOffset) {
              const hit = await firstRecordAtOrAfter(buf.subarray(at, at + span.sizeBytes), timestampMs, this.#logStartOffset);
              if (hit) return hit;
            }
            at += span.sizeBytes;
          }
          if (at === 0) {
            // A batch larger than the window: widen by reading it alone next round.
            const size = batchSizeAt(buf, 0);
            const whole = await seg.file.read(pos, size);
            const hit = Number(viewOf(whole).getBigInt64(MAX_TIMESTAMP_OFFSET)) >= timestampMs ? await firstRecordAtOrAfter(whole, timestampMs, this.#logStartOffset) : undefined;
            if (hit) return hit;
            at = size;
          }
          pos += at;
        }
      }
      return undefined;
    });
  }

  // ---------------------------------------------------------------- truncation, retention

  /**
   * Removes every batch holding an offset ≥ `offset` (a batch spanning it goes
   * whole, so logEndOffset may end below `offset`). Below logStartOffset, or
   * when the batch that goes holds logStartOffset too, the log is emptied and
   * restarts at `offset` (Kafka's truncateFullyAndStartAt).
   */
  truncateTo(offset: bigint): Promise<void> {
    return this.#exclusive(async () => {
      if (offset < 0n) throw new RangeError(`truncateTo(${offset})`);
      if (offset >= this.logEndOffset) return;
      if (offset < this.#logStartOffset || offset <= this.#segments[0].baseOffset) {
        await this.#truncateFullyAndStartAt(offset);
        return;
      }
      // Cutting into a closed segment changes the closed ones: the manifest is emptied first, written after.
      const closedChange = this.#active.baseOffset >= offset;
      if (closedChange) await this.#emptyManifest();
      while (this.#segments.length > 1 && this.#active.baseOffset >= offset) {
        const seg = this.#segments.pop()!;
        await this.#deleteSegment(seg);
      }
      const seg = this.#active;
      if (closedChange) {
        this.#pinActive();
        await this.#ready(seg);
      }
      await this.#removeIndexes(seg.baseOffset);
      // Find the first batch with lastOffset ≥ offset.
      let cut = seg.size;
      let pos = seg.lookupPosition(offset);
      search: while (pos < seg.size) {
        const buf = await seg.file.read(pos, Math.min(seg.size - pos, SCAN_WINDOW_BYTES));
        const dv = viewOf(buf);
        let at = 0;
        for (const span of batchSpans(dv)) {
          if (span.lastOffset >= offset) {
            cut = pos + at;
            break search;
          }
          if (!spanIsWhole(span, buf.length)) break;
          at += span.sizeBytes;
        }
        if (at === 0) at = batchSizeAt(buf, 0);
        pos += at;
      }
      await seg.file.truncate(cut);
      await this.#rebuild(seg);
      if (this.logEndOffset < this.#logStartOffset) {
        // The cut batch also held logStartOffset: nothing at or above it is left, so restart at `offset` (logStartOffset ≤ logEndOffset).
        await this.#truncateFullyAndStartAt(offset);
        return;
      }
      // What is kept in memory follows the cut before anything below can fail: an epoch left starting past the end
      // would be what this follower fetches with, and its leader would answer it with the same divergence forever.
      // The files catch up on the next save, or at open after a crash (which drops epochs past the end).
      if (this.#highWatermark > this.logEndOffset) this.#highWatermark = this.logEndOffset;
      this.#epochs.truncateFromEnd(this.logEndOffset);
      await seg.file.flush();
      if (this.#epochs.unsaved) await this.#epochs.save();
      await this.#saveState(true);
      if (closedChange) await this.#saveManifestAfterChange();
    });
  }

  /** Removes everything and starts the log over at `offset` (any offset ≥ 0), with no leader epochs: a follower behind its leader's log start. */
  truncateFullyAndStartAt(offset: bigint): Promise<void> {
    return this.#exclusive(async () => {
      if (offset < 0n) throw new RangeError(`truncateFullyAndStartAt(${offset})`);
      await this.#truncateFullyAndStartAt(offset, 0n);
    });
  }

  /** Starts the log over at `offset`; leader epochs starting at or past `epochsFrom` go. */
  async #truncateFullyAndStartAt(offset: bigint, epochsFrom = offset): Promise<void> {
    await this.#emptyManifest();
    try {
      while (this.#segments.length > 0) await this.#deleteSegment(this.#segments.pop()!);
      this.#segments.push(await this.#openSegment(offset, true));
    } catch (error) {
      // Segments are gone and none stands in their place: nothing in memory describes the files any more.
      throw this.#takeOffline(storageError(`cannot start ${this.dir} over at ${offset}`, error));
    }
    this.#pinActive();
    // As in truncateTo: memory follows the files before a save can fail.
    this.#logStartOffset = offset;
    this.#highWatermark = offset;
    this.#epochs.truncateFromEnd(epochsFrom);
    await this.#saveManifestAfterChange();
    if (this.#epochs.unsaved) await this.#epochs.save();
    await this.#saveState(true);
  }

  /** Re-reads a segment from position 0 to rebuild its indexes and offsets (no CRC check: the bytes were checked when written). */
  async #rebuild(seg: Segment): Promise<void> {
    seg.reset();
    const outcome = await scanSegment(seg, 0, false, this.config.indexIntervalBytes);
    if (outcome.validEnd !== seg.file.size) {
      throw storageError(`${seg.file.path}: rebuild stopped at ${outcome.validEnd} of ${seg.file.size}: ${outcome.problem ? JSON.stringify(outcome.problem) : ''}`);
    }
    if (seg.rollBaseMs < 0 && seg.size > 0) seg.rollBaseMs = this.clock.nowMs();
  }

  /**
   * Kafka's DeleteRecords: moves logStartOffset up to `offset` (≤ highWatermark,
   * else OFFSET_OUT_OF_RANGE) and deletes the segments wholly below it.
   * Returns the new logStartOffset.
   */
  deleteRecordsBefore(offset: bigint): Promise<bigint> {
    return this.#exclusive(async () => {
      if (offset > this.#highWatermark) {
        throw new WafkaError('OFFSET_OUT_OF_RANGE', `deleteRecordsBefore(${offset}) above highWatermark ${this.#highWatermark} of ${this.dir}`);
      }
      if (offset <= this.#logStartOffset) return this.#logStartOffset;
      await this.#moveLogStart(offset);
      await this.#deleteLeadingSegments(0);
      return this.#logStartOffset;
    });
  }

  async #moveLogStart(offset: bigint): Promise<void> {
    this.#logStartOffset = offset;
    if (this.#highWatermark < offset) this.#highWatermark = offset;
    this.#epochs.truncateFromStart(offset);
    if (this.#epochs.unsaved) await this.#epochs.save();
    await this.#saveState(true);
  }

  /** Deletes the first `count` segments and all further whole segments below logStartOffset; never the active one. */
  async #deleteLeadingSegments(count: number): Promise<RetentionResult> {
    while (count < this.#segments.length - 1 && this.#segments[count + 1].baseOffset <= this.#logStartOffset) count++;
    count = Math.min(count, this.#segments.length - 1);
    let bytes = 0;
    if (count > 0) {
      const newStart = this.#segments[count].baseOffset;
      // The checkpoint moves first: a crash before the files go leaves segments below logStartOffset, deleted next time.
      if (newStart > this.#logStartOffset) await this.#moveLogStart(newStart);
      await this.#structural(async () => {
        const doomed = this.#segments.splice(0, count);
        for (const seg of doomed) {
          bytes += seg.size;
          await this.#deleteSegment(seg);
        }
      });
    }
    return { segmentsDeleted: count, bytesDeleted: bytes, logStartOffset: this.#logStartOffset };
  }

  /**
   * Deletes whole closed segments (never the active one), oldest first, while
   * either holds: it lies wholly below logStartOffset; or cleanupPolicy has
   * 'delete', it lies wholly below the highWatermark (as Kafka), and its newest
   * timestamp is more than retentionMs before nowMs or the log is larger than
   * retentionBytes without it.
   */
  runRetention(nowMs: number = this.clock.nowMs()): Promise<RetentionResult> {
    return this.#exclusive(async () => {
      const segs = this.#segments;
      const closed = segs.length - 1;
      let count = 0;
      if (this.config.cleanupPolicy !== 'compact') {
        if (this.config.retentionMs >= 0) {
          let n = 0;
          while (n < closed && nowMs - segs[n].maxTimestampMs > this.config.retentionMs) n++;
          count = Math.max(count, n);
        }
        if (this.config.retentionBytes >= 0) {
          let excess = this.sizeBytes - this.config.retentionBytes;
          let n = 0;
          while (n < closed && excess - segs[n].size >= 0) excess -= segs[n++].size;
          count = Math.max(count, n);
        }
      }
      // As Kafka: a segment goes only when all of it is below the highWatermark (the next segment starts at or below it).
      let belowHw = 0;
      while (belowHw < closed && segs[belowHw + 1].baseOffset <= this.#highWatermark) belowHw++;
      return this.#deleteLeadingSegments(Math.min(count, belowHw));
    });
  }

  // ---------------------------------------------------------------- compaction

  /**
   * Log compaction (cleanupPolicy 'compact' or 'compact,delete'): keeps the
   * latest record of each key in the closed segments that are older than
   * minCompactionLagMs and wholly below the highWatermark, keeping offsets
   * (the log gets gaps, as Kafka's does, but never at a segment's end: the
   * last record of each segment is kept, so that recovery can tell a
   * segment that lost its tail from a compacted one). Tombstones (null value) whose
   * timestamp is more than deleteRetentionMs before nowMs are dropped too.
   * Control batches and transactional batches are kept as they are. Records
   * without a key are kept. Each changed segment is rewritten whole and
   * swapped in (<base>.log.cleaned → .log.swap → .log).
   */
  compact(nowMs: number = this.clock.nowMs()): Promise<CompactionResult> {
    return this.#exclusive(async () => {
      const result: CompactionResult = { segmentsCleaned: 0, bytesBefore: 0, bytesAfter: 0, recordsRemoved: 0, tombstonesRemoved: 0 };
      if (this.config.cleanupPolicy === 'delete') return result;
      const cleanable: Segment[] = [];
      for (let i = 0; i < this.#segments.length - 1; i++) {
        const seg = this.#segments[i];
        if (seg.maxTimestampMs > nowMs - this.config.minCompactionLagMs || seg.nextOffset > this.#highWatermark) break;
        cleanable.push(seg);
      }
      // Pass 1: the latest offset of every key.
      const latest = new Map<string, bigint>();
      let usable = 0;
      for (const seg of cleanable) {
        const bytes = await seg.file.read(0, seg.size);
        for (const batch of walk(bytes)) {
          if (batch.attributes & (ATTR_CONTROL | ATTR_TRANSACTIONAL)) continue;
          for (const r of await decodeForCompaction(batch.bytes)) if (r.key !== null) latest.set(r.key, r.offset);
        }
        usable++;
        if (latest.size > COMPACTION_KEYS_MAX) break;
      }
      const horizonMs = nowMs - this.config.deleteRetentionMs;
      // Pass 2: rewrite.
      for (const seg of cleanable.slice(0, usable)) {
        const bytes = await seg.file.read(0, seg.size);
        const parts: Uint8Array[] = [];
        const segmentLastOffset = seg.nextOffset - 1n;
        let changed = false;
        for (const batch of walk(bytes)) {
          if (batch.attributes & (ATTR_CONTROL | ATTR_TRANSACTIONAL)) {
            parts.push(batch.bytes);
            continue;
          }
          const records = await decodeForCompaction(batch.bytes);
          const keep = records.filter((r) => {
            // The segment's last record stays, whatever it is: the segment keeps ending where the next begins.
            if (r.offset === segmentLastOffset) return true;
            if (r.key === null) return true;
            if (latest.get(r.key) !== r.offset) {
              result.recordsRemoved++;
              return false;
            }
            if (r.isTombstone && r.timestampMs <= horizonMs) {
              result.tombstonesRemoved++;
              return false;
            }
            return true;
          });
          if (keep.length === records.length) parts.push(batch.bytes);
          else {
            changed = true;
            if (keep.length > 0) parts.push(await encodeRetained(batch.bytes, keep));
          }
        }
        if (!changed) continue;
        const cleaned = concatBytes(parts);
        result.segmentsCleaned++;
        result.bytesBefore += seg.size;
        result.bytesAfter += cleaned.length;
        const index = this.#segments.indexOf(seg);
        if (result.segmentsCleaned === 1) await this.#emptyManifest();
        this.#segments[index] = await this.#swapIn(seg, cleaned);
      }
      if (result.segmentsCleaned > 0) await this.#saveManifestAfterChange();
      return result;
    });
  }

  /** Replaces a closed segment's bytes: write `.log.cleaned`, rename to `.log.swap`, drop the old files, rename to `.log`. */
  async #swapIn(old: Segment, cleaned: Uint8Array): Promise<Segment> {
    const base = old.baseOffset;
    const logPath = this.#path(segmentFileName(base, '.log'));
    await writeWhole(this.backend, `${logPath}.cleaned`, cleaned);
    await this.backend.rename(`${logPath}.cleaned`, `${logPath}.swap`);
    await old.file.close();
    await this.#removeSegmentFiles(base);
    await this.backend.rename(`${logPath}.swap`, logPath);
    const seg = await this.#openSegment(base, false);
    await this.#rebuild(seg);
    seg.rollBaseMs = old.rollBaseMs;
    seg.sealTimeIndex();
    await this.#writeIndexes(seg);
    return seg;
  }

  // ---------------------------------------------------------------- flush, close, delete

  /** Flushes the active segment (fdatasync or the backend's nearest) and the log state checkpoint. */
  flush(): Promise<void> {
    return this.#exclusive(() => this.#flush());
  }

  async #flush(): Promise<void> {
    await this.#active.file.flush();
    this.#unflushedRecords = 0;
    this.#lastFlushMs = this.clock.nowMs();
    await this.#saveState(false);
  }

  async #saveState(force: boolean): Promise<void> {
    const entries = [`logStartOffset ${this.#logStartOffset}`, `highWatermark ${this.#highWatermark}`];
    const text = entries.join('\n');
    if (!force && text === this.#savedState) return;
    await writeCheckpoint(this.backend, this.#path(LOG_STATE_CHECKPOINT), entries);
    this.#savedState = text;
  }

  /** Flushes, writes the active segment's indexes (so the next open scans only its tail) and releases every file. Idempotent. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return this.#enqueue(async () => {
      if (this.#closed) return;
      this.#readHint = undefined;
      clearTimeout(this.#flushTimer);
      try {
        if (!this.#failure) {
          await this.#flush();
          const active = this.#active;
          active.sealTimeIndex();
          await this.#writeIndexes(active);
          await this.#recordCleanClose(active);
        }
      } finally {
        this.#closed = true;
        await this.#closeFiles();
      }
    });
  }

  /** Closes the log without writing anything and removes its directory (Kafka's DeleteTopics). */
  delete(): Promise<void> {
    return this.#enqueue(async () => {
      clearTimeout(this.#flushTimer);
      this.#closed = true;
      this.#readHint = undefined;
      await this.#closeFiles();
      await this.backend.removeDir(this.dir);
    });
  }

  /** The clean-close record: the next open trusts the active segment as closed here and scans nothing. */
  async #recordCleanClose(active: Segment): Promise<void> {
    const clean = this.#entryOf(active, KIND_CLEAN_CLOSE, active.nextOffset);
    if (!this.#manifestComplete) {
      await this.#saveManifest(this.#segments.slice(0, -1), active.baseOffset, clean);
      return;
    }
    const file = this.#manifestFile!;
    await file.write(this.#manifestBytes, encodeEntries([clean]));
    await file.flush();
  }

  async #closeFiles(): Promise<void> {
    let first: unknown;
    try {
      await this.#manifestFile?.close();
    } catch (error) {
      first = error;
    }
    for (const seg of this.#segments) {
      try {
        await seg.file.close();
      } catch (error) {
        first ??= error;
      }
    }
    if (first) throw storageError(`closing ${this.dir}`, first);
  }

  // ---------------------------------------------------------------- recovery

  async #recover(listAlways = false): Promise<void> {
    const report = this.recovery;
    this.#manifestFile ??= await this.backend.openFile(this.#path(SEGMENT_MANIFEST));
    let manifest = decodeManifest(await this.#manifestFile.read(0, this.#manifestFile.size));
    const sizes = this.backend.listSizes ? await this.backend.listSizes(this.dir) : undefined;
    // Without sizes to check, a usable manifest is the list of segments: the directory is not even listed.
    const activeBase = manifest ? (manifest.clean?.baseOffset ?? manifest.closed[manifest.closed.length - 1]?.nextSegmentBase) : undefined;
    const fromManifest = manifest !== undefined && activeBase !== undefined && !sizes && !listAlways;
    let sorted: bigint[];
    if (fromManifest) {
      sorted = [...manifest!.closed.map((e) => e.baseOffset), activeBase!];
    } else {
      const names = sizes ? [...sizes.keys()].sort() : await this.backend.list(this.dir);
      const bases = new Set<string>();
      for (const name of names) {
        const m = SEGMENT_NAME.exec(name);
        if (!m) continue;
        if (m[2] === 'log.cleaned') {
          await this.backend.remove(this.#path(name));
          report.swapsCompleted++;
          manifest = undefined; // (a compaction empties the manifest first: none is expected here)
        } else if (m[2] === 'log.swap') {
          await this.#removeSegmentFiles(BigInt(m[1]));
          await this.backend.rename(this.#path(name), this.#path(`${m[1]}.log`));
          bases.add(m[1]);
          report.swapsCompleted++;
          manifest = undefined;
        } else if (m[2] === 'log') bases.add(m[1]);
      }
      sorted = [...bases].sort().map((b) => BigInt(b));
    }
    const trusted = new Map<bigint, ManifestEntry>();
    for (const e of manifest?.closed ?? []) trusted.set(e.baseOffset, e);
    let trustedCount = 0;
    await this.#epochs.load();
    const state = await readCheckpoint(this.backend, this.#path(LOG_STATE_CHECKPOINT));
    let checkpointStart = 0n;
    let checkpointHw = 0n;
    for (const line of state ?? []) {
      const m = /^(logStartOffset|highWatermark) (\d+)$/.exec(line);
      if (m?.[1] === 'logStartOffset') checkpointStart = BigInt(m[2]);
      if (m?.[1] === 'highWatermark') checkpointHw = BigInt(m[2]);
    }

    for (let i = 0; i < sorted.length; i++) {
      const base = sorted[i];
      const last = i === sorted.length - 1;
      const entry = trusted.get(base);
      const path = this.#path(segmentFileName(base, '.log'));
      const before = this.#segments[this.#segments.length - 1];
      if (entry && !last && (!sizes || sizes.get(segmentFileName(base, '.log')) === entry.sizeBytes) && (!before || before.nextOffset === base)) {
        // Closed, flushed and listed by the manifest: taken as listed, its files opened on first use.
        this.#segments.push(Segment.fromManifest(entry, new SegmentFile(this.backend, this.#fileCache, path, entry.sizeBytes)));
        trustedCount++;
        continue;
      }
      const seg = await this.#openSegment(base, false);
      this.#segments.push(seg);
      const previous = this.#segments[this.#segments.length - 2];
      let bad: string | undefined;
      let dropFromHere = false;
      if (previous && seg.baseOffset < previous.nextOffset) {
        bad = `segment ${seg.baseOffset} overlaps the previous one (nextOffset ${previous.nextOffset})`;
        dropFromHere = true;
      } else {
        const fileSize = seg.file.size;
        const clean = last ? manifest?.clean : undefined;
        const outcome = clean && clean.baseOffset === base && clean.sizeBytes === fileSize && (await this.#loadCleanActive(seg, clean))
          ? { validEnd: fileSize }
          : await this.#recoverSegment(seg);
        if (outcome.validEnd < fileSize) {
          report.bytesTruncated += fileSize - outcome.validEnd;
          if (report.problems.length < 16) report.problems.push(`${seg.file.path} @${outcome.validEnd}: ${describe(outcome.problem)}`);
          await this.#removeIndexes(seg.baseOffset);
          await seg.file.truncate(outcome.validEnd);
          await seg.file.flush();
          if (i < sorted.length - 1) bad = `${seg.file.path} was truncated: later segments would leave a hole`;
        }
        if (previous && seg.baseOffset > previous.nextOffset && !(await this.#startsPastSegmentSpan(seg, previous))) {
          // The previous segment lost its tail (at a batch boundary, so its own scan found nothing wrong).
          bad = `segment ${seg.baseOffset} does not start where the previous one ends (nextOffset ${previous.nextOffset}): offsets ${previous.nextOffset}..${seg.baseOffset - 1n} are missing`;
          dropFromHere = true;
        }
      }
      if (bad) {
        // Drop this segment (if it overlaps or leaves a hole) or the ones after it (if it was cut).
        const from = dropFromHere ? i : i + 1;
        if (from === i) {
          this.#segments.pop();
          await seg.file.close();
        }
        for (let j = from; j < sorted.length; j++) {
          const path = this.#path(segmentFileName(sorted[j], '.log'));
          const f = await this.backend.openFile(path);
          report.bytesTruncated += f.size;
          await f.close();
          await this.#removeSegmentFiles(sorted[j]);
          report.segmentsDeleted++;
        }
        if (report.problems.length < 16) report.problems.push(bad);
        break;
      }
    }
    if (fromManifest && !manifest!.clean && (await this.#exists(segmentFileName(this.#active.nextOffset, '.log')))) {
      // A segment starts where the presumed active one ends: the manifest lost its last entry. List instead.
      await this.#closeFiles();
      this.#manifestFile = undefined;
      this.#segments = [];
      this.recovery = { segmentCount: 0, bytesTruncated: 0, segmentsDeleted: 0, bytesScanned: 0, swapsCompleted: 0, problems: [] };
      await this.#recover(true);
      return;
    }
    if (this.#segments.length === 0) this.#segments.push(await this.#openSegment(checkpointStart, true));
    this.#pinActive();
    report.segmentCount = this.#segments.length;

    const first = this.#segments[0].baseOffset;
    this.#logStartOffset = checkpointStart > first ? checkpointStart : first;
    if (this.#logStartOffset > this.logEndOffset) {
      // Data up to logStartOffset was lost (a crash before it was flushed): start over there.
      await this.#truncateFullyAndStartAt(this.#logStartOffset);
    }
    const leo = this.logEndOffset;
    this.#highWatermark = checkpointHw < this.#logStartOffset ? this.#logStartOffset : checkpointHw > leo ? leo : checkpointHw;
    const a = this.#epochs.truncateFromEnd(leo);
    const b = this.#epochs.truncateFromStart(this.#logStartOffset);
    if (a || b) await this.#epochs.save();
    const active = this.#active;
    if (active.size > 0 && active.rollBaseMs < 0) active.rollBaseMs = active.maxTimestampMs >= 0 ? Math.min(active.maxTimestampMs, this.clock.nowMs()) : this.clock.nowMs();
    await this.#settleManifest(manifest, trustedCount);
    await this.#fileCache.trim();
  }

  /**
   * After recovery: a manifest that listed exactly the closed segments found loses only its
   * clean-close record (the active segment changes from now on); any other is written anew.
   */
  async #settleManifest(manifest: Manifest | undefined, trustedCount: number): Promise<void> {
    if (this.#manifestComplete) return; // written during recovery already
    const closed = this.#segments.length - 1;
    const exact = manifest !== undefined && trustedCount === closed && manifest.closed.length === closed
      && (closed === 0 ? manifest.clean?.baseOffset === this.#active.baseOffset : manifest.closed[closed - 1].nextSegmentBase === this.#active.baseOffset);
    if (!exact) {
      await this.#saveManifestAfterChange();
      return;
    }
    const file = this.#manifestFile!;
    if (file.size > manifest.closedBytes) {
      await file.truncate(manifest.closedBytes);
      await file.flush();
    }
    this.#manifestBytes = manifest.closedBytes;
    this.#manifestComplete = true;
  }

  async #exists(name: string): Promise<boolean> {
    try {
      await (await this.backend.openFile(this.#path(name), { create: false })).close();
      return true;
    } catch {
      return false;
    }
  }

  /** The active segment as a clean close left it (its index files and the clean-close record): nothing to scan. */
  async #loadCleanActive(seg: Segment, clean: ManifestEntry): Promise<boolean> {
    const offsetIndex = await readWhole(this.backend, this.#path(segmentFileName(seg.baseOffset, '.index')));
    const timeIndex = await readWhole(this.backend, this.#path(segmentFileName(seg.baseOffset, '.timeindex')));
    if (!offsetIndex || !timeIndex || !seg.loadIndexes(offsetIndex, timeIndex, clean.sizeBytes)) {
      seg.reset();
      return false;
    }
    seg.takeState(clean);
    return true;
  }

  /**
   * Whether `seg` rightly starts after a gap: its first batch's offsets could not have been held by a
   * segment starting at the previous segment's end (the one case where a roll does not start at the log end).
   */
  async #startsPastSegmentSpan(seg: Segment, previous: Segment): Promise<boolean> {
    if (seg.size < RECORD_BATCH_OVERHEAD) return false;
    const first = batchSpanAt(viewOf(await seg.file.read(0, RECORD_BATCH_OVERHEAD)), 0);
    return first.lastOffset - previous.nextOffset > SEGMENT_OFFSET_SPAN_MAX;
  }

  /** Loads a segment's index files if sane and scans (with CRCs) from the last index entry; else scans it whole. */
  async #recoverSegment(seg: Segment): Promise<{ validEnd: number; problem?: unknown }> {
    const interval = this.config.indexIntervalBytes;
    const offsetIndex = await readWhole(this.backend, this.#path(segmentFileName(seg.baseOffset, '.index')));
    const timeIndex = await readWhole(this.backend, this.#path(segmentFileName(seg.baseOffset, '.timeindex')));
    if (offsetIndex && timeIndex && seg.loadIndexes(offsetIndex, timeIndex, seg.file.size)) {
      const from = seg.lastIndexedPosition;
      let trusted = true;
      if (seg.idxCount > 0) {
        const header = await seg.file.read(from, RECORD_BATCH_OVERHEAD);
        const dv = viewOf(header);
        trusted = headerFits(header.length, 0) && batchSpanAt(dv, 0).lastOffset === seg.lastIndexedOffset;
        if (trusted) {
          seg.size = from;
          seg.nextOffset = dv.getBigInt64(0);
          seg.bytesSinceIndexEntry = 0; // as right after that entry was added: the tail scan adds none for its batch
        }
      }
      if (trusted) {
        const outcome = await scanSegment(seg, from, true, interval);
        this.recovery.bytesScanned += seg.file.size - from;
        if (outcome.validEnd >= from) return outcome;
      }
      seg.reset();
    }
    const outcome = await scanSegment(seg, 0, true, interval);
    this.recovery.bytesScanned += seg.file.size;
    return outcome;
  }
}

function describe(problem: unknown): string {
  if (!problem) return 'unknown';
  const p = problem as { kind: string; message?: string };
  return `${p.kind === 'partial' ? 'torn batch' : 'corrupt batch'}: ${p.message ?? ''}`;
}

/** Opens a log: `PartitionLog.open` under its documented name. */
export function openPartitionLog(options: OpenPartitionLogOptions): Promise<PartitionLog> {
  return PartitionLog.open(options);
}

async function writeWhole(backend: StorageBackend, path: string, bytes: Uint8Array): Promise<void> {
  const file = await backend.openFile(path);
  try {
    if (file.size > 0) await file.truncate(0);
    if (bytes.length > 0) await file.write(0, bytes);
    await file.flush();
  } finally {
    await file.close();
  }
}

async function readWhole(backend: StorageBackend, path: string): Promise<Uint8Array | undefined> {
  let file: StorageFile;
  try {
    file = await backend.openFile(path, { create: false });
  } catch {
    return undefined;
  }
  try {
    return await file.read(0, file.size);
  } finally {
    await file.close();
  }
}

function* walk(bytes: Uint8Array): Generator<{ bytes: Uint8Array; attributes: number }> {
  const dv = viewOf(bytes);
  for (const span of batchSpans(dv)) {
    if (!spanIsWhole(span, bytes.length)) throw new WafkaError('CORRUPT_MESSAGE', `batch at ${span.at} has size ${span.sizeBytes}`);
    yield { bytes: bytes.subarray(span.at, span.at + span.sizeBytes), attributes: dv.getInt16(span.at + ATTRIBUTES_OFFSET) };
  }
}
