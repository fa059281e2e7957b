/**
 * Loads the Wasm core for a bench run from the bench's own build of the
 * current assembly/ (bench/run.ts writes it to node_modules/.cache/wafka-bench/),
 * so that a partial dev build in build/ by someone else cannot change what is
 * measured. Falls back to the default build/wafka.wasm. Call before anything
 * else loads the core (loadCore is once per realm).
 */
import { loadCore } from '../../src/core/index.ts';

export const BENCH_WASM = new URL('../../node_modules/.cache/wafka-bench/wafka.wasm', import.meta.url);

async function exists(url: URL): Promise<boolean> {
  if (url.protocol === 'file:') {
    const { existsSync } = await import(/* @vite-ignore */ 'node:fs');
    return existsSync(url);
  }
  try {
    const r = await fetch(url, { method: 'HEAD' });
    return r.ok && !(r.headers.get('content-type') ?? '').includes('text/html');
  } catch {
    return false;
  }
}

let once: Promise<string> | undefined;

/** Returns which build was loaded. */
export function loadBenchCore(): Promise<string> {
  once ??= (async () => {
    if (await exists(BENCH_WASM)) {
      await loadCore(BENCH_WASM);
      return 'bench build of assembly/';
    }
    await loadCore();
    return 'build/wafka.wasm';
  })();
  return once;
}
