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
