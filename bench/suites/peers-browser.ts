/// <reference lib="webworker" />
/**
 * Storage peers on the browser's own APIs (dedicated worker): the raw OPFS
 * sync-access-handle pattern and IndexedDB through `idb`, as apps use it.
 */
import { openDB, type IDBPDatabase } from 'idb';
import type { AppendStore, ReadStore } from './storage-cases.ts';

interface SyncHandle {
  write(b: Uint8Array, o?: { at: number }): number;
  read(b: Uint8Array, o?: { at: number }): number;
  getSize(): number;
  truncate(n: number): void;
  flush(): void;
  close(): void;
}

async function opfsDir(): Promise<FileSystemDirectoryHandle> {
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle('wafka-bench-raw', { create: true });
}

async function openHandle(id: string): Promise<SyncHandle> {
  const dir = await opfsDir();
  const fh = await dir.getFileHandle(`${id}.bin`, { create: true });
  return (fh as unknown as { createSyncAccessHandle(): Promise<SyncHandle> }).createSyncAccessHandle();
}

async function removeFile(id: string): Promise<void> {
  const dir = await opfsDir();
  await dir.removeEntry(`${id}.bin`).catch(() => {});
}

/** The raw pattern: one sync-handle write per batch at the end of one file, no flush (as the log's default policy). */
export const opfsRawAppend: AppendStore = {
  name: 'opfs-raw',
  role: 'peer',
  note: 'FileSystemSyncAccessHandle.write(batch, {at: end}) per batch into one file, no flush: the write pattern the log makes, without the log',
  async open(id) {
    const h = await openHandle(id);
    let at = 0;
    return {
      append(b: Uint8Array) {
        at += h.write(b, { at });
      },
      close() {
        h.close();
      },
    };
  },
  remove: removeFile,
};

/** Raw sequential read: the same bytes read back in maxBytes chunks into fresh buffers. */
export const opfsRawRead: ReadStore = {
  name: 'opfs-raw',
  role: 'limit',
  note: 'FileSystemSyncAccessHandle.read into one reused buffer, chunk after chunk front to back: the platform read bandwidth for that chunk size',
  async prepare(id, batches) {
    const h = await openHandle(id);
    let at = 0;
    for (const b of batches) at += h.write(b, { at });
    const size = at;
    return {
      async readAll(maxBytes) {
        let n = 0;
        const full = new Uint8Array(maxBytes);
        for (let pos = 0; pos < size; ) {
          const buf = size - pos >= maxBytes ? full : full.subarray(0, size - pos);
          const got = h.read(buf, { at: pos });
          if (got <= 0) break;
          pos += got;
          n += got;
        }
        return n;
      },
      close() {
        h.close();
      },
    };
  },
  remove: removeFile,
};

type EventDb = IDBPDatabase<unknown>;

async function openEventDb(id: string): Promise<EventDb> {
  return openDB(id, 1, {
    upgrade(db) {
      db.createObjectStore('events', { autoIncrement: true });
    },
  });
}

async function deleteDb(id: string): Promise<void> {
  const { deleteDB } = await import('idb');
  await deleteDB(id);
}

/** Splits a batch back into its 100-byte values: the events an app would store one by one. */
export type EventsOf = (batch: Uint8Array) => Uint8Array[];

type Durability = 'strict' | 'relaxed' | 'default';

/**
 * One put per event, one transaction per event: idb's `db.put(store, value)`
 * with the transaction's durability made explicit (same work as db.put).
 */
export function idbPutPerEvent(eventsOf: EventsOf, durability: Durability): AppendStore {
  return {
    name: 'idb-put-per-event',
    role: 'peer',
    note: `idb: one readwrite transaction per 100-byte event (durability '${durability}'): tx.store.put(value), await tx.done — what \`await db.put('events', value)\` does`,
    async open(id) {
      const db = await openEventDb(id);
      return {
        async append(batch: Uint8Array) {
          for (const ev of eventsOf(batch)) {
            const tx = db.transaction('events', 'readwrite', { durability });
            void tx.store.put(ev);
            await tx.done;
          }
        },
        close() {
          db.close();
        },
      };
    },
    remove: deleteDb,
  };
}

/** Many puts in one transaction: the usual offline outbox at its best. */
export function idbPutBatch(eventsOf: EventsOf, durability: Durability, name = 'idb-puts-one-tx'): AppendStore {
  return {
    name,
    role: 'peer',
    note: `idb: one readwrite transaction per batch (durability '${durability}'), tx.store.put(value) per event without awaiting each, then await tx.done`,
    async open(id) {
      const db = await openEventDb(id);
      return {
        async append(batch: Uint8Array) {
          const tx = db.transaction('events', 'readwrite', { durability });
          for (const ev of eventsOf(batch)) void tx.store.put(ev);
          await tx.done;
        },
        close() {
          db.close();
        },
      };
    },
    remove: deleteDb,
  };
}
