import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, test } from 'vitest';
import { MemoryBackend, type StorageBackend } from '../../src/storage/index.ts';
import { conformanceCases, runConformanceCase } from './conformance.ts';

const roots: string[] = [];
afterAll(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

const backends: { name: string; make(): Promise<StorageBackend> }[] = [
  { name: 'memory', make: async () => new MemoryBackend() },
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
