/**
 * A segment's `.log` file, opened on first use and closed again when the
 * backend's open-file budget needs its handle (least recently used first).
 *
 * A log holds its active segment open for its whole life (pinned: never
 * evicted). A closed segment's file is opened when a read, a compaction or a
 * truncation first touches it, and may be closed by the SegmentFileCache of
 * its backend as soon as more than `openFilesMax` unpinned files are open; it
 * reopens on the next use. A file whose size on reopening differs from the
 * size the log knows was changed outside the log: KAFKA_STORAGE_ERROR.
 *
 * Synchronous calls (readSync, ...) are served only while the file is open
 * (`syncFile()` says whether they can be); the log falls back to its async
 * path otherwise.
 */
import { isSyncFile, storageError, type StorageBackend, type StorageFile, type SyncStorageFile } from './backend.ts';

/** Closed-segment files one backend keeps open at once, unless told otherwise. */
export const OPEN_SEGMENT_FILES_DEFAULT = 256;

/**
 * The open-file budget of one backend: at most `openFilesMax` unpinned
 * segment files open; the least recently used one is closed first. Files in
 * the middle of an async call are not closed (the budget may be passed by
 * those for the length of the call).
 */
export class SegmentFileCache {
  readonly openFilesMax: number;
  /** Open unpinned files, least recently used first. */
  readonly #lru = new Set<SegmentFile>();

  constructor(openFilesMax = OPEN_SEGMENT_FILES_DEFAULT) {
    if (!Number.isSafeInteger(openFilesMax) || openFilesMax < 1) throw new RangeError(`openFilesMax ${openFilesMax}: expected an integer ≥ 1`);
    this.openFilesMax = openFilesMax;
  }

  /** Unpinned files open now. */
  get openCount(): number {
    return this.#lru.size;
  }

  /** Marks `file` most recently used (and counted, if it is unpinned). */
  touch(file: SegmentFile): void {
    this.#lru.delete(file);
    if (!file.pinned) this.#lru.add(file);
  }

  forget(file: SegmentFile): void {
    this.#lru.delete(file);
  }

  /** Closes least recently used idle files until the budget holds. */
  async trim(): Promise<void> {
    if (this.#lru.size <= this.openFilesMax) return;
    for (const file of [...this.#lru]) {
      if (this.#lru.size <= this.openFilesMax) return;
      if (file.busy) continue;
      await file.release();
    }
  }
}

const caches = new WeakMap<StorageBackend, SegmentFileCache>();

/** The cache every log on `backend` shares unless given its own (OPEN_SEGMENT_FILES_DEFAULT files). */
export function segmentFileCacheFor(backend: StorageBackend): SegmentFileCache {
  let cache = caches.get(backend);
  if (!cache) {
    cache = new SegmentFileCache();
    caches.set(backend, cache);
  }
  return cache;
}

export class SegmentFile implements StorageFile {
  readonly path: string;
  readonly #backend: StorageBackend;
  readonly #cache: SegmentFileCache;
  #file: StorageFile | undefined;
  /** #file when it has synchronous calls. */
  #syncFile: SyncStorageFile | undefined;
  /** The size while closed: what the log knows of the file. */
  #size: number;
  #busy = 0;
  #pinned = false;
  #closed = false;

  /** A file not opened yet, known to hold `sizeBytes`; or an open one (`file`). */
  constructor(backend: StorageBackend, cache: SegmentFileCache, path: string, sizeBytes: number, file?: StorageFile) {
    this.#backend = backend;
    this.#cache = cache;
    this.path = path;
    this.#size = file ? file.size : sizeBytes;
    this.#file = file;
    this.#syncFile = file && isSyncFile(file) ? file : undefined;
    if (file) cache.touch(this);
  }

  get size(): number {
    return this.#file ? this.#file.size : this.#size;
  }

  get isOpen(): boolean {
    return this.#file !== undefined;
  }

  get pinned(): boolean {
    return this.#pinned;
  }

  get busy(): boolean {
    return this.#busy > 0;
  }

  /** Pinned (the active segment): never closed for the budget. */
  set pinned(value: boolean) {
    this.#pinned = value;
    if (this.#file) this.#cache.touch(this);
  }

  /** The open platform file when its synchronous calls can be used now, else undefined. */
  syncFile(): SyncStorageFile | undefined {
    const f = this.#syncFile;
    if (f && !this.#pinned) this.#cache.touch(this);
    return f;
  }

  /** Opens the platform file if it is not open. */
  async open(): Promise<StorageFile> {
    if (this.#closed) throw storageError(`${this.path} is closed`);
    if (this.#file) {
      this.#cache.touch(this);
      return this.#file;
    }
    const file = await this.#backend.openFile(this.path, { create: false });
    if (file.size !== this.#size) {
      await file.close();
      throw storageError(`${this.path} holds ${file.size} B where the log expects ${this.#size} B: it was changed outside the log`);
    }
    this.#file = file;
    this.#syncFile = isSyncFile(file) ? file : undefined;
    this.#cache.touch(this);
    await this.#cache.trim();
    return file;
  }

  async #use<T>(fn: (file: StorageFile) => Promise<T>): Promise<T> {
    this.#busy++;
    try {
      return await fn(await this.open());
    } finally {
      this.#busy--;
    }
  }

  read(position: number, length: number): Promise<Uint8Array> {
    return this.#use((f) => f.read(position, length));
  }

  write(position: number, bytes: Uint8Array): Promise<void> {
    return this.#use((f) => f.write(position, bytes));
  }

  truncate(size: number): Promise<void> {
    return this.#use((f) => f.truncate(size));
  }

  flush(): Promise<void> {
    return this.#file ? this.#use((f) => f.flush()) : Promise.resolve(); // a closed file has nothing unflushed
  }

  readSync(position: number, length: number): Uint8Array {
    return this.#sync().readSync(position, length);
  }

  writeSync(position: number, bytes: Uint8Array): void {
    this.#sync().writeSync(position, bytes);
  }

  truncateSync(size: number): void {
    this.#sync().truncateSync(size);
  }

  flushSync(): void {
    this.#sync().flushSync();
  }

  #sync(): SyncStorageFile {
    const f = this.syncFile();
    if (!f) throw storageError(`${this.path}: not open for synchronous calls`);
    return f;
  }

  /** Closes the platform handle for the budget (the file reopens on its next use). */
  async release(): Promise<void> {
    const f = this.#file;
    if (!f) return;
    this.#size = f.size;
    this.#file = undefined;
    this.#syncFile = undefined;
    this.#cache.forget(this);
    await f.close();
  }

  /** Closes for good. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.release();
  }
}
