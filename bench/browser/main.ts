/// <reference types="vite/client" />
/**
 * The bench page. `?suite=NAME` runs bench/suites/NAME.worker.ts in a dedicated
 * worker (where OPFS sync handles exist), or bench/suites/NAME.page.ts on the
 * page itself when that module exists instead. Reports through the functions
 * the Node driver exposes (window.__benchLog / __benchDone).
 */
import type { BrowserSuite, StartMessage, ToPage } from './protocol.ts';

const params = new URLSearchParams(location.search);
const suite = params.get('suite') ?? 'core';
const opts = JSON.parse(params.get('opts') ?? '{}');
const pre = document.getElementById('log')!;
if (!crossOriginIsolated) console.warn('bench page is not cross-origin isolated: performance.now() is coarse (100 µs)');

function send(m: ToPage): void {
  if (m.type === 'log') {
    pre.textContent += m.line + '\n';
    window.__benchLog?.(m.line);
  } else window.__benchDone?.(JSON.stringify(m));
}

const pageSuites = import.meta.glob<{ run: BrowserSuite }>('../suites/*.page.ts');
const pageKey = `../suites/${suite}.page.ts`;

if (pageSuites[pageKey]) {
  try {
    const mod = await pageSuites[pageKey]();
    const results = await mod.run({ opts, log: (line) => send({ type: 'log', line }) });
    send({ type: 'done', results, userAgent: navigator.userAgent });
  } catch (e) {
    send({ type: 'error', error: e instanceof Error ? `${e.message}\n${e.stack}` : String(e) });
  }
} else {
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (e: MessageEvent<ToPage>) => send(e.data);
  worker.onerror = (e) => send({ type: 'error', error: `worker error: ${e.message} (${e.filename}:${e.lineno})` });
  worker.postMessage({ suite, opts } satisfies StartMessage);
}
