/**
 * Crash and fault tests: torn tails at random byte positions, garbage after
 * them, machine crashes that lose unflushed writes, and injected I/O faults
 * (torn/short writes, failed flushes, quota errors). Seeded: a failure prints
 * its seed and replays.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { loadCore } from '../../src/core/index.ts';
import { FaultInjectingBackend, MemoryBackend, openPartitionLog, segmentFileName, WafkaError } from './imports.ts';
import { readAll } from './conformance.ts';
import { batch, prng } from './helpers.ts';

beforeAll(async () => {
  await loadCore();
});

function batchEnds(bytes: Uint8Array): number[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ends: number[] = [];
  for (let p = 0; p < bytes.length; p += 12 + dv.getInt32(p + 8)) ends.push(p + 12 + dv.getInt32(p + 8));
  return ends;
}

describe('recovery', () => {
  test('cut the active segment at random positions and append garbage: reopening yields exactly the valid prefix', async () => {
    for (let seed = 1; seed <= 60; seed++) {
      const rng = prng(seed);
      const backend = new MemoryBackend();
      const config = { segmentBytes: 1500, indexIntervalBytes: 100 };
      let log = await openPartitionLog({ backend, dir: 't-0', config });
      const values: string[] = [];
      for (let i = 0; i < 40; i++) {
        const size = 1 + Math.floor(rng() * 3);
        const vs = Array.from({ length: size }, (_, j) => `s${seed}-${i}-${j}-${'x'.repeat(Math.floor(rng() * 30))}`);
        values.push(...vs);
        await log.append(batch(vs), { leaderEpoch: 0 });
      }
      const activeBase = log.segmentBaseOffsets[log.segmentCount - 1];
      await log.close();
      const path = `t-0/${segmentFileName(activeBase, '.log')}`;
      const bytes = backend.peek(path)!;
      const cut = Math.floor(rng() * (bytes.length + 1));
      const garbage = rng() < 0.7 ? Array.from({ length: Math.floor(rng() * 200) }, () => Math.floor(rng() * 256)) : [];
      // Garbage sometimes starts like a plausible batch header.
      if (garbage.length > 20 && rng() < 0.5) garbage.splice(8, 4, 0, 0, 0, 80);
      backend.poke(path, new Uint8Array([...bytes.subarray(0, cut), ...garbage]));
      if (rng() < 0.5) {
        await backend.remove(`t-0/${segmentFileName(activeBase, '.index')}`);
        await backend.remove(`t-0/${segmentFileName(activeBase, '.timeindex')}`);
      }
      log = await openPartitionLog({ backend, dir: 't-0', config });
      const validEnd = Math.max(0, ...batchEnds(bytes).filter((e) => e <= cut));
      const lost = batchEnds(bytes).filter((e) => e > validEnd).length;
      expect(backend.peek(path)!.length, `seed ${seed}`).toBe(validEnd);
      expect(log.recovery.bytesTruncated, `seed ${seed}`).toBe(cut + garbage.length - validEnd);
      const all = await readAll(log);
      expect(all.map((r) => r.value), `seed ${seed}`).toEqual(values.slice(0, all.length));
      expect(log.logEndOffset, `seed ${seed}`).toBe(BigInt(all.length));
      if (lost === 0) expect(all.length).toBe(values.length);
      // The log goes on: a new append lands right after the prefix.
      const r = await log.append(batch(['next']), { leaderEpoch: 0 });
      expect(r.baseOffset).toBe(BigInt(all.length));
      await log.close();
    }
  });

  test('machine crash: unflushed writes may be lost or torn, flushed ones never; what remains is a prefix', async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rng = prng(seed * 7919);
      const backend = new MemoryBackend({ trackUnflushed: true });
      const log = await openPartitionLog({ backend, dir: 'm-0', config: { segmentBytes: 2000, flushMessages: 5 } });
      const values: string[] = [];
      let flushedCount = 0;
      for (let i = 0; i < 30; i++) {
        const vs = [`m${seed}-${i}`, `m${seed}-${i}b`];
        values.push(...vs);
        await log.append(batch(vs), { leaderEpoch: 0 });
        if (rng() < 0.15) {
          await log.flush();
          flushedCount = values.length; // a lower bound: flushMessages and rolls flush more
        }
      }
      const image = backend.crashImage(rng);
      const recovered = await openPartitionLog({ backend: image, dir: 'm-0', config: { segmentBytes: 2000 } });
      const all = await readAll(recovered);
      expect(all.map((r) => r.value), `seed ${seed}`).toEqual(values.slice(0, all.length));
      expect(all.length, `seed ${seed}: flushed records survive`).toBeGreaterThanOrEqual(flushedCount);
      await recovered.close();
    }
  });
});

describe('injected faults', () => {
  for (const kind of ['torn-write', 'short-write', 'quota'] as const) {
    test(`${kind} during append: error to the caller, nothing partial visible, now or after reopen`, async () => {
      const inner = new MemoryBackend();
      const backend = new FaultInjectingBackend(inner, { seed: 42 });
      let log = await openPartitionLog({ backend, dir: 'f-0' });
      await log.append(batch(['a', 'b']), { leaderEpoch: 0 });
      backend.armed.push(kind);
      const error = await log.append(batch(['lost', 'lost2']), { leaderEpoch: 0 }).catch((e) => e);
      expect(WafkaError.is(error, 'KAFKA_STORAGE_ERROR')).toBe(true);
      expect(backend.injected.map((f) => f.kind)).toEqual([kind]);
      expect(log.logEndOffset).toBe(2n);
      expect((await readAll(log)).map((r) => r.value)).toEqual(['a', 'b']);
      await log.append(batch(['c']), { leaderEpoch: 0 });
      expect((await readAll(log)).map((r) => [r.offset, r.value])).toEqual([[0n, 'a'], [1n, 'b'], [2n, 'c']]);
      // A process crash right now (no close) and a reopen show the same.
      log = await openPartitionLog({ backend: inner.crashImage(), dir: 'f-0' });
      expect((await readAll(log)).map((r) => r.value)).toEqual(['a', 'b', 'c']);
      expect(log.recovery.bytesTruncated).toBe(0);
      await log.close();
    });
  }

  test('a failed append that starts a leader epoch leaves no epoch past the log end (as leader and as follower)', async () => {
    // Found by the simulation (seed 59 --transactions --disk-faults --ms 10000): a follower's write failed after
    // its batch's epoch was recorded; it then fetched with that epoch, the leader answered with a divergence
    // ending at the follower's own log end, and truncating there changed nothing: it fetched and truncated in a loop.
    const inner = new MemoryBackend();
    let faulted = '.log';
    const backend = new FaultInjectingBackend(inner, { seed: 3, pathFilter: (path) => path.endsWith(faulted) });
    let log = await openPartitionLog({ backend, dir: 'fe-0' });
    await log.append(batch(['a', 'b']), { leaderEpoch: 1 });
    backend.armed.push('quota');
    await expect(log.append(batch(['x']), { leaderEpoch: 2 })).rejects.toMatchObject({ type: 'KAFKA_STORAGE_ERROR' });
    expect(log.leaderEpochs.map((e) => [e.epoch, e.startOffset])).toEqual([[1, 0n]]);
    // The same when it is the epoch checkpoint's write that fails.
    faulted = 'leader-epoch-checkpoint.tmp';
    backend.armed.push('short-write');
    await expect(log.append(batch(['y']), { leaderEpoch: 2 })).rejects.toMatchObject({ type: 'KAFKA_STORAGE_ERROR' });
    expect(log.leaderEpochs.map((e) => [e.epoch, e.startOffset])).toEqual([[1, 0n]]);
    expect(backend.injected.map((f) => f.kind)).toEqual(['quota', 'short-write']);
    faulted = '.log';
    // A follower's batch from the leader of epoch 3, at offset 2.
    const copied = batch(['c']);
    const dv = new DataView(copied.buffer, copied.byteOffset, copied.byteLength);
    dv.setBigInt64(0, 2n);
    dv.setInt32(12, 3);
    backend.armed.push('torn-write');
    await expect(log.appendAsFollower(copied.slice())).rejects.toMatchObject({ type: 'KAFKA_STORAGE_ERROR' });
    expect(log.latestEpoch).toBe(1);
    expect(log.logEndOffset).toBe(2n);
    await log.appendAsFollower(copied.slice());
    expect(log.leaderEpochs.map((e) => [e.epoch, e.startOffset])).toEqual([[1, 0n], [3, 2n]]);
    log = await openPartitionLog({ backend: inner.crashImage(), dir: 'fe-0' });
    expect(log.leaderEpochs.map((e) => [e.epoch, e.startOffset])).toEqual([[1, 0n], [3, 2n]]);
    expect((await readAll(log)).map((r) => r.value)).toEqual(['a', 'b', 'c']);
    await log.close();
  });

  test('a truncation whose flush or checkpoint fails still drops the leader epochs past the new log end, in memory and, by the next write, on disk', async () => {
    // Found by the simulation (seed 81 --netsplits --disk-faults --ms 10000): a follower cut its log at a divergence,
    // then the flush after the cut failed before its epoch cache was cut too. It fetched with an epoch that had no
    // data left, its leader answered the same divergence, and truncating to its own log end changed nothing.
    const inner = new MemoryBackend();
    let faulted = '';
    const backend = new FaultInjectingBackend(inner, { seed: 5, pathFilter: (path) => path.includes(faulted) });
    let log = await openPartitionLog({ backend, dir: 'tf-0' });
    await log.append(batch(['a', 'b']), { leaderEpoch: 1 });
    await log.append(batch(['c']), { leaderEpoch: 2 });
    await log.append(batch(['d']), { leaderEpoch: 3 });
    backend.armed.push('failed-flush');
    await expect(log.truncateTo(3n)).rejects.toMatchObject({ type: 'KAFKA_STORAGE_ERROR' });
    expect(log.logEndOffset).toBe(3n);
    expect(log.leaderEpochs.map((e) => [e.epoch, e.startOffset])).toEqual([[1, 0n], [2, 2n]]);
    // The same when the epoch checkpoint's write fails after the cut.
    faulted = 'leader-epoch-checkpoint';
    backend.armed.push('short-write');
    await expect(log.truncateTo(2n)).rejects.toMatchObject({ type: 'KAFKA_STORAGE_ERROR' });
    expect(log.logEndOffset).toBe(2n);
    expect(log.latestEpoch).toBe(1);
    expect(log.highWatermark).toBeLessThanOrEqual(2n);
    // The file still lists epochs 2 and 3: the next append writes it before its data, or a reopen would take
    // offset 2 (written in epoch 1) for epoch 2's.
    await log.append(batch(['e']), { leaderEpoch: 1 });
    await log.close();
    log = await openPartitionLog({ backend, dir: 'tf-0' });
    expect(log.leaderEpochs.map((e) => [e.epoch, e.startOffset])).toEqual([[1, 0n]]);
    expect((await readAll(log)).map((r) => r.value)).toEqual(['a', 'b', 'e']);
    // Started over (below its leader's log start): no epoch is left even when the checkpoint after it fails.
    faulted = 'log-state-checkpoint';
    backend.armed.push('short-write');
    await expect(log.truncateFullyAndStartAt(10n)).rejects.toMatchObject({ type: 'KAFKA_STORAGE_ERROR' });
    expect(log.logEndOffset).toBe(10n);
    expect(log.leaderEpochs).toEqual([]);
    expect(backend.injected.map((f) => f.kind)).toEqual(['failed-flush', 'short-write', 'short-write']);
    await log.close();
  });

  test('failed flush (flushMessages 1): the append fails and is undone', async () => {
    const inner = new MemoryBackend();
    const backend = new FaultInjectingBackend(inner, { seed: 7 });
    const log = await openPartitionLog({ backend, dir: 'ff-0', config: { flushMessages: 1 } });
    await log.append(batch(['a']), { leaderEpoch: 0 });
    backend.armed.push('failed-flush');
    await expect(log.append(batch(['b']), { leaderEpoch: 0 })).rejects.toMatchObject({ type: 'KAFKA_STORAGE_ERROR' });
    expect(log.logEndOffset).toBe(1n);
    await log.append(batch(['c']), { leaderEpoch: 0 });
    expect((await readAll(log)).map((r) => [r.offset, r.value])).toEqual([[0n, 'a'], [1n, 'c']]);
    await log.close();
  });

  test('random faults over many appends: the log equals the successful appends, before and after a crash', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const inner = new MemoryBackend();
      const backend = new FaultInjectingBackend(inner, {
        seed,
        tornWriteProbability: 0.05,
        shortWriteProbability: 0.05,
        quotaProbability: 0.05,
        failedFlushProbability: 0.1,
        pathFilter: (p) => p.endsWith('.log'),
      });
      let log;
      try {
        log = await openPartitionLog({ backend, dir: 'r-0', config: { segmentBytes: 600, flushMessages: 3 } });
      } catch {
        continue;
      }
      const ok: string[] = [];
      for (let i = 0; i < 60; i++) {
        const vs = [`q${i}`];
        try {
          await log.append(batch(vs), { leaderEpoch: 0 });
          ok.push(...vs);
        } catch (error) {
          expect(WafkaError.is(error, 'KAFKA_STORAGE_ERROR'), String(error)).toBe(true);
        }
        expect(log.logEndOffset, `seed ${seed} step ${i}`).toBe(BigInt(ok.length));
      }
      backend.enabled = false;
      expect((await readAll(log)).map((r) => r.value), `seed ${seed}`).toEqual(ok);
      const reopened = await openPartitionLog({ backend: inner.crashImage(), dir: 'r-0', config: { segmentBytes: 600 } });
      expect((await readAll(reopened)).map((r) => r.value), `seed ${seed} after crash`).toEqual(ok);
      await reopened.close();
    }
  });
});
