/// <reference lib="webworker" />
/**
 * The start suite's setup, in a dedicated worker: builds a partition log of
 * `segments` small segments with PartitionLog itself (on files held in memory, with
 * rolls, index files and the segment manifest it writes), closes it, and
 * copies its files into a broker's OPFS log directory (keeping that
 * directory's partition.metadata). Closed segments' index files are not
 * copied: the log rebuilds them on first use, and a start reads none of them.
 * Posts { type: 'log', line } as it goes, then { type: 'done', files, ms } or { type: 'error' }.
 */
import { encodeBatchSync, loadCore } from '../../src/core/index.ts';
import { openPartitionLog, OpfsBackend, type StorageBackend, type StorageFile } from '../../src/storage/index.ts';
import { SyncFile } from '../../src/storage/backend.ts';

/** Files as exact-size arrays (MemoryBackend grows files by 1 MiB chunks: 10,000 segments would not fit). */
class SmallFile extends SyncFile {
  constructor(readonly path: string, readonly files: Map<string, Uint8Array>) {
    super();
  }
  get size(): number {
    return this.files.get(this.path)!.length;
  }
  readSync(position: number, length: number): Uint8Array {
    return this.files.get(this.path)!.slice(position, position + length);
  }
  writeSync(position: number, bytes: Uint8Array): void {
    const old = this.files.get(this.path)!;
    const next = new Uint8Array(Math.max(old.length, position + bytes.length));
    next.set(old);
    next.set(bytes, position);
    this.files.set(this.path, next);
  }
  truncateSync(size: number): void {
    this.files.set(this.path, this.files.get(this.path)!.slice(0, size));
  }
  flushSync(): void {}
  async close(): Promise<void> {}
}

class SmallFilesBackend implements StorageBackend {
  readonly kind = 'small-files';
  readonly files = new Map<string, Uint8Array>();
  async openFile(path: string, options?: { create?: boolean }): Promise<StorageFile> {
    if (!this.files.has(path)) {
      if (options?.create === false) throw new Error(`${path} does not exist`);
      this.files.set(path, new Uint8Array(0));
    }
    return new SmallFile(path, this.files);
  }
  async list(dir: string): Promise<string[]> {
    return [...this.files.keys()].filter((p) => p.startsWith(`${dir}/`)).map((p) => p.slice(dir.length + 1)).sort();
  }
  async remove(path: string): Promise<void> {
    this.files.delete(path);
  }
  async rename(from: string, to: string): Promise<void> {
    this.files.set(to, this.files.get(from)!);
    this.files.delete(from);
  }
  async removeDir(dir: string): Promise<void> {
    for (const p of [...this.files.keys()]) if (p.startsWith(`${dir}/`)) this.files.delete(p);
  }
}

type Fill = { brokerDir: string; logDir: string; segments: number };
const post = (m: unknown): void => (self as unknown as Worker).postMessage(m);

self.onmessage = async (e: MessageEvent<Fill>) => {
  const { brokerDir, logDir, segments } = e.data;
  try {
    const t0 = performance.now();
    await loadCore();
    const memory = new SmallFilesBackend();
    const log = await openPartitionLog({ backend: memory, dir: logDir, config: { segmentBytes: 128, indexIntervalBytes: 4096 } });
    const ts = Date.now();
    for (let i = 0; log.segmentCount < segments; i++) {
      await log.append(encodeBatchSync([{ key: null, value: `start-${i}`, timestamp: ts }], { baseTimestamp: ts }), { leaderEpoch: 0 });
    }
    log.highWatermark = log.logEndOffset;
    await log.close();
    post({ type: 'log', line: `${logDir} of ${brokerDir}: ${segments} segments built in ${(performance.now() - t0).toFixed(0)} ms` });
    const opfs = await OpfsBackend.create(brokerDir);
    for (const name of await opfs.list(logDir)) if (name !== 'partition.metadata') await opfs.remove(`${logDir}/${name}`);
    // The copy through the platform API with the directory handle held (setup only: no flush, one handle at a time).
    let dir = await navigator.storage.getDirectory();
    for (const part of `${brokerDir}/${logDir}`.split('/')) dir = await dir.getDirectoryHandle(part);
    const names = await memory.list(logDir);
    const active = names.filter((n) => n.endsWith('.log')).at(-1)!.slice(0, 20);
    let files = 0;
    for (const name of names) {
      if ((name.endsWith('.index') || name.endsWith('.timeindex')) && !name.startsWith(active)) continue;
      const handle = await (await dir.getFileHandle(name, { create: true }) as unknown as { createSyncAccessHandle(): Promise<{ write(b: Uint8Array, o: { at: number }): number; close(): void }> }).createSyncAccessHandle();
      handle.write(memory.files.get(`${logDir}/${name}`)!, { at: 0 });
      handle.close();
      if (++files % 2000 === 0) post({ type: 'log', line: `${brokerDir}: ${files} files copied, ${(performance.now() - t0).toFixed(0)} ms` });
    }
    post({ type: 'done', files, ms: performance.now() - t0 });
  } catch (err) {
    post({ type: 'error', error: err instanceof Error ? `${err.message}\n${err.stack}` : String(err) });
  }
};
