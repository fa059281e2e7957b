import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, test } from 'vitest';
import 'fake-indexeddb/auto';
import { FaultInjectingBackend, IndexedDbBackend, MemoryBackend, NodeFileBackend, type StorageBackend } from '../../src/storage/index.ts';
import { conformanceCases, runConformanceCase } from './conformance.ts';

const roots: string[] = [];
afterAll(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

const backends: { name: string; make(): Promise<StorageBackend> }[] = [
  { name: 'memory', make: async () => new MemoryBackend() },
  {
    name: 'node-fs',
    make: async () => {
      const root = await mkdtemp(join(tmpdir(), 'wafka-storage-'));
      roots.push(root);
      return NodeFileBackend.create(root);
    },
  },
  { name: 'indexeddb (fake-indexeddb)', make: () => IndexedDbBackend.open('wafka-conformance') },
  { name: 'fault-injecting wrapper, no faults', make: async () => new FaultInjectingBackend(new MemoryBackend(), { seed: 1 }) },
];

for (const b of backends) {
  describe(`conformance: ${b.name}`, () => {
    let backend: StorageBackend | undefined;
    for (const c of conformanceCases) {
      test(c.name, async () => {
        backend ??= await b.make();
        await runConformanceCase(c, backend, 'log');
      });
    }
  });
}
