/**
 * The file-like interface every storage backend implements, and the helpers
 * they share.
 *
 * A backend is a flat namespace of files addressed by '/'-separated relative
 * paths ('orders-0/00000000000000000000.log'); directories exist implicitly
 * (created on the first file, listed by `list`, dropped by `removeDir`).
 *
 * Ownership: a file is open at most once per backend instance and, on OPFS,
 * at most once per origin (a readwrite sync access handle is exclusive). The
 * PartitionLog that opens a file owns it until `close()`; a second open of an
 * open file fails with KAFKA_STORAGE_ERROR, never a silent copy.
 *
 * Errors: every I/O or quota failure is a WafkaError KAFKA_STORAGE_ERROR with
 * the platform error as `cause`. `write` either writes every byte or throws;
 * after a throw the bytes at [position, position + length) are unspecified
 * (the caller truncates them away), everything before is unchanged.
 */
import { WafkaError } from '../errors.ts';

export interface StorageFile {
  readonly path: string;
  /** Bytes in the file as seen by `read` (includes written, not yet flushed bytes). */
  readonly size: number;
  /**
   * Reads min(length, size - position) bytes at `position` into a new array
   * (one platform read per call). position ≤ size.
   */
  read(position: number, length: number): Promise<Uint8Array>;
  /** Writes all of `bytes` at `position` (≤ size; == size appends) or throws. */
  write(position: number, bytes: Uint8Array): Promise<void>;
  /** Sets the size to `size` (≤ current size). */
  truncate(size: number): Promise<void>;
  /** Makes every write so far durable (fdatasync or the platform's nearest). */
  flush(): Promise<void>;
  /** Releases the handle; the file stays. Idempotent. */
  close(): Promise<void>;
  /**
   * Synchronous forms of read, write, truncate and flush, same contracts, on
   * backends whose platform calls are synchronous (OPFS sync access handles,
   * node:fs, memory). Optional: the log uses them, when a file has all four,
   * to append and read without a promise per step; it never mixes them with a
   * pending async call on the same file.
   */
  readSync?(position: number, length: number): Uint8Array;
  writeSync?(position: number, bytes: Uint8Array): void;
  truncateSync?(size: number): void;
  flushSync?(): void;
}

/** The file's synchronous operations when it has all of them (see StorageFile.readSync). */
export type SyncStorageFile = StorageFile & Required<Pick<StorageFile, 'readSync' | 'writeSync' | 'truncateSync' | 'flushSync'>>;

export function isSyncFile(file: StorageFile): file is SyncStorageFile {
  return file.readSync !== undefined && file.writeSync !== undefined && file.truncateSync !== undefined && file.flushSync !== undefined;
}

/**
 * Base of the files whose platform calls are synchronous (OPFS sync access
 * handles, node:fs, memory): the async contract, served by the sync one.
 */
export abstract class SyncFile implements SyncStorageFile {
  abstract readonly path: string;
  abstract readonly size: number;
  abstract readSync(position: number, length: number): Uint8Array;
  abstract writeSync(position: number, bytes: Uint8Array): void;
  abstract truncateSync(size: number): void;
  abstract flushSync(): void;
  abstract close(): Promise<void>;

  async read(position: number, length: number): Promise<Uint8Array> {
    return this.readSync(position, length);
  }

  async write(position: number, bytes: Uint8Array): Promise<void> {
    this.writeSync(position, bytes);
  }

  async truncate(size: number): Promise<void> {
    this.truncateSync(size);
  }

  async flush(): Promise<void> {
    this.flushSync();
  }
}

export interface StorageBackend {
  /** 'memory' | 'node-fs' | 'opfs' | 'indexeddb' | 'faulty(...)'. */
  readonly kind: string;
  /** Opens (creating it unless create is false) a file. Throws KAFKA_STORAGE_ERROR if it is open already. */
  openFile(path: string, options?: { create?: boolean }): Promise<StorageFile>;
  /** Names (not paths) of the files directly inside `dir`, sorted; [] for a missing dir. */
  list(dir: string): Promise<string[]>;
  /**
   * Names and sizes of the files directly inside `dir` in one pass, on
   * backends where that costs about as much as `list` (memory, node:fs,
   * IndexedDB; not OPFS, where a size costs a file open). Optional: a log
   * opening uses it to check its closed segments against its manifest.
   */
  listSizes?(dir: string): Promise<Map<string, number>>;
  /** Removes a closed file; no-op if it does not exist. */
  remove(path: string): Promise<void>;
  /** Renames a closed file, replacing `to` if it exists (not atomic on every backend: see docs/storage.md). */
  rename(from: string, to: string): Promise<void>;
  /** Removes a directory and everything in it; no-op if missing. */
  removeDir(dir: string): Promise<void>;
}

export function storageError(message: string, cause?: unknown): WafkaError {
  if (cause instanceof WafkaError) return cause;
  const detail = cause instanceof Error ? ` (${cause.name}: ${cause.message})` : cause === undefined ? '' : ` (${String(cause)})`;
  return new WafkaError('KAFKA_STORAGE_ERROR', `${message}${detail}`, { cause });
}

export function alreadyOpen(kind: string, path: string): WafkaError {
  return new WafkaError(
    'KAFKA_STORAGE_ERROR',
    `${kind}: ${path} is already open (a file has one owner: the PartitionLog that opened it; close it first)`,
    { retriable: false },
  );
}

export function splitPath(path: string): { dir: string; name: string } {
  const i = path.lastIndexOf('/');
  return i < 0 ? { dir: '', name: path } : { dir: path.slice(0, i), name: path.slice(i + 1) };
}

export function joinPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

export function checkPath(path: string): void {
  if (path === '' || path.startsWith('/') || path.endsWith('/') || path.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new RangeError(`storage path ${JSON.stringify(path)} is not a relative '/'-separated path`);
  }
}

export function checkRange(path: string, size: number, position: number, length: number): void {
  if (!Number.isSafeInteger(position) || position < 0 || position > size || !Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`${path}: position ${position} length ${length} outside the file (size ${size})`);
  }
}
