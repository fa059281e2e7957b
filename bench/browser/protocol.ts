/** Messages between the bench page, its worker and the Node driver (bench/lib/chromium.ts). */
import type { CaseResult, MeasureOptions } from '../lib/measure.ts';

/** What a browser suite module (bench/suites/<name>.worker.ts or .page.ts) exports. */
export interface BrowserSuiteContext {
  opts: Partial<MeasureOptions> & { quick?: boolean; [k: string]: unknown };
  log: (line: string) => void;
}
export type BrowserSuite = (ctx: BrowserSuiteContext) => Promise<CaseResult[]>;

export type ToPage =
  | { type: 'log'; line: string }
  | { type: 'done'; results: CaseResult[]; userAgent: string }
  | { type: 'error'; error: string };

export interface StartMessage { suite: string; opts: BrowserSuiteContext['opts'] }

declare global {
  interface Window {
    __benchLog?: (line: string) => void;
    __benchDone?: (payload: string) => void;
  }
}
