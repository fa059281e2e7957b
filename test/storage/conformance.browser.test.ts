/**
 * The storage conformance suite in Chromium, inside a real dedicated worker
 * (test/storage/conformance-worker.ts), for OPFS (sync access handles) and
 * IndexedDB. Each case is reported as its own test.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { OpfsBackend } from '../../src/storage/index.ts';
import { WafkaError } from '../../src/errors.ts';
import { conformanceCases } from './conformance.ts';

type Result = { name: string; ok: boolean; error?: string; ms?: number };

function runInWorker(backend: 'opfs' | 'indexeddb'): Promise<Map<string, Result>> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./conformance-worker.ts', import.meta.url), { type: 'module' });
    const results = new Map<string, Result>();
    const timer = setTimeout(() => {
      worker.terminate();
      reject(new Error(`${backend} worker timed out after ${results.size} cases`));
    }, 50_000);
    worker.onmessage = (e) => {
      const m = e.data;
      if (m.fatal) {
        clearTimeout(timer);
        worker.terminate();
        reject(new Error(m.fatal));
      } else if (m.done) {
        clearTimeout(timer);
        worker.terminate();
        resolve(results);
      } else if (m.cleanupError) {
        results.set('cleanup', { name: 'cleanup', ok: false, error: m.cleanupError });
      } else results.set(m.name, m);
    };
    worker.onerror = (e) => {
      clearTimeout(timer);
      reject(new Error(`worker error: ${e.message}`));
    };
    worker.postMessage({ backend });
  });
}

for (const backend of ['opfs', 'indexeddb'] as const) {
  describe(`conformance in a dedicated worker: ${backend}`, () => {
    let results: Map<string, Result>;
    beforeAll(async () => {
      results = await runInWorker(backend);
    }, 55_000);
    for (const c of conformanceCases) {
      test(c.name, () => {
        const r = results.get(c.name);
        expect(r, 'the worker reported this case').toBeDefined();
        if (!r!.ok) throw new Error(r!.error);
      });
    }
    test('cleaned up its state', () => {
      expect(results.get('cleanup')).toBeUndefined();
    });
  });
}

test('OPFS backend outside a dedicated worker fails with a typed error, no fallback', async () => {
  const error = await OpfsBackend.create('wafka-page').catch((e) => e);
  expect(WafkaError.is(error, 'KAFKA_STORAGE_ERROR')).toBe(true);
  expect(String(error.message)).toMatch(/dedicated worker/);
});

test('OPFS: a log is owned by one worker; a second worker gets KAFKA_STORAGE_ERROR until the owner closes it', async () => {
  const spawn = () => new Worker(new URL('./opfs-owner-worker.ts', import.meta.url), { type: 'module' });
  const ask = (w: Worker, op: string) =>
    new Promise<{ ok: boolean; type?: string; message?: string }>((resolve, reject) => {
      w.onmessage = (e) => resolve(e.data);
      w.onerror = (e) => reject(new Error(e.message));
      w.postMessage({ op });
    });
  const owner = spawn();
  const other = spawn();
  try {
    expect(await ask(owner, 'hold')).toMatchObject({ ok: true });
    const second = await ask(other, 'try');
    expect(second).toMatchObject({ ok: false, type: 'KAFKA_STORAGE_ERROR' });
    expect(second.message).toMatch(/another worker or tab/);
    expect(await ask(owner, 'close')).toMatchObject({ ok: true });
    expect(await ask(other, 'try')).toMatchObject({ ok: true });
  } finally {
    await ask(other, 'cleanup').catch(() => {});
    owner.terminate();
    other.terminate();
  }
});
