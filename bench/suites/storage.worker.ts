/// <reference lib="webworker" />
/**
 * The storage suite's Chromium half, in a dedicated worker of a persistent
 * (on-disk) profile: wafka's PartitionLog on OPFS and on IndexedDB against
 * the raw platform patterns of the same sizes, same run.
 */
import { runCase, scaleResult, type Case, type CaseResult } from '../lib/measure.ts';
import { caseTable } from '../lib/report.ts';
import { MiB } from '../lib/data.ts';
import type { BrowserSuiteContext } from '../browser/protocol.ts';
import { appendCase, readCase, workload, type AppendStore, type ReadStore } from './storage-cases.ts';
import { batchSet } from './storage-data.ts';
import { idbPutBatch, idbPutPerEvent, opfsRawAppend, opfsRawRead } from './peers-browser.ts';
import { loadWafkaStorage } from './wafka-storage.ts';

export async function run({ opts, log }: BrowserSuiteContext): Promise<CaseResult[]> {
  const quick = !!opts.quick;
  const w = await loadWafkaStorage(log);
  const results: CaseResult[] = [];
  const measure = async (c: Case): Promise<CaseResult> => {
    const r = await runCase(c, opts);
    log(caseTable(r));
    results.push(r);
    return r;
  };

  // --- OPFS append: 16 KiB and 64 KiB batches
  const opfsLog: AppendStore[] = w?.opfs ? [w.opfs.append] : [];
  for (const kib of [16, 64]) {
    const set = batchSet(kib * 1024);
    const wl = workload(set.label, set.batches, set.records, (quick ? 16 : 48) * MiB);
    const recordsPerMB = wl.records / (wl.bytes / 1e6);
    const r = await measure(
      appendCase(`opfs-append-${kib}KiB`, [...opfsLog, opfsRawAppend], wl, 'MB/s', { goal: { peer: 'opfs-raw', ratio: 0.7 } }),
    );
    const rr = scaleResult(r, `opfs-append-${kib}KiB-records`, 'records/s', recordsPerMB, [{ peer: 'opfs-raw', ratio: 0.7 }]);
    log(caseTable(rr));
    results.push(rr);
  }

  // --- OPFS read by offset, warm
  {
    const set = batchSet(64 * 1024);
    const wl = workload(set.label, set.batches, set.records, (quick ? 32 : 128) * MiB);
    const stores: ReadStore[] = [...(w?.opfs ? [w.opfs.read] : []), opfsRawRead];
    await measure(readCase('opfs-read-1MiB', stores, wl.batches, MiB, { goal: { value: 1000 } }));
  }

  // --- IndexedDB: the log vs one put per event and many puts per transaction
  {
    const set = batchSet(16 * 1024);
    const eventsOf = (b: Uint8Array): Uint8Array[] => set.events.get(b)!;
    const wl = workload(set.label, set.batches, set.records, (quick ? 4 : 16) * MiB);
    const stores: AppendStore[] = [
      ...(w?.idb ? [w.idb.append] : []),
      { ...idbPutPerEvent(eventsOf), sampleBytes: (quick ? 0.1 : 0.3) * MiB },
      { ...idbPutBatch(eventsOf), sampleBytes: (quick ? 1 : 4) * MiB },
    ];
    await measure(
      appendCase('indexeddb-append', stores, wl, 'events/s', {
        goal: { peer: 'idb-put-per-event', ratio: 20 },
        rounds: quick ? 3 : 5,
      }),
    );
  }
  return results;
}
