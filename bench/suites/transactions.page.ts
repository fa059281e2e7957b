/**
 * The transactions suite's Chromium half, in one tab of an on-disk profile:
 * three broker workers on OPFS (startCluster({ storage: 'opfs' })), the
 * consumer and the transactional producer on the page (transactions-copy.ts).
 */
import { opfsBrokerDir, startCluster } from '../../src/cluster/index.ts';
import type { CaseResult } from '../lib/measure.ts';
import { loadBenchCore } from '../lib/core-load.ts';
import type { BrowserSuiteContext } from '../browser/protocol.ts';
import { openClient } from './e2e-wafka.ts';
import { runTransactionCases } from './transactions-copy.ts';

async function cleanup(clusterId: string, brokers: number): Promise<void> {
  const root = await navigator.storage.getDirectory();
  for (let id = 0; id < brokers; id++) {
    const dir = opfsBrokerDir(clusterId, id).split('/').filter(Boolean);
    await root.removeEntry(dir[0], { recursive: true }).catch(() => {});
  }
  for (const db of await indexedDB.databases()) {
    if (db.name && db.name.includes(clusterId)) {
      await new Promise<void>((r) => {
        const req = indexedDB.deleteDatabase(db.name!);
        req.onsuccess = req.onerror = req.onblocked = () => r();
      });
    }
  }
}

export async function run({ opts, log }: BrowserSuiteContext): Promise<CaseResult[]> {
  log(`wafka core: ${await loadBenchCore()}`);
  const brokers = 3;
  const clusterId = `bench-txn-${Date.now().toString(36)}`;
  const t0 = performance.now();
  const cluster = await startCluster({ brokers, storage: 'opfs', clusterId });
  log(`cluster of ${brokers} OPFS broker workers started in ${(performance.now() - t0).toFixed(0)} ms`);
  try {
    const ctx = await openClient(cluster);
    try {
      return await runTransactionCases(ctx, {
        quick: !!opts.quick, rounds: opts.rounds as number | undefined, runtime: 'chromium',
        where: '3 broker workers on OPFS, the client on the page (one tab)',
      }, log);
    } finally {
      await ctx.admin.disconnect();
    }
  } finally {
    await cluster.stop();
    await cleanup(clusterId, brokers);
  }
}
