/**
 * Bundle size: the bytes a page downloads to use wafka, brotli-compressed (quality 11, as a CDN
 * serves static files), from the package as users install it (dist/, built by scripts/build.mjs)
 * through a production Vite build of a page that does `import { Wafka, startCluster } from 'wafka'`
 * and nothing else wafka-specific:
 *   - the client entry: the page's chunk and every chunk it imports statically (what runs before
 *     the first wafka call; chunks loaded on demand, e.g. the in-process brokers, are not counted);
 *   - the broker worker (one file, what each broker worker loads);
 *   - the Wasm core (loaded by the page and by every worker; one download, then the HTTP cache).
 * Peers, for scale, built the same way: idb (`openDB`, the IndexedDB wrapper many offline apps
 * use) and comlink (`wrap` and `expose`, the worker RPC wafka itself uses).
 * Sizes are deterministic: one build, no rounds.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';
import { build, type Rollup } from 'vite';
import type { CaseResult } from '../lib/measure.ts';
import { ROOT } from '../lib/node.ts';
import { caseTable } from '../lib/report.ts';

const brotliBytes = (data: string | Uint8Array): number =>
  brotliCompressSync(typeof data === 'string' ? Buffer.from(data) : data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;

interface PageBytes {
  /** Entry chunk and its static imports, brotli bytes (and minified bytes). */
  entry: { br: number; raw: number; files: string[] };
  /** Emitted assets by kind: the worker's JS and the Wasm, brotli bytes. */
  worker?: { br: number; raw: number };
  wasm?: { br: number; raw: number };
}

async function buildPage(dir: string, name: string, source: string): Promise<PageBytes> {
  const entry = join(dir, `${name}.js`);
  writeFileSync(entry, source);
  const result = await build({
    configFile: false,
    root: dir,
    logLevel: 'silent',
    resolve: { alias: [{ find: /^wafka$/, replacement: join(ROOT, 'dist', 'index.js') }] },
    build: {
      write: false,
      target: 'es2022',
      rollupOptions: { input: { [name]: entry }, preserveEntrySignatures: false },
    },
  });
  const output = (Array.isArray(result) ? result[0] : result) as Rollup.RollupOutput;
  const byName = new Map(output.output.map((f) => [f.fileName, f]));
  const start = output.output.find((f): f is Rollup.OutputChunk => f.type === 'chunk' && f.isEntry)!;
  const seen = new Set<string>();
  const stack = [start.fileName];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const chunk = byName.get(file);
    if (chunk?.type === 'chunk') stack.push(...chunk.imports);
  }
  const code = [...seen].map((f) => (byName.get(f) as Rollup.OutputChunk).code);
  const bytes: PageBytes = {
    entry: { br: code.reduce((s, c) => s + brotliBytes(c), 0), raw: code.reduce((s, c) => s + Buffer.byteLength(c), 0), files: [...seen] },
  };
  for (const f of output.output) {
    if (f.type !== 'asset') continue;
    const data = typeof f.source === 'string' ? Buffer.from(f.source) : f.source;
    if (/broker\.worker.*\.js$/.test(f.fileName)) bytes.worker = { br: brotliBytes(data), raw: data.length };
    if (f.fileName.endsWith('.wasm')) bytes.wasm = { br: brotliBytes(data), raw: data.length };
  }
  return bytes;
}

function sizeCase(metric: string, wafka: number, peers: Record<string, number>, notes: Record<string, string>, extra: Record<string, unknown>): CaseResult {
  const ratios = Object.fromEntries(Object.entries(peers).map(([k, v]) => [k, Math.round((v / wafka) * 1000) / 1000]));
  return { metric, unit: 'bytes br', higherIsBetter: false, wafka, peers, limits: {}, range: {}, ratios, notes, extra };
}

export async function runBundle(_opts: unknown, log: (s: string) => void): Promise<CaseResult[]> {
  log('building dist/ (scripts/build.mjs) ...');
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  // Inside the repository, so that the peers resolve from its node_modules as a user's app resolves them.
  const cache = join(ROOT, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'wafka-bench-bundle-'));
  try {
    const wafka = await buildPage(dir, 'wafka-page', "import { Wafka, startCluster } from 'wafka';\nglobalThis.used = [Wafka, startCluster];\n");
    const idb = await buildPage(dir, 'idb-page', "import { openDB } from 'idb';\nglobalThis.used = [openDB];\n");
    const comlink = await buildPage(dir, 'comlink-page', "import { wrap, expose } from 'comlink';\nglobalThis.used = [wrap, expose];\n");
    if (!wafka.worker || !wafka.wasm) throw new Error('the wafka page build emitted no broker worker or no Wasm asset');
    const peers = { idb: idb.entry.br, comlink: comlink.entry.br };
    const how = 'Vite 7 production build (minified), brotli quality 11';
    const total = wafka.entry.br + wafka.worker.br + wafka.wasm.br;
    const results = [
      sizeCase('bundle-client-entry', wafka.entry.br, peers,
        { '*': `what the page loads before its first wafka call: \`import { Wafka, startCluster } from 'wafka'\`, ${wafka.entry.files.length} chunk(s); ${how}`, idb: 'openDB, same build', comlink: 'wrap + expose, same build' },
        { minifiedBytes: wafka.entry.raw, idbMinifiedBytes: idb.entry.raw, comlinkMinifiedBytes: comlink.entry.raw }),
      sizeCase('bundle-broker-worker', wafka.worker.br, peers, { '*': `the broker worker file Vite emits (brokers, storage, comlink, idb inside); ${how}` }, { minifiedBytes: wafka.worker.raw }),
      sizeCase('bundle-wasm-core', wafka.wasm.br, peers, { '*': 'wafka.wasm (RecordBatch v2, CRC32C, LZ4, Snappy, murmur2, index scans), brotli quality 11' }, { bytes: wafka.wasm.raw }),
      sizeCase('bundle-page-total', total, peers, { '*': 'client entry + broker worker + Wasm core: all a page downloads for a cluster in workers' },
        { minifiedBytes: wafka.entry.raw + wafka.worker.raw + wafka.wasm.raw }),
    ];
    for (const r of results) log(caseTable(r));
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
