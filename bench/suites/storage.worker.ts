/// <reference lib="webworker" />
/**
 * The storage suite's Chromium half, in a dedicated worker of a persistent
 * (on-disk) profile: wafka's PartitionLog on OPFS and on IndexedDB against
 * the raw platform patterns of the same sizes, same run.
 */
import { IndexedDbBackend, OpfsBackend, type IdbDurability } from '../../src/storage/index.ts';
import { scaleResult, type CaseResult } from '../lib/measure.ts';
import { caseTable } from '../lib/report.ts';
import { MiB } from '../lib/data.ts';
import { loadBenchCore } from '../lib/core-load.ts';
import type { BrowserSuiteContext } from '../browser/protocol.ts';
import { appendCase, caseCollector, readCase, workload, type AppendStore } from './storage-cases.ts';
import { batchSet } from './storage-data.ts';
import { idbPutBatch, idbPutPerEvent, opfsRawAppend, opfsRawRead } from './peers-browser.ts';
import { logAppendStore, logReadStore } from './wafka-storage.ts';

export async function run({ opts, log }: BrowserSuiteContext): Promise<CaseResult[]> {
  const quick = !!opts.quick;
  log(`wafka core: ${await loadBenchCore()}`);
  const { results, measure } = caseCollector(opts, log);

  const root = await navigator.storage.getDirectory();
  await root.removeEntry('wafka-bench', { recursive: true }).catch(() => {});
  await root.removeEntry('wafka-bench-raw', { recursive: true }).catch(() => {});
  const opfs = await OpfsBackend.create('wafka-bench');

  // --- OPFS append: 16 KiB and 64 KiB batches
  for (const kib of [16, 64]) {
    const set = batchSet(kib * 1024);
    const wl = workload(set.label, set.batches, set.records, (quick ? 16 : 48) * MiB);
    const recordsPerMB = wl.records / (wl.bytes / 1e6);
    const wafka = logAppendStore(opfs, 'PartitionLog.append(batch, {leaderEpoch: 0}) per batch, awaited, on OpfsBackend (sync access handle), default config (64 MiB segments, no flush)');
    const r = await measure(appendCase(`opfs-append-${kib}KiB`, [wafka, opfsRawAppend], wl, 'MB/s', { goal: { peer: 'opfs-raw', ratio: 0.7 } }));
    const rr = scaleResult(r, `opfs-append-${kib}KiB-records`, 'records/s', recordsPerMB, [{ peer: 'opfs-raw', ratio: 0.7 }]);
    log(caseTable(rr));
    results.push(rr);
  }

  // --- OPFS read by offset, warm (just written)
  {
    const set = batchSet(64 * 1024);
    const wl = workload(set.label, set.batches, set.records, (quick ? 32 : 128) * MiB);
    const wafka = logReadStore(opfs, 'PartitionLog.read(offset, 1 MiB) → nextOffset, front to back, on OpfsBackend (one read() into a fresh buffer per call)');
    await measure(readCase('opfs-read-1MiB', [wafka, opfsRawRead], wl.batches, MiB, { goal: { value: 1000 } }));
  }

  // --- IndexedDB: the log vs one put per event and many puts per transaction, durable and relaxed
  const set = batchSet(16 * 1024);
  const eventsOf = (b: Uint8Array): Uint8Array[] => set.events.get(b)!;
  for (const durability of ['strict', 'relaxed'] as IdbDurability[]) {
    const dbName = `wafka-bench-${durability}`;
    await IndexedDbBackend.deleteDatabase(dbName);
    const idb = await IndexedDbBackend.open(dbName, { durability });
    const wl = workload(set.label, set.batches, set.records, (quick ? 2 : 8) * MiB);
    const perEvent = durability === 'strict' ? (quick ? 0.02 : 0.05) : (quick ? 0.1 : 0.3);
    const stores: AppendStore[] = [
      logAppendStore(idb, `PartitionLog.append per 16 KiB batch on IndexedDbBackend (durability '${durability}': ${durability === 'strict' ? 'one fdatasync per commit' : 'no fsync'})`),
      { ...idbPutPerEvent(eventsOf, durability), sampleBytes: perEvent * MiB },
      { ...idbPutBatch(eventsOf, durability), sampleBytes: (quick ? 1 : 2) * MiB },
    ];
    const metric = durability === 'strict' ? 'indexeddb-append' : 'indexeddb-append-relaxed';
    await measure(
      appendCase(metric, stores, wl, 'events/s', {
        goal: { peer: 'idb-put-per-event', ratio: 20 },
        rounds: quick ? 3 : 5,
        note: `100-byte events arriving in 16 KiB batches (${set.records[0]} events); every contender commits with durability '${durability}'${durability === 'strict' ? ' (Chromium: one fdatasync per commit, the durable setting)' : ' (Chromium: no fsync)'}`,
      }),
    );
    idb.close();
    await IndexedDbBackend.deleteDatabase(dbName);
  }
  return results;
}
