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
import { SyncFile, alreadyOpen, checkPath, checkRange, splitPath, storageError, type StorageBackend, type StorageFile } from './backend.ts';

type PendingOp = { kind: 'write'; position: number; bytes: Uint8Array } | { kind: 'truncate'; size: number };

/** Files grow in chunks of this size: an append copies its bytes once, never the file (no regrowth). */
const CHUNK_BYTES = 1 << 20;

class MemoryFileData {
  /** chunks[i] holds bytes [i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES); bytes at or past `size` are garbage. */
  chunks: Uint8Array[] = [];
  size = 0;
  /** The image at the last flush (only with trackUnflushed). */
  flushed: Uint8Array | undefined;
  pending: PendingOp[] = [];

  write(position: number, src: Uint8Array): void {
    const end = position + src.length;
    while (this.chunks.length * CHUNK_BYTES < end) this.chunks.push(new Uint8Array(CHUNK_BYTES));
    let at = position;
    let from = 0;
    while (from < src.length) {
      const chunk = this.chunks[Math.floor(at / CHUNK_BYTES)];
      const offset = at % CHUNK_BYTES;
      const n = Math.min(CHUNK_BYTES - offset, src.length - from);
      chunk.set(n === src.length ? src : src.subarray(from, from + n), offset);
      at += n;
      from += n;
    }
    if (end > this.size) this.size = end;
  }

  /** A new array with bytes [position, position + length) (the caller keeps them within size). */
  read(position: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let at = position;
    let to = 0;
    while (to < length) {
      const offset = at % CHUNK_BYTES;
      const n = Math.min(CHUNK_BYTES - offset, length - to);
      out.set(this.chunks[Math.floor(at / CHUNK_BYTES)].subarray(offset, offset + n), to);
      at += n;
      to += n;
    }
    return out;
  }

  truncate(size: number): void {
    // Bytes past size are never read before they are written again (writes start at or below size).
    this.chunks.length = Math.ceil(size / CHUNK_BYTES);
    this.size = size;
  }

  snapshot(): Uint8Array {
    return this.read(0, this.size);
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

  async listSizes(dir: string): Promise<Map<string, number>> {
    const sizes = new Map<string, number>();
    for (const [path, data] of this.#files) {
      const p = splitPath(path);
      if (p.dir === dir) sizes.set(p.name, data.size);
    }
    return sizes;
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

class MemoryFile extends SyncFile {
  readonly path: string;
  #data: MemoryFileData;
  #track: boolean;
  #release: (() => void) | undefined;

  constructor(path: string, data: MemoryFileData, track: boolean, release: () => void) {
    super();
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

  readSync(position: number, length: number): Uint8Array {
    this.#check();
    checkRange(this.path, this.#data.size, position, length);
    return this.#data.read(position, Math.min(this.#data.size - position, length));
  }

  writeSync(position: number, bytes: Uint8Array): void {
    this.#check();
    checkRange(this.path, this.#data.size, position, bytes.length);
    this.#data.write(position, bytes);
    if (this.#track) this.#data.pending.push({ kind: 'write', position, bytes: bytes.slice() });
  }

  truncateSync(size: number): void {
    this.#check();
    checkRange(this.path, this.#data.size, size, 0);
    this.#data.truncate(size);
    if (this.#track) this.#data.pending.push({ kind: 'truncate', size });
  }

  flushSync(): void {
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

