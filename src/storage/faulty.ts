/**
 * FaultInjectingBackend: wraps any backend and injects, from a seed, the
 * failures a real device produces (after TigerBeetle's storage double):
 *
 *   torn write   a random prefix of the bytes lands, then garbage, then an error
 *   short write  a random prefix lands, then an error
 *   failed flush the flush throws (the data stays written, not durable)
 *   quota        the write throws QuotaExceededError before writing anything
 *
 * Every fault surfaces as KAFKA_STORAGE_ERROR. Probabilities are per call;
 * `armed` queues faults to inject on the next calls, for exact scenarios.
 * Only files whose path matches `pathFilter` (default: every file) are hit.
 */
import { isSyncFile, storageError, type StorageBackend, type StorageFile } from './backend.ts';

export type FaultKind = 'torn-write' | 'short-write' | 'failed-flush' | 'quota';

export interface FaultOptions {
  seed: number;
  tornWriteProbability?: number;
  shortWriteProbability?: number;
  failedFlushProbability?: number;
  quotaProbability?: number;
  pathFilter?: (path: string) => boolean;
}

export class FaultInjectingBackend implements StorageBackend {
  readonly kind: string;
  readonly inner: StorageBackend;
  readonly options: Required<Omit<FaultOptions, 'seed'>>;
  /** Faults injected so far, in order. */
  readonly injected: { kind: FaultKind; path: string }[] = [];
  /** Faults to inject on the next matching calls (write faults on writes, 'failed-flush' on flushes). */
  armed: FaultKind[] = [];
  /** Set false to pause random faults (armed ones still fire). */
  enabled = true;
  #rng: () => number;

  constructor(inner: StorageBackend, options: FaultOptions) {
    this.inner = inner;
    if (inner.listSizes) this.listSizes = (dir) => inner.listSizes!(dir);
    this.kind = `faulty(${inner.kind})`;
    this.options = {
      tornWriteProbability: options.tornWriteProbability ?? 0,
      shortWriteProbability: options.shortWriteProbability ?? 0,
      failedFlushProbability: options.failedFlushProbability ?? 0,
      quotaProbability: options.quotaProbability ?? 0,
      pathFilter: options.pathFilter ?? (() => true),
    };
    let a = options.seed >>> 0;
    this.#rng = () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  random(): number {
    return this.#rng();
  }

  /** The fault for this call, if any. */
  pick(path: string, op: 'write' | 'flush'): FaultKind | undefined {
    if (!this.options.pathFilter(path)) return undefined;
    const i = this.armed.findIndex((k) => (op === 'flush') === (k === 'failed-flush'));
    if (i >= 0) return this.armed.splice(i, 1)[0];
    if (!this.enabled) return undefined;
    const r = this.#rng();
    const o = this.options;
    if (op === 'flush') return r < o.failedFlushProbability ? 'failed-flush' : undefined;
    let acc = o.tornWriteProbability;
    if (r < acc) return 'torn-write';
    acc += o.shortWriteProbability;
    if (r < acc) return 'short-write';
    acc += o.quotaProbability;
    if (r < acc) return 'quota';
    return undefined;
  }

  async openFile(path: string, options?: { create?: boolean }): Promise<StorageFile> {
    return new FaultyFile(this, await this.inner.openFile(path, options));
  }
  listSizes?: (dir: string) => Promise<Map<string, number>>;

  list(dir: string): Promise<string[]> {
    return this.inner.list(dir);
  }
  remove(path: string): Promise<void> {
    return this.inner.remove(path);
  }
  rename(from: string, to: string): Promise<void> {
    return this.inner.rename(from, to);
  }
  removeDir(dir: string): Promise<void> {
    return this.inner.removeDir(dir);
  }
}

class FaultyFile implements StorageFile {
  #owner: FaultInjectingBackend;
  #inner: StorageFile;
  // Present when the inner file has them, so the log's synchronous path meets the same faults.
  readSync?: (position: number, length: number) => Uint8Array;
  writeSync?: (position: number, bytes: Uint8Array) => void;
  truncateSync?: (size: number) => void;
  flushSync?: () => void;

  constructor(owner: FaultInjectingBackend, inner: StorageFile) {
    this.#owner = owner;
    this.#inner = inner;
    if (isSyncFile(inner)) {
      this.readSync = (position, length) => inner.readSync(position, length);
      this.writeSync = (position, bytes) => {
        const fault = this.#writeFault(position, bytes);
        if (!fault) return inner.writeSync(position, bytes);
        if (fault.landed) inner.writeSync(position, fault.landed);
        throw fault.error;
      };
      this.truncateSync = (size) => inner.truncateSync(size);
      this.flushSync = () => {
        this.#flushFault();
        inner.flushSync();
      };
    }
  }

  get path(): string {
    return this.#inner.path;
  }

  get size(): number {
    return this.#inner.size;
  }

  read(position: number, length: number): Promise<Uint8Array> {
    return this.#inner.read(position, length);
  }

  /** Picks a write fault: undefined, or the error to throw and the bytes that land first (if any). */
  #writeFault(position: number, bytes: Uint8Array): { error: Error; landed?: Uint8Array } | undefined {
    const fault = this.#owner.pick(this.path, 'write');
    if (!fault) return undefined;
    this.#owner.injected.push({ kind: fault, path: this.path });
    if (fault === 'quota') {
      const e = new Error('The operation failed because it would cause the application to exceed its storage quota.');
      e.name = 'QuotaExceededError';
      return { error: storageError(`write ${this.path} @${position}`, e) };
    }
    const n = Math.floor(this.#owner.random() * bytes.length);
    const landed = bytes.slice(0, n);
    const error = storageError(`write ${this.path} @${position}: injected ${fault} (${n} of ${bytes.length} B landed)`);
    if (fault === 'torn-write' && n < bytes.length) {
      const junk = Math.floor(this.#owner.random() * (bytes.length - n));
      const torn = new Uint8Array(n + junk);
      torn.set(landed);
      for (let i = n; i < torn.length; i++) torn[i] = Math.floor(this.#owner.random() * 256);
      return { error, landed: torn };
    }
    return { error, landed: n > 0 ? landed : undefined };
  }

  async write(position: number, bytes: Uint8Array): Promise<void> {
    const fault = this.#writeFault(position, bytes);
    if (!fault) return this.#inner.write(position, bytes);
    if (fault.landed) await this.#inner.write(position, fault.landed);
    throw fault.error;
  }

  truncate(size: number): Promise<void> {
    return this.#inner.truncate(size);
  }

  #flushFault(): void {
    const fault = this.#owner.pick(this.path, 'flush');
    if (fault) {
      this.#owner.injected.push({ kind: fault, path: this.path });
      throw storageError(`flush ${this.path}: injected failed flush (EIO)`);
    }
  }

  async flush(): Promise<void> {
    this.#flushFault();
    return this.#inner.flush();
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
