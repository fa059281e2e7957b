/**
 * MemoryBackend: files as growable byte arrays, for tests and ephemeral logs.
 *
 * Crash model (for recovery tests, after TigerBeetle's storage double): with
 * `trackUnflushed: true` each file keeps its last flushed image and the writes
 * and truncates made since. `crashImage(rng)` returns a new backend as a
 * machine crash would leave it: every file at its flushed image plus a random
 * prefix of the later operations, the last one possibly torn at a random byte.
 * `crashImage()` with no rng models a process crash (tab, worker): everything
 * written survives, as it does in the OS page cache. Metadata operations
 * (create, remove, rename) are durable at once.
 */
import { alreadyOpen, checkPath, checkRange, splitPath, storageError, type StorageBackend, type StorageFile } from './backend.ts';

type PendingOp = { kind: 'write'; position: number; bytes: Uint8Array } | { kind: 'truncate'; size: number };

class MemoryFileData {
  bytes = new Uint8Array(0);
  size = 0;
  /** The image at the last flush (only with trackUnflushed). */
  flushed: Uint8Array | undefined;
  pending: PendingOp[] = [];

  write(position: number, src: Uint8Array): void {
    const end = position + src.length;
    if (end > this.bytes.length) {
      const grown = new Uint8Array(Math.max(end, Math.min(this.bytes.length * 2, end + (64 << 20)), 4096));
      grown.set(this.bytes.subarray(0, this.size));
      this.bytes = grown;
    }
    this.bytes.set(src, position);
    if (end > this.size) this.size = end;
  }

  truncate(size: number): void {
    if (size < this.size) this.bytes.fill(0, size, this.size);
    this.size = size;
  }

  snapshot(): Uint8Array {
    return this.bytes.slice(0, this.size);
  }
}

export interface MemoryBackendOptions {
  /** Keep the operations since the last flush so that `crashImage(rng)` can lose or tear them. */
  trackUnflushed?: boolean;
}

export class MemoryBackend implements StorageBackend {
  readonly kind = 'memory';
  readonly #files = new Map<string, MemoryFileData>();
  readonly #open = new Set<string>();
  readonly #track: boolean;

  constructor(options: MemoryBackendOptions = {}) {
    this.#track = options.trackUnflushed ?? false;
  }

  async openFile(path: string, options?: { create?: boolean }): Promise<StorageFile> {
    checkPath(path);
    if (this.#open.has(path)) throw alreadyOpen(this.kind, path);
    let data = this.#files.get(path);
    if (!data) {
      if (options?.create === false) throw storageError(`memory: ${path} does not exist`);
      data = new MemoryFileData();
      if (this.#track) data.flushed = new Uint8Array(0);
      this.#files.set(path, data);
    }
    this.#open.add(path);
    return new MemoryFile(path, data, this.#track, () => this.#open.delete(path));
  }

  async list(dir: string): Promise<string[]> {
    const names: string[] = [];
    for (const path of this.#files.keys()) {
      const p = splitPath(path);
      if (p.dir === dir) names.push(p.name);
    }
    return names.sort();
  }

  async remove(path: string): Promise<void> {
    if (this.#open.has(path)) throw storageError(`memory: cannot remove ${path}: it is open`);
    this.#files.delete(path);
  }

  async rename(from: string, to: string): Promise<void> {
    checkPath(to);
    if (this.#open.has(from) || this.#open.has(to)) throw storageError(`memory: cannot rename ${from} to ${to}: open`);
    const data = this.#files.get(from);
    if (!data) throw storageError(`memory: cannot rename ${from}: it does not exist`);
    this.#files.delete(from);
    this.#files.set(to, data);
  }

  async removeDir(dir: string): Promise<void> {
    for (const path of [...this.#files.keys()]) {
      if (path.startsWith(`${dir}/`)) {
        if (this.#open.has(path)) throw storageError(`memory: cannot remove ${path}: it is open`);
        this.#files.delete(path);
      }
    }
  }

  /** Total bytes stored (all files). */
  get totalBytes(): number {
    let n = 0;
    for (const f of this.#files.values()) n += f.size;
    return n;
  }

  /**
   * A new backend holding what a crash would leave. Open handles of this
   * backend are not carried over. Without rng: process crash (all writes
   * survive). With rng (returns [0,1)): machine crash (see the file comment).
   */
  crashImage(rng?: () => number): MemoryBackend {
    const next = new MemoryBackend({ trackUnflushed: this.#track });
    for (const [path, data] of this.#files) {
      const copy = new MemoryFileData();
      if (rng && data.flushed) {
        copy.write(0, data.flushed);
        const ops = data.pending;
        const applied = Math.floor(rng() * (ops.length + 1));
        for (let i = 0; i < applied; i++) {
          const op = ops[i];
          const torn = i === applied - 1 && op.kind === 'write' && rng() < 0.5;
          if (op.kind === 'truncate') copy.truncate(Math.min(op.size, copy.size));
          else copy.write(op.position, torn ? op.bytes.subarray(0, Math.floor(rng() * op.bytes.length)) : op.bytes);
        }
      } else {
        copy.write(0, data.snapshot());
      }
      if (this.#track) copy.flushed = copy.snapshot();
      next.#files.set(path, copy);
    }
    return next;
  }

  /** Test hook: the raw bytes of a file (a copy), or undefined. */
  peek(path: string): Uint8Array | undefined {
    return this.#files.get(path)?.snapshot();
  }

  /** Test hook: replaces a file's bytes (as if written and flushed). The file must be closed. */
  poke(path: string, bytes: Uint8Array): void {
    if (this.#open.has(path)) throw new Error(`memory: poke ${path}: open`);
    const data = new MemoryFileData();
    data.write(0, bytes);
    if (this.#track) data.flushed = data.snapshot();
    this.#files.set(path, data);
  }
}

class MemoryFile implements StorageFile {
  readonly path: string;
  #data: MemoryFileData;
  #track: boolean;
  #release: (() => void) | undefined;

  constructor(path: string, data: MemoryFileData, track: boolean, release: () => void) {
    this.path = path;
    this.#data = data;
    this.#track = track;
    this.#release = release;
  }

  get size(): number {
    return this.#data.size;
  }

  #check(): void {
    if (!this.#release) throw storageError(`memory: ${this.path} is closed`);
  }

  async read(position: number, length: number): Promise<Uint8Array> {
    this.#check();
    checkRange(this.path, this.#data.size, position, length);
    return this.#data.bytes.slice(position, Math.min(this.#data.size, position + length));
  }

  async write(position: number, bytes: Uint8Array): Promise<void> {
    this.#check();
    checkRange(this.path, this.#data.size, position, bytes.length);
    this.#data.write(position, bytes);
    if (this.#track) this.#data.pending.push({ kind: 'write', position, bytes: bytes.slice() });
  }

  async truncate(size: number): Promise<void> {
    this.#check();
    checkRange(this.path, this.#data.size, size, 0);
    this.#data.truncate(size);
    if (this.#track) this.#data.pending.push({ kind: 'truncate', size });
  }

  async flush(): Promise<void> {
    this.#check();
    if (this.#track) {
      this.#data.flushed = this.#data.snapshot();
      this.#data.pending = [];
    }
  }

  async close(): Promise<void> {
    this.#release?.();
    this.#release = undefined;
  }
}

