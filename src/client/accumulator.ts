/**
 * The producer's record accumulator, as Kafka's Java client has it
 * (RecordAccumulator): a queue of batches per topic-partition. `add` writes a
 * record straight into the partition's open batch (a StagedRecords of the
 * core: its bytes in a staging buffer, nothing per record kept as an object)
 * and counts its exact size in the batch; a batch is sealed when the next
 * record would take it past `batchSizeBytes` (a record larger than that gets a
 * batch of its own), or when the sender drains it after `lingerMs`. With
 * `abortOnNewBatch`, add returns null instead of starting a new batch, so
 * that a sticky partitioner can pick another partition first (Kafka's
 * KIP-480). The sender encodes drained batches with the core; the staging is
 * kept until the batch completes (a retry encodes it again).
 *
 * Bounded by what is really held, as Kafka's BufferPool counts buffer.memory:
 * `bufferedBytes` is the staging capacity of every incomplete batch (its
 * buffers' sizes, strings staged as UTF-8) plus the encoded produce requests
 * in flight (holdRequest), and `reserve()` makes a send wait while that is at
 * `bufferMemoryBytes`. A record's estimate (estimateRecordBytes) is reserved
 * before it is staged and then replaced by what staging it really added, so
 * the bound is passed by at most one batch's staging growth. While someone
 * waits, every open batch counts as ready, so the sender drains them (Kafka's
 * "exhausted" rule) and the wait ends.
 *
 * Batches of a partition are sent in order: the sender drains a partition's
 * batches front to back, and a retry puts them back at the front (so does
 * a split: a batch of several records that the broker found too large goes
 * back as two batches with its records, in order; see split()).
 */
import { StagedRecords, type StringRun } from '../core/staged-batch.ts';
import type { RecordHeaders } from '../core/batch.ts';
import type { Acks } from '../protocol/types.ts';
import type { CompressionType, IHeaders } from './types.ts';

/** A record as given to append(). */
export interface PendingRecord {
  key: Uint8Array | string | null;
  value: Uint8Array | string | null;
  headers: IHeaders | undefined;
  /** Milliseconds since the epoch. */
  timestamp: number;
}

/** RecordBatch v2 header bytes (61) and a record's framing at most (length, attributes, deltas, lengths). */
export const BATCH_OVERHEAD_BYTES = 61;
export const RECORD_OVERHEAD_BYTES = 21;

const byteLength = (x: Uint8Array | string | null | undefined) => (x == null ? 0 : x.length);

/**
 * What a record counts against bufferMemoryBytes before it is encoded: its
 * framing at most plus its keys' and values' lengths (bytes, or characters
 * of strings). The size in the batch (batchSizeBytes) is exact.
 */
export function estimateRecordBytes(record: { key?: Uint8Array | string | null; value?: Uint8Array | string | null; headers?: IHeaders }): number {
  let bytes = RECORD_OVERHEAD_BYTES + byteLength(record.key) + byteLength(record.value);
  const headers = record.headers;
  if (headers) {
    for (const name in headers) {
      const v = headers[name];
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const item of v) bytes += 10 + name.length + byteLength(item);
      else bytes += 10 + name.length + byteLength(v);
    }
  }
  return bytes;
}

export interface BatchResult { baseOffset: bigint; logAppendTimeMs: bigint; logStartOffset: bigint }

export class ProducerBatch {
  readonly topic: string;
  readonly partition: number;
  readonly acks: Acks;
  readonly compression: CompressionType;
  readonly createdMs: number;
  /** The records, staged for the core's batch builder (released when the batch completes). */
  readonly staged: StagedRecords;
  recordCount = 0;
  /** Exact bytes of the batch, uncompressed, header included. */
  sizeBytes = BATCH_OVERHEAD_BYTES;
  /** Bytes counted against bufferMemoryBytes for it: its staging capacity (see RecordAccumulator.#account). */
  heldBytes = 0;
  sealed = false;
  attempts = 0;
  retryAtMs = 0;
  /** The longest timeout of the sends whose records it holds (the produce request's timeout). */
  timeoutMs = 0;
  /** Sent in a request of its own (after a partition's batches failed together for a size or validity error). */
  sendAlone = false;
  readonly done: Promise<BatchResult>;
  resolve!: (result: BatchResult) => void;
  reject!: (error: unknown) => void;
  settled = false;
  /** How it completed (unset while under way, and for a batch split into parts). */
  outcome: { result: BatchResult } | { error: unknown } | undefined;
  /**
   * Set when the broker found it too large and it was split (Kafka's
   * splitAndReenqueue): the batches its records went to, in order, each with
   * the index of its first record here. `done` then resolves once every part
   * has completed; the outcome of each record is its part's (recordOutcome).
   */
  parts: { from: number; batch: ProducerBatch }[] | undefined;

  constructor(topic: string, partition: number, acks: Acks, compression: CompressionType, nowMs: number, capacityBytes = 16_384, budgetBytes = Infinity) {
    this.staged = new StagedRecords(capacityBytes, budgetBytes);
    this.topic = topic;
    this.partition = partition;
    this.acks = acks;
    this.compression = compression;
    this.createdMs = nowMs;
    this.done = new Promise<BatchResult>((resolve, reject) => { this.resolve = resolve; this.reject = reject; });
    this.done.catch(() => {}); // senders observe it; an unobserved failure is not a crash
  }
}

/**
 * The outcome of record `index` of a completed batch, through its splits:
 * its offset (-1 when unknown, acks=0) and the batch's result, or the error
 * of the batch it was last sent in.
 */
export function recordOutcome(batch: ProducerBatch, index: number): { offset: bigint; result: BatchResult } | { error: unknown } {
  for (;;) {
    const parts = batch.parts;
    if (parts === undefined) break;
    let p = parts.length - 1;
    while (p > 0 && parts[p].from > index) p--;
    index -= parts[p].from;
    batch = parts[p].batch;
  }
  const outcome = batch.outcome;
  if (outcome === undefined) return { error: new Error('wafka: batch not completed') };
  if ('error' in outcome) return outcome;
  const r = outcome.result;
  return { offset: r.baseOffset < 0n ? -1n : r.baseOffset + BigInt(index), result: r };
}

/** The error of the first failed record among records [from, to) of a completed batch (through its splits), if any. */
export function rangeError(batch: ProducerBatch, from: number, to: number): { error: unknown } | undefined {
  const parts = batch.parts;
  if (parts === undefined) return batch.outcome !== undefined && 'error' in batch.outcome ? batch.outcome : undefined;
  for (let p = 0; p < parts.length; p++) {
    const start = parts[p].from;
    const end = p + 1 < parts.length ? parts[p + 1].from : batch.recordCount;
    if (end <= from || start >= to) continue;
    const failed = rangeError(parts[p].batch, Math.max(from, start) - start, Math.min(to, end) - start);
    if (failed) return failed;
  }
  return undefined;
}

/** A batch's staging buffer starts at batchSizeBytes, at most this (it grows as needed). */
const STAGING_START_MAX = 1 << 20;
/** Room for a record's framing beyond batchSizeBytes in a batch's staging. */
const STAGING_SLACK_BYTES = 1024;
/** A batch's staging starts at most at this share of bufferMemoryBytes (a small buffer still takes several batches). */
const STAGING_START_SHARE = 8;

export class PartitionQueue {
  readonly topic: string;
  readonly partition: number;
  readonly batches: ProducerBatch[] = [];
  muted = false;
  constructor(topic: string, partition: number) { this.topic = topic; this.partition = partition; }
  get open(): ProducerBatch | undefined {
    const last = this.batches[this.batches.length - 1];
    return last && !last.sealed ? last : undefined;
  }
}

export interface AccumulatorOptions {
  batchSizeBytes: number;
  lingerMs: number;
  bufferMemoryBytes: number;
  /**
   * Of bufferMemoryBytes, what records may not take: room for the encoded
   * requests in flight (the sender starts one only while it fits, or when none
   * is in flight; see requestRoomBytes). Default 0.
   */
  requestHeadroomBytes?: number;
  /** Called when a batch is sealed (the sender wakes up). */
  onSeal?: (batch: ProducerBatch) => void;
  now?: () => number;
}

export class RecordAccumulator {
  readonly options: AccumulatorOptions;
  readonly #queues = new Map<string, Map<number, PartitionQueue>>();
  #bufferedBytes = 0;
  #waiters: { bytes: number; resolve: () => void }[] = [];
  /** Batches not yet completed (for flush). */
  readonly #incomplete = new Set<ProducerBatch>();
  /** Counters, for tests and instrumentation. */
  readonly stats = { batchesSealed: 0, recordsAppended: 0 };
  flushing = 0;

  constructor(options: AccumulatorOptions) {
    this.options = options;
  }

  /** Bytes held now: staging capacity of incomplete batches, encoded requests in flight, estimates of records being added. */
  get bufferedBytes(): number { return this.#bufferedBytes; }
  get waitingForSpace(): boolean { return this.#waiters.length > 0; }
  get incompleteCount(): number { return this.#incomplete.size; }
  #now(): number { return this.options.now ? this.options.now() : Date.now(); }

  queue(topic: string, partition: number): PartitionQueue {
    let byPartition = this.#queues.get(topic);
    if (!byPartition) this.#queues.set(topic, (byPartition = new Map()));
    let q = byPartition.get(partition);
    if (!q) byPartition.set(partition, (q = new PartitionQueue(topic, partition)));
    return q;
  }

  *queues(): IterableIterator<PartitionQueue> {
    for (const byPartition of this.#queues.values()) yield* byPartition.values();
  }

  /** True when `bytes` more records fit under the bound, less the request headroom (an empty buffer always takes one record). */
  hasSpace(bytes: number): boolean {
    const recordsMax = this.options.bufferMemoryBytes - (this.options.requestHeadroomBytes ?? 0);
    return this.#bufferedBytes === 0 || this.#bufferedBytes + bytes <= recordsMax;
  }

  /** Bytes an encoded request may still take under bufferMemoryBytes (≤ 0: none fits). */
  get requestRoomBytes(): number {
    return this.options.bufferMemoryBytes - this.#bufferedBytes;
  }

  /** Counts `bytes` as buffered if they fit now and nobody waits before us. */
  tryReserve(bytes: number): boolean {
    if (this.#waiters.length > 0 || !this.hasSpace(bytes)) return false;
    this.#bufferedBytes += bytes;
    return true;
  }

  /** Gives back `bytes` reserved for a record that was not appended after all (its send failed first). */
  unreserve(bytes: number): void {
    this.#bufferedBytes -= bytes;
    this.#wakeWaiters();
  }

  /**
   * An encoded produce request of `bytes` is in flight (its buffer lives
   * beside the batches' staging, which a retry encodes again): counted until
   * releaseRequest(). It never waits: the sender checks requestRoomBytes.
   */
  holdRequest(bytes: number): void {
    this.#bufferedBytes += bytes;
  }

  releaseRequest(bytes: number): void {
    this.#bufferedBytes -= bytes;
    this.#wakeWaiters();
  }

  /** Counts the change of a batch's staging capacity since it was last counted. */
  #account(batch: ProducerBatch): void {
    const now = batch.staged.capacityBytes;
    this.#bufferedBytes += now - batch.heldBytes;
    batch.heldBytes = now;
  }

  /** Resolves once `bytes` are counted as buffered; waiters are served in order. */
  reserve(bytes: number): Promise<void> {
    if (this.tryReserve(bytes)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ bytes, resolve }));
  }

  #wakeWaiters(): void {
    while (this.#waiters.length > 0 && this.hasSpace(this.#waiters[0].bytes)) {
      const waiter = this.#waiters.shift()!;
      this.#bufferedBytes += waiter.bytes;
      waiter.resolve();
    }
  }

  /**
   * Appends a record; returns its batch and index in it. `reservedBytes` is
   * what tryReserve()/reserve() counted for it (estimateRecordBytes).
   */
  append(topic: string, partition: number, record: PendingRecord, reservedBytes: number, acks: Acks, compression: CompressionType, abortOnNewBatch = false): { batch: ProducerBatch; index: number } | null {
    const batch = this.add(this.queue(topic, partition), record.timestamp, record.key, record.value, record.headers, reservedBytes, acks, compression, abortOnNewBatch);
    return batch ? { batch, index: batch.recordCount - 1 } : null;
  }

  /**
   * append() for the producer's hot path: the queue is given (see queue()),
   * the record's parts are arguments (no object per record), and the batch is
   * returned (the record's index is its recordCount - 1 right after).
   * `run`: the send's string keys and values (StagedRecords.append).
   */
  add(
    q: PartitionQueue, timestamp: number, key: Uint8Array | string | null | undefined, value: Uint8Array | string | null | undefined,
    headers: IHeaders | undefined, reservedBytes: number, acks: Acks, compression: CompressionType, abortOnNewBatch = false,
    run?: StringRun,
  ): ProducerBatch | null {
    let batch = q.open;
    // A record whose bytes alone (a character is at least one) do not fit is not staged there to find out.
    const fitsAtMost = batch !== undefined && batch.sizeBytes + 1 + byteLength(key) + byteLength(value) <= this.options.batchSizeBytes;
    if (batch && fitsAtMost && batch.acks === acks && batch.compression === compression) {
      const s = batch.staged;
      const count = s.count, used = s.used, recordsBytes = s.recordsBytes, boundBytes = s.boundBytes;
      const runNext = run !== undefined ? run.next : 0;
      let size: number;
      try {
        size = s.append(timestamp, key, value, headers as RecordHeaders | undefined, run);
      } catch (error) {
        // A record that cannot be staged leaves the batch as it was (its staging may have grown).
        s.truncate(count, used, recordsBytes, boundBytes);
        if (run !== undefined) run.next = runNext;
        this.#account(batch);
        throw error;
      }
      if (batch.sizeBytes + size <= this.options.batchSizeBytes) return this.#added(batch, size, reservedBytes);
      s.truncate(count, used, recordsBytes, boundBytes);
      if (run !== undefined) run.next = runNext; // the record is staged again elsewhere
      this.#account(batch);
    }
    // The sticky partitioner switches before a new batch starts (KIP-480): the caller re-partitions and calls again.
    if (abortOnNewBatch) return null;
    const budgetBytes = this.options.batchSizeBytes + STAGING_SLACK_BYTES;
    const startBytes = Math.min(budgetBytes, STAGING_START_MAX, Math.max(1024, Math.floor(this.options.bufferMemoryBytes / STAGING_START_SHARE)));
    const fresh = new ProducerBatch(q.topic, q.partition, acks, compression, this.#now(), startBytes, budgetBytes);
    let size: number;
    try {
      size = fresh.staged.append(timestamp, key, value, headers as RecordHeaders | undefined, run);
    } catch (error) {
      // No empty batch is left behind (it would fail the whole request it is sent in).
      fresh.staged.release();
      throw error;
    }
    if (batch) this.seal(batch);
    q.batches.push(fresh);
    this.#incomplete.add(fresh);
    // A record larger than batchSizeBytes gets a batch of its own.
    return this.#added(fresh, size, reservedBytes);
  }

  /** The record is staged: its estimate is replaced by what staging it added to the batch's capacity. */
  #added(batch: ProducerBatch, size: number, reservedBytes: number): ProducerBatch {
    batch.recordCount++;
    batch.sizeBytes += size;
    this.#bufferedBytes -= reservedBytes;
    this.#account(batch);
    this.stats.recordsAppended++;
    if (batch.sizeBytes >= this.options.batchSizeBytes) this.seal(batch);
    return batch;
  }

  seal(batch: ProducerBatch): void {
    if (batch.sealed) return;
    batch.sealed = true;
    this.stats.batchesSealed++;
    this.options.onSeal?.(batch);
  }

  /** When the open batch of q is due to be sent (ms since the epoch). */
  #openDueMs(batch: ProducerBatch): number {
    if (this.flushing > 0 || this.#waiters.length > 0) return 0;
    return batch.createdMs + this.options.lingerMs;
  }

  /** Partitions that have a batch to send now: not muted, first batch sealed or lingered, past its retry backoff. */
  ready(nowMs = this.#now()): PartitionQueue[] {
    const out: PartitionQueue[] = [];
    for (const q of this.queues()) {
      if (q.muted) continue;
      const first = q.batches[0];
      if (!first || first.retryAtMs > nowMs) continue;
      if (first.sealed || this.#openDueMs(first) <= nowMs) out.push(q);
    }
    return out;
  }

  /** The earliest time a not-ready, not-muted partition becomes ready (Infinity if none). */
  nextReadyMs(): number {
    let next = Infinity;
    for (const q of this.queues()) {
      if (q.muted) continue;
      const first = q.batches[0];
      if (!first) continue;
      const due = Math.max(first.retryAtMs, first.sealed ? 0 : this.#openDueMs(first));
      if (due < next) next = due;
    }
    return next;
  }

  /**
   * Takes batches from the front of q for one request: sendable ones with the
   * first one's acks, at most `maxBytes` but at least one. Seals an
   * open batch it takes. The caller mutes q until the request completes.
   */
  drain(q: PartitionQueue, maxBytes: number, nowMs = this.#now()): ProducerBatch[] {
    const taken: ProducerBatch[] = [];
    let bytes = 0;
    while (q.batches.length > 0) {
      const batch = q.batches[0];
      if (taken.length > 0 && (batch.sendAlone || batch.acks !== taken[0].acks || bytes + batch.sizeBytes > maxBytes || batch.retryAtMs > nowMs)) break;
      if (!batch.sealed) {
        if (this.#openDueMs(batch) > nowMs && taken.length > 0) break;
        this.seal(batch);
      }
      q.batches.shift();
      taken.push(batch);
      bytes += batch.sizeBytes;
      if (batch.sendAlone) break;
    }
    return taken;
  }

  /** Puts batches back at the front of their queue, in order (a retry). */
  requeue(batches: ProducerBatch[]): void {
    for (let i = batches.length - 1; i >= 0; i--) this.queue(batches[i].topic, batches[i].partition).batches.unshift(batches[i]);
  }

  /**
   * The broker found a sent batch of several records too large (Kafka's
   * splitAndReenqueue): its records go to two new batches, sealed, about half
   * its bytes each, put back at the front of its queue in order (each sent in
   * a request of its own). Its buffered bytes move to them; it resolves once
   * both have completed (see ProducerBatch.parts).
   */
  split(batch: ProducerBatch): ProducerBatch[] {
    if (batch.settled || batch.recordCount < 2) throw new Error('wafka: only an incomplete batch of several records splits');
    const src = batch.staged;
    const n = batch.recordCount;
    const capacity = Math.min(Math.max(64, (src.used >> 1) + 1024), STAGING_START_MAX);
    const parts: ProducerBatch[] = [];
    const part = () => {
      const b = new ProducerBatch(batch.topic, batch.partition, batch.acks, batch.compression, batch.createdMs, capacity, (src.used >> 1) + 1024);
      b.attempts = batch.attempts;
      b.timeoutMs = batch.timeoutMs;
      b.sendAlone = true;
      parts.push(b);
      return b;
    };
    const froms: number[] = [];
    let into = part();
    froms.push(0);
    for (let i = 0; i < n; i++) {
      // The first part takes records until it has half the records' bytes, leaving the second at least one.
      if (parts.length === 1 && into.recordCount > 0 && (i === n - 1 || into.staged.recordsBytes * 2 >= src.recordsBytes)) {
        into = part();
        froms.push(i);
      }
      into.sizeBytes += into.staged.appendFrom(src, i);
      into.recordCount++;
    }
    batch.settled = true;
    batch.parts = parts.map((b, p) => ({ from: froms[p], batch: b }));
    src.release();
    // What is held moves from the batch to its parts.
    this.#account(batch);
    for (const b of parts) this.#account(b);
    this.#incomplete.delete(batch);
    for (const b of parts) {
      this.#incomplete.add(b);
      b.sealed = true;
      this.stats.batchesSealed++;
    }
    this.requeue(parts);
    void Promise.allSettled(parts.map((b) => b.done)).then(() => batch.resolve({ baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n }));
    this.#wakeWaiters();
    return parts;
  }

  /** A batch completed (acknowledged or failed for good): its bytes are free again. */
  complete(batch: ProducerBatch, outcome: { result: BatchResult } | { error: unknown }): void {
    if (batch.settled) return;
    batch.settled = true;
    batch.outcome = outcome;
    batch.staged.release();
    this.#incomplete.delete(batch);
    this.#account(batch);
    if ('result' in outcome) batch.resolve(outcome.result);
    else batch.reject(outcome.error);
    this.#wakeWaiters();
  }

  /** Resolves when every batch appended so far has completed (successfully or not). */
  async awaitIncomplete(): Promise<void> {
    const pending = [...this.#incomplete].map((b) => b.done.catch(() => {}));
    await Promise.all(pending);
  }

  /** Fails every buffered batch (a producer closed without flushing). */
  abortAll(error: unknown): void {
    for (const q of this.queues()) q.batches.length = 0;
    for (const batch of [...this.#incomplete]) this.complete(batch, { error });
    for (const waiter of this.#waiters.splice(0)) waiter.resolve();
  }
}
