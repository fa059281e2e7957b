/**
 * The storage conformance suite: one list of cases, run against every
 * backend, in Node (test/storage/conformance.test.ts) and inside a real
 * dedicated worker in Chromium (test/storage/conformance-worker.ts).
 * Cases use their own tiny assertions so they run where vitest's do not.
 */
import { loadCore } from '../../src/core/index.ts';
import { openPartitionLog, segmentFileName, type LogConfig, type PartitionLog, type StorageBackend } from '../../src/storage/index.ts';
import { batch, batchOffsets, concat, eq, FakeClock, ok, records, rejects, sizedBatch } from './helpers.ts';

export interface ConformanceContext {
  backend: StorageBackend;
  /** A directory name unique to this case. */
  dir: string;
  open(config?: Partial<LogConfig>, clock?: FakeClock, sub?: string): Promise<PartitionLog>;
}

export interface ConformanceCase {
  name: string;
  run(ctx: ConformanceContext): Promise<void>;
}

export const conformanceCases: ConformanceCase[] = [
  {
    name: 'append assigns offsets and the leader epoch; read returns the same bytes',
    async run({ open }) {
      const log = await open();
      eq(log.logEndOffset, 0n, 'empty LEO');
      const b1 = batch(['a', 'b', 'c']);
      const r1 = await log.append(b1, { leaderEpoch: 3 });
      eq([r1.baseOffset, r1.lastOffset, r1.recordCount], [0n, 2n, 3], 'first append');
      const r2 = await log.append(concat(batch(['d']), batch(['e', 'f'])), { leaderEpoch: 3 });
      eq([r2.baseOffset, r2.lastOffset, r2.batchCount], [3n, 5n, 2], 'two batches in one append');
      eq(log.logEndOffset, 6n, 'LEO');
      const read = await log.read(0n, 1 << 20);
      eq(records(read.bytes).map((r) => [r.offset, r.value]), [[0n, 'a'], [1n, 'b'], [2n, 'c'], [3n, 'd'], [4n, 'e'], [5n, 'f']], 'records');
      eq(read.nextOffset, 6n, 'nextOffset');
      const dv = new DataView(read.bytes.buffer, read.bytes.byteOffset);
      eq(dv.getInt32(12), 3, 'partitionLeaderEpoch written');
      eq(Array.from(read.bytes.subarray(0, b1.length)), Array.from(b1), 'stored bytes are the appended bytes');
      await log.close();
    },
  },
  {
    name: 'read by offset: batch holding it, whole batches up to maxBytes, at least one',
    async run({ open }) {
      const log = await open({ indexIntervalBytes: 100 });
      const sizes: number[] = [];
      for (let i = 0; i < 20; i++) {
        const b = sizedBatch(5, 40, String.fromCharCode(97 + i));
        sizes.push(b.length);
        await log.append(b, { leaderEpoch: 0 });
      }
      const mid = await log.read(52n, 1);
      eq(batchOffsets(mid.bytes), [50n], 'minOneMessage: the batch holding 52, though larger than maxBytes');
      eq([mid.firstOffset, mid.nextOffset], [50n, 55n], 'first/next');
      const two = await log.read(52n, sizes[10] + sizes[11] + 10);
      eq(batchOffsets(two.bytes), [50n, 55n], 'two whole batches fit');
      const capped = await log.read(0n, 1 << 20, { maxOffset: 17n });
      eq(batchOffsets(capped.bytes), [0n, 5n, 10n], 'maxOffset bound excludes the batch crossing it');
      const end = await log.read(100n, 1000);
      eq(end.bytes.length, 0, 'read at LEO is empty');
      await rejects(log.read(101n, 1000), 'OFFSET_OUT_OF_RANGE', 'past LEO');
      await rejects(() => log.read(0n, -1), 'INVALID_FETCH_SIZE', 'negative maxBytes');
      for (let o = 0n; o < 100n; o += 7n) {
        const r = await log.read(o, 0);
        eq(r.firstOffset, (o / 5n) * 5n, `batch holding ${o}`);
      }
      await log.close();
    },
  },
  {
    name: 'bad input: CRC, magic, truncation, size; nothing stored changes',
    async run({ open }) {
      const log = await open({ maxMessageBytes: 2000 });
      await log.append(batch(['keep']), { leaderEpoch: 0 });
      const before = await log.read(0n, 1 << 20);
      const flipped = batch(['x', 'y']);
      flipped[flipped.length - 1] ^= 1;
      await rejects(log.append(flipped, { leaderEpoch: 0 }), 'CORRUPT_MESSAGE', 'CRC');
      const magic = batch(['x']);
      magic[16] = 1;
      await rejects(log.append(magic, { leaderEpoch: 0 }), 'CORRUPT_MESSAGE', 'magic');
      const good = batch(['ok']);
      await rejects(log.append(concat(good, batch(['z']).subarray(0, 30)), { leaderEpoch: 0 }), 'CORRUPT_MESSAGE', 'torn second batch');
      await rejects(log.append(sizedBatch(3, 1000), { leaderEpoch: 0 }), 'MESSAGE_TOO_LARGE', 'over maxMessageBytes');
      await rejects(log.append(new Uint8Array(0), { leaderEpoch: 0 }), 'CORRUPT_MESSAGE', 'empty');
      eq(log.logEndOffset, 1n, 'LEO unchanged');
      const after = await log.read(0n, 1 << 20);
      eq(Array.from(after.bytes), Array.from(before.bytes), 'stored bytes unchanged');
      await log.close();
    },
  },
  {
    name: 'segments roll by segmentBytes and segmentMs, named by 20-digit base offset',
    async run({ open, backend, dir }) {
      const clock = new FakeClock();
      const log = await open({ segmentBytes: 1000, segmentMs: 60_000 }, clock);
      for (let i = 0; i < 10; i++) await log.append(sizedBatch(4, 50), { leaderEpoch: 0 });
      ok(log.segmentCount >= 3, `rolled by size: ${log.segmentCount} segments`);
      const n = log.segmentCount;
      clock.now += 60_000;
      await log.append(sizedBatch(1, 10), { leaderEpoch: 0 });
      eq(log.segmentCount, n + 1, 'rolled by time');
      const names = await backend.list(dir);
      ok(names.includes(segmentFileName(0n, '.log')) && names.includes('00000000000000000000.log'), `names ${names}`);
      ok(names.includes(segmentFileName(log.segmentBaseOffsets[1], '.index')), 'closed segment has an index file');
      ok(names.includes(segmentFileName(log.segmentBaseOffsets[1], '.timeindex')), 'and a time index file');
      const all = await readAll(log);
      eq(all.length, 41, 'every record reads back across segments');
      eq(all.map((r) => r.offset), Array.from({ length: 41 }, (_, i) => BigInt(i)), 'offsets');
      await log.close();
    },
  },
  {
    name: 'close and reopen: same offsets, bytes, epochs, high watermark, log start',
    async run({ open }) {
      let log = await open({ segmentBytes: 2000, indexIntervalBytes: 200 });
      for (let i = 0; i < 30; i++) await log.append(sizedBatch(3, 30, String(i % 10)), { leaderEpoch: i < 15 ? 1 : 2 });
      log.highWatermark = 60n;
      await log.deleteRecordsBefore(10n);
      const before = await readAll(log);
      const segs = log.segmentBaseOffsets;
      await log.close();
      log = await open({ segmentBytes: 2000, indexIntervalBytes: 200 });
      eq(log.recovery.bytesTruncated, 0, 'clean: nothing truncated');
      eq(log.segmentBaseOffsets, segs, 'segments');
      eq([log.logStartOffset, log.logEndOffset, log.highWatermark], [10n, 90n, 60n], 'offsets');
      eq(log.leaderEpochs, [{ epoch: 1, startOffset: 10n }, { epoch: 2, startOffset: 45n }], 'epochs');
      eq(await readAll(log), before, 'records');
      const r = await log.append(batch(['more']), { leaderEpoch: 2 });
      eq(r.baseOffset, 90n, 'appends continue');
      await log.close();
    },
  },
  {
    name: 'recovery: a torn tail and garbage are cut; the valid prefix survives',
    async run({ open, backend, dir }) {
      let log = await open({ segmentBytes: 1 << 20 });
      for (let i = 0; i < 5; i++) await log.append(batch([`v${i}`]), { leaderEpoch: 0 });
      await log.close();
      const path = `${dir}/${segmentFileName(0n, '.log')}`;
      const f = await backend.openFile(path);
      const size = f.size;
      const torn = batch(['torn-torn-torn']);
      await f.write(size, torn.subarray(0, torn.length - 5));
      await f.flush();
      await f.close();
      log = await open();
      eq(log.logEndOffset, 5n, 'LEO after torn tail');
      eq(log.recovery.bytesTruncated, torn.length - 5, 'bytes dropped reported');
      await log.append(batch(['after']), { leaderEpoch: 0 });
      await log.close();
      const g = await backend.openFile(path);
      const garbage = new Uint8Array(300).map((_, i) => (i * 37) & 0xff);
      await g.write(g.size, garbage);
      await g.close();
      log = await open();
      eq(log.logEndOffset, 6n, 'LEO after garbage');
      eq((await readAll(log)).map((r) => r.value), ['v0', 'v1', 'v2', 'v3', 'v4', 'after'], 'valid prefix');
      await log.close();
    },
  },
  {
    name: 'recovery: a flipped byte in the middle of the active segment cuts from that batch',
    async run({ open, backend, dir }) {
      let log = await open();
      for (let i = 0; i < 6; i++) await log.append(batch([`v${i}`]), { leaderEpoch: 0 });
      await log.close();
      await backend.remove(`${dir}/${segmentFileName(0n, '.index')}`);
      await backend.remove(`${dir}/${segmentFileName(0n, '.timeindex')}`);
      const path = `${dir}/${segmentFileName(0n, '.log')}`;
      const f = await backend.openFile(path);
      const all = await f.read(0, f.size);
      eq(batchOffsets(all).length, 6, 'six batches');
      const lastByteOfFourth = positions(all)[4] - 1;
      await f.write(lastByteOfFourth, new Uint8Array([all[lastByteOfFourth] ^ 0xff]));
      await f.close();
      log = await open();
      eq(log.logEndOffset, 3n, 'cut at the corrupt batch');
      ok(log.recovery.problems.length === 1 && /CRC/i.test(log.recovery.problems[0]), `problem reported: ${log.recovery.problems}`);
      await log.close();
    },
  },
  {
    name: 'truncateTo: removes whole batches from the offset on, across segments',
    async run({ open }) {
      const log = await open({ segmentBytes: 500 });
      for (let i = 0; i < 20; i++) await log.append(batch([`a${i}`, `b${i}`]), { leaderEpoch: i < 10 ? 0 : 1 });
      log.highWatermark = 40n;
      await log.truncateTo(41n);
      eq(log.logEndOffset, 40n, 'no-op past LEO');
      await log.truncateTo(25n);
      eq(log.logEndOffset, 24n, 'batch spanning 25 removed whole');
      eq(log.highWatermark, 24n, 'HW follows');
      eq(log.leaderEpochs, [{ epoch: 0, startOffset: 0n }, { epoch: 1, startOffset: 20n }], 'epochs');
      await log.truncateTo(8n);
      eq(log.logEndOffset, 8n, 'at a boundary');
      eq(log.leaderEpochs, [{ epoch: 0, startOffset: 0n }], 'epoch 1 gone');
      const r = await log.append(batch(['new']), { leaderEpoch: 2 });
      eq(r.baseOffset, 8n, 'appends continue at the new end');
      eq((await readAll(log)).length, 9, 'records');
      await log.truncateTo(0n);
      eq([log.logStartOffset, log.logEndOffset, log.segmentCount], [0n, 0n, 1], 'truncate to 0');
      await log.close();
    },
  },
  {
    name: 'retention by bytes, by time, and deleteRecordsBefore (never the active segment)',
    async run({ open }) {
      const clock = new FakeClock(1_000_000);
      const log = await open({ segmentBytes: 400, retentionBytes: 1000, retentionMs: 10_000 }, clock);
      for (let i = 0; i < 30; i++) await log.append(batch([`v${i}`], { timestampMs: 1_000_000 + i * 1000 }), { leaderEpoch: 0 });
      const size = log.sizeBytes;
      eq((await log.runRetention(1_000_000)).segmentsDeleted, 0, 'nothing goes above the high watermark (0)');
      log.highWatermark = log.logEndOffset;
      const bySize = await log.runRetention(1_000_000);
      ok(bySize.segmentsDeleted > 0 && log.sizeBytes <= 1000 + 400 && log.sizeBytes < size, `size retention: ${log.sizeBytes}`);
      eq(log.logStartOffset, log.segmentBaseOffsets[0], 'log start moved to the first segment');
      const byTime = await log.runRetention(1_000_000 + 100_000);
      ok(byTime.segmentsDeleted > 0, 'time retention');
      eq(log.segmentCount, 1, 'only the active segment is left');
      await rejects(log.read(0n, 100), 'OFFSET_OUT_OF_RANGE', 'deleted offsets are out of range');
      log.highWatermark = log.logEndOffset;
      await rejects(log.deleteRecordsBefore(log.logEndOffset + 1n), 'OFFSET_OUT_OF_RANGE', 'above HW');
      const start = await log.deleteRecordsBefore(29n);
      eq([start, log.logStartOffset], [29n, 29n], 'deleteRecordsBefore moves log start');
      eq(records((await log.read(29n, 1000)).bytes).map((r) => r.value), ['v29'], 'read at new start');
      await rejects(log.read(28n, 100), 'OFFSET_OUT_OF_RANGE', 'below new start');
      await log.close();
    },
  },
  {
    name: 'offsetForTimestamp: first offset with timestamp ≥ T, across segments and index entries',
    async run({ open }) {
      const log = await open({ segmentBytes: 600, indexIntervalBytes: 100 });
      for (let i = 0; i < 40; i++) await log.append(batch([`a${i}`, `b${i}`], { timestamps: [10_000 + i * 100, 10_000 + i * 100 + 50] }), { leaderEpoch: 0 });
      eq(await log.offsetForTimestamp(0), { offset: 0n, timestampMs: 10_000 }, 'before all');
      eq(await log.offsetForTimestamp(10_050), { offset: 1n, timestampMs: 10_050 }, 'second record');
      eq(await log.offsetForTimestamp(10_051), { offset: 2n, timestampMs: 10_100 }, 'between');
      eq(await log.offsetForTimestamp(13_920), { offset: 79n, timestampMs: 13_950 }, 'last record');
      eq(await log.offsetForTimestamp(20_000), undefined, 'after all');
      eq(await log.offsetForTimestamp(-1), { offset: 80n, timestampMs: -1 }, 'latest');
      for (let t = 10_000; t < 14_000; t += 37) {
        const r = await log.offsetForTimestamp(t);
        const i = Math.ceil((t - 10_000) / 50);
        eq(r?.offset, i < 80 ? BigInt(i) : undefined, `T=${t}`);
      }
      await log.close();
    },
  },
  {
    name: 'leader epochs: checkpoint, endOffsetForEpoch, follower appends keep offsets',
    async run({ open }) {
      let log = await open();
      await log.append(batch(['a', 'b']), { leaderEpoch: 0 });
      await log.append(batch(['c']), { leaderEpoch: 2 });
      await log.append(batch(['d']), { leaderEpoch: 5 });
      eq(log.endOffsetForEpoch(0), { leaderEpoch: 0, endOffset: 2n }, 'epoch 0');
      eq(log.endOffsetForEpoch(1), { leaderEpoch: 0, endOffset: 2n }, 'epoch 1 → 0');
      eq(log.endOffsetForEpoch(2), { leaderEpoch: 2, endOffset: 3n }, 'epoch 2');
      eq(log.endOffsetForEpoch(5), { leaderEpoch: 5, endOffset: 4n }, 'latest');
      await log.close();
      log = await open();
      eq(log.leaderEpochs.map((e) => e.epoch), [0, 2, 5], 'epochs survive reopen');
      const leader = (await log.read(0n, 1 << 20)).bytes;
      await log.close();
      const follower = await open(undefined, undefined, 'follower');
      await follower.appendAsFollower(leader.slice());
      eq(follower.logEndOffset, 4n, 'follower LEO');
      eq(follower.leaderEpochs.map((e) => [e.epoch, e.startOffset]), [[0, 0n], [2, 2n], [5, 3n]], 'follower epochs from batches');
      const gap = batch(['g']);
      new DataView(gap.buffer).setBigInt64(0, 10n);
      await follower.appendAsFollower(gap);
      eq(follower.logEndOffset, 11n, 'gaps allowed');
      const old = batch(['o']);
      await rejects(follower.appendAsFollower(old), 'OFFSET_OUT_OF_RANGE', 'offsets must not go back');
      eq(batchOffsets((await follower.read(4n, 1000)).bytes), [10n], 'read in a gap returns the next batch');
      await follower.close();
    },
  },
  {
    name: 'compaction: latest per key in closed segments, offsets kept, tombstones dropped after deleteRetentionMs',
    async run({ open }) {
      const clock = new FakeClock(1_000_000);
      let log = await open({ cleanupPolicy: 'compact', segmentBytes: 300, deleteRetentionMs: 1000, minCompactionLagMs: 0 }, clock);
      const keys = ['k0', 'k1', 'k2', 'k3'];
      for (let i = 0; i < 24; i++) {
        const k = keys[i % 4];
        const value = i === 17 ? null : `${k}-${i}`;
        await log.append(batch([value], { keys: [k], timestampMs: 1_000_000 + i }), { leaderEpoch: 0 });
      }
      log.highWatermark = log.logEndOffset;
      const before = await readAll(log);
      // Each segment's last record stays (segments chain: each ends where the next begins).
      const segmentEnds = new Set(log.segmentBaseOffsets.slice(1).map((base) => base - 1n));
      const result = await log.compact(1_000_000 + 500);
      ok(result.segmentsCleaned > 0 && result.recordsRemoved > 0, `compacted: ${JSON.stringify(result)}`);
      const after = await readAll(log);
      const activeBase = log.segmentBaseOffsets[log.segmentCount - 1];
      // Model: in the cleaned range keep the latest per key over that range, and each segment's last record.
      const cleanedEnd = activeBase;
      const latest = new Map<string, bigint>();
      for (const r of before) if (r.offset < cleanedEnd) latest.set(r.key!, r.offset);
      const expected = before.filter((r) => r.offset >= cleanedEnd || latest.get(r.key!) === r.offset || segmentEnds.has(r.offset));
      eq(after, expected, 'latest per key, offsets kept');
      ok(after.some((r) => r.value === null), 'young tombstone kept');
      await log.close();
      log = await open({ cleanupPolicy: 'compact', segmentBytes: 300, deleteRetentionMs: 1000 }, clock);
      eq(await readAll(log), expected, 'compacted log reopens the same');
      log.highWatermark = log.logEndOffset;
      await log.compact(1_000_000 + 10_000);
      ok((await readAll(log)).every((r) => r.value !== null || r.offset >= cleanedEnd || segmentEnds.has(r.offset)), 'old tombstones dropped');
      await log.close();
    },
  },
  {
    name: 'one owner: a second open of the same log fails with KAFKA_STORAGE_ERROR',
    async run({ open }) {
      const log = await open();
      await log.append(batch(['a']), { leaderEpoch: 0 });
      await rejects(open(), 'KAFKA_STORAGE_ERROR', 'second open');
      eq((await readAll(log)).length, 1, 'first owner unaffected');
      await log.close();
      const again = await open();
      eq(again.logEndOffset, 1n, 'opens after close');
      await again.close();
    },
  },
  {
    name: 'delete removes every file of the log',
    async run({ open, backend, dir }) {
      const log = await open({ segmentBytes: 300 });
      for (let i = 0; i < 10; i++) await log.append(batch([`v${i}`]), { leaderEpoch: 1 });
      ok((await backend.list(dir)).length > 3, 'files exist');
      await log.delete();
      eq(await backend.list(dir), [], 'no files left');
      await rejects(log.append(batch(['x']), { leaderEpoch: 1 }), 'KAFKA_STORAGE_ERROR', 'deleted log refuses appends');
      const fresh = await open();
      eq(fresh.logEndOffset, 0n, 'a new log in the same dir starts empty');
      await fresh.close();
    },
  },
  {
    name: 'large batches: reads of a batch bigger than maxBytes and than one scan window',
    async run({ open }) {
      let log = await open({ maxMessageBytes: 4 << 20, segmentBytes: 8 << 20 });
      const big = sizedBatch(3, 1 << 20, 'B');
      await log.append(big, { leaderEpoch: 0 });
      await log.append(batch(['small']), { leaderEpoch: 0 });
      const r = await log.read(1n, 100);
      eq(r.bytes.length, big.length, 'whole big batch');
      await log.close();
      log = await open({ maxMessageBytes: 4 << 20, segmentBytes: 8 << 20 });
      eq(log.logEndOffset, 4n, 'reopen');
      await log.close();
    },
  },
];

function positions(bytes: Uint8Array): number[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  for (let p = 0; p < bytes.length; p += 12 + dv.getInt32(p + 8)) out.push(p);
  return out;
}

export async function readAll(log: PartitionLog): Promise<ReturnType<typeof records>> {
  const out: ReturnType<typeof records> = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const r = await log.read(offset, 1 << 16);
    if (r.bytes.length === 0) break;
    // A read starts with the whole batch holding `offset`: skip what is below it, as consumers do.
    const from = offset;
    out.push(...records(r.bytes).filter((x) => x.offset >= from));
    offset = r.nextOffset;
  }
  return out;
}

/** Runs one case on a backend, in a directory of its own; removes the directory afterwards. */
export async function runConformanceCase(c: ConformanceCase, backend: StorageBackend, dirPrefix: string): Promise<void> {
  await loadCore();
  const dir = `${dirPrefix}-${conformanceCases.indexOf(c)}`;
  await backend.removeDir(dir);
  const opened: PartitionLog[] = [];
  const ctx: ConformanceContext = {
    backend,
    dir,
    async open(config, clock, sub) {
      const log = await openPartitionLog({ backend, dir: sub ? `${dir}-${sub}` : dir, config, clock: clock ?? new FakeClock() });
      opened.push(log);
      return log;
    },
  };
  try {
    await c.run(ctx);
  } finally {
    for (const log of opened) await log.close().catch(() => {});
    await backend.removeDir(dir);
    await backend.removeDir(`${dir}-follower`);
  }
}
