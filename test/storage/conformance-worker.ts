/**
 * Runs the storage conformance suite inside a real dedicated worker (where
 * OPFS sync access handles exist) against the backend named in the first
 * message, posting one result per case, then { done: true }. Cleans up its
 * OPFS directory and IndexedDB database at the end.
 */
import { IndexedDbBackend, OpfsBackend, type StorageBackend } from '../../src/storage/index.ts';
import { conformanceCases, runConformanceCase } from './conformance.ts';

const OPFS_ROOT = 'wafka-conformance';
const IDB_NAME = 'wafka-conformance';

self.onmessage = async (event: MessageEvent<{ backend: 'opfs' | 'indexeddb' }>) => {
  const kind = event.data.backend;
  let backend: StorageBackend | undefined;
  try {
    backend = kind === 'opfs' ? await OpfsBackend.create(OPFS_ROOT) : await IndexedDbBackend.open(IDB_NAME);
  } catch (error) {
    postMessage({ fatal: String((error as Error)?.stack ?? error) });
    return;
  }
  for (const c of conformanceCases) {
    const started = performance.now();
    try {
      await runConformanceCase(c, backend, `log-${kind}`);
      postMessage({ name: c.name, ok: true, ms: performance.now() - started });
    } catch (error) {
      postMessage({ name: c.name, ok: false, error: `${(error as Error)?.name}: ${(error as Error)?.message}\n${(error as Error)?.stack ?? ''}` });
    }
  }
  try {
    if (kind === 'opfs') {
      const root = await navigator.storage.getDirectory();
      await root.removeEntry(OPFS_ROOT, { recursive: true });
    } else {
      (backend as IndexedDbBackend).close();
      await IndexedDbBackend.deleteDatabase(IDB_NAME);
    }
  } catch (error) {
    postMessage({ cleanupError: String(error) });
  }
  postMessage({ done: true });
};
