import { beforeAll, describe, expect, test } from 'vitest';
import fc from 'fast-check';
import * as core from '../../src/core/index.ts';
import { CompressionTypes } from '../../src/core/index.ts';
import { giveBuffer, heldBytes } from '../../src/buffer-pool.ts';
import { BASE_TS, expected, plain, recordArb, toInput, type RecordCase } from './core.cases.ts';

const CODECS = [CompressionTypes.None, CompressionTypes.GZIP, CompressionTypes.Snappy, CompressionTypes.LZ4] as const;

function stage(rs: RecordCase[], capacity = 64): { staged: core.StagedRecords; sizes: number[] } {
  const staged = new core.StagedRecords(capacity);
  const sizes = rs.map((r) => staged.append(BASE_TS + r.timestamp, r.key, r.value, r.headers));
  return { staged, sizes };
}

describe('staged batches (the producer\'s encode path)', () => {
  beforeAll(async () => { await core.loadCore(); });

  test('the same bytes as encodeBatch, and exact record sizes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(recordArb, { minLength: 1, maxLength: 30 }), async (rs) => {
        const { staged, sizes } = stage(rs);
        const { bytes, ends } = core.encodeStagedSync([staged], CompressionTypes.None);
        expect(bytes).toEqual(core.encodeBatchSync(toInput(rs)));
        expect(ends).toEqual([bytes.byteLength]);
        expect(61 + sizes.reduce((a, b) => a + b, 0)).toBe(bytes.byteLength);
        expect(staged.recordsBytes + 61).toBe(bytes.byteLength);
        staged.release();
      }),
      { numRuns: 80 },
    );
  });

  for (const codec of CODECS) {
    test(`several batches in one buffer, compression ${codec}: each decodes to its records (property)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(recordArb, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 4 }), async (batches) => {
          const staged = batches.map((rs) => stage(rs).staged);
          const { bytes, ends } = await core.encodeStaged(staged, codec);
          expect(ends[ends.length - 1]).toBe(bytes.byteLength);
          // All the buffer holds (a pooled buffer may be larger): it can be transferred whole.
          expect(bytes.byteOffset === 0 && bytes.byteLength === heldBytes(bytes.buffer)).toBe(true);
          let start = 0;
          for (let i = 0; i < batches.length; i++) {
            const d = await core.decodeBatch(bytes.subarray(start, ends[i]));
            expect(d.compression).toBe(codec);
            expect(d.records.map(plain)).toEqual(expected(batches[i], 0n));
            start = ends[i];
          }
          for (const s of staged) s.release();
        }),
        { numRuns: codec === CompressionTypes.GZIP ? 15 : 40 },
      );
    });
  }

  test('a request buffer handed back is reused for the next request, and holds only its new bytes', () => {
    const first = stage([{ key: 'a', value: 'x'.repeat(200_000), timestamp: 0 }] as RecordCase[]).staged;
    const one = core.encodeStagedSync([first], CompressionTypes.None).bytes;
    first.release();
    const buffer = one.buffer as ArrayBuffer;
    const rs = [{ key: 'b', value: 'y'.repeat(150_000), timestamp: 0 }] as RecordCase[];
    const second = stage(rs).staged;
    giveBuffer(buffer);
    const two = core.encodeStagedSync([second], CompressionTypes.None).bytes;
    second.release();
    expect(two.buffer).toBe(buffer);
    expect(two.byteLength).toBeLessThan(buffer.byteLength);
    expect(heldBytes(buffer)).toBe(two.byteLength);
    expect(two).toEqual(core.encodeBatchSync(toInput(rs)));
  });

  test('truncate takes back the last record; staging grows past its first capacity', () => {
    const staged = new core.StagedRecords(64);
    staged.append(BASE_TS, 'k', 'x'.repeat(500), { h: 'v' });
    const before = [staged.count, staged.used, staged.recordsBytes, staged.boundBytes] as const;
    staged.append(BASE_TS + 1, null, 'é'.repeat(300));
    staged.truncate(...before);
    staged.append(BASE_TS + 2, new Uint8Array([1, 2, 3]), null);
    const d = core.decodeBatchSync(core.encodeStagedSync([staged], CompressionTypes.None).bytes);
    expect(d.records.map((r) => [r.timestamp, r.key && Array.from(r.key), r.value?.byteLength ?? null, r.headers.length]))
      .toEqual([[BigInt(BASE_TS), Array.from(new TextEncoder().encode('k')), 500, 1], [BigInt(BASE_TS + 2), [1, 2, 3], null, 0]]);
  });

  test('non-ASCII strings are counted in UTF-8 bytes; bad values and timestamps are refused', () => {
    const staged = new core.StagedRecords();
    const size = staged.append(BASE_TS, 'ключ', 'значение 🎉');
    const bytes = core.encodeStagedSync([staged], CompressionTypes.None).bytes;
    expect(61 + size).toBe(bytes.byteLength);
    expect(() => staged.append(BASE_TS, null, 12 as unknown as string)).toThrow(/Uint8Array, string or null/);
    expect(() => staged.append(Number.NaN, null, 'a')).toThrow(/timestamp/);
    expect(() => core.encodeStagedSync([new core.StagedRecords()], CompressionTypes.None)).toThrow(/at least one record/);
  });

  describe('string runs (a send\'s strings encoded a chunk at a time)', () => {
    const text = fc.oneof(
      { weight: 6, arbitrary: fc.string({ maxLength: 120 }) },
      { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
      { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('a', 'é', 'ж', '€', '🎉', '\ud800', '\udfff', '\u007f', '\u0080'), maxLength: 30 }) },
    );
    const part = fc.oneof({ weight: 8, arbitrary: text }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 20 }) });
    const runRecord = fc.record({
      key: part,
      value: part,
      headers: fc.oneof({ weight: 6, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(fc.record({ key: fc.string({ maxLength: 8 }), value: part }), { maxLength: 2 }) }),
      timestamp: fc.integer({ min: 0, max: 1000 }),
      // Staged once in the current batch, undone, then in a fresh batch (as when a batch fills).
      moves: fc.boolean(),
    });

    const runOf = (rs: { key: unknown; value: unknown }[]) => {
      const strings: string[] = [];
      for (const r of rs) {
        if (typeof r.key === 'string') strings.push(r.key);
        if (typeof r.value === 'string') strings.push(r.value);
      }
      return new core.StringRun(strings);
    };

    test('the same bytes and exact sizes as TextEncoder, across batches, undos and growth (property)', async () => {
      await fc.assert(
        fc.property(fc.array(runRecord, { minLength: 1, maxLength: 60 }), fc.integer({ min: 64, max: 4096 }), (rs, capacity) => {
          const run = runOf(rs);
          const batches: { staged: core.StagedRecords; rs: RecordCase[]; sizes: number[] }[] = [];
          let cur = { staged: new core.StagedRecords(capacity), rs: [] as RecordCase[], sizes: [] as number[] };
          batches.push(cur);
          for (const r of rs) {
            const rc = { key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp } as RecordCase;
            const s = cur.staged;
            if (r.moves && cur.rs.length > 0) {
              const mark = [s.count, s.used, s.recordsBytes, s.boundBytes] as const;
              const next = run.next;
              s.append(BASE_TS + r.timestamp, r.key, r.value, r.headers, run);
              s.truncate(...mark);
              run.next = next;
              cur = { staged: new core.StagedRecords(capacity), rs: [], sizes: [] };
              batches.push(cur);
            }
            cur.sizes.push(cur.staged.append(BASE_TS + r.timestamp, r.key, r.value, r.headers, run));
            cur.rs.push(rc);
          }
          expect(run.next).toBe(run.strings.length);
          const all = core.encodeStagedSync(batches.map((b) => b.staged), CompressionTypes.None);
          let start = 0;
          batches.forEach((b, i) => {
            const want = core.encodeBatchSync(toInput(b.rs));
            expect(all.bytes.subarray(start, all.ends[i])).toEqual(want);
            expect(61 + b.sizes.reduce((x, y) => x + y, 0)).toBe(want.byteLength);
            start = all.ends[i];
            b.staged.release();
          });
        }),
        { numRuns: 150 },
      );
    });

    test('a chunk that is not all ASCII is staged string by string, then the run backs off and recovers', () => {
      const strings = [...Array.from({ length: 20 }, (_, i) => `ascii-${i}`), 'é🎉\ud800', ...Array.from({ length: 300 }, (_, i) => `more-${i}`)];
      const run = new core.StringRun(strings);
      const staged = new core.StagedRecords(1024);
      const sizes = strings.map((v) => staged.append(BASE_TS, null, v, undefined, run));
      expect(run.next).toBe(strings.length);
      expect(run.skipUntil).toBeGreaterThan(0); // the first chunk had 'é🎉\ud800'
      expect(run.backoff).toBe(16); // a later chunk was all ASCII again
      const bytes = core.encodeStagedSync([staged], CompressionTypes.None).bytes;
      expect(bytes).toEqual(core.encodeBatchSync(strings.map((v) => ({ key: null, value: v, timestamp: BASE_TS }))));
      expect(61 + sizes.reduce((a, b) => a + b, 0)).toBe(bytes.byteLength);
      staged.release();
    });

    test('strings that are not the run\'s next one, and runs of other sends in between, are staged correctly', () => {
      const a = new core.StringRun(Array.from({ length: 40 }, (_, i) => `a${i}`));
      const b = new core.StringRun(Array.from({ length: 40 }, (_, i) => `b${i}`));
      const staged = new core.StagedRecords(256);
      const values: string[] = [];
      for (let i = 0; i < 40; i++) {
        staged.append(BASE_TS, null, a.strings[i], undefined, a); values.push(a.strings[i]);
        if (i % 3 === 0) { staged.append(BASE_TS, null, b.strings[b.next], undefined, b); values.push(b.strings[b.next - 1]); }
        if (i % 7 === 0) { staged.append(BASE_TS, null, 'other', undefined, a); values.push('other'); }
      }
      const bytes = core.encodeStagedSync([staged], CompressionTypes.None).bytes;
      expect(bytes).toEqual(core.encodeBatchSync(values.map((v) => ({ key: null, value: v, timestamp: BASE_TS }))));
      staged.release();
    });
  });
});
