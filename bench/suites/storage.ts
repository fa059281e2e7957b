/**
 * The `storage` suite: the Chromium half (OPFS, IndexedDB; storage.worker.ts
 * in a dedicated worker of an on-disk profile) and the Node half here
 * (node:fs files, memory), written to one bench/results/storage.json.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBackend, NodeFileBackend } from '../../src/storage/index.ts';
import { scaleResult, type CaseResult, type MeasureOptions } from '../lib/measure.ts';
import { caseTable } from '../lib/report.ts';
import { MiB } from '../lib/data.ts';
import { loadBenchCore } from '../lib/core-load.ts';
import { machine } from '../lib/node.ts';
import { appendCase, caseCollector, readCase, workload, type AppendStore, type ReadStore } from './storage-cases.ts';
import { batchSet } from './storage-data.ts';
import { logAppendStore, logReadStore } from './wafka-storage.ts';
import { runInChromium } from './chromium-suites.ts';

/** The raw node:fs pattern: one writeSync per batch at the end of one file, no fsync. */
function fsRawAppend(dir: string): AppendStore {
  return {
    name: 'node-fs-raw',
    role: 'peer',
    note: 'fs.writeSync(fd, batch, 0, len, end) per batch into one file, no fsync: the write pattern the log makes, without the log',
    async open(id) {
      const fd = openSync(join(dir, `${id}.bin`), 'w+');
      let at = 0;
      return {
        append(b: Uint8Array) {
          at += writeSync(fd, b, 0, b.length, at);
        },
        close() {
          closeSync(fd);
        },
      };
    },
    async remove(id) {
      rmSync(join(dir, `${id}.bin`), { force: true });
    },
  };
}

function fsRawRead(dir: string): ReadStore {
  return {
    name: 'node-fs-raw',
    role: 'limit',
    note: 'fs.readSync into one reused buffer, chunk after chunk front to back (page cache warm)',
    async prepare(id, batches) {
      const fd = openSync(join(dir, `${id}.bin`), 'w+');
      let at = 0;
      for (const b of batches) at += writeSync(fd, b, 0, b.length, at);
      const size = at;
      return {
        async readAll(maxBytes) {
          const buf = new Uint8Array(maxBytes);
          let n = 0;
          for (let pos = 0; pos < size; ) {
            const got = readSync(fd, buf, 0, Math.min(maxBytes, size - pos), pos);
            if (got <= 0) break;
            pos += got;
            n += got;
          }
          return n;
        },
        close() {
          closeSync(fd);
        },
      };
    },
    async remove(id) {
      rmSync(join(dir, `${id}.bin`), { force: true });
    },
  };
}

/** Memory: copying each batch into one preallocated buffer, the memcpy bound. */
function memoryCopyAppend(capacity: number): AppendStore {
  return {
    name: 'memory-copy',
    role: 'limit',
    note: 'Uint8Array.set(batch, end) into one preallocated buffer: the memory-copy bound',
    async open() {
      const big = new Uint8Array(capacity);
      let at = 0;
      return {
        append(b: Uint8Array) {
          big.set(b, at);
          at += b.length;
        },
        close() {},
      };
    },
    async remove() {},
  };
}

function memoryCopyRead(): ReadStore {
  return {
    name: 'memory-copy',
    role: 'limit',
    note: 'slice() of chunks of one in-memory buffer (a copy per read, as a read into a fresh buffer)',
    async prepare(_id, batches) {
      const size = batches.reduce((n, b) => n + b.length, 0);
      const big = new Uint8Array(size);
      let at = 0;
      for (const b of batches) {
        big.set(b, at);
        at += b.length;
      }
      return {
        async readAll(maxBytes) {
          let n = 0;
          for (let pos = 0; pos < size; pos += maxBytes) n += big.slice(pos, Math.min(size, pos + maxBytes)).length;
          return n;
        },
        close() {},
      };
    },
    async remove() {},
  };
}

export async function runStorageNode(opts: Partial<MeasureOptions> & Record<string, unknown>, log: (s: string) => void): Promise<CaseResult[]> {
  const quick = !!opts.quick;
  log(`wafka core: ${await loadBenchCore()}`);
  const dir = mkdtempSync(join(tmpdir(), 'wafka-bench-fs-'));
  const { results, measure } = caseCollector(opts, log);
  try {
    const fsBackend = await NodeFileBackend.create(join(dir, 'logs'));
    const mem = new MemoryBackend();
    const set = batchSet(64 * 1024);
    const wl = workload(set.label, set.batches, set.records, (quick ? 16 : 48) * MiB);
    const recordsPerMB = wl.records / (wl.bytes / 1e6);

    const a = await measure(
      appendCase('node-fs-append-64KiB', [logAppendStore(fsBackend, 'PartitionLog.append per batch on NodeFileBackend (writeSync), default config, no fsync'), fsRawAppend(dir)], wl, 'MB/s'),
    );
    // No goals of their own on Node (the OPFS goals are the browser's): the raw figures are the reference.
    const ar = scaleResult(a, 'node-fs-append-64KiB-records', 'records/s', recordsPerMB);
    log(caseTable(ar));
    results.push(ar);

    const rl = workload(set.label, set.batches, set.records, (quick ? 32 : 128) * MiB);
    await measure(readCase('node-fs-read-1MiB', [logReadStore(fsBackend, 'PartitionLog.read(offset, 1 MiB) → nextOffset on NodeFileBackend (readSync into a fresh buffer)'), fsRawRead(dir)], rl.batches, MiB));

    const m = await measure(
      appendCase('memory-append-64KiB', [logAppendStore(mem, 'PartitionLog.append per batch on MemoryBackend'), memoryCopyAppend(wl.bytes + MiB)], wl, 'MB/s'),
    );
    const mr = scaleResult(m, 'memory-append-64KiB-records', 'records/s', recordsPerMB);
    log(caseTable(mr));
    results.push(mr);
    await measure(readCase('memory-read-1MiB', [logReadStore(mem, 'PartitionLog.read(offset, 1 MiB) on MemoryBackend'), memoryCopyRead()], rl.batches, MiB));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

export async function runStorage(
  opts: Partial<MeasureOptions> & Record<string, unknown>,
  log: (s: string) => void,
): Promise<{ results: CaseResult[]; runtime: string }> {
  const browser = await runInChromium('storage', opts, log);
  const node = await runStorageNode(opts, log);
  return { results: [...browser.results, ...node], runtime: `${browser.runtime} (OPFS, IndexedDB) + ${machine().runtime} (node-fs, memory)` };
}
