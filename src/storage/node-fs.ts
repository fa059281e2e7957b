/**
 * NodeFileBackend: files under a root directory through node:fs (Node, and
 * Deno/Bun through their node:fs). Synchronous calls (openSync, writeSync,
 * fdatasyncSync, ...) behind the async interface: one syscall per operation,
 * no thread-pool hop; a log is one owner's, so nothing else waits on them.
 *
 * Ownership: a file is open at most once per realm (a registry shared by
 * every NodeFileBackend of the realm); across threads and processes, a
 * cluster's data directory and each broker's storage are owned through lock
 * files that die with their process (src/cluster/data-dir-lock.ts), taken by
 * startCluster before any broker opens a file. flush() is fdatasync.
 * node:fs is imported lazily through importNodeBuiltin(), so a browser bundle
 * that contains this module (through wafka/storage) never contains node:fs.
 */
import { importNodeBuiltin } from '../node-only.ts';
import { SyncFile, alreadyOpen, checkPath, checkRange, storageError, type StorageBackend, type StorageFile } from './backend.ts';

type Fs = typeof import('node:fs');
type PathMod = typeof import('node:path');

const openPaths = new Set<string>();

export interface NodeFileBackendOptions {
  /**
   * Files open at once in this realm (every NodeFileBackend of it) before openFile refuses with
   * KAFKA_STORAGE_ERROR. Default: the process's soft limit of open files less 256 for everything
   * else (Linux: /proc/self/limits), else 4096. Each partition holds one file per segment.
   */
  openFilesMax?: number;
}

/** File descriptors left for what is not a log file (sockets, the metadata store, the runtime's own). */
const FDS_RESERVED = 256;

function defaultOpenFilesMax(fs: Fs): number {
  try {
    const soft = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))?.[1];
    if (soft && soft !== 'unlimited') return Math.max(64, Number(soft) - FDS_RESERVED);
  } catch {
    // not Linux
  }
  return 4096;
}

export class NodeFileBackend implements StorageBackend {
  readonly kind = 'node-fs';
  readonly root: string;
  readonly openFilesMax: number;
  readonly #fs: Fs;
  readonly #path: PathMod;

  private constructor(root: string, fs: Fs, path: PathMod, openFilesMax: number) {
    this.root = root;
    this.#fs = fs;
    this.#path = path;
    this.openFilesMax = openFilesMax;
  }

  /** A backend rooted at `rootDir` (created if missing). */
  static async create(rootDir: string, options: NodeFileBackendOptions = {}): Promise<NodeFileBackend> {
    const [fs, path] = await Promise.all([importNodeBuiltin('node:fs'), importNodeBuiltin('node:path')]);
    const openFilesMax = options.openFilesMax ?? defaultOpenFilesMax(fs);
    if (!Number.isSafeInteger(openFilesMax) || openFilesMax < 1) throw new RangeError(`openFilesMax ${openFilesMax}: expected an integer ≥ 1`);
    const root = path.resolve(rootDir);
    fs.mkdirSync(root, { recursive: true });
    return new NodeFileBackend(root, fs, path, openFilesMax);
  }

  #abs(path: string): string {
    checkPath(path);
    return this.#path.join(this.root, ...path.split('/'));
  }

  async openFile(path: string, options?: { create?: boolean }): Promise<StorageFile> {
    const abs = this.#abs(path);
    if (openPaths.has(abs)) throw alreadyOpen(this.kind, path);
    if (openPaths.size >= this.openFilesMax) {
      throw storageError(`node-fs: cannot open ${path}: ${openPaths.size} files are open, the limit (openFilesMax) is ${this.openFilesMax}; use fewer partitions or larger segments, or raise the open files limit`);
    }
    const fs = this.#fs;
    let fd: number;
    try {
      if (options?.create === false) fd = fs.openSync(abs, 'r+');
      else {
        fs.mkdirSync(this.#path.dirname(abs), { recursive: true });
        fd = fs.openSync(abs, fs.constants.O_RDWR | fs.constants.O_CREAT);
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'EMFILE' || code === 'ENFILE' ? ` with ${openPaths.size} files open here: the process or system is out of file descriptors` : '';
      throw storageError(`node-fs: cannot open ${path}${why}`, error);
    }
    openPaths.add(abs);
    const size = fs.fstatSync(fd).size;
    return new NodeFile(path, fs, fd, size, () => openPaths.delete(abs));
  }

  async list(dir: string): Promise<string[]> {
    const abs = dir === '' ? this.root : this.#abs(dir);
    try {
      return this.#fs.readdirSync(abs, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw storageError(`node-fs: cannot list ${dir}`, error);
    }
  }

  async listSizes(dir: string): Promise<Map<string, number>> {
    const abs = dir === '' ? this.root : this.#abs(dir);
    const sizes = new Map<string, number>();
    try {
      for (const e of this.#fs.readdirSync(abs, { withFileTypes: true })) {
        if (e.isFile()) sizes.set(e.name, this.#fs.statSync(this.#path.join(abs, e.name)).size);
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return sizes;
      throw storageError(`node-fs: cannot list ${dir}`, error);
    }
    return sizes;
  }

  async remove(path: string): Promise<void> {
    const abs = this.#abs(path);
    if (openPaths.has(abs)) throw storageError(`node-fs: cannot remove ${path}: it is open`);
    try {
      this.#fs.rmSync(abs, { force: true });
    } catch (error) {
      throw storageError(`node-fs: cannot remove ${path}`, error);
    }
  }

  async rename(from: string, to: string): Promise<void> {
    const a = this.#abs(from);
    const b = this.#abs(to);
    if (openPaths.has(a) || openPaths.has(b)) throw storageError(`node-fs: cannot rename ${from} to ${to}: open`);
    try {
      this.#fs.renameSync(a, b); // atomic replace (POSIX rename)
    } catch (error) {
      throw storageError(`node-fs: cannot rename ${from} to ${to}`, error);
    }
  }

  async removeDir(dir: string): Promise<void> {
    const abs = this.#abs(dir);
    for (const p of openPaths) if (p.startsWith(abs + this.#path.sep)) throw storageError(`node-fs: cannot remove ${dir}: ${p} is open`);
    try {
      this.#fs.rmSync(abs, { recursive: true, force: true });
    } catch (error) {
      throw storageError(`node-fs: cannot remove ${dir}`, error);
    }
  }
}

class NodeFile extends SyncFile {
  readonly path: string;
  size: number;
  #fs: Fs;
  #fd: number;
  #release: (() => void) | undefined;

  constructor(path: string, fs: Fs, fd: number, size: number, release: () => void) {
    super();
    this.path = path;
    this.#fs = fs;
    this.#fd = fd;
    this.size = size;
    this.#release = release;
  }

  #check(): void {
    if (!this.#release) throw storageError(`node-fs: ${this.path} is closed`);
  }

  readSync(position: number, length: number): Uint8Array {
    this.#check();
    checkRange(this.path, this.size, position, length);
    const n = Math.min(length, this.size - position);
    const out = new Uint8Array(n);
    let done = 0;
    try {
      while (done < n) {
        const r = this.#fs.readSync(this.#fd, out, done, n - done, position + done);
        if (r === 0) break;
        done += r;
      }
    } catch (error) {
      throw storageError(`node-fs: read ${this.path} @${position}`, error);
    }
    return done === n ? out : out.subarray(0, done);
  }

  writeSync(position: number, bytes: Uint8Array): void {
    this.#check();
    checkRange(this.path, this.size, position, bytes.length);
    let done = 0;
    try {
      while (done < bytes.length) {
        const w = this.#fs.writeSync(this.#fd, bytes, done, bytes.length - done, position + done);
        if (w <= 0) throw new Error(`short write: ${done} of ${bytes.length} B`);
        done += w;
      }
    } catch (error) {
      if (position + done > this.size) this.size = position + done;
      throw storageError(`node-fs: write ${this.path} @${position} (${done} of ${bytes.length} B written)`, error);
    }
    if (position + done > this.size) this.size = position + done;
  }

  truncateSync(size: number): void {
    this.#check();
    checkRange(this.path, this.size, size, 0);
    try {
      this.#fs.ftruncateSync(this.#fd, size);
    } catch (error) {
      throw storageError(`node-fs: truncate ${this.path} to ${size}`, error);
    }
    this.size = size;
  }

  flushSync(): void {
    this.#check();
    try {
      this.#fs.fdatasyncSync(this.#fd);
    } catch (error) {
      throw storageError(`node-fs: fdatasync ${this.path}`, error);
    }
  }

  async close(): Promise<void> {
    if (!this.#release) return;
    const release = this.#release;
    this.#release = undefined;
    release();
    try {
      this.#fs.closeSync(this.#fd);
    } catch (error) {
      throw storageError(`node-fs: close ${this.path}`, error);
    }
  }
}
