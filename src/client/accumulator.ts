/**
 * The producer's record accumulator, as Kafka's Java client has it
 * (RecordAccumulator): a queue of batches per topic-partition. `append` adds a
 * record to the partition's open batch; a batch is sealed when the next record
 * would take it past `batchSizeBytes` (a record larger than that gets a batch
 * of its own), or when the sender drains it after `lingerMs`. With
 * `abortOnNewBatch`, append returns null instead of starting a new batch, so
 * that a sticky partitioner can pick another partition first (Kafka's KIP-480). Sealing encodes
 * the batch once, with the core, and frees its record list.
 *
 * Bounded: at most `bufferMemoryBytes` of records are buffered (estimated
 * sizes); `reserve()` makes a sender wait until completed batches free space.
 * While someone waits, every open batch counts as ready, so the sender drains
 * them (Kafka's "exhausted" rule) and the wait ends.
 *
 * A partition whose batches are in a request is muted: nothing more of it is
 * drained until that request completes, so batches of one partition reach the
 * broker in order, retries included.
 */
import type { Acks } from '../protocol/types.ts';
import type { CompressionType, IHeaders } from './types.ts';

/** A record as buffered: what the core's batch encoder takes. */
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

/** Size estimate of a record in a batch: exact for ASCII strings and bytes, an upper bound on framing. */
export function estimateRecordBytes(record: { key?: Uint8Array | string | null; value?: Uint8Array | string | null; headers?: IHeaders }): number {
  let bytes = RECORD_OVERHEAD_BYTES + byteLength(record.key) + byteLength(record.value);
  const headers = record.headers;
  if (headers) {
    for (const name in headers) {
      const v = headers[name];
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const item of v) bytes += 10 + name.length + item.length;
      else bytes += 10 + name.length + v.length;
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
  records: PendingRecord[] = [];
  recordCount = 0;
  /** Estimated bytes, header included (the records' part is what the buffer-memory bound counts). */
  sizeBytes = BATCH_OVERHEAD_BYTES;
  sealed = false;
  /** The encoded RecordBatch, once sealed. */
  encoded: Promise<Uint8Array> | undefined;
  attempts = 0;
  retryAtMs = 0;
  /** Sent in a request of its own (after a partition's batches failed together for a size or validity error). */
  sendAlone = false;
  readonly done: Promise<BatchResult>;
  resolve!: (result: BatchResult) => void;
  reject!: (error: unknown) => void;
  settled = false;

  constructor(topic: string, partition: number, acks: Acks, compression: CompressionType, nowMs: number) {
    this.topic = topic;
    this.partition = partition;
    this.acks = acks;
    this.compression = compression;
    this.createdMs = nowMs;
    this.done = new Promise<BatchResult>((resolve, reject) => { this.resolve = resolve; this.reject = reject; });
    this.done.catch(() => {}); // senders observe it; an unobserved failure is not a crash
  }
}

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
  /** Encodes a sealed batch (the core's batch builder). */
  encode: (batch: ProducerBatch) => Promise<Uint8Array>;
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

  /** True when `bytes` more fit under the bound (an empty buffer always takes one record). */
  hasSpace(bytes: number): boolean {
    return this.#bufferedBytes === 0 || this.#bufferedBytes + bytes <= this.options.bufferMemoryBytes;
  }

  /** Counts `bytes` as buffered if they fit now and nobody waits before us. */
  tryReserve(bytes: number): boolean {
    if (this.#waiters.length > 0 || !this.hasSpace(bytes)) return false;
    this.#bufferedBytes += bytes;
    return true;
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
   * Appends a record; returns its batch and index in it. `recordBytes` is the
   * record's estimated size (estimateRecordBytes), already counted by
   * tryReserve()/reserve().
   */
  append(topic: string, partition: number, record: PendingRecord, recordBytes: number, acks: Acks, compression: CompressionType, abortOnNewBatch = false): { batch: ProducerBatch; index: number } | null {
    const batch = this.add(this.queue(topic, partition), record, recordBytes, acks, compression, abortOnNewBatch);
    return batch ? { batch, index: batch.recordCount - 1 } : null;
  }

  /**
   * append() for the producer's hot path: the queue is given (see queue()),
   * and the batch is returned (the record's index is its recordCount - 1 right after).
   */
  add(q: PartitionQueue, record: PendingRecord, recordBytes: number, acks: Acks, compression: CompressionType, abortOnNewBatch = false): ProducerBatch | null {
    const { topic, partition } = q;
    let batch = q.open;
    const fits = batch && batch.acks === acks && batch.compression === compression && batch.sizeBytes + recordBytes <= this.options.batchSizeBytes;
    // The sticky partitioner switches before a new batch starts (KIP-480): the caller re-partitions and calls again.
    if (!fits && abortOnNewBatch) return null;
    if (batch && !fits) {
      this.seal(batch);
      batch = undefined;
    }
    if (!batch) {
      batch = new ProducerBatch(topic, partition, acks, compression, this.#now());
      q.batches.push(batch);
      this.#incomplete.add(batch);
    }
    batch.recordCount++;
    batch.records.push(record);
    batch.sizeBytes += recordBytes;
    this.stats.recordsAppended++;
    if (batch.sizeBytes >= this.options.batchSizeBytes) this.seal(batch);
    return batch;
  }

  seal(batch: ProducerBatch): void {
    if (batch.sealed) return;
    batch.sealed = true;
    this.stats.batchesSealed++;
    batch.encoded = this.options.encode(batch);
    batch.encoded.catch(() => {});
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
   * first one's acks, at most `maxBytes` (estimated) but at least one. Seals an
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

  /** A batch completed (acknowledged or failed for good): its bytes are free again. */
  complete(batch: ProducerBatch, outcome: { result: BatchResult } | { error: unknown }): void {
    if (batch.settled) return;
    batch.settled = true;
    batch.records = [];
    this.#incomplete.delete(batch);
    this.#bufferedBytes -= batch.sizeBytes - BATCH_OVERHEAD_BYTES;
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
