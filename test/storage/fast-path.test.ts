/**
 * The log's synchronous fast path (appends and reads that run inside the call
 * on synchronous backends), the sequential-read hint, and the memory
 * backend's chunked files.
 */
import { describe, expect, test } from 'vitest';
import { FaultInjectingBackend, MemoryBackend, openPartitionLog } from '../../src/storage/index.ts';
import { loadCore } from '../../src/core/index.ts';
import { batch, concat, records, sizedBatch } from './helpers.ts';

await loadCore();

/** Byte equality without a deep-equal walk (megabytes). */
const same = (a: Uint8Array | undefined, b: Uint8Array): boolean => a !== undefined && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

const values = (bytes: Uint8Array) => records(bytes).map((r) => `${r.offset}:${r.value}`);

describe('synchronous fast path', () => {
  test('an append made while another operation is queued waits for it (call order holds)', async () => {
    const log = await openPartitionLog({ backend: new MemoryBackend(), dir: 't-0' });
    await log.append(batch(['a', 'b', 'c']), { leaderEpoch: 0 });
    // truncateTo is queued (async); the append right after must see the truncated log.
    const truncated = log.truncateTo(1n);
    const appended = log.append(batch(['x']), { leaderEpoch: 0 });
    await truncated;
    const r = await appended;
    // truncateTo cuts at the batch holding offset 1, which starts at 0.
    expect(r.baseOffset).toBe(0n);
    expect(values((await log.read(0n, 1 << 20)).bytes)).toEqual(['0:x']);
    await log.close();
  });

  test('appends and reads on a synchronous backend settle before anything else runs, in order', async () => {
    const log = await openPartitionLog({ backend: new MemoryBackend(), dir: 't-0' });
    await log.append(batch(['first']), { leaderEpoch: 0 }); // epoch checkpoint: the async path
    const order: string[] = [];
    const p1 = log.append(batch(['a']), { leaderEpoch: 0 }).then((r) => order.push(`append ${r.baseOffset}`));
    const p2 = log.read(1n, 1 << 20).then((r) => order.push(`read ${values(r.bytes).join()}`));
    const p3 = log.append(batch(['b']), { leaderEpoch: 0 }).then((r) => order.push(`append ${r.baseOffset}`));
    expect(log.logEndOffset).toBe(3n); // both appends already happened inside their calls
    await Promise.all([p1, p2, p3]);
    expect(order).toEqual(['append 1', 'read 1:a', 'append 2']);
    await log.close();
  });

  test('validation errors and a closed log reject (never throw from the call)', async () => {
    const log = await openPartitionLog({ backend: new MemoryBackend(), dir: 't-0' });
    const bad = batch(['a']);
    bad[bad.length - 1] ^= 1;
    await expect(log.append(bad, { leaderEpoch: 0 })).rejects.toMatchObject({ type: 'CORRUPT_MESSAGE' });
    await log.close();
    await expect(log.append(batch(['a']), { leaderEpoch: 0 })).rejects.toMatchObject({ type: 'KAFKA_STORAGE_ERROR' });
    await expect(log.read(0n, 100)).rejects.toMatchObject({ type: 'KAFKA_STORAGE_ERROR' });
  });

  test('a failed synchronous write or flush leaves nothing appended', async () => {
    const inner = new MemoryBackend();
    const backend = new FaultInjectingBackend(inner, { seed: 7 });
    const log = await openPartitionLog({ backend, dir: 't-0', config: { flushMessages: 2 } });
    await log.append(batch(['a']), { leaderEpoch: 0 });
    const size = log.sizeBytes;
    for (const fault of ['torn-write', 'short-write', 'quota', 'failed-flush'] as const) {
      backend.armed.push(fault);
      await expect(log.append(batch(['b', 'c']), { leaderEpoch: 0 })).rejects.toMatchObject({ type: 'KAFKA_STORAGE_ERROR' });
      expect(log.logEndOffset).toBe(1n);
      expect(log.sizeBytes).toBe(size);
    }
    expect(backend.injected.map((f) => f.kind)).toEqual(['torn-write', 'short-write', 'quota', 'failed-flush']);
    await log.append(batch(['d']), { leaderEpoch: 0 });
    expect(values((await log.read(0n, 1 << 20)).bytes)).toEqual(['0:a', '1:d']);
    await log.close();
    const reopened = await openPartitionLog({ backend: inner, dir: 't-0' });
    expect(values((await reopened.read(0n, 1 << 20)).bytes)).toEqual(['0:a', '1:d']);
    await reopened.close();
  });
});

describe('sequential read hint', () => {
  test('sequential reads return every batch once, in order', async () => {
    const log = await openPartitionLog({ backend: new MemoryBackend(), dir: 't-0', config: { indexIntervalBytes: 1 << 20 } });
    const expected: string[] = [];
    for (let i = 0; i < 40; i++) {
      const vs = Array.from({ length: 1 + (i % 4) }, (_, j) => `v${i}-${j}`);
      await log.append(batch(vs), { leaderEpoch: 0 });
    }
    for (const r of records((await log.read(0n, 1 << 20)).bytes)) expected.push(`${r.offset}:${r.value}`);
    const got: string[] = [];
    let offset = 0n;
    while (offset < log.logEndOffset) {
      const r = await log.read(offset, 300);
      got.push(...values(r.bytes));
      offset = r.nextOffset;
    }
    expect(got).toEqual(expected);
    await log.close();
  });

  test('a truncation and new appends at the same offset do not reuse the old position', async () => {
    const log = await openPartitionLog({ backend: new MemoryBackend(), dir: 't-0' });
    await log.append(batch(['a0', 'a1', 'a2']), { leaderEpoch: 0 }); // offsets 0..2
    await log.append(batch(['b3', 'b4']), { leaderEpoch: 0 }); // 3..4
    const first = await log.read(0n, 1); // the first batch only: the hint is (offset 3, its end)
    expect(first.nextOffset).toBe(3n);
    await log.truncateTo(1n); // cuts the whole first batch: the segment is empty again
    await log.append(batch(['c0', 'c1', 'c2', 'c3', 'c4', 'c5'], {}), { leaderEpoch: 0 }); // 0..5, longer than the old batch
    const again = await log.read(3n, 1 << 20);
    expect(again.firstOffset).toBe(0n);
    expect(values(again.bytes)).toEqual(['0:c0', '1:c1', '2:c2', '3:c3', '4:c4', '5:c5']);
    await log.close();
  });
});

describe('memory backend files in chunks', () => {
  test('writes and reads across chunk boundaries, truncate and re-extend', async () => {
    const backend = new MemoryBackend({ trackUnflushed: true });
    const f = await backend.openFile('d/f');
    const big = new Uint8Array(3 * (1 << 20) + 12345);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + 3) & 0xff;
    let at = 0;
    for (const n of [1000, (1 << 20) - 1000 + 5, 2 << 20, 12340]) {
      await f.write(at, big.subarray(at, at + n));
      at += n;
    }
    expect(f.size).toBe(big.length);
    expect(same(await f.read(0, big.length), big)).toBe(true);
    expect(same(await f.read((1 << 20) - 3, 10), big.subarray((1 << 20) - 3, (1 << 20) + 7))).toBe(true);
    await f.truncate((1 << 20) + 1);
    expect(f.size).toBe((1 << 20) + 1);
    const tail = new Uint8Array(1 << 20).fill(9);
    await f.write(f.size, tail);
    expect(same(await f.read(0, (1 << 20) + 1), big.subarray(0, (1 << 20) + 1))).toBe(true);
    expect(same(await f.read((1 << 20) + 1, 1 << 20), tail)).toBe(true);
    await f.flush();
    await f.close();
    expect(same(backend.peek('d/f'), concat(big.subarray(0, (1 << 20) + 1), tail))).toBe(true);
    expect(same(backend.crashImage(() => 0.5).peek('d/f'), concat(big.subarray(0, (1 << 20) + 1), tail))).toBe(true);
  });

  test('a log of large batches on the memory backend reads back what was appended', async () => {
    const log = await openPartitionLog({ backend: new MemoryBackend(), dir: 't-0' });
    const batches = Array.from({ length: 6 }, (_, i) => sizedBatch(300, 1000, `t${i}`));
    for (const b of batches) await log.append(b.slice(), { leaderEpoch: 0 });
    const read = await log.read(0n, 64 << 20);
    expect(records(read.bytes).length).toBe(6 * 300);
    expect(read.bytes.length).toBe(batches.reduce((n, b) => n + b.length, 0));
    await log.close();
  });
});
