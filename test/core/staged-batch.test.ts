import { beforeAll, describe, expect, test } from 'vitest';
import fc from 'fast-check';
import * as core from '../../src/core/index.ts';
import { CompressionTypes } from '../../src/core/index.ts';
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
          expect(bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength).toBe(true);
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
});
