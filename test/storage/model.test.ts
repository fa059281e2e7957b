/**
 * Property test: any sequence of appends, rolls (small segments), truncations,
 * retention, deleteRecordsBefore, compaction-free reopen behaves like an array
 * of records. Seeded (fast-check), a few seconds.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadCore } from '../../src/core/index.ts';
import { MemoryBackend, openPartitionLog, type PartitionLog } from '../../src/storage/index.ts';
import { readAll } from './conformance.ts';
import { batch, FakeClock, prng } from './helpers.ts';

beforeAll(async () => {
  await loadCore();
});

type Op =
  | { kind: 'append'; sizes: number[] }
  | { kind: 'truncate'; back: number }
  | { kind: 'retention' }
  | { kind: 'deleteBefore'; fraction: number }
  | { kind: 'reopen' }
  | { kind: 'crash'; seed: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('append' as const), sizes: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), back: fc.integer({ min: 0, max: 8 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'retention' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteBefore' as const), fraction: fc.double({ min: 0, max: 1, noNaN: true }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('crash' as const), seed: fc.integer() }) },
);

describe('PartitionLog against an array model', () => {
  test('appends, rolls, truncations, retention, deleteRecordsBefore, reopen and process crashes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
        let backend = new MemoryBackend();
        const config = { segmentBytes: 400, indexIntervalBytes: 64, retentionBytes: 900, retentionMs: -1 };
        const clock = new FakeClock();
        let log: PartitionLog = await openPartitionLog({ backend, dir: 'p-0', config, clock });
        // Model: records with offsets; batches are the unit of truncation.
        let model: { offset: bigint; value: string; batchBase: bigint }[] = [];
        let start = 0n;
        let end = 0n;
        let n = 0;
        for (const o of ops) {
          if (o.kind === 'append') {
            const parts = o.sizes.map((size) => Array.from({ length: size }, () => `r${n++}`));
            const bytes = new Uint8Array(parts.reduce((acc, p) => acc + batch(p).length, 0));
            let at = 0;
            for (const p of parts) {
              const b = batch(p);
              bytes.set(b, at);
              at += b.length;
            }
            const r = await log.append(bytes, { leaderEpoch: 0 });
            expect(r.baseOffset).toBe(end);
            for (const p of parts) {
              const base = end;
              for (const v of p) model.push({ offset: end++, value: v, batchBase: base });
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
            await log.runRetention(clock.now);
            start = log.logStartOffset;
            model = model.filter((r) => r.offset >= start);
          } else if (o.kind === 'deleteBefore') {
            log.highWatermark = log.logEndOffset;
            const target = start + BigInt(Math.floor(Number(end - start) * o.fraction));
            await log.deleteRecordsBefore(target);
            if (target > start) start = target;
            model = model.filter((r) => r.offset >= start);
          } else if (o.kind === 'reopen') {
            await log.close();
            log = await openPartitionLog({ backend, dir: 'p-0', config, clock });
          } else {
            // Process crash: files keep every write; nothing was closed.
            backend = backend.crashImage();
            log = await openPartitionLog({ backend, dir: 'p-0', config, clock });
            expect(log.recovery.bytesTruncated).toBe(0);
          }
          expect(log.logEndOffset).toBe(end);
          expect(log.logStartOffset).toBe(start);
        }
        const all = await readAll(log);
        expect(all.map((r) => [r.offset, r.value])).toEqual(model.map((r) => [r.offset, r.value]));
        // Every offset in range reads from its own batch.
        const rng = prng(ops.length);
        for (let i = 0; i < 5 && model.length > 0; i++) {
          const m = model[Math.floor(rng() * model.length)];
          const r = await log.read(m.offset, 1);
          expect(r.firstOffset).toBe(m.batchBase < start ? r.firstOffset : m.batchBase);
        }
        await log.close();
      }),
      { seed: 0x5eed, numRuns: 150 },
    );
  });
});
