/**
 * Batches staged record by record, encoded later in one core call per batch
 * (the producer's path; Kafka's Java client writes each record into its
 * batch's buffer at send time in the same way).
 *
 * `StagedRecords.append` writes a record's key, value and headers as bytes
 * into a growing staging buffer and its entry into a record table laid out as
 * the core's batch builder reads it (assembly/batch.ts, 32 bytes per record),
 * with positions relative to the staging buffer, and returns the record's
 * exact size in the batch. Nothing per record is kept as a JS object.
 *
 * `encodeStagedSync` copies each staged batch into the core's memory (two
 * memory copies; the core reads the table's positions relative to where the
 * bytes landed, so nothing per record is rewritten in JS), builds the
 * batches one after another and returns them in one buffer of their own,
 * made to be transferred to a broker. Staging buffers and that buffer come
 * from the realm's pool (src/buffer-pool.ts: a fresh ArrayBuffer costs far
 * more than copying into a used one), which a broker worker refills with the
 * request buffers it hands back. `capacityBytes` is what a staged
 * batch holds (its buffers' sizes), which the producer counts against
 * bufferMemoryBytes; a string is staged as its UTF-8 bytes, and the staging
 * grows by what a record needs (doubling at most up to `budgetBytes`).
 *
 * String keys and values of a send can be staged as a `StringRun`: up to
 * RUN_CHUNK of them are joined and encoded with one TextEncoder.encodeInto
 * straight into the staging buffer at `used` (a per-record encodeInto costs
 * ≈ 0.6-0.9 µs per call in Chromium, a per-character copy ≈ 4 ns per
 * character); the records then take their bytes where they already are. A
 * chunk is only used when it is all ASCII (encodeInto wrote one byte per
 * UTF-16 unit), so each string's byte length is its length; otherwise its
 * strings are staged one by one (exact UTF-8) and the run backs off.
 */
import { giveBuffer, holdBytes, takeBuffer } from '../buffer-pool.ts';
import { WafkaError } from '../errors.ts';
import { CompressionTypes, lookupCodec, type CompressionType } from './codecs.ts';
import { coreError } from './errors.ts';
import { coreSync } from './wasm.ts';
import {
  ATTR_TRANSACTIONAL, ATTRIBUTES_OFFSET, BASE_OFFSET_OFFSET, BASE_SEQUENCE_OFFSET, BASE_TIMESTAMP_OFFSET, PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET, PRODUCER_ID_OFFSET, RECORD_BATCH_OVERHEAD, headerPairs, type RecordHeaders, type HeaderValue,
} from './batch.ts';

/** Int32 slots per record in the core's build table: tsDelta lo, hi, key pos, len, value pos, len, headers pos, count. */
const ENTRY_INTS = 8;
const TWO_32 = 4294967296;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Bytes of the zig-zag varint of an integer (a safe integer, up to 64 bits). */
export function varlongSize(v: number): number {
  let z = v >= 0 ? v * 2 : -v * 2 - 1;
  let n = 1;
  while (z >= 128) { z = Math.floor(z / 128); n++; }
  return n;
}

/** A length field's bytes plus the bytes (null: -1, one byte). */
function bytesFieldSize(len: number): number {
  return len < 0 ? 1 : varlongSize(len) + len;
}

/** UTF-8 bytes of s[from ..] (TextEncoder's: a lone surrogate becomes U+FFFD, 3 bytes). */
function utf8Length(s: string, from: number): number {
  let n = 0;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { n += 4; i++; }
    else n += 3;
  }
  return n;
}

/** Strings of a run encoded together at most (bounds the bytes encoded in vain when a batch fills). */
const RUN_CHUNK = 256;
/** A run's strings staged one by one after a chunk was not all ASCII: this many, doubling up to RUN_BACKOFF_MAX. */
const RUN_BACKOFF_MIN = 16;
const RUN_BACKOFF_MAX = 1 << 16;

/**
 * A send's string keys and values, in the order they are staged (for each
 * record: its key if a string, then its value if a string). Pass it to
 * every append() of those records; `next` is the index of the next string
 * to stage (an undone append rewinds it: see RecordAccumulator.add).
 * Staging a string that is not `strings[next]` is correct, only slower.
 */
export class StringRun {
  readonly strings: readonly string[];
  /** Character offset of strings[i] in `text`; starts[strings.length] = text.length. */
  readonly starts: Int32Array;
  readonly text: string;
  next = 0;
  /** Strings before this index are staged one by one (after a chunk that was not all ASCII). */
  skipUntil = 0;
  backoff = RUN_BACKOFF_MIN;

  constructor(strings: readonly string[]) {
    this.strings = strings;
    const n = strings.length;
    const starts = new Int32Array(n + 1);
    let at = 0;
    for (let i = 0; i < n; i++) { starts[i] = at; at += strings[i].length; }
    starts[n] = at;
    this.starts = starts;
    this.text = strings.join('');
  }
}

/** An Int32Array over all whole 4-byte words of a (pooled) buffer. */
const int32s = (buffer: ArrayBuffer) => new Int32Array(buffer, 0, buffer.byteLength >> 2);

export class StagedRecords {
  /** Records staged. */
  count = 0;
  /** Staging bytes used. */
  used = 0;
  /** Timestamp of the first record: the batch's base timestamp (ms). */
  baseTimestamp = 0;
  /** An idempotent producer's id, epoch and this batch's first sequence; -1 for none (written into the header). */
  producerId = -1n;
  producerEpoch = -1;
  baseSequence = -1;
  /** A transactional producer's batch: the header's transactional attribute is set (its records wait for a marker). */
  isTransactional = false;
  /** Exact bytes of the records section, uncompressed. */
  recordsBytes = 0;
  /** The core's bound on the records section (what batchBuild may write). */
  boundBytes = 0;
  #table: Int32Array;
  #bytes: Uint8Array;
  /** Growth doubles the staging bytes up to this, and past it grows by what a record needs. */
  readonly #budgetBytes: number;
  #released = false;
  /**
   * Encoded ahead: when #aheadRun is set, the bytes at `used` are the
   * encodings (ASCII) of #aheadRun.strings[#aheadIdx .. #aheadEnd), one after
   * another. Anything else that moves `used` or replaces the buffer clears it.
   */
  #aheadRun: StringRun | null = null;
  #aheadIdx = 0;
  #aheadEnd = 0;

  /**
   * `capacityBytes`: staging bytes to start with (it grows as needed);
   * `budgetBytes`: what the batch is expected to hold at most (see #growBytes).
   */
  constructor(capacityBytes = 16_384, budgetBytes = Infinity) {
    const bytes = Math.max(64, capacityBytes);
    this.#budgetBytes = budgetBytes;
    this.#bytes = new Uint8Array(takeBuffer(bytes));
    // A table slot per ≈ 128 bytes of records to start with (it doubles for smaller records).
    this.#table = int32s(takeBuffer(Math.max(256, (bytes >> 7) * ENTRY_INTS * 4)));
  }

  #growBytes(need: number): void {
    this.#aheadRun = null;
    const doubled = Math.min(this.#bytes.byteLength * 2, this.#budgetBytes);
    const next = new Uint8Array(takeBuffer(Math.max(doubled, this.used + need + 1024)));
    next.set(this.#bytes.subarray(0, this.used));
    giveBuffer(this.#bytes.buffer as ArrayBuffer);
    this.#bytes = next;
  }

  #growTable(): void {
    const next = int32s(takeBuffer(this.#table.byteLength * 2));
    next.set(this.#table.subarray(0, this.count * ENTRY_INTS));
    giveBuffer(this.#table.buffer as ArrayBuffer);
    this.#table = next;
  }

  /**
   * Encodes run.strings[j ..] (at most RUN_CHUNK, as many as fit) at `used`
   * with one encodeInto; true if at least strings[j] is there (all ASCII).
   */
  #encodeAhead(run: StringRun, j: number): boolean {
    const starts = run.starts;
    const from = starts[j];
    const room = this.#bytes.byteLength - this.used;
    let end = Math.min(run.strings.length, j + RUN_CHUNK);
    if (starts[end] - from > room) {
      // The most strings from j that fit: starts[lo] - from <= room < starts[hi] - from.
      let lo = j, hi = end;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (starts[mid] - from <= room) lo = mid; else hi = mid;
      }
      end = lo;
    }
    if (end === j) return false;
    const chars = starts[end] - from;
    const text = from === 0 && end === run.strings.length ? run.text : run.text.substring(from, starts[end]);
    const r = encoder.encodeInto(text, this.#bytes.subarray(this.used, this.used + chars));
    // One byte per UTF-16 unit for all of them: ASCII only (anything else takes 2-4 bytes per character).
    if (r.read !== chars || r.written !== chars) {
      run.skipUntil = j + run.backoff;
      run.backoff = Math.min(run.backoff * 2, RUN_BACKOFF_MAX);
      return false;
    }
    run.backoff = RUN_BACKOFF_MIN;
    this.#aheadRun = run;
    this.#aheadIdx = j;
    this.#aheadEnd = end;
    return true;
  }

  /** #put for run.strings[run.next]. */
  #putRun(v: string, run: StringRun): number {
    const j = run.next;
    run.next = j + 1;
    if (this.#aheadRun !== run || this.#aheadIdx !== j) {
      if (j < run.skipUntil || !this.#encodeAhead(run, j)) return this.#put(v);
    }
    // Its bytes are already at `used`.
    const n = v.length;
    this.used += n;
    if (j + 1 < this.#aheadEnd) this.#aheadIdx = j + 1;
    else this.#aheadRun = null;
    return n;
  }

  /** Writes a key, value or header part at `used`; returns its length, -1 for null. */
  #put(v: Uint8Array | string | null | undefined): number {
    if (v === null || v === undefined) return -1;
    this.#aheadRun = null;
    if (typeof v === 'string') {
      const n = v.length;
      // Room for its ASCII bytes; the rest is measured (exact UTF-8) only if a character is not ASCII.
      if (this.used + n > this.#bytes.byteLength) this.#growBytes(n);
      let u8 = this.#bytes;
      const at = this.used;
      let i = 0;
      for (; i < n; i++) {
        const c = v.charCodeAt(i);
        if (c >= 0x80) break;
        u8[at + i] = c;
      }
      if (i < n) {
        const rest = utf8Length(v, i);
        if (at + i + rest > u8.byteLength) {
          this.used = at + i; // the ASCII prefix is kept by the growth
          this.#growBytes(rest);
          u8 = this.#bytes;
        }
        i += encoder.encodeInto(v.substring(i), u8.subarray(at + i, at + i + rest)).written;
      }
      this.used = at + i;
      return i;
    }
    if (!(v instanceof Uint8Array)) throw new WafkaError('INVALID_RECORD', `keys, values and header values are Uint8Array, string or null, not ${typeof v}`);
    const n = v.byteLength;
    if (this.used + n > this.#bytes.byteLength) this.#growBytes(n);
    this.#bytes.set(v, this.used);
    this.used += n;
    return n;
  }

  /**
   * Stages a record and returns its exact size in the batch (length varint
   * included). `timestamp`: ms since the epoch. Undo it with truncate() and
   * the counters read before.
   */
  append(
    timestamp: number, key: Uint8Array | string | null | undefined, value: Uint8Array | string | null | undefined, headers?: RecordHeaders,
    run?: StringRun,
  ): number {
    if (this.#released) throw new Error('wafka: staged batch used after release');
    const i = this.count;
    if (i === 0) this.baseTimestamp = timestamp;
    const delta = timestamp - this.baseTimestamp;
    if (!Number.isSafeInteger(delta)) throw new WafkaError('INVALID_TIMESTAMP', `timestamp ${String(timestamp)} is not an integer number of ms`);
    if ((i + 1) * ENTRY_INTS > this.#table.length) this.#growTable();
    const t = this.#table;
    const e = i * ENTRY_INTS;
    const hi = Math.floor(delta / TWO_32);
    t[e] = delta - hi * TWO_32;
    t[e + 1] = hi;
    t[e + 2] = this.used;
    const keyLen = run !== undefined && typeof key === 'string' && key === run.strings[run.next] ? this.#putRun(key, run) : this.#put(key);
    t[e + 3] = keyLen;
    t[e + 4] = this.used;
    const valueLen = run !== undefined && typeof value === 'string' && value === run.strings[run.next] ? this.#putRun(value, run) : this.#put(value);
    t[e + 5] = valueLen;
    let body = 1 + varlongSize(delta) + varlongSize(i) + bytesFieldSize(keyLen) + bytesFieldSize(valueLen);
    let bound = 31 + (keyLen > 0 ? keyLen : 0) + (valueLen > 0 ? valueLen : 0);
    let hc = 0;
    if (headers !== undefined && headers !== null) {
      const pairs = headerPairs(headers);
      hc = pairs.length >> 1;
      // The record's header table, 16 bytes per header (4-aligned), then the bytes.
      this.#aheadRun = null;
      let at = (this.used + 3) & ~3;
      if (at + hc * 16 > this.#bytes.byteLength) this.#growBytes(at - this.used + hc * 16);
      this.used = at + hc * 16;
      t[e + 6] = at;
      for (let h = 0; h < hc; h++) {
        const hk = pairs[2 * h];
        if (typeof hk !== 'string') throw new WafkaError('INVALID_RECORD', 'header keys are strings');
        const kAt = this.used;
        const kLen = this.#put(hk);
        const vAt = this.used;
        const vLen = this.#put(pairs[2 * h + 1] as HeaderValue);
        // Views after the puts: a put may have grown (replaced) the buffer.
        const dv = new DataView(this.#bytes.buffer, this.#bytes.byteOffset);
        dv.setInt32(at, kAt, true);
        dv.setInt32(at + 4, kLen, true);
        dv.setInt32(at + 8, vAt, true);
        dv.setInt32(at + 12, vLen, true);
        at += 16;
        body += bytesFieldSize(kLen) + bytesFieldSize(vLen);
        bound += 10 + kLen + (vLen > 0 ? vLen : 0);
      }
    } else {
      t[e + 6] = 0;
    }
    t[e + 7] = hc;
    body += varlongSize(hc);
    const size = varlongSize(body) + body;
    this.count = i + 1;
    this.recordsBytes += size;
    this.boundBytes += bound;
    return size;
  }

  /**
   * Stages record `i` of `src` again (a batch split after the broker found it
   * too large): same timestamp, key, value and headers; returns its exact size
   * in this batch.
   */
  appendFrom(src: StagedRecords, i: number): number {
    if (src.#released) throw new Error('wafka: staged batch used after release');
    const t = src.#table;
    const b = src.#bytes;
    const e = i * ENTRY_INTS;
    const timestamp = src.baseTimestamp + t[e + 1] * TWO_32 + (t[e] >>> 0);
    const keyLen = t[e + 3], valueLen = t[e + 5];
    const key = keyLen < 0 ? null : b.slice(t[e + 2], t[e + 2] + keyLen);
    const value = valueLen < 0 ? null : b.slice(t[e + 4], t[e + 4] + valueLen);
    const hc = t[e + 7];
    let headers: { key: string; value: HeaderValue }[] | undefined;
    if (hc > 0) {
      headers = [];
      const dv = new DataView(b.buffer, b.byteOffset);
      for (let h = 0, at = t[e + 6]; h < hc; h++, at += 16) {
        const kAt = dv.getInt32(at, true), kLen = dv.getInt32(at + 4, true);
        const vAt = dv.getInt32(at + 8, true), vLen = dv.getInt32(at + 12, true);
        headers.push({ key: decoder.decode(b.subarray(kAt, kAt + kLen)), value: vLen < 0 ? null : b.slice(vAt, vAt + vLen) });
      }
    }
    return this.append(timestamp, key, value, headers);
  }

  /** Drops the records staged after the given counters (read before an append). */
  truncate(count: number, used: number, recordsBytes: number, boundBytes: number): void {
    this.#aheadRun = null;
    this.count = count;
    this.used = used;
    this.recordsBytes = recordsBytes;
    this.boundBytes = boundBytes;
  }

  /** Returns the staging buffers to the pool; the records are gone. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    giveBuffer(this.#bytes.buffer as ArrayBuffer);
    giveBuffer(this.#table.buffer as ArrayBuffer);
  }

  get released(): boolean { return this.#released; }

  /** Bytes of the staging buffers held (0 once released): what the batch costs in memory. */
  get capacityBytes(): number {
    return this.#released ? 0 : this.#bytes.byteLength + this.#table.byteLength;
  }

  /** For the encoder: the table and bytes in use. */
  get table(): Int32Array { return this.#table.subarray(0, this.count * ENTRY_INTS); }
  get bytes(): Uint8Array { return this.#bytes.subarray(0, this.used); }
}

export interface EncodedBatches {
  /** Every batch, one after the other, in one buffer of its own (transferable as a whole). */
  bytes: Uint8Array;
  /** Where batch i ends in `bytes`. */
  ends: number[];
}

const inCore = (c: number) => c === CompressionTypes.None || c === CompressionTypes.Snappy || c === CompressionTypes.LZ4;

function checkCompression(compression: number): void {
  if (!Number.isInteger(compression) || compression < 0 || compression > 4) {
    throw new WafkaError('UNSUPPORTED_COMPRESSION_TYPE', `compression type ${compression} is not supported`);
  }
}

/**
 * Encodes staged batches (none, snappy or lz4) one after another into one
 * buffer: a copy of each into the core's memory, one core call each, one copy
 * out of all of them.
 */
export function encodeStagedSync(batches: readonly StagedRecords[], compression: CompressionType): EncodedBatches {
  checkCompression(compression);
  if (!inCore(compression)) {
    throw new WafkaError('UNSUPPORTED_COMPRESSION_TYPE', `compression type ${compression} is not done in the core: use encodeStaged`);
  }
  const arena = coreSync();
  const ex = arena.exports;
  const codecInCore = compression !== CompressionTypes.None;
  // Layout: [out: every batch, one after another][in: one batch's table and bytes][scratch: its uncompressed records].
  let outCap = 0;
  let inCap = 0;
  for (const s of batches) {
    if (s.count === 0) throw new WafkaError('INVALID_RECORD', 'a batch needs at least one record');
    if (s.boundBytes > 0x7fff0000) throw new WafkaError('RECORD_LIST_TOO_LARGE', `${s.boundBytes} bytes of records in one batch`);
    outCap += RECORD_BATCH_OVERHEAD + (codecInCore ? ex.batchRecordsBound(compression, s.boundBytes) : s.boundBytes) + 8;
    const need = s.count * ENTRY_INTS * 4 + 8 + s.used + 16 + (codecInCore ? s.boundBytes : 0);
    if (need > inCap) inCap = need;
  }
  const base = arena.base;
  const inBase = (base + outCap + 7) & ~7;
  arena.reserve(inBase - base + inCap + 16);
  const u8 = arena.u8;
  const i32 = arena.i32;
  const dv = arena.dv;
  const ends: number[] = [];
  let dst = base;
  for (const s of batches) {
    const count = s.count;
    const tableAt = inBase;
    const bytesAt = (tableAt + count * ENTRY_INTS * 4 + 7) & ~7;
    i32.set(s.table, tableAt >> 2);
    u8.set(s.bytes, bytesAt);
    const scratch = codecInCore ? (bytesAt + s.used + 15) & ~15 : 0;
    const dstCap = RECORD_BATCH_OVERHEAD + (codecInCore ? ex.batchRecordsBound(compression, s.boundBytes) : s.boundBytes);
    dv.setBigInt64(dst + BASE_OFFSET_OFFSET, 0n);
    dv.setInt32(dst + PARTITION_LEADER_EPOCH_OFFSET, -1);
    dv.setInt16(dst + ATTRIBUTES_OFFSET, compression | (s.isTransactional ? ATTR_TRANSACTIONAL : 0));
    dv.setBigInt64(dst + BASE_TIMESTAMP_OFFSET, BigInt(s.baseTimestamp));
    dv.setBigInt64(dst + PRODUCER_ID_OFFSET, s.producerId);
    dv.setInt16(dst + PRODUCER_EPOCH_OFFSET, s.producerEpoch);
    dv.setInt32(dst + BASE_SEQUENCE_OFFSET, s.baseSequence);
    const n = ex.batchBuild(tableAt, count, bytesAt, dst, dstCap, scratch, codecInCore ? s.boundBytes : 0);
    if (n < 0) throw coreError(ex, n, 'building a batch');
    dst += n;
    ends.push(dst - base);
  }
  // Into a pooled buffer when one fits (a broker worker hands request buffers back once written).
  const length = dst - base;
  const buffer = takeBuffer(length);
  holdBytes(buffer, length);
  const bytes = new Uint8Array(buffer, 0, length);
  bytes.set(u8.subarray(base, dst));
  arena.release();
  return { bytes, ends };
}

/** encodeStagedSync for any codec: gzip and zstd compress each batch's records between two core calls. */
export async function encodeStaged(batches: readonly StagedRecords[], compression: CompressionType): Promise<EncodedBatches> {
  checkCompression(compression);
  if (inCore(compression)) return encodeStagedSync(batches, compression);
  const codec = lookupCodec(compression);
  const parts: Uint8Array[] = [];
  for (const s of batches) {
    // The records uncompressed, in a batch of their own, then compressed and sealed with the codec's attributes.
    const plain = encodeStagedSync([s], CompressionTypes.None).bytes;
    const compressed = await codec.compress(plain.subarray(RECORD_BATCH_OVERHEAD));
    parts.push(sealCompressed(plain.subarray(0, RECORD_BATCH_OVERHEAD), compressed, compression));
  }
  let length = 0;
  for (const p of parts) length += p.byteLength;
  const bytes = new Uint8Array(length);
  const ends: number[] = [];
  let at = 0;
  for (const p of parts) { bytes.set(p, at); at += p.byteLength; ends.push(at); }
  return { bytes, ends };
}

function sealCompressed(header: Uint8Array, compressed: Uint8Array, compression: number): Uint8Array {
  const arena = coreSync();
  const size = RECORD_BATCH_OVERHEAD + compressed.byteLength;
  arena.reserve(size);
  const u8 = arena.u8;
  u8.set(header, arena.base);
  arena.dv.setInt16(arena.base + ATTRIBUTES_OFFSET, (arena.dv.getInt16(arena.base + ATTRIBUTES_OFFSET) & ATTR_TRANSACTIONAL) | compression);
  u8.set(compressed, arena.base + RECORD_BATCH_OVERHEAD);
  const n = arena.exports.batchSeal(arena.base, size);
  if (n < 0) throw coreError(arena.exports, n, 'batch');
  const sealed = u8.slice(arena.base, arena.base + n);
  arena.release();
  return sealed;
}
