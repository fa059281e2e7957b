/**
 * The segment manifest and lazy segments: a clean reopen opens no closed
 * segment and scans nothing; a crash scans only what lies past the recovery
 * point; truncation, retention, compaction and crashes between them keep the
 * log equal to an array model on a backend that cannot list sizes (as OPFS),
 * where the manifest alone names the segments; closed-segment file handles
 * stay within the SegmentFileCache budget.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadCore } from '../../src/core/index.ts';
import {
  MemoryBackend, openPartitionLog, SegmentFileCache, segmentFileName, SEGMENT_MANIFEST, WafkaError,
  type PartitionLog, type StorageBackend, type StorageFile,
} from './imports.ts';
import { readAll } from './conformance.ts';
import { batch, FakeClock, prng } from './helpers.ts';

beforeAll(async () => {
  await loadCore();
});

/** A MemoryBackend seen as OPFS sees it: no listSizes; counts opens and listings, and which files are open. */
class NoSizesBackend implements StorageBackend {
  readonly kind = 'memory-without-sizes';
  opens: string[] = [];
  lists = 0;
  readonly openNow = new Set<string>();
  constructor(readonly inner: MemoryBackend) {}
  async openFile(path: string, options?: { create?: boolean }): Promise<StorageFile> {
    this.opens.push(path);
    const f = await this.inner.openFile(path, options);
    this.openNow.add(path);
    const close = f.close.bind(f);
    f.close = async () => {
      this.openNow.delete(path);
      await close();
    };
    return f;
  }
  list(dir: string): Promise<string[]> {
    this.lists++;
    return this.inner.list(dir);
  }
  remove(path: string): Promise<void> {
    return this.inner.remove(path);
  }
  rename(from: string, to: string): Promise<void> {
    return this.inner.rename(from, to);
  }
  removeDir(dir: string): Promise<void> {
    return this.inner.removeDir(dir);
  }
}

const config = { segmentBytes: 600, indexIntervalBytes: 100 };

async function fill(log: PartitionLog, batches: number, tag: string): Promise<string[]> {
  const values: string[] = [];
  for (let i = 0; i < batches; i++) {
    const vs = [`${tag}${i}a-${'x'.repeat(i % 17)}`, `${tag}${i}b`];
    values.push(...vs);
    await log.append(batch(vs), { leaderEpoch: 0 });
  }
  return values;
}

describe('segment manifest', () => {
  test('a clean reopen lists nothing, opens no closed segment, scans nothing; every offset reads back', async () => {
    const inner = new MemoryBackend();
    let backend = new NoSizesBackend(inner);
    let log = await openPartitionLog({ backend, dir: 'c-0', config });
    const values = await fill(log, 200, 'c');
    const segments = log.segmentCount;
    expect(segments).toBeGreaterThan(20);
    await log.close();

    backend = new NoSizesBackend(inner);
    log = await openPartitionLog({ backend, dir: 'c-0', config });
    expect(log.segmentCount).toBe(segments);
    expect(log.recovery.bytesScanned).toBe(0);
    expect(backend.lists).toBe(0);
    const segmentOpens = backend.opens.filter((p) => p.endsWith('.log'));
    expect(segmentOpens).toEqual([`c-0/${segmentFileName(log.segmentBaseOffsets[segments - 1], '.log')}`]);
    expect((await readAll(log)).map((r) => r.value)).toEqual(values);
    for (let o = 0; o < values.length; o += 7) {
      const r = await log.read(BigInt(o), 1);
      expect(r.firstOffset <= BigInt(o) && BigInt(o) < r.nextOffset).toBe(true);
    }
    expect((await log.offsetForTimestamp(0))?.offset).toBe(0n);
    await log.close();
  });

  test('after a crash only the active segment is scanned, and a torn active tail is still cut', async () => {
    const inner = new MemoryBackend({ trackUnflushed: true });
    const log = await openPartitionLog({ backend: new NoSizesBackend(inner), dir: 'k-0', config });
    const values = await fill(log, 120, 'k');
    const activeBase = log.segmentBaseOffsets[log.segmentCount - 1];
    for (let seed = 1; seed <= 20; seed++) {
      const image = inner.crashImage(prng(seed));
      const activeBytes = image.peek(`k-0/${segmentFileName(activeBase, '.log')}`)?.length ?? 0;
      const backend = new NoSizesBackend(image);
      const reopened = await openPartitionLog({ backend, dir: 'k-0', config });
      expect(backend.lists, `seed ${seed}`).toBe(0);
      expect(reopened.recovery.bytesScanned, `seed ${seed}`).toBeLessThanOrEqual(activeBytes);
      const all = (await readAll(reopened)).map((r) => r.value);
      expect(all, `seed ${seed}`).toEqual(values.slice(0, all.length));
      // Closed segments were flushed at their roll: at most the active segment's records are lost.
      expect(reopened.logEndOffset >= activeBase, `seed ${seed}`).toBe(true);
      await reopened.close();
    }
    await log.close();
  });

  test('closed-segment files stay within the open-file budget while reads sweep every segment', async () => {
    const inner = new MemoryBackend();
    let backend = new NoSizesBackend(inner);
    let log = await openPartitionLog({ backend, dir: 'b-0', config });
    const values = await fill(log, 150, 'b');
    await log.close();
    backend = new NoSizesBackend(inner);
    const fileCache = new SegmentFileCache(3);
    log = await openPartitionLog({ backend, dir: 'b-0', config, fileCache });
    let peak = 0;
    let offset = 0n;
    const got: string[] = [];
    while (offset < log.logEndOffset) {
      const r = await log.read(offset, 300);
      got.push(...(await import('./helpers.ts')).records(r.bytes).filter((x) => x.offset >= offset).map((x) => x.value!));
      offset = r.nextOffset;
      peak = Math.max(peak, [...backend.openNow].filter((p) => p.endsWith('.log')).length);
    }
    expect(got).toEqual(values);
    // The active segment's file, plus at most three closed ones.
    expect(peak).toBeLessThanOrEqual(4);
    expect(fileCache.openCount).toBeLessThanOrEqual(3);
    await log.close();
    expect([...backend.openNow]).toEqual([]);
  });

  test('a closed segment changed outside the log is refused on first use, never served wrong', async () => {
    const inner = new MemoryBackend();
    let log = await openPartitionLog({ backend: new NoSizesBackend(inner), dir: 'x-0', config });
    await fill(log, 60, 'x');
    const first = log.segmentBaseOffsets[0];
    await log.close();
    const path = `x-0/${segmentFileName(first, '.log')}`;
    inner.poke(path, inner.peek(path)!.subarray(0, 100));
    log = await openPartitionLog({ backend: new NoSizesBackend(inner), dir: 'x-0', config });
    const error = await log.read(0n, 1000).then(() => undefined, (e: unknown) => e);
    expect(WafkaError.is(error, 'KAFKA_STORAGE_ERROR'), String(error)).toBe(true);
    expect(String((error as Error).message)).toContain('changed outside the log');
    await log.close();
    // Where the backend lists sizes, the same damage is found at open and cut (recovery.test.ts covers it).
    log = await openPartitionLog({ backend: inner, dir: 'x-0', config });
    expect(log.segmentCount).toBe(1);
    await log.close();
  });

  test('a closed segment whose bytes do not match its entry (same size, index files gone) takes the log offline', async () => {
    const inner = new MemoryBackend();
    let log = await openPartitionLog({ backend: new NoSizesBackend(inner), dir: 'o-0', config });
    await fill(log, 60, 'o');
    const [first, second] = log.segmentBaseOffsets;
    await log.close();
    const path = `o-0/${segmentFileName(first, '.log')}`;
    const bytes = inner.peek(path)!;
    // The second batch's length field garbled: same file size, but a scan stops after the first batch.
    const firstSize = 12 + new DataView(bytes.buffer, bytes.byteOffset).getInt32(8);
    bytes.set([0x7f, 0xff, 0xff, 0xff], firstSize + 8);
    inner.poke(path, bytes);
    await inner.remove(`o-0/${segmentFileName(first, '.index')}`);
    log = await openPartitionLog({ backend: new NoSizesBackend(inner), dir: 'o-0', config });
    const error = await log.read(first, 100_000).then(() => undefined, (e: unknown) => e);
    expect(WafkaError.is(error, 'KAFKA_STORAGE_ERROR'), String(error)).toBe(true);
    // Nothing more is served until a reopen, not even from the segments that are fine.
    const again = await log.read(second, 100_000).then(() => undefined, (e: unknown) => e);
    expect(WafkaError.is(again, 'KAFKA_STORAGE_ERROR'), String(again)).toBe(true);
    await log.close();
  });

  test('a torn or garbled manifest is not used: the log opens by listing and scanning, whole', async () => {
    const inner = new MemoryBackend();
    let log = await openPartitionLog({ backend: new NoSizesBackend(inner), dir: 'g-0', config });
    const values = await fill(log, 80, 'g');
    await log.close();
    const path = `g-0/${SEGMENT_MANIFEST}`;
    const bytes = inner.peek(path)!;
    for (const damaged of [bytes.subarray(0, 30), bytes.subarray(0, bytes.length - 60), new Uint8Array(bytes.length).fill(7)]) {
      inner.poke(path, damaged);
      const backend = new NoSizesBackend(inner);
      log = await openPartitionLog({ backend, dir: 'g-0', config });
      expect((await readAll(log)).map((r) => r.value)).toEqual(values);
      await log.close();
    }
  });
});

type Op =
  | { kind: 'append'; sizes: number[] }
  | { kind: 'truncate'; back: number }
  | { kind: 'retention' }
  | { kind: 'deleteBefore'; fraction: number }
  | { kind: 'compact' }
  | { kind: 'reopen' }
  | { kind: 'crash' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('append' as const), sizes: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), back: fc.integer({ min: 0, max: 30 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'retention' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteBefore' as const), fraction: fc.double({ min: 0, max: 1, noNaN: true }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'compact' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'reopen' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'crash' as const }) },
);

describe('lazy segments against an array model, without size listings', () => {
  test('appends, rolls, truncations, retention, deleteRecordsBefore, compaction without removals, reopens and process crashes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
        let inner = new MemoryBackend();
        // Unique keys: compaction rewrites segments (and runs the manifest through its rewrite) without removing records.
        const logConfig = { segmentBytes: 400, indexIntervalBytes: 64, retentionBytes: 1500, retentionMs: -1, cleanupPolicy: 'compact,delete' as const };
        const clock = new FakeClock();
        const open = () => openPartitionLog({ backend: new NoSizesBackend(inner), dir: 'p-0', config: logConfig, clock });
        let log = await open();
        let model: { offset: bigint; value: string; batchBase: bigint }[] = [];
        let start = 0n;
        let end = 0n;
        let n = 0;
        for (const o of ops) {
          if (o.kind === 'append') {
            for (const size of o.sizes) {
              const vs = Array.from({ length: size }, () => `r${n++}`);
              const r = await log.append(batch(vs, { keys: vs }), { leaderEpoch: 0 });
              expect(r.baseOffset).toBe(end);
              const base = end;
              for (const v of vs) model.push({ offset: end++, value: v, batchBase: base });
            }
          } else if (o.kind === 'truncate') {
            const target = end - BigInt(o.back) < start ? start : end - BigInt(o.back);
            await log.truncateTo(target);
            if (target < end) {
              const cut = model.find((r) => r.offset >= target);
              const batchBase = cut ? cut.batchBase : target;
              model = model.filter((r) => r.batchBase < batchBase);
              end = model.length ? model[model.length - 1].offset + 1n : start;
              if (target < start) start = target;
            }
          } else if (o.kind === 'retention') {
            log.highWatermark = log.logEndOffset;
            await log.runRetention(clock.now);
            start = log.logStartOffset;
            model = model.filter((r) => r.offset >= start);
          } else if (o.kind === 'deleteBefore') {
            log.highWatermark = log.logEndOffset;
            const target = start + BigInt(Math.floor(Number(end - start) * o.fraction));
            await log.deleteRecordsBefore(target);
            if (target > start) start = target;
            model = model.filter((r) => r.offset >= start);
          } else if (o.kind === 'compact') {
            log.highWatermark = log.logEndOffset;
            await log.compact(clock.now + 10 ** 9);
          } else if (o.kind === 'reopen') {
            await log.close();
            log = await open();
            expect(log.recovery.bytesScanned).toBe(0);
          } else {
            inner = inner.crashImage();
            log = await open();
            expect(log.recovery.bytesTruncated).toBe(0);
          }
          expect(log.logEndOffset).toBe(end);
          expect(log.logStartOffset).toBe(start);
        }
        const all = await readAll(log);
        expect(all.map((r) => [r.offset, r.value])).toEqual(model.map((r) => [r.offset, r.value]));
        await log.close();
        log = await open();
        expect((await readAll(log)).map((r) => [r.offset, r.value])).toEqual(model.map((r) => [r.offset, r.value]));
        await log.close();
      }),
      { seed: 0x1a2b, numRuns: 120 },
    );
  });
});
