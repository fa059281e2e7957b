/**
 * The producer-state snapshot of one partition replica (Kafka's
 * `<offset>.snapshot`, one file per log here: `producer-state-snapshot`): the
 * idempotent producers, the open transactions, the closed transactions not yet
 * replicated and the aborted-transaction index, as they were when the log
 * ended at `endOffset`. Loading it and reading the log from `endOffset` on
 * gives the state without walking the whole log; a log that ends below
 * `endOffset` (it lost its tail) cannot use it.
 *
 * Format (big-endian), all of it covered by the CRC:
 *
 *   magic           4 bytes  "WPSS"
 *   version         int16    0
 *   crc             uint32   CRC32C of every byte after this field
 *   endOffset       int64
 *   logStartOffset  int64
 *   flags           int8     bit 0: transactions were seen
 *   producerCount   int32    then per producer, least recently used first:
 *     producerId int64, epoch int16, coordinatorEpoch int32,
 *     currentTxnFirstOffset int64 (-1: none), lastSeenMs float64,
 *     batchCount int8, then per batch: firstSequence int32,
 *     lastSequence int32, firstOffset int64, lastOffset int64
 *   unreplicatedCount int32  then: producerId int64, firstOffset int64, lastOffset int64, aborted int8
 *   abortedCount    int32    then: producerId int64, firstOffset int64, lastOffset int64, stableBefore int64
 *
 * Anything that does not parse exactly (magic, version, CRC, counts past
 * their limits, bytes left over) is no snapshot: the state is rebuilt from
 * the log.
 */
import { crc32c } from '../core/index.ts';
import { PRODUCER_BATCHES_KEPT, PRODUCER_IDS_PER_PARTITION_MAX, type CompletedTxn, type ProducerSnapshotEntry } from './producer-state.ts';
import { ABORTED_TXNS_MAX, type AbortedTxn } from './transaction-index.ts';

export const PRODUCER_SNAPSHOT_FILE = 'producer-state-snapshot';
const MAGIC = [0x57, 0x50, 0x53, 0x53]; // "WPSS"
const VERSION = 0;
const HEADER_BYTES = 4 + 2 + 4;
const PRODUCER_BYTES = 8 + 2 + 4 + 8 + 8 + 1;
const BATCH_BYTES = 4 + 4 + 8 + 8;
const UNREPLICATED_BYTES = 8 + 8 + 8 + 1;
const ABORTED_BYTES = 8 + 8 + 8 + 8;
/** Closed transactions awaiting replication a snapshot may list (each has a marker at or past the high watermark). */
const UNREPLICATED_MAX = PRODUCER_IDS_PER_PARTITION_MAX * 10;

export interface ProducerSnapshot {
  endOffset: bigint;
  logStartOffset: bigint;
  sawTransactions: boolean;
  producers: ProducerSnapshotEntry[];
  unreplicated: CompletedTxn[];
  aborted: AbortedTxn[];
}

export function encodeProducerSnapshot(snapshot: ProducerSnapshot): Uint8Array {
  let size = HEADER_BYTES + 8 + 8 + 1 + 4 + 4 + 4;
  for (const p of snapshot.producers) size += PRODUCER_BYTES + BATCH_BYTES * p.batches.length;
  size += UNREPLICATED_BYTES * snapshot.unreplicated.length + ABORTED_BYTES * snapshot.aborted.length;
  const bytes = new Uint8Array(size);
  const dv = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  dv.setInt16(4, VERSION);
  let at = HEADER_BYTES;
  const i8 = (v: number) => { dv.setInt8(at, v); at += 1; };
  const i16 = (v: number) => { dv.setInt16(at, v); at += 2; };
  const i32 = (v: number) => { dv.setInt32(at, v); at += 4; };
  const i64 = (v: bigint) => { dv.setBigInt64(at, v); at += 8; };
  const f64 = (v: number) => { dv.setFloat64(at, v); at += 8; };
  i64(snapshot.endOffset);
  i64(snapshot.logStartOffset);
  i8(snapshot.sawTransactions ? 1 : 0);
  i32(snapshot.producers.length);
  for (const p of snapshot.producers) {
    i64(p.producerId); i16(p.epoch); i32(p.coordinatorEpoch); i64(p.currentTxnFirstOffset ?? -1n); f64(p.lastSeenMs);
    i8(p.batches.length);
    for (const b of p.batches) { i32(b.firstSequence); i32(b.lastSequence); i64(b.firstOffset); i64(b.lastOffset); }
  }
  i32(snapshot.unreplicated.length);
  for (const t of snapshot.unreplicated) { i64(t.producerId); i64(t.firstOffset); i64(t.lastOffset); i8(t.aborted ? 1 : 0); }
  i32(snapshot.aborted.length);
  for (const t of snapshot.aborted) { i64(t.producerId); i64(t.firstOffset); i64(t.lastOffset); i64(t.stableBefore); }
  dv.setUint32(6, crc32c(bytes.subarray(HEADER_BYTES)) >>> 0);
  return bytes;
}

/** The snapshot in `bytes`, or null if they are not one (see the module comment). */
export function decodeProducerSnapshot(bytes: Uint8Array): ProducerSnapshot | null {
  if (bytes.byteLength < HEADER_BYTES + 8 + 8 + 1 + 12) return null;
  if (MAGIC.some((b, i) => bytes[i] !== b)) return null;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getInt16(4) !== VERSION) return null;
  if (dv.getUint32(6) !== crc32c(bytes.subarray(HEADER_BYTES)) >>> 0) return null;
  let at = HEADER_BYTES;
  const need = (n: number) => { if (at + n > bytes.byteLength) throw new RangeError('short snapshot'); };
  const i8 = () => { need(1); return dv.getInt8(at++); };
  const i16 = () => { need(2); const v = dv.getInt16(at); at += 2; return v; };
  const i32 = () => { need(4); const v = dv.getInt32(at); at += 4; return v; };
  const i64 = () => { need(8); const v = dv.getBigInt64(at); at += 8; return v; };
  const f64 = () => { need(8); const v = dv.getFloat64(at); at += 8; return v; };
  const count = (max: number) => { const n = i32(); if (n < 0 || n > max) throw new RangeError(`count ${n}`); return n; };
  try {
    const endOffset = i64();
    const logStartOffset = i64();
    const sawTransactions = (i8() & 1) === 1;
    const producers: ProducerSnapshotEntry[] = [];
    for (let n = count(PRODUCER_IDS_PER_PARTITION_MAX * 2), i = 0; i < n; i++) {
      const producerId = i64(); const epoch = i16(); const coordinatorEpoch = i32(); const first = i64(); const lastSeenMs = f64();
      const batchCount = i8();
      if (batchCount < 0 || batchCount > PRODUCER_BATCHES_KEPT) return null;
      const batches = [];
      for (let j = 0; j < batchCount; j++) batches.push({ firstSequence: i32(), lastSequence: i32(), firstOffset: i64(), lastOffset: i64() });
      producers.push({ producerId, epoch, coordinatorEpoch, currentTxnFirstOffset: first < 0n ? null : first, lastSeenMs, batches });
    }
    const unreplicated: CompletedTxn[] = [];
    for (let n = count(UNREPLICATED_MAX), i = 0; i < n; i++) unreplicated.push({ producerId: i64(), firstOffset: i64(), lastOffset: i64(), aborted: i8() === 1 });
    const aborted: AbortedTxn[] = [];
    for (let n = count(ABORTED_TXNS_MAX), i = 0; i < n; i++) aborted.push({ producerId: i64(), firstOffset: i64(), lastOffset: i64(), stableBefore: i64() });
    if (at !== bytes.byteLength) return null;
    return { endOffset, logStartOffset, sawTransactions, producers, unreplicated, aborted };
  } catch {
    return null;
  }
}
