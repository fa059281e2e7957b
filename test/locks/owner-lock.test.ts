import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, test } from 'vitest';
import { acquireOwnerLock, processLife, processStartToken } from '../../src/locks/owner-lock.ts';
import { startNodeWorker } from '../../src/transport/node-worker.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(String(child.stdout));
}

describe('owner lock', () => {
  test('process liveness: this process is alive, an exited one is dead, a reused pid with another start token is dead', () => {
    const token = processStartToken(process.pid) ?? '';
    expect(processLife(process.pid, token)).toBe('alive');
    expect(processLife(deadPid(), '')).toBe('dead');
    if (token !== '') expect(processLife(process.pid, `${token}0`)).toBe('dead');
  });

  test('many takers of a lock left by a dead process: it is broken once and held by one at a time', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 1, max: 4 }), async (takers, rounds) => {
      const dir = await mkdtemp(join(tmpdir(), 'wafka-lock-'));
      dirs.push(dir);
      const path = join(dir, 'x.lock');
      await writeFile(path, JSON.stringify({ pid: deadPid(), hostname: hostname(), processStart: '', threadId: 0, purpose: 'test', acquiredAtMs: 0 }));
      let inside = 0;
      let most = 0;
      let entries = 0;
      await Promise.all(Array.from({ length: takers }, async () => {
        for (let r = 0; r < rounds; r++) {
          const lock = await acquireOwnerLock(path, { purpose: 'test', waitMs: 30_000 });
          inside++;
          entries++;
          most = Math.max(most, inside);
          await new Promise((resolve) => setImmediate(resolve));
          inside--;
          await lock.release();
        }
      }));
      expect(most).toBe(1);
      expect(entries).toBe(takers * rounds);
      expect(await readdir(dir)).toEqual([]);
    }), { numRuns: 8 });
  });

  test('a lock this thread holds is refused to a second taker at once, naming this process', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wafka-lock-'));
    dirs.push(dir);
    const path = join(dir, 'x.lock');
    const lock = await acquireOwnerLock(path, { purpose: 'first' });
    await expect(acquireOwnerLock(path, { purpose: 'second' })).rejects.toMatchObject({ type: 'KAFKA_STORAGE_ERROR', owner: { pid: process.pid, purpose: 'first' } });
    await lock.release();
    await (await acquireOwnerLock(path, { purpose: 'third' })).release();
  });

  test('another thread of this process: a live holder is waited for past the stale age (its heartbeat), a terminated one is broken', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wafka-lock-'));
    dirs.push(dir);
    const path = join(dir, 'x.lock');
    const staleMs = 1_000;
    for (const holdMs of [2_500, 0]) {
      const flag = new SharedArrayBuffer(4);
      const worker = startNodeWorker(new URL('./fixtures/lock-holder.node-worker.ts', import.meta.url), { path, holdMs, staleMs, flag });
      await new Promise((resolve) => worker.once('message', resolve));
      if (holdMs === 0) await worker.terminate();
      const lock = await acquireOwnerLock(path, { purpose: 'main', waitMs: 10_000, sameProcessStaleMs: staleMs });
      // A live holder released it itself (it set the flag first); a terminated one never did.
      expect(Atomics.load(new Int32Array(flag), 0)).toBe(holdMs > 0 ? 1 : 0);
      await lock.release();
      await worker.terminate();
    }
  });

  test('a lock from another host is refused while its heartbeat is fresh, and broken once it has gone otherHostStaleMs untouched', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wafka-lock-'));
    dirs.push(dir);
    const path = join(dir, 'x.lock');
    await writeFile(path, JSON.stringify({ pid: process.pid, hostname: 'elsewhere', processStart: '', threadId: 0, purpose: 'remote', acquiredAtMs: 0 }));
    const error = await acquireOwnerLock(path, { purpose: 'here', otherHostStaleMs: 60_000 }).catch((e) => e);
    expect(error).toMatchObject({ type: 'KAFKA_STORAGE_ERROR', owner: { hostname: 'elsewhere' } });
    expect(error.message).toContain('on elsewhere');
    const old = new Date(Date.now() - 61_000);
    await utimes(path, old, old);
    await (await acquireOwnerLock(path, { purpose: 'here', otherHostStaleMs: 60_000 })).release();
  });
});
