/// <reference lib="webworker" />
/// <reference types="vite/client" />
/** The bench worker: runs bench/suites/<suite>.worker.ts and posts its results. */
import type { BrowserSuite, StartMessage, ToPage } from './protocol.ts';

const suites = import.meta.glob<{ run: BrowserSuite }>('../suites/*.worker.ts');
const post = (m: ToPage): void => (self as unknown as Worker).postMessage(m);

self.onmessage = async (e: MessageEvent<StartMessage>) => {
  const { suite, opts } = e.data;
  try {
    const load = suites[`../suites/${suite}.worker.ts`];
    if (!load) throw new Error(`no browser suite ${suite} (bench/suites/${suite}.worker.ts)`);
    const mod = await load();
    const results = await mod.run({ opts, log: (line) => post({ type: 'log', line }) });
    post({ type: 'done', results, userAgent: navigator.userAgent });
  } catch (err) {
    post({ type: 'error', error: err instanceof Error ? `${err.message}\n${err.stack}` : String(err) });
  }
};
