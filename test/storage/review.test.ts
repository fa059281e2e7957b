/** Edge cases of the partition log found in review: each failed before its fix. */
import { describe, expect, test } from 'vitest';
import { MemoryBackend, openPartitionLog } from '../../src/storage/index.ts';
import { loadCore } from '../../src/core/index.ts';
import { batch, records, sizedBatch, FakeClock } from './helpers.ts';

await loadCore();

const values = (bytes: Uint8Array) => records(bytes).map((r) => `${r.offset}:${r.value}`);

describe('log invariants after truncation, retention, DeleteRecords', () => {
  test('truncateTo inside the batch that holds logStartOffset keeps logStartOffset <= logEndOffset', async () => {
    const log = await openPartitionLog({ backend: new MemoryBackend(), dir: 't-0' });
    await log.append(batch(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']), { leaderEpoch: 0 });
    log.highWatermark = 10n;
    expect(await log.deleteRecordsBefore(5n)).toBe(5n);
    await log.truncateTo(7n); // the batch 0..9 goes whole
    expect(log.logStartOffset <= log.logEndOffset).toBe(true);
    expect(log.highWatermark >= log.logStartOffset && log.highWatermark <= log.logEndOffset).toBe(true);
    // Reading at logStartOffset is never out of range, and the next append is not below it.
    await log.read(log.logStartOffset, 1 << 20);
    const r = await log.append(batch(['x']), { leaderEpoch: 0 });
    expect(r.baseOffset >= log.logStartOffset).toBe(true);
    await log.close();
  });

  test('same across segments: the cut segment is not the first one', async () => {
    const log = await openPartitionLog({ backend: new MemoryBackend(), dir: 't-0', config: { segmentBytes: 1024 } });
    for (let i = 0; i < 4; i++) await log.append(sizedBatch(5, 100, String(i)), { leaderEpoch: 0 }); // 0..4 5..9 10..14 15..19
    expect(log.segmentCount).toBeGreaterThan(1);
    log.highWatermark = log.logEndOffset;
    await log.deleteRecordsBefore(17n);
    await log.truncateTo(18n);
    expect(log.logStartOffset <= log.logEndOffset).toBe(true);
    await log.read(log.logStartOffset, 1 << 20);
    await log.close();
  });

  test('reads: at logEndOffset empty; below logStartOffset or past logEndOffset OFFSET_OUT_OF_RANGE; at segment boundaries', async () => {
    const log = await openPartitionLog({ backend: new MemoryBackend(), dir: 't-0', config: { segmentBytes: 1024 } });
    for (let i = 0; i < 4; i++) await log.append(sizedBatch(5, 100, String(i)), { leaderEpoch: 0 });
    const bases = log.segmentBaseOffsets;
    for (const b of bases) {
      const r = await log.read(b, 1);
      expect(r.firstOffset).toBe(b);
      const p = await log.read(b - 1n < 0n ? 0n : b - 1n, 1);
      expect(p.nextOffset).toBe(b === 0n ? 5n : b);
    }
    expect((await log.read(20n, 100)).bytes.length).toBe(0);
    await expect(log.read(21n, 100)).rejects.toMatchObject({ type: 'OFFSET_OUT_OF_RANGE' });
    log.highWatermark = 20n;
    await log.deleteRecordsBefore(7n);
    await expect(log.read(6n, 100)).rejects.toMatchObject({ type: 'OFFSET_OUT_OF_RANGE' });
    expect((await log.read(7n, 100)).firstOffset).toBe(5n);
    await log.close();
  });

  test('offsetForTimestamp across segments, after truncation and after reopen', async () => {
    const backend = new MemoryBackend();
    let log = await openPartitionLog({ backend, dir: 't-0', config: { segmentBytes: 1024 } });
    for (let i = 0; i < 6; i++) await log.append(sizedBatch(5, 100, String(i), 1000 * (i + 1)), { leaderEpoch: 0 });
    expect((await log.offsetForTimestamp(3000))?.offset).toBe(10n);
    expect((await log.offsetForTimestamp(3002))?.offset).toBe(12n);
    await log.truncateTo(15n);
    expect(await log.offsetForTimestamp(4000)).toBeUndefined();
    expect((await log.offsetForTimestamp(3004))?.offset).toBe(14n);
    await log.close();
    log = await openPartitionLog({ backend, dir: 't-0', config: { segmentBytes: 1024 } });
    expect(await log.offsetForTimestamp(4000)).toBeUndefined();
    expect((await log.offsetForTimestamp(2001))?.offset).toBe(6n);
    await log.append(sizedBatch(2, 10, 'n', 9000), { leaderEpoch: 0 });
    expect((await log.offsetForTimestamp(4000))?.offset).toBe(15n);
    await log.close();
  });

  test('retention deletes only segments below the high watermark (Kafka)', async () => {
    const clock = new FakeClock();
    const log = await openPartitionLog({ backend: new MemoryBackend(), dir: 't-0', clock, config: { segmentBytes: 1024, retentionBytes: 0 } });
    for (let i = 0; i < 4; i++) await log.append(sizedBatch(5, 100, String(i)), { leaderEpoch: 0 });
    log.highWatermark = 5n;
    await log.runRetention();
    expect(log.logStartOffset <= 5n).toBe(true);
    expect(log.highWatermark).toBe(5n);
    await log.close();
  });

  test('recovery: an empty active segment after a truncation to a segment base, then reopen and append', async () => {
    const backend = new MemoryBackend();
    let log = await openPartitionLog({ backend, dir: 't-0', config: { segmentBytes: 1024 } });
    for (let i = 0; i < 3; i++) await log.append(sizedBatch(5, 100, String(i)), { leaderEpoch: 0 });
    const bases = log.segmentBaseOffsets;
    await log.truncateTo(bases[bases.length - 1] + 1n);
    const leo = log.logEndOffset;
    await log.close();
    log = await openPartitionLog({ backend, dir: 't-0', config: { segmentBytes: 1024 } });
    expect(log.logEndOffset).toBe(leo);
    const r = await log.append(batch(['z']), { leaderEpoch: 0 });
    expect(r.baseOffset).toBe(leo);
    expect(values((await log.read(leo, 1 << 20)).bytes)).toEqual([`${leo}:z`]);
    await log.close();
  });
});

describe('compaction gaps and recovery from index files', () => {
  test('reads inside and across compaction gaps, before and after reopen', async () => {
    const backend = new MemoryBackend();
    const config = { segmentBytes: 400, cleanupPolicy: 'compact' as const, minCompactionLagMs: 0, indexIntervalBytes: 100 };
    let log = await openPartitionLog({ backend, dir: 't-0', config });
    // keys a,b alternate; c only at the end: everything but the last a, b, c goes.
    for (let i = 0; i < 20; i++) await log.append(batch([`v${i}`], { keys: [i % 2 ? 'a' : 'b'] }), { leaderEpoch: 0 });
    await log.append(batch(['c'], { keys: ['c'] }), { leaderEpoch: 0 });
    for (let i = 0; i < 3; i++) await log.append(batch([`w${i}`], { keys: ['a'] }), { leaderEpoch: 0 });
    log.highWatermark = log.logEndOffset;
    const before = log.segmentBaseOffsets;
    const result = await log.compact();
    expect(result.recordsRemoved).toBeGreaterThan(0);
    const check = async () => {
      // Every offset from 0 to the end: the read returns the first batch at or after it, never an error.
      const all: string[] = [];
      let at = 0n;
      while (at < log.logEndOffset) {
        const r = await log.read(at, 1);
        expect(r.bytes.length).toBeGreaterThan(0);
        expect(r.nextOffset > at).toBe(true);
        for (const x of records(r.bytes)) if (x.offset >= at) all.push(`${x.offset}:${x.value}`);
        at = r.nextOffset;
      }
      for (let o = 0n; o < log.logEndOffset; o++) {
        const r = await log.read(o, 1);
        expect(records(r.bytes).some((x) => x.offset >= o)).toBe(true);
      }
      expect((await log.read(log.logEndOffset, 100)).bytes.length).toBe(0);
      return all;
    };
    const seen = await check();
    expect(seen).toContain('20:c');
    expect(log.segmentBaseOffsets).toEqual(before);
    await log.close();
    log = await openPartitionLog({ backend, dir: 't-0', config });
    expect(log.recovery.bytesTruncated).toBe(0);
    expect(await check()).toEqual(seen);
    await log.close();
  });

  test('reopen from index files: reads at every offset, timestamps, appends after, and a second reopen', async () => {
    const backend = new MemoryBackend();
    const config = { segmentBytes: 2000, indexIntervalBytes: 150 };
    let log = await openPartitionLog({ backend, dir: 't-0', config });
    for (let i = 0; i < 60; i++) await log.append(batch([`a${i}`, `b${i}`], { timestamps: [1000 + i * 10, 1000 + i * 10 + 5] }), { leaderEpoch: 0 });
    const expectAll = async (n: bigint) => {
      for (let o = 0n; o < n; o++) {
        const r = await log.read(o, 1);
        expect(records(r.bytes).some((x) => x.offset === o)).toBe(true);
      }
      for (let i = 0; i < Number(n) / 2; i++) expect((await log.offsetForTimestamp(1000 + i * 10 + 1))?.offset).toBe(BigInt(2 * i + 1));
    };
    await expectAll(120n);
    await log.close();
    log = await openPartitionLog({ backend, dir: 't-0', config });
    expect(log.logEndOffset).toBe(120n);
    expect(log.recovery.bytesScanned).toBeLessThan(log.sizeBytes);
    await expectAll(120n);
    for (let i = 60; i < 70; i++) await log.append(batch([`a${i}`, `b${i}`], { timestamps: [1000 + i * 10, 1000 + i * 10 + 5] }), { leaderEpoch: 0 });
    await expectAll(140n);
    await log.truncateTo(131n);
    await expectAll(130n);
    await log.close();
    log = await openPartitionLog({ backend, dir: 't-0', config });
    expect(log.logEndOffset).toBe(130n);
    await expectAll(130n);
    await log.close();
  });
});
