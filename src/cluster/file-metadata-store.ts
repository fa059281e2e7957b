/**
 * The metadata store on Node: one JSON file, `<dir>/metadata.json`.
 *
 * Compare-and-set is atomic across worker threads and processes:
 *   1. take the lock: create `metadata.json.lock` with O_CREAT|O_EXCL ('wx'),
 *      which exactly one opener wins, whatever thread or process it is in;
 *   2. read the file and compare its version;
 *   3. write the new document to a unique temp file, fsync it, rename it over
 *      `metadata.json` (rename is atomic: a reader sees the old or the new
 *      document, never half of one), fsync the directory;
 *   4. remove the lock.
 * Readers take no lock. A lock left by a crashed holder is broken after
 * `lockStaleMs` (holders keep it for a few milliseconds).
 */
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { WafkaError } from '../errors.ts';
import type { ClusterMetadata } from './metadata.ts';
import { assertNextVersion, sleepMs, type MetadataStore } from './metadata-store.ts';

export interface FileMetadataStoreOptions {
  /** A lock older than this is assumed abandoned by a crashed holder and broken. */
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
    this.#lockStaleMs = options.lockStaleMs ?? 10_000;
    this.#lockWaitMsMax = options.lockWaitMsMax ?? 5_000;
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
    await this.#lock();
    try {
      const current = await this.read();
      if ((current?.version ?? 0) !== expectedVersion) return false;
      await this.#writeAtomically(JSON.stringify(next));
      return true;
    } finally {
      await unlink(this.#lockPath).catch(() => {});
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

  async #lock(): Promise<void> {
    const deadlineMs = Date.now() + this.#lockWaitMsMax;
    for (let attempt = 0; ; attempt++) {
      try {
        const file = await open(this.#lockPath, 'wx');
        await file.writeFile(`${process.pid}:${threadId}:${Date.now()}`);
        await file.close();
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw storageError(`cannot create ${this.#lockPath}`, error);
      }
      await this.#breakIfStale();
      if (Date.now() > deadlineMs) {
        throw new WafkaError('REQUEST_TIMED_OUT', `metadata lock ${this.#lockPath} still held after ${this.#lockWaitMsMax} ms`);
      }
      await sleepMs(Math.random() * Math.min(20, 1 + attempt));
    }
  }

  async #breakIfStale(): Promise<void> {
    const info = await stat(this.#lockPath).catch(() => null);
    if (!info || Date.now() - info.mtimeMs < this.#lockStaleMs) return;
    // Rename first so that of two breakers only one removes it (the other's rename fails).
    const brokenPath = `${this.#lockPath}.${process.pid}.${threadId}.broken`;
    try {
      await rename(this.#lockPath, brokenPath);
      await unlink(brokenPath);
    } catch {
      // Someone else broke or released it: fine.
    }
  }
}

function storageError(message: string, cause: unknown): WafkaError {
  return new WafkaError('KAFKA_STORAGE_ERROR', `${message}: ${(cause as Error)?.message ?? cause}`, { cause });
}
