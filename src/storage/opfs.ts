/**
 * OpfsBackend: the Origin Private File System through
 * FileSystemSyncAccessHandle, which exists only in dedicated workers. Run the
 * log (the broker replica) in a dedicated worker; anywhere else `create()`
 * throws KAFKA_STORAGE_ERROR, it never falls back to another backend.
 *
 * Ownership: a readwrite sync access handle is exclusive across every tab and
 * worker of the origin. The PartitionLog that opens a file holds its handle
 * until close(); a second open, from this worker or any other, fails with
 * KAFKA_STORAGE_ERROR naming the file (the platform's
 * NoModificationAllowedError as cause). The browser releases a handle 7-30 ms
 * after its worker is terminated or its tab closes or crashes.
 *
 * Costs: every handle write() is an IPC round trip plus syscalls (4 KiB
 * writes ≈ 210 MiB/s, 64 KiB ≈ 2.4 GB/s), so the log hands each append call to
 * write() whole (one call for all its batches); reads are one read() into a
 * fresh buffer. flush() is one fdatasync. Writes land in the OS page cache
 * when write() returns: they survive a tab crash or worker termination; a
 * machine crash keeps only what was flushed.
 */
import { SyncFile, alreadyOpen, checkPath, checkRange, splitPath, storageError, type StorageBackend, type StorageFile } from './backend.ts';

interface SyncHandle {
  read(buffer: Uint8Array, options?: { at: number }): number;
  write(buffer: Uint8Array, options?: { at: number }): number;
  truncate(size: number): void;
  getSize(): number;
  flush(): void;
  close(): void;
}

type Dir = FileSystemDirectoryHandle & {
  keys(): AsyncIterableIterator<string>;
  entries(): AsyncIterableIterator<[string, FileSystemHandle]>;
};

export class OpfsBackend implements StorageBackend {
  readonly kind = 'opfs';
  readonly root: FileSystemDirectoryHandle;
  readonly #open = new Set<string>();

  private constructor(root: FileSystemDirectoryHandle) {
    this.root = root;
  }

  /** A backend rooted at `subdir` ('' = the origin's OPFS root). Dedicated workers only. */
  static async create(subdir = 'wafka'): Promise<OpfsBackend> {
    const g = globalThis as { FileSystemSyncAccessHandle?: unknown; navigator?: Navigator };
    if (typeof g.FileSystemSyncAccessHandle === 'undefined' || !g.navigator?.storage?.getDirectory) {
      throw storageError('opfs: FileSystemSyncAccessHandle is not available here: the OPFS backend runs only in a dedicated worker');
    }
    let root: FileSystemDirectoryHandle;
    try {
      root = await g.navigator.storage.getDirectory();
      for (const part of subdir.split('/').filter(Boolean)) root = await root.getDirectoryHandle(part, { create: true });
    } catch (error) {
      throw storageError(`opfs: cannot open directory ${subdir}`, error);
    }
    return new OpfsBackend(root);
  }

  async #dir(dir: string, create: boolean): Promise<Dir | undefined> {
    let d = this.root;
    for (const part of dir.split('/').filter(Boolean)) {
      try {
        d = await d.getDirectoryHandle(part, { create });
      } catch (error) {
        if (!create && (error as Error).name === 'NotFoundError') return undefined;
        throw error;
      }
    }
    return d as Dir;
  }

  async openFile(path: string, options?: { create?: boolean }): Promise<StorageFile> {
    checkPath(path);
    if (this.#open.has(path)) throw alreadyOpen(this.kind, path);
    const { dir, name } = splitPath(path);
    const create = options?.create !== false;
    let handle: SyncHandle;
    try {
      const d = await this.#dir(dir, create);
      if (!d) throw storageError(`opfs: ${path} does not exist`);
      const file = await d.getFileHandle(name, { create });
      handle = await (file as unknown as { createSyncAccessHandle(): Promise<SyncHandle> }).createSyncAccessHandle();
    } catch (error) {
      if ((error as Error).name === 'NoModificationAllowedError') {
        throw storageError(`opfs: ${path} is open in another worker or tab of this origin (a sync access handle is exclusive; its owner must close it, or the browser frees it 7-30 ms after the owner dies)`, error);
      }
      throw storageError(`opfs: cannot open ${path}`, error);
    }
    this.#open.add(path);
    return new OpfsFile(path, handle, () => this.#open.delete(path));
  }

  async list(dir: string): Promise<string[]> {
    try {
      const d = await this.#dir(dir, false);
      if (!d) return [];
      const names: string[] = [];
      for await (const [name, h] of d.entries()) if (h.kind === 'file') names.push(name);
      return names.sort();
    } catch (error) {
      throw storageError(`opfs: cannot list ${dir}`, error);
    }
  }

  async remove(path: string): Promise<void> {
    if (this.#open.has(path)) throw storageError(`opfs: cannot remove ${path}: it is open`);
    const { dir, name } = splitPath(path);
    try {
      const d = await this.#dir(dir, false);
      await d?.removeEntry(name);
    } catch (error) {
      if ((error as Error).name === 'NotFoundError') return;
      throw storageError(`opfs: cannot remove ${path}`, error);
    }
  }

  /**
   * FileSystemFileHandle.move() where the browser has it (same directory),
   * else copy + remove. Replacing `to` removes it first: not atomic; the
   * callers (checkpoints, compaction swaps) are written to survive a crash
   * between the two steps.
   */
  async rename(from: string, to: string): Promise<void> {
    checkPath(to);
    if (this.#open.has(from) || this.#open.has(to)) throw storageError(`opfs: cannot rename ${from} to ${to}: open`);
    const a = splitPath(from);
    const b = splitPath(to);
    try {
      const da = await this.#dir(a.dir, false);
      if (!da) throw new Error(`${from} does not exist`);
      const fh = await da.getFileHandle(a.name);
      await this.remove(to);
      const db = await this.#dir(b.dir, true);
      const move = (fh as unknown as { move?: (d: FileSystemDirectoryHandle, n: string) => Promise<void> }).move;
      if (move) {
        await move.call(fh, db!, b.name);
        return;
      }
      const src = await this.openFile(from, { create: false });
      const dst = await this.openFile(to);
      try {
        await dst.write(0, await src.read(0, src.size));
        await dst.flush();
      } finally {
        await src.close();
        await dst.close();
      }
      await this.remove(from);
    } catch (error) {
      throw storageError(`opfs: cannot rename ${from} to ${to}`, error);
    }
  }

  async removeDir(dir: string): Promise<void> {
    for (const p of this.#open) if (p.startsWith(`${dir}/`)) throw storageError(`opfs: cannot remove ${dir}: ${p} is open`);
    const { dir: parent, name } = splitPath(dir);
    try {
      const d = await this.#dir(parent, false);
      await d?.removeEntry(name, { recursive: true });
    } catch (error) {
      if ((error as Error).name === 'NotFoundError') return;
      throw storageError(`opfs: cannot remove ${dir}`, error);
    }
  }
}

class OpfsFile extends SyncFile {
  readonly path: string;
  size: number;
  #handle: SyncHandle;
  #release: (() => void) | undefined;

  constructor(path: string, handle: SyncHandle, release: () => void) {
    super();
    this.path = path;
    this.#handle = handle;
    this.size = handle.getSize();
    this.#release = release;
  }

  #check(): void {
    if (!this.#release) throw storageError(`opfs: ${this.path} is closed`);
  }

  readSync(position: number, length: number): Uint8Array {
    this.#check();
    checkRange(this.path, this.size, position, length);
    const out = new Uint8Array(Math.min(length, this.size - position));
    let n: number;
    try {
      n = this.#handle.read(out, { at: position });
    } catch (error) {
      throw storageError(`opfs: read ${this.path} @${position}`, error);
    }
    return n === out.length ? out : out.subarray(0, n);
  }

  writeSync(position: number, bytes: Uint8Array): void {
    this.#check();
    checkRange(this.path, this.size, position, bytes.length);
    let n = 0;
    try {
      n = this.#handle.write(bytes, { at: position });
    } catch (error) {
      this.size = this.#handle.getSize();
      throw storageError(`opfs: write ${this.path} @${position} (${bytes.length} B)`, error);
    }
    if (position + n > this.size) this.size = position + n;
    if (n !== bytes.length) throw storageError(`opfs: short write to ${this.path} @${position}: ${n} of ${bytes.length} B`);
  }

  truncateSync(size: number): void {
    this.#check();
    checkRange(this.path, this.size, size, 0);
    try {
      this.#handle.truncate(size);
    } catch (error) {
      throw storageError(`opfs: truncate ${this.path} to ${size}`, error);
    }
    this.size = size;
  }

  flushSync(): void {
    this.#check();
    try {
      this.#handle.flush();
    } catch (error) {
      throw storageError(`opfs: flush ${this.path}`, error);
    }
  }

  async close(): Promise<void> {
    if (!this.#release) return;
    const release = this.#release;
    this.#release = undefined;
    try {
      this.#handle.close();
    } finally {
      release();
    }
  }
}
