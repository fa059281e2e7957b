/**
 * The segment manifest (`segment-manifest` in a log directory): the log's
 * recovery point. One fixed-size entry per closed segment, appended (and
 * flushed) when the segment is rolled, after its bytes and index files were
 * flushed; at a clean close one more entry, the clean-close record, describes
 * the active segment as it was closed (its index files written). Opening a
 * log reads this one file instead of opening every segment: closed segments
 * it lists are trusted as described and opened on first use; only what lies
 * past the recovery point (the active segment, after a crash) is scanned.
 *
 * Rule that keeps it true: the manifest only ever holds entries that describe
 * files as they are. Rolls append. Every other change to the set of segments
 * or to a closed segment (truncation, retention, compaction, a re-based empty
 * active segment) first empties the manifest (durably), then rewrites it whole
 * when done; a crash in between leaves no manifest, and the next open scans
 * as it would without one.
 *
 * A whole write starts with a header entry (KIND_HEADER, nextOffset = the
 * number of entries it wrote after it): a manifest with fewer valid entries
 * than its header promises was torn while being rewritten, and is not used.
 * Entries must chain (each nextSegmentBase is the next entry's baseOffset).
 *
 * Entry (big-endian, ENTRY_BYTES):
 *   0  kind int32                    KIND_HEADER | KIND_CLOSED | KIND_CLEAN_CLOSE
 *   4  baseOffset int64
 *   12 nextOffset int64              lastOffset + 1 of its last batch
 *   20 nextSegmentBase int64         baseOffset of the segment after it (clean close: nextOffset)
 *   28 sizeBytes int32
 *   32 maxTimestampMs int64          -1 when empty
 *   40 offsetOfMaxTimestampRel int32
 *   44 bytesSinceIndexEntry int32
 *   48 crc32c uint32 of bytes 0..47
 * A torn or garbled entry (CRC, kind) ends the manifest: the entries before it stand.
 */
import { crc32c } from '../core/index.ts';
import { viewOf } from './record-batch.ts';

export const SEGMENT_MANIFEST = 'segment-manifest';
export const ENTRY_BYTES = 52;
export const KIND_HEADER = 0x57534700;
export const KIND_CLOSED = 0x57534701;
export const KIND_CLEAN_CLOSE = 0x57534702;

export interface ManifestEntry {
  kind: typeof KIND_HEADER | typeof KIND_CLOSED | typeof KIND_CLEAN_CLOSE;
  baseOffset: bigint;
  nextOffset: bigint;
  nextSegmentBase: bigint;
  sizeBytes: number;
  maxTimestampMs: number;
  offsetOfMaxTimestampRel: number;
  bytesSinceIndexEntry: number;
}

export function encodeEntries(entries: readonly ManifestEntry[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(entries.length * ENTRY_BYTES);
  const dv = viewOf(out);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const at = i * ENTRY_BYTES;
    dv.setInt32(at, e.kind);
    dv.setBigInt64(at + 4, e.baseOffset);
    dv.setBigInt64(at + 12, e.nextOffset);
    dv.setBigInt64(at + 20, e.nextSegmentBase);
    dv.setInt32(at + 28, e.sizeBytes);
    dv.setBigInt64(at + 32, BigInt(e.maxTimestampMs));
    dv.setInt32(at + 40, e.offsetOfMaxTimestampRel);
    dv.setInt32(at + 44, e.bytesSinceIndexEntry);
    dv.setUint32(at + 48, crc32c(out.subarray(at, at + 48)));
  }
  return out;
}

/** The well-formed entries from the start of `bytes` (stops at the first bad one), and the bytes they take. */
export function decodeEntries(bytes: Uint8Array): { entries: ManifestEntry[]; validBytes: number } {
  const dv = viewOf(bytes);
  const entries: ManifestEntry[] = [];
  let at = 0;
  for (; at + ENTRY_BYTES <= bytes.length; at += ENTRY_BYTES) {
    const kind = dv.getInt32(at);
    if (kind !== KIND_CLOSED && kind !== KIND_CLEAN_CLOSE && kind !== KIND_HEADER) break;
    if (dv.getUint32(at + 48) !== crc32c(bytes.subarray(at, at + 48))) break;
    const maxTs = dv.getBigInt64(at + 32);
    const e: ManifestEntry = {
      kind,
      baseOffset: dv.getBigInt64(at + 4),
      nextOffset: dv.getBigInt64(at + 12),
      nextSegmentBase: dv.getBigInt64(at + 20),
      sizeBytes: dv.getInt32(at + 28),
      maxTimestampMs: Number(maxTs),
      offsetOfMaxTimestampRel: dv.getInt32(at + 40),
      bytesSinceIndexEntry: dv.getInt32(at + 44),
    };
    if (e.baseOffset < 0n || e.nextOffset < e.baseOffset || e.nextSegmentBase < e.nextOffset || e.sizeBytes < 0 || maxTs < -1n) break;
    if (e.offsetOfMaxTimestampRel < 0 || e.bytesSinceIndexEntry < 0) break;
    entries.push(e);
    if (kind === KIND_CLEAN_CLOSE) {
      at += ENTRY_BYTES;
      break; // nothing follows a clean close
    }
  }
  return { entries, validBytes: at };
}

/** What a manifest says, if it can be used: the closed segments in order, and the clean-close record if the log was closed cleanly. */
export interface Manifest {
  closed: ManifestEntry[];
  clean: ManifestEntry | undefined;
  /** Bytes of the header and the closed entries (where the clean-close record, or the next roll's entry, starts). */
  closedBytes: number;
}

export function headerEntry(count: number): ManifestEntry {
  return { kind: KIND_HEADER, baseOffset: 0n, nextOffset: BigInt(count), nextSegmentBase: BigInt(count), sizeBytes: 0, maxTimestampMs: -1, offsetOfMaxTimestampRel: 0, bytesSinceIndexEntry: 0 };
}

/** The manifest in `bytes`, or undefined when there is none to use (empty, torn while rewritten, or not chained). */
export function decodeManifest(bytes: Uint8Array): Manifest | undefined {
  const { entries } = decodeEntries(bytes);
  const header = entries[0];
  if (header?.kind !== KIND_HEADER) return undefined;
  const closed: ManifestEntry[] = [];
  let clean: ManifestEntry | undefined;
  for (let i = 1; i < entries.length; i++) {
    const e = entries[i];
    if (e.kind === KIND_HEADER) return undefined;
    if (e.kind === KIND_CLEAN_CLOSE) clean = e;
    else closed.push(e);
  }
  if (BigInt(closed.length + (clean ? 1 : 0)) < header.nextOffset) return undefined;
  for (let i = 1; i < closed.length; i++) if (closed[i - 1].nextSegmentBase !== closed[i].baseOffset) return undefined;
  if (clean && closed.length > 0 && closed[closed.length - 1].nextSegmentBase !== clean.baseOffset) return undefined;
  return { closed, clean, closedBytes: (1 + closed.length) * ENTRY_BYTES };
}
