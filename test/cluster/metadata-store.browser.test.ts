import { afterEach, expect, test } from 'vitest';
import { IndexedDbMetadataStore } from '../../src/cluster/indexeddb-metadata-store.ts';
import { emptyMetadata } from '../../src/metadata/metadata.ts';

const clusterIds: string[] = [];
afterEach(async () => {
  for (const id of clusterIds.splice(0)) await IndexedDbMetadataStore.destroy(id);
});

function newClusterId(): string {
  const id = `cas-${crypto.randomUUID()}`;
  clusterIds.push(id);
  return id;
}

test('IndexedDB compare-and-set writes only on the expected version', async () => {
  const clusterId = newClusterId();
  const store = new IndexedDbMetadataStore(clusterId);
  expect(await store.read()).toBeNull();
  const v1 = { ...emptyMetadata(clusterId), version: 1 };
  expect(await store.compareAndSet(0, v1)).toBe(true);
  expect(await store.compareAndSet(0, v1)).toBe(false);
  expect(await store.compareAndSet(1, { ...v1, version: 2 })).toBe(true);
  expect((await store.read())!.version).toBe(2);
  await store.close();
});

test('IndexedDB CAS across dedicated workers: exactly one wins per version, no update lost', async () => {
  const clusterId = newClusterId();
  const writers = 4, rounds = 15, updates = 5;
  const workers = Array.from({ length: writers }, () => new Worker(new URL('./fixtures/idb-cas-writer.worker.ts', import.meta.url), { type: 'module' }));
  await Promise.all(workers.map((w) => new Promise((resolve) => { w.onmessage = resolve; })));
  const results = workers.map((w, writerId) => new Promise<{ rawWins: number }>((resolve, reject) => {
    w.onmessage = (e) => (e.data.error ? reject(new Error(e.data.error)) : resolve(e.data));
    w.onerror = (e) => reject(new Error(e.message));
    w.postMessage({ clusterId, writerId, rounds, updates });
  }));
  const rawWins = (await Promise.all(results)).reduce((sum, r) => sum + r.rawWins, 0);
  workers.forEach((w) => w.terminate());

  const store = new IndexedDbMetadataStore(clusterId);
  const stored = (await store.read())!;
  await store.close();
  expect(stored.version).toBe(rawWins + writers * updates);
  expect(stored.brokers).toHaveLength(stored.version);
  stored.brokers.forEach((entry, i) => expect(entry.host).toMatch(new RegExp(` v${i + 1}$`)));
  expect(rawWins).toBeGreaterThan(0);
});
