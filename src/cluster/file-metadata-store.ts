/**
 * The metadata store on Node: one JSON file, `<dir>/metadata.json`.
 *
 * Compare-and-set is atomic across worker threads and processes:
 *   1. take the lock `metadata.json.lock` (./owner-lock.ts: created whole and
 *      exclusively, so exactly one taker wins, whatever thread or process it is in);
 *   2. read the file and compare its version;
 *   3. write the new document to a unique temp file, fsync it, rename it over
 *      `metadata.json` (rename is atomic: a reader sees the old or the new
 *      document, never half of one), fsync the directory;
 *   4. remove the lock.
 * Readers take no lock. A lock whose owner process is dead (killed during a
 * write) is broken at once; a lock of a live process is waited for, at most
 * `lockWaitMsMax`. The one owner whose liveness cannot be seen is another
 * thread of this process (a terminated worker): its lock is broken once it
 * has gone `lockStaleMs` without its holder's heartbeat, which must be
 * shorter than `lockWaitMsMax` so that a waiter breaks such a lock before it
 * gives up (holders keep it for milliseconds).
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { WafkaError } from '../errors.ts';
import type { ClusterMetadata } from '../metadata/metadata.ts';
import { acquireOwnerLock, describeOwner, type OwnerLock } from '../locks/owner-lock.ts';
import { assertNextVersion, type MetadataStore } from '../metadata/metadata-store.ts';

export interface FileMetadataStoreOptions {
  /** A lock of this process's other threads without a heartbeat this long is taken as abandoned (default 4 s; below lockWaitMsMax). */
  lockStaleMs?: number;
  /** Give up taking the lock after this long (REQUEST_TIMED_OUT, retriable). */
  lockWaitMsMax?: number;
}

export const METADATA_FILE_NAME = 'metadata.json';

export class FileMetadataStore implements MetadataStore {
  readonly dir: string;
  readonly path: string;
  readonly #lockPath: string;
  readonly #lockStaleMs: number;
  readonly #lockWaitMsMax: number;

  constructor(dir: string, options: FileMetadataStoreOptions = {}) {
    this.dir = dir;
    this.path = join(dir, METADATA_FILE_NAME);
    this.#lockPath = `${this.path}.lock`;
    this.#lockStaleMs = options.lockStaleMs ?? 4_000;
    this.#lockWaitMsMax = options.lockWaitMsMax ?? 5_000;
    if (!(this.#lockStaleMs >= 0 && this.#lockStaleMs < this.#lockWaitMsMax)) {
      throw new RangeError(`lockStaleMs ${this.#lockStaleMs} must be at least 0 and below lockWaitMsMax ${this.#lockWaitMsMax}: a waiter must outlast a stale lock`);
    }
  }

  async read(): Promise<ClusterMetadata | null> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw storageError(`cannot read ${this.path}`, error);
    }
    try {
      return JSON.parse(text) as ClusterMetadata;
    } catch (error) {
      // Writes go through rename, so a torn file means outside damage: do not guess.
      throw storageError(`${this.path} is not valid JSON (${text.length} bytes)`, error);
    }
  }

  async compareAndSet(expectedVersion: number, next: ClusterMetadata): Promise<boolean> {
    assertNextVersion(expectedVersion, next);
    await mkdir(this.dir, { recursive: true });
    const lock = await this.#lock();
    try {
      const current = await this.read();
      if ((current?.version ?? 0) !== expectedVersion) return false;
      await this.#writeAtomically(JSON.stringify(next));
      return true;
    } finally {
      await lock.release();
    }
  }

  async close(): Promise<void> {}

  async #writeAtomically(text: string): Promise<void> {
    const tempPath = `${this.path}.${process.pid}.${threadId}.${Date.now()}.tmp`;
    const file = await open(tempPath, 'w');
    try {
      await file.writeFile(text, 'utf8');
      await file.datasync();
    } finally {
      await file.close();
    }
    await rename(tempPath, this.path);
    // Make the rename itself durable. Directories cannot be opened for fsync on Windows: best effort.
    const dir = await open(this.dir, 'r').catch(() => null);
    if (dir) await dir.sync().catch(() => {}).finally(() => dir.close());
  }

  #lock(): Promise<OwnerLock> {
    return acquireOwnerLock(this.#lockPath, {
      purpose: 'metadata compare-and-set',
      waitMs: this.#lockWaitMsMax,
      sameProcessStaleMs: this.#lockStaleMs,
      heldError: (path, owner, waitedMs) => new WafkaError('REQUEST_TIMED_OUT', `metadata lock ${path} still held after ${waitedMs} ms by ${describeOwner(owner)}`),
    });
  }
}

function storageError(message: string, cause: unknown): WafkaError {
  return new WafkaError('KAFKA_STORAGE_ERROR', `${message}: ${(cause as Error)?.message ?? cause}`, { cause });
}
