import type { CaseResult, MeasureOptions } from '../lib/measure.ts';

export async function runE2e(
  _opts: Partial<MeasureOptions> & Record<string, unknown>,
  _log: (s: string) => void,
): Promise<{ results: CaseResult[]; runtime?: string }> {
  throw new Error('the e2e suite is not written yet');
}
