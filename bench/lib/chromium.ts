/**
 * Runs a browser suite in Debian's Chromium: Vite's dev server on 127.0.0.1
 * serves the repo (bench pages, src/, build/wafka.wasm), Playwright opens a
 * persistent context (a real on-disk profile, so OPFS and IndexedDB hit the
 * disk as they do for users; incognito contexts keep storage in memory).
 */
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { CaseResult } from './measure.ts';
import type { ToPage } from '../browser/protocol.ts';
import { ROOT } from './node.ts';

export const CHROMIUM = process.env.WAFKA_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  // WAFKA_CHROMIUM_ARGS: extra flags for experiments (e.g. --js-flags=--no-liftoff), space-separated
  ...(process.env.WAFKA_CHROMIUM_ARGS ?? '').split(' ').filter(Boolean),
];

export function chromiumVersion(): string {
  try {
    const out = execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const m = /Chromium\s+([\d.]+)/.exec(out);
    return m ? `chromium ${m[1]}` : out.trim().split('\n')[0];
  } catch {
    return 'chromium (unknown version)';
  }
}

export interface BrowserRun { results: CaseResult[]; userAgent: string; runtime: string }

export interface ChromiumSession {
  run(suite: string, opts?: Record<string, unknown>, timeoutMs?: number): Promise<BrowserRun>;
  close(): Promise<void>;
}

/** Starts the dev server and one persistent Chromium profile; reuse it for several suites. */
export async function openChromium(log: (line: string) => void = console.log): Promise<ChromiumSession> {
  const { createServer } = await import('vite');
  // Wasm-ESM integration for lz4-wasm's browser build (wasm-bindgen's bundler target).
  const { default: wasm } = await import('vite-plugin-wasm');
  const { chromium } = await import('playwright');
  const server = await createServer({
    root: ROOT,
    configFile: false,
    logLevel: 'warn',
    clearScreen: false,
    // Cross-origin isolation: performance.now() at 5 µs resolution instead of 100 µs (latency figures).
    server: {
      host: '127.0.0.1', port: 0, strictPort: false, hmr: false, watch: null,
      headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
      // node_modules may be a symlink (bench/run.ts --snapshot): allow its real location too.
      fs: { allow: [ROOT, realpathSync(join(ROOT, 'node_modules'))] },
    },
    plugins: [wasm()],
    worker: { format: 'es', plugins: () => [wasm()] },
    optimizeDeps: {
      exclude: ['lz4-wasm'],
      entries: ['bench/browser/index.html'],
      include: ['lz4js', 'snappyjs', 'hash-wasm', 'idb', 'broadcast-channel'].filter(canResolve),
    },
  });
  await server.listen();
  const addr = server.httpServer?.address();
  if (!addr || typeof addr === 'string') throw new Error('vite: no address');
  const base = `http://127.0.0.1:${addr.port}`;
  const userDataDir = mkdtempSync(join(tmpdir(), 'wafka-bench-profile-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  const runtime = chromiumVersion();

  return {
    async run(suite, opts = {}, timeoutMs = 300_000) {
      const page = await context.newPage();
      try {
        let settle!: (m: ToPage) => void;
        const done = new Promise<ToPage>((r) => (settle = r));
        await page.exposeFunction('__benchLog', (line: string) => log(`  [chromium] ${line}`));
        await page.exposeFunction('__benchDone', (payload: string) => settle(JSON.parse(payload) as ToPage));
        page.on('pageerror', (e) => settle({ type: 'error', error: `page error: ${e.message}` }));
        page.on('console', (m) => {
          if (m.type() === 'error' || m.type() === 'warning') log(`  [chromium console.${m.type()}] ${m.text()}`);
        });
        const url = `${base}/bench/browser/index.html?suite=${encodeURIComponent(suite)}&opts=${encodeURIComponent(JSON.stringify(opts))}`;
        await page.goto(url);
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<ToPage>((r) => {
          timer = setTimeout(() => r({ type: 'error', error: `timed out after ${timeoutMs} ms` }), timeoutMs);
        });
        const m = await Promise.race([done, timeout]);
        clearTimeout(timer);
        if (m.type === 'error') throw new Error(`chromium suite ${suite}: ${m.error}`);
        if (m.type !== 'done') throw new Error(`chromium suite ${suite}: unexpected ${m.type}`);
        return { results: m.results, userAgent: m.userAgent, runtime };
      } finally {
        await page.close().catch(() => {});
      }
    },
    async close() {
      await context.close().catch(() => {});
      await server.close().catch(() => {});
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

function canResolve(name: string): boolean {
  try {
    import.meta.resolve(name);
    return true;
  } catch {
    return false;
  }
}
