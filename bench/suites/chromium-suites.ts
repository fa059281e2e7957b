/** Runs a browser suite (bench/suites/<name>.worker.ts or .page.ts) in Chromium and collects its results. */
import type { CaseResult, MeasureOptions } from '../lib/measure.ts';
import { openChromium } from '../lib/chromium.ts';

export async function runInChromium(
  suite: string,
  opts: Partial<MeasureOptions> & Record<string, unknown>,
  log: (s: string) => void,
  timeoutMs?: number,
): Promise<{ results: CaseResult[]; runtime: string }> {
  const session = await openChromium(log);
  try {
    const r = await session.run(suite, opts, timeoutMs);
    return { results: r.results, runtime: r.runtime };
  } finally {
    await session.close();
  }
}
