import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { FileMetadataStore } from '../../src/cluster/file-metadata-store.ts';
import { MemoryMetadataStore } from '../../src/metadata/memory-metadata-store.ts';
import { emptyMetadata, type ClusterMetadata } from '../../src/metadata/metadata.ts';
import { updateMetadata, type MetadataStore } from '../../src/metadata/metadata-store.ts';
import { startNodeWorker } from '../../src/transport/node-worker.ts';
import { runFixture } from './child-process.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wafka-meta-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

function versionOf(base: ClusterMetadata, version: number): ClusterMetadata {
  return { ...structuredClone(base), version };
}

const stores: [string, () => Promise<MetadataStore>][] = [
  ['memory', async () => new MemoryMetadataStore()],
  ['file', async () => new FileMetadataStore(await tempDir())],
];

describe.each(stores)('%s metadata store', (_name, open) => {
  test('compare-and-set writes only on the expected version', async () => {
    const store = await open();
    expect(await store.read()).toBeNull();
    const v1 = versionOf(emptyMetadata('c'), 1);
    expect(await store.compareAndSet(0, v1)).toBe(true);
    expect(await store.compareAndSet(0, v1)).toBe(false);
    expect((await store.read())!.version).toBe(1);
    expect(await store.compareAndSet(1, versionOf(v1, 2))).toBe(true);
    expect(await store.compareAndSet(1, versionOf(v1, 2))).toBe(false);
    await expect(store.compareAndSet(2, versionOf(v1, 5))).rejects.toThrow(/must be expectedVersion/);
    expect((await store.read())!.version).toBe(2);
  });

  test('concurrent updateMetadata calls in one realm lose no update', async () => {
    const store = await open();
    await Promise.all(Array.from({ length: 20 }, (_, i) => updateMetadata(store, 'c', (m) => {
      m.brokers.push({ nodeId: i, host: 'h', registeredAtMs: 0 });
      return { next: m, result: null };
    })));
    const stored = (await store.read())!;
    expect(stored.version).toBe(20);
    expect(stored.brokers.map((b) => b.nodeId).sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
  });

  test('a store of another cluster is refused', async () => {
    const store = await open();
    await updateMetadata(store, 'one', (m) => ({ next: m, result: null }));
    await expect(updateMetadata(store, 'two', (m) => ({ next: m, result: null }))).rejects.toMatchObject({ type: 'INVALID_REQUEST' });
  });
});

describe('file metadata store across worker threads', () => {
  test('racing writers: exactly one wins per version, and no update is lost', async () => {
    const dir = await tempDir();
    const writers = 4, rounds = 25, updates = 10;
    const startFlag = new SharedArrayBuffer(4);
    const workers = Array.from({ length: writers }, (_, writerId) =>
      startNodeWorker(new URL('./fixtures/cas-writer.node-worker.ts', import.meta.url), { dir, writerId, rounds, updates, startFlag }));
    const results = workers.map((w) => new Promise<{ rawWins: number }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    }));
    // Give the threads time to load, then release them together.
    await new Promise((r) => setTimeout(r, 300));
    Atomics.store(new Int32Array(startFlag), 0, 1);
    Atomics.notify(new Int32Array(startFlag), 0);
    const rawWins = (await Promise.all(results)).reduce((sum, r) => sum + r.rawWins, 0);
    await Promise.all(workers.map((w) => w.terminate()));

    const stored = (await new FileMetadataStore(dir).read())!;
    // Every stored version has exactly one writer's entry: nothing overwritten, nothing doubled.
    expect(stored.version).toBe(rawWins + writers * updates);
    expect(stored.brokers).toHaveLength(stored.version);
    stored.brokers.forEach((entry, i) => expect(entry.host).toMatch(new RegExp(` v${i + 1}$`)));
    expect(rawWins).toBeGreaterThan(0);
    expect(rawWins).toBeLessThan(writers * rounds); // they did race
    // No lock or temp file left behind.
    expect(await readdir(dir)).toEqual(['metadata.json']);
  });

  test('a lock left by a process killed (kill -9) inside a compare-and-set dies with it: the next writer takes it at once', async () => {
    const dir = await tempDir();
    const holder = runFixture(new URL('./fixtures/metadata-lock-holder.ts', import.meta.url), [dir]);
    try {
      expect(await holder.line()).toBe('locked');
      expect(await readdir(dir)).toContain('metadata.json.lock');
    } finally {
      await holder.kill9();
    }
    // The default options: the lock was fresh, so only the dead owner's pid (not its age) can free it within the wait.
    const store = new FileMetadataStore(dir);
    expect(await store.compareAndSet(0, versionOf(emptyMetadata('c'), 1))).toBe(true);
    expect(await readdir(dir)).toEqual(['metadata.json']);
  });

  test('a lock of a live process is waited for, never broken, and times out with a retriable error naming the owner', async () => {
    const dir = await tempDir();
    const owner = { pid: process.ppid, hostname: hostname(), processStart: '', threadId: 0, purpose: 'metadata compare-and-set', acquiredAtMs: 0 };
    await writeFile(join(dir, 'metadata.json.lock'), JSON.stringify(owner));
    await utimes(join(dir, 'metadata.json.lock'), 0, 0); // ancient: age alone does not make it stale
    const store = new FileMetadataStore(dir, { lockStaleMs: 10, lockWaitMsMax: 50 });
    const error = await store.compareAndSet(0, versionOf(emptyMetadata('c'), 1)).catch((e) => e);
    expect(error).toMatchObject({ type: 'REQUEST_TIMED_OUT', retriable: true });
    expect(error.message).toContain(`pid ${process.ppid}`);
  });

  test('an unreadable lock file is broken once it is old; the stale age must be below the wait', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'metadata.json.lock'), 'crashed');
    await utimes(join(dir, 'metadata.json.lock'), 0, 0);
    expect(await new FileMetadataStore(dir).compareAndSet(0, versionOf(emptyMetadata('c'), 1))).toBe(true);
    expect(() => new FileMetadataStore(dir, { lockStaleMs: 10_000, lockWaitMsMax: 5_000 })).toThrow(RangeError);
  });
});
