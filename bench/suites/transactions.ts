/**
 * The transactions suite: the transactional copy (consume → transform →
 * produce + sendOffsets, transactions of 100 and of 1,000 records) against
 * the same copy without transactions, and transaction.commit() latency
 * (transactions-copy.ts). Node: three brokers in worker threads on files,
 * the client in this process; Chromium (transactions.page.ts): three broker
 * workers on OPFS, the client on the page. One bench/results/transactions.json.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster } from '../../src/cluster/index.ts';
import { loadBenchCore } from '../lib/core-load.ts';
import type { CaseResult, MeasureOptions } from '../lib/measure.ts';
import { machine } from '../lib/node.ts';
import { runInChromium } from './chromium-suites.ts';
import { openClient } from './e2e-wafka.ts';
import { runTransactionCases } from './transactions-copy.ts';

async function runNode(opts: Partial<MeasureOptions> & Record<string, unknown>, log: (s: string) => void): Promise<CaseResult[]> {
  log(`wafka core: ${await loadBenchCore()}`);
  const dir = mkdtempSync(join(tmpdir(), 'wafka-bench-txn-'));
  const cluster = await startCluster({ brokers: 3, storage: 'files', dir, clusterId: 'bench-txn' });
  try {
    const ctx = await openClient(cluster);
    try {
      return await runTransactionCases(ctx, {
        quick: !!opts.quick, rounds: opts.rounds as number | undefined, runtime: 'node',
        where: '3 brokers in worker threads on files, the client in the main thread',
      }, log);
    } finally {
      await ctx.admin.disconnect();
    }
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runTransactions(
  opts: Partial<MeasureOptions> & Record<string, unknown>,
  log: (s: string) => void,
): Promise<{ results: CaseResult[]; runtime: string }> {
  const node = await runNode(opts, log);
  const browser = await runInChromium('transactions', opts, log);
  return { results: [...node, ...browser.results], runtime: `${machine().runtime} (files) + ${browser.runtime} (OPFS)` };
}
