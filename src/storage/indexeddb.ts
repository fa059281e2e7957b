/**
 * IndexedDbBackend: the file interface over IndexedDB (through idb). A file
 * is a row in `files` (path → { size }) and chunks of CHUNK_BYTES in `chunks`
 * (key [path, chunkIndex] → bytes). Chunks stay under Chromium's ~64 KiB
 * threshold above which each value becomes a blob file of its own (60 KiB
 * values ≈ 108 MiB/s, 64 KiB ≈ 32 MiB/s).
 *
 * - write: one readwrite transaction for all chunks the write touches (an
 *   append call of many batches is one transaction) plus the size row, so a
 *   write is all or nothing: a quota error or a crash never leaves part of it.
 *   The partial tail chunk is cached, so appends do not read it back.
 * - read: one key-range query (getAll over [path, first]..[path, last]).
 * - durability: 'strict' by default (Chromium does one fdatasync per commit:
 *   a committed write survives a machine crash); 'relaxed' only by explicit
 *   choice, in which case writes commit without fsync and flush() commits a
 *   strict transaction, which syncs every earlier commit too.
 * - Ownership: a file is open once per realm (this module's registry). Two
 *   realms (tabs, workers) writing one database is the caller's to prevent:
 *   the broker that holds the Web Lock for its broker id owns its directory.
 * Nothing but IndexedDB is awaited inside a transaction.
 */
import { openDB, type IDBPDatabase, type IDBPTransaction } from 'idb';
import { alreadyOpen, checkPath, checkRange, storageError, type StorageBackend, type StorageFile } from './backend.ts';

/** 56 KiB: under the ~64 KiB blob threshold, with room for the value's envelope. */
export const CHUNK_BYTES = 56 * 1024;
const CHUNK_INDEX_MAX = Number.MAX_SAFE_INTEGER;

export type IdbDurability = 'strict' | 'relaxed';

export interface IndexedDbBackendOptions {
  durability?: IdbDurability;
}

const openPaths = new Set<string>();

export class IndexedDbBackend implements StorageBackend {
  readonly kind = 'indexeddb';
  readonly dbName: string;
  readonly durability: IdbDurability;
  readonly db: IDBPDatabase;

  private constructor(dbName: string, db: IDBPDatabase, durability: IdbDurability) {
    this.dbName = dbName;
    this.db = db;
    this.durability = durability;
  }

  static async open(dbName = 'wafka-storage', options: IndexedDbBackendOptions = {}): Promise<IndexedDbBackend> {
    if (typeof indexedDB === 'undefined') throw storageError('indexeddb: IndexedDB is not available in this runtime');
    try {
      const db = await openDB(dbName, 1, {
        upgrade(d) {
          d.createObjectStore('files');
          d.createObjectStore('chunks');
        },
      });
      return new IndexedDbBackend(dbName, db, options.durability ?? 'strict');
    } catch (error) {
      throw storageError(`indexeddb: cannot open database ${dbName}`, error);
    }
  }

  /** Closes the connection (files must be closed). */
  close(): void {
    this.db.close();
  }

  /** Deletes a whole database (tests clean up with it). */
  static async deleteDatabase(dbName: string): Promise<void> {
    const { deleteDB } = await import('idb');
    await deleteDB(dbName);
  }

  #key(path: string): string {
    return `${this.dbName}\u0000${path}`;
  }

  async openFile(path: string, options?: { create?: boolean }): Promise<StorageFile> {
    checkPath(path);
    const key = this.#key(path);
    if (openPaths.has(key)) throw alreadyOpen(this.kind, path);
    openPaths.add(key);
    try {
      const tx = this.db.transaction('files', 'readwrite', { durability: this.durability });
      let meta = (await tx.store.get(path)) as { size: number } | undefined;
      if (!meta) {
        if (options?.create === false) {
          tx.abort();
          await tx.done.catch(() => {});
          throw storageError(`indexeddb: ${path} does not exist`);
        }
        meta = { size: 0 };
        await tx.store.put(meta, path);
      }
      await tx.done;
      return new IdbFile(this, path, meta.size, () => openPaths.delete(key));
    } catch (error) {
      openPaths.delete(key);
      throw storageError(`indexeddb: cannot open ${path}`, error);
    }
  }

  async list(dir: string): Promise<string[]> {
    const prefix = dir === '' ? '' : `${dir}/`;
    try {
      const keys = (await this.db.getAllKeys('files', IDBKeyRange.bound(prefix, `${prefix}\uffff`))) as string[];
      return keys.filter((k) => k.startsWith(prefix) && !k.slice(prefix.length).includes('/')).map((k) => k.slice(prefix.length)).sort();
    } catch (error) {
      throw storageError(`indexeddb: cannot list ${dir}`, error);
    }
  }

  async listSizes(dir: string): Promise<Map<string, number>> {
    const prefix = dir === '' ? '' : `${dir}/`;
    const sizes = new Map<string, number>();
    try {
      const tx = this.db.transaction('files', 'readonly');
      const range = IDBKeyRange.bound(prefix, `${prefix}\uffff`);
      const [keys, values] = await Promise.all([tx.store.getAllKeys(range), tx.store.getAll(range)]);
      await tx.done;
      for (let i = 0; i < keys.length; i++) {
        const name = (keys[i] as string).slice(prefix.length);
        if ((keys[i] as string).startsWith(prefix) && !name.includes('/')) sizes.set(name, (values[i] as { size: number }).size);
      }
    } catch (error) {
      throw storageError(`indexeddb: cannot list ${dir}`, error);
    }
    return sizes;
  }

  async remove(path: string): Promise<void> {
    if (openPaths.has(this.#key(path))) throw storageError(`indexeddb: cannot remove ${path}: it is open`);
    try {
      const tx = this.db.transaction(['files', 'chunks'], 'readwrite', { durability: this.durability });
      tx.objectStore('files').delete(path);
      tx.objectStore('chunks').delete(IDBKeyRange.bound([path, 0], [path, CHUNK_INDEX_MAX]));
      await tx.done;
    } catch (error) {
      throw storageError(`indexeddb: cannot remove ${path}`, error);
    }
  }

  /** Atomic: one transaction moves the chunks and the size row. */
  async rename(from: string, to: string): Promise<void> {
    checkPath(to);
    if (openPaths.has(this.#key(from)) || openPaths.has(this.#key(to))) throw storageError(`indexeddb: cannot rename ${from} to ${to}: open`);
    try {
      const tx = this.db.transaction(['files', 'chunks'], 'readwrite', { durability: this.durability });
      const files = tx.objectStore('files');
      const chunks = tx.objectStore('chunks');
      const meta = await files.get(from);
      if (!meta) throw new Error(`${from} does not exist`);
      const range = IDBKeyRange.bound([from, 0], [from, CHUNK_INDEX_MAX]);
      const keys = (await chunks.getAllKeys(range)) as [string, number][];
      const values = await chunks.getAll(range);
      await chunks.delete(IDBKeyRange.bound([to, 0], [to, CHUNK_INDEX_MAX]));
      await chunks.delete(range);
      for (let i = 0; i < keys.length; i++) chunks.put(values[i], [to, keys[i][1]]);
      files.delete(from);
      files.put(meta, to);
      await tx.done;
    } catch (error) {
      throw storageError(`indexeddb: cannot rename ${from} to ${to}`, error);
    }
  }

  async removeDir(dir: string): Promise<void> {
    const prefix = `${dir}/`;
    const keys = (await this.db.getAllKeys('files', IDBKeyRange.bound(prefix, `${prefix}\uffff`))) as string[];
    for (const k of keys) if (openPaths.has(this.#key(k))) throw storageError(`indexeddb: cannot remove ${dir}: ${k} is open`);
    for (const k of keys) await this.remove(k);
  }
}

class IdbFile implements StorageFile {
  readonly path: string;
  size: number;
  #backend: IndexedDbBackend;
  #release: (() => void) | undefined;
  /** The last chunk if partial, as stored (saves a read per append). */
  #tail: { index: number; bytes: Uint8Array } | undefined;

  constructor(backend: IndexedDbBackend, path: string, size: number, release: () => void) {
    this.#backend = backend;
    this.path = path;
    this.size = size;
    this.#release = release;
  }

  #check(): void {
    if (!this.#release) throw storageError(`indexeddb: ${this.path} is closed`);
  }

  #range(first: number, last: number): IDBKeyRange {
    return IDBKeyRange.bound([this.path, first], [this.path, last]);
  }

  async read(position: number, length: number): Promise<Uint8Array> {
    this.#check();
    checkRange(this.path, this.size, position, length);
    const n = Math.min(length, this.size - position);
    const out = new Uint8Array(n);
    if (n === 0) return out;
    const first = Math.floor(position / CHUNK_BYTES);
    const last = Math.floor((position + n - 1) / CHUNK_BYTES);
    let chunks: Uint8Array[];
    try {
      chunks = (await this.#backend.db.getAll('chunks', this.#range(first, last))) as Uint8Array[];
    } catch (error) {
      throw storageError(`indexeddb: read ${this.path} @${position}`, error);
    }
    if (chunks.length !== last - first + 1) throw storageError(`indexeddb: ${this.path} is missing chunks ${first}..${last} (got ${chunks.length})`);
    for (let c = first; c <= last; c++) {
      const chunk = chunks[c - first];
      const chunkStart = c * CHUNK_BYTES;
      const from = Math.max(position, chunkStart) - chunkStart;
      const to = Math.min(position + n, chunkStart + chunk.length) - chunkStart;
      out.set(chunk.subarray(from, to), chunkStart + from - position);
    }
    return out;
  }

  async write(position: number, bytes: Uint8Array): Promise<void> {
    this.#check();
    checkRange(this.path, this.size, position, bytes.length);
    if (bytes.length === 0) return;
    const end = position + bytes.length;
    const newSize = Math.max(this.size, end);
    const first = Math.floor(position / CHUNK_BYTES);
    const last = Math.floor((end - 1) / CHUNK_BYTES);
    let newTail: { index: number; bytes: Uint8Array } | undefined;
    let tx: IDBPTransaction<unknown, ['files', 'chunks'], 'readwrite'> | undefined;
    try {
      tx = this.#backend.db.transaction(['files', 'chunks'], 'readwrite', { durability: this.#backend.durability });
      const store = tx.objectStore('chunks');
      for (let c = first; c <= last; c++) {
        const chunkStart = c * CHUNK_BYTES;
        const oldLen = Math.max(0, Math.min(this.size - chunkStart, CHUNK_BYTES));
        const from = Math.max(position, chunkStart) - chunkStart;
        const to = Math.min(end, chunkStart + CHUNK_BYTES) - chunkStart;
        const chunk = new Uint8Array(Math.max(oldLen, to));
        if (oldLen > 0 && (from > 0 || to < oldLen)) {
          const old = this.#tail?.index === c ? this.#tail.bytes : ((await store.get([this.path, c])) as Uint8Array | undefined);
          if (!old) throw new Error(`chunk ${c} missing`);
          chunk.set(old.subarray(0, oldLen));
        }
        chunk.set(bytes.subarray(chunkStart + from - position, chunkStart + to - position), from);
        store.put(chunk, [this.path, c]);
        if (c === Math.floor((newSize - 1) / CHUNK_BYTES) && chunk.length < CHUNK_BYTES) newTail = { index: c, bytes: chunk };
      }
      tx.objectStore('files').put({ size: newSize }, this.path);
      await tx.done;
    } catch (error) {
      // The transaction aborts: nothing of this write is stored.
      try {
        tx?.abort();
      } catch {
        // already finished or aborted
      }
      tx?.done.catch(() => {});
      this.#tail = undefined;
      throw storageError(`indexeddb: write ${this.path} @${position} (${bytes.length} B)`, error);
    }
    this.size = newSize;
    if (newTail) this.#tail = newTail;
    else if (this.#tail && this.#tail.index <= last) this.#tail = undefined;
  }

  async truncate(size: number): Promise<void> {
    this.#check();
    checkRange(this.path, this.size, size, 0);
    try {
      const tx = this.#backend.db.transaction(['files', 'chunks'], 'readwrite', { durability: this.#backend.durability });
      const store = tx.objectStore('chunks');
      const keep = Math.ceil(size / CHUNK_BYTES);
      await store.delete(this.#range(keep, CHUNK_INDEX_MAX));
      if (size % CHUNK_BYTES !== 0) {
        const c = keep - 1;
        const old = (await store.get([this.path, c])) as Uint8Array | undefined;
        if (old) await store.put(old.slice(0, size % CHUNK_BYTES), [this.path, c]);
      }
      await tx.objectStore('files').put({ size }, this.path);
      await tx.done;
    } catch (error) {
      throw storageError(`indexeddb: truncate ${this.path} to ${size}`, error);
    }
    this.size = size;
    this.#tail = undefined;
  }

  async flush(): Promise<void> {
    this.#check();
    if (this.#backend.durability === 'strict') return; // every write committed with strict durability already
    try {
      const tx = this.#backend.db.transaction('files', 'readwrite', { durability: 'strict' });
      tx.store.put({ size: this.size }, this.path);
      await tx.done;
    } catch (error) {
      throw storageError(`indexeddb: flush ${this.path}`, error);
    }
  }

  async close(): Promise<void> {
    this.#release?.();
    this.#release = undefined;
    this.#tail = undefined;
  }
}
