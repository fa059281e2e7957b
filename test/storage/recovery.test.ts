/**
 * Recovery over damage in any segment, not only the last: a segment cut at
 * any byte (at a batch boundary or inside a batch), with garbage after the
 * cut, a middle segment missing, index files missing. What a reopened log
 * serves must be exactly the records before the first damage, at their
 * offsets, with no hole; the log goes on from there.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadCore } from '../../src/core/index.ts';
import { readAll } from './conformance.ts';
import { batch } from './helpers.ts';
import { MemoryBackend, openPartitionLog, segmentFileName } from './imports.ts';

beforeAll(async () => {
  await loadCore();
});

const config = { segmentBytes: 700, indexIntervalBytes: 150 };

/** Positions where each batch of a segment's bytes ends, with its record count. */
function batchEnds(bytes: Uint8Array): { end: number; records: number }[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: { end: number; records: number }[] = [];
  for (let p = 0; p + 61 <= bytes.length; p += 12 + dv.getInt32(p + 8)) out.push({ end: p + 12 + dv.getInt32(p + 8), records: dv.getInt32(p + 57) });
  return out;
}

/** A closed log of `batches` batches (1..3 records each) over several segments; its values by offset. */
async function buildLog(backend: MemoryBackend, dir: string, sizes: number[]): Promise<{ values: string[]; bases: bigint[] }> {
  const log = await openPartitionLog({ backend, dir, config });
  const values: string[] = [];
  for (const [i, size] of sizes.entries()) {
    const vs = Array.from({ length: size }, (_, j) => `v${values.length + j}-${'x'.repeat((i * 7) % 23)}`);
    values.push(...vs);
    await log.append(batch(vs), { leaderEpoch: 0 });
  }
  const bases = log.segmentBaseOffsets;
  await log.close();
  return { values, bases };
}

async function expectPrefix(backend: MemoryBackend, dir: string, values: string[], kept: number, why: string): Promise<void> {
  for (let round = 0; round < 2; round++) {
    const log = await openPartitionLog({ backend, dir, config });
    const all = await readAll(log);
    expect(all.map((r) => r.offset), why).toEqual(Array.from({ length: kept }, (_, i) => BigInt(i)));
    expect(all.map((r) => r.value), why).toEqual(values.slice(0, kept));
    expect(log.logEndOffset, why).toBe(BigInt(kept));
    if (round === 1) {
      // The log goes on right after the prefix.
      expect((await log.append(batch(['next']), { leaderEpoch: 0 })).baseOffset, why).toBe(BigInt(kept));
    }
    await log.close();
  }
}

describe('recovery of damage in any segment', () => {
  test('a middle segment that lost its tail at a batch boundary: the later segments go too, no silent gap', async () => {
    const backend = new MemoryBackend();
    const { values, bases } = await buildLog(backend, 'g-0', Array.from({ length: 100 }, () => 3));
    expect(bases.length).toBeGreaterThan(3);
    const middle = `g-0/${segmentFileName(bases[1], '.log')}`;
    const bytes = backend.peek(middle)!;
    const ends = batchEnds(bytes);
    const keepBatches = Math.floor(ends.length / 2);
    backend.poke(middle, bytes.subarray(0, ends[keepBatches - 1].end));
    const kept = Number(bases[1]) + ends.slice(0, keepBatches).reduce((n, b) => n + b.records, 0);
    const log = await openPartitionLog({ backend, dir: 'g-0', config });
    expect(log.segmentCount).toBe(2);
    expect(log.recovery.segmentsDeleted).toBe(bases.length - 2);
    expect(log.recovery.problems.join('\n')).toContain('does not start where the previous one ends');
    await log.close();
    await expectPrefix(backend, 'g-0', values, kept, 'middle segment cut at a batch boundary');
  });

  test('a compacted log reopens whole: compaction keeps each segment ending where the next begins', async () => {
    const backend = new MemoryBackend();
    let log = await openPartitionLog({ backend, dir: 'c-0', config: { ...config, cleanupPolicy: 'compact', minCompactionLagMs: 0 } });
    // Every record of a segment but its keys' latest is superseded later: without care a segment's tail would vanish.
    for (let i = 0; i < 60; i++) await log.append(batch([`v${i}`], { keys: [`k${i % 4}`] }), { leaderEpoch: 0 });
    log.highWatermark = log.logEndOffset;
    const result = await log.compact(Date.now() + 10 ** 9);
    const before = (await readAll(log)).map((r) => [r.offset, r.value]);
    const segments = log.segmentCount;
    await log.close();
    expect(result.recordsRemoved).toBeGreaterThan(0);
    log = await openPartitionLog({ backend, dir: 'c-0', config: { ...config, cleanupPolicy: 'compact' } });
    expect(log.recovery.problems).toEqual([]);
    expect(log.segmentCount).toBe(segments);
    expect((await readAll(log)).map((r) => [r.offset, r.value])).toEqual(before);
    expect(log.logEndOffset).toBe(60n);
    await log.close();
  });

  test("a follower's log with offset gaps (a compacted leader's) and a jump past 2^31 offsets reopens whole", async () => {
    const backend = new MemoryBackend();
    let log = await openPartitionLog({ backend, dir: 'f-0', config });
    const at = (offset: bigint, values: string[]) => {
      const b = batch(values);
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      dv.setBigInt64(0, offset);
      dv.setInt32(12, 0);
      return b;
    };
    const offsets: bigint[] = [];
    let next = 0n;
    for (let i = 0; i < 40; i++) {
      next += BigInt(1 + (i % 5)) + (i === 30 ? 1n << 32n : 0n);
      offsets.push(next);
      await log.appendAsFollower(at(next, [`f${i}-${'y'.repeat(40)}`]));
    }
    const segments = log.segmentCount;
    expect(segments).toBeGreaterThan(3);
    await log.close();
    log = await openPartitionLog({ backend, dir: 'f-0', config });
    expect(log.recovery.problems).toEqual([]);
    expect(log.segmentCount).toBe(segments);
    expect((await readAll(log)).map((r) => r.offset)).toEqual(offsets);
    await log.close();
  });

  test('property: cuts, garbage, missing middle segments and missing indexes in any segments leave exactly the prefix before the first damage', async () => {
    const damage = fc.record({
      kind: fc.constantFrom('none', 'none', 'cut', 'cutAtBatch', 'garbage', 'delete', 'dropIndexes'),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      garbage: fc.uint8Array({ minLength: 1, maxLength: 120 }),
    });
    let run = 0;
    await fc.assert(fc.asyncProperty(
      fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 10, maxLength: 60 }),
      fc.array(damage, { minLength: 1, maxLength: 12 }),
      async (sizes, damages) => {
        const backend = new MemoryBackend();
        const dir = `p${run++}-0`;
        const { values, bases } = await buildLog(backend, dir, sizes);
        let kept: number | undefined;
        for (const [j, base] of bases.entries()) {
          const d = damages[j % damages.length];
          const path = `${dir}/${segmentFileName(base, '.log')}`;
          const bytes = backend.peek(path)!;
          const ends = batchEnds(bytes);
          const recordsBefore = (end: number) => Number(base) + ends.filter((b) => b.end <= end).reduce((n, b) => n + b.records, 0);
          if (d.kind === 'dropIndexes') {
            await backend.remove(`${dir}/${segmentFileName(base, '.index')}`);
            await backend.remove(`${dir}/${segmentFileName(base, '.timeindex')}`);
          } else if (d.kind === 'delete' && j > 0) {
            // (A missing first segment is what retention leaves: the log then starts later.)
            await backend.remove(path);
            await backend.remove(`${dir}/${segmentFileName(base, '.index')}`);
            await backend.remove(`${dir}/${segmentFileName(base, '.timeindex')}`);
            kept ??= Number(base);
          } else if (d.kind === 'cut' || d.kind === 'cutAtBatch' || d.kind === 'garbage') {
            const cut = d.kind === 'cut' ? Math.floor(d.at * bytes.length)
              : d.kind === 'cutAtBatch' ? (ends.length ? [0, ...ends.map((b) => b.end)][Math.floor(d.at * (ends.length + 1))] : 0)
                : bytes.length;
            const tail = d.kind === 'garbage' || d.at < 0.3 ? d.garbage : new Uint8Array(0);
            backend.poke(path, new Uint8Array([...bytes.subarray(0, cut), ...tail]));
            if (cut < bytes.length || tail.length > 0) kept ??= recordsBefore(cut);
          }
        }
        await expectPrefix(backend, dir, values, kept ?? values.length, `sizes ${JSON.stringify(sizes)} damages ${fc.stringify(damages)}`);
      },
    ), { numRuns: 150 });
  });
});
