/**
 * The `e2e` suite: the Chromium half (e2e.page.ts: OPFS broker workers,
 * idb outbox, broadcast-channel) and the Node half here (broker worker
 * threads on files), written to one bench/results/e2e.json.
 */
import type { CaseResult, MeasureOptions } from '../lib/measure.ts';
import { machine } from '../lib/node.ts';
import { runInChromium } from './chromium-suites.ts';
import { runE2eNode } from './e2e-node.ts';

export async function runE2e(
  opts: Partial<MeasureOptions> & Record<string, unknown>,
  log: (s: string) => void,
): Promise<{ results: CaseResult[]; runtime: string }> {
  const browser = await runInChromium('e2e', opts, log);
  const node = await runE2eNode(opts, log);
  return { results: [...browser.results, ...node], runtime: `${browser.runtime} (OPFS) + ${machine().runtime} (files)` };
}
