/**
 * The replay of one partition of an internal topic (__consumer_offsets,
 * __transaction_state) by its new coordinator: every batch from the log
 * start to the log end as it was when the replay began, a read's worth of
 * whole batches at a time, each record decoded by the caller's `decode`
 * with the header of the batch it came in (a transactional offset commit is
 * told apart by its producer id), and each control batch (a transaction
 * marker) handed to `control`.
 *
 * The replay ends only once the high watermark has reached that log end: a
 * new leader's tail may hold records its predecessor appended but never
 * committed, and a coordinator that served them (an offset commit, a
 * transaction state never acknowledged) could be followed by one that never
 * saw them, and what it answered would go back. Until then the coordinator
 * stays loading (COORDINATOR_LOAD_IN_PROGRESS, which clients retry).
 */
import { batchSizeAt, decodeBatch, parseControlRecord, type DecodedBatch } from '../core/index.ts';

/** Bytes of log read per replay step. */
const REPLAY_READ_BYTES = 1024 * 1024;

export interface InternalLogReader {
  logStartOffset(): bigint;
  /** Where replay stops: the log end when it began. */
  logEndOffset(): bigint;
  /** Resolves once the high watermark is at or past `offset`; rejects if the log is no longer led here. */
  committed(offset: bigint): Promise<void>;
  read(offset: bigint, maxBytes: number, upTo: bigint): Promise<Uint8Array | null>;
}

export interface ReplayedMarker {
  producerId: bigint;
  producerEpoch: number;
  committed: boolean;
  offset: bigint;
}

export async function* replayInternalPartition<T>(
  log: InternalLogReader,
  decode: (record: { key: Uint8Array | null; value: Uint8Array | null; offset: bigint }, batch: DecodedBatch) => T,
  control?: (marker: ReplayedMarker) => T | null,
): AsyncIterable<T[]> {
  const end = log.logEndOffset();
  let offset = log.logStartOffset();
  while (offset < end) {
    const bytes = await log.read(offset, REPLAY_READ_BYTES, end);
    if (!bytes || bytes.byteLength === 0) break;
    const items: T[] = [];
    let position = 0;
    let next = offset;
    while (position < bytes.byteLength) {
      const size = batchSizeAt(bytes, position);
      if (size < 0 || position + size > bytes.byteLength) break;
      const batch = await decodeBatch(bytes, { position });
      position += size;
      next = batch.baseOffset + BigInt(batch.lastOffsetDelta) + 1n;
      if (batch.isControlBatch) {
        if (!control || batch.baseOffset < offset) continue;
        for (const r of batch.records) {
          const parsed = parseControlRecord(r);
          if (parsed.type !== 0 && parsed.type !== 1) continue;
          const item = control({ producerId: batch.producerId, producerEpoch: batch.producerEpoch, committed: parsed.type === 1, offset: r.offset });
          if (item !== null) items.push(item);
        }
        continue;
      }
      for (const r of batch.records) if (r.offset >= offset) items.push(decode(r, batch));
    }
    if (next <= offset) break;
    offset = next;
    yield items;
  }
  await log.committed(end);
}
