/**
 * `npm start`: a local wafka cluster and a demo, on Node.
 *
 *  1. starts a cluster: 3 brokers in worker threads, logs in files under ./data;
 *  2. runs the producer → consumer demo (100,000 keyed messages over 3
 *     partitions), checks what comes back and prints the throughput;
 *  3. serves the playground page on http://127.0.0.1:<port>/, where the same
 *     demo runs inside the browser with broker workers on OPFS or IndexedDB;
 *  4. Ctrl-C stops everything cleanly (brokers flush and close, workers end, exit 0).
 *
 * Flags (environment variables in brackets):
 *   --brokers N        [WAFKA_BROKERS]   default 3
 *   --storage KIND     [WAFKA_STORAGE]   files | memory, default files
 *   --dir PATH         [WAFKA_DATA_DIR]  default ./data
 *   --messages N       [WAFKA_MESSAGES]  default 100000
 *   --partitions N                       default 3
 *   --port N           [WAFKA_PORT]      default 8080 (any free port when taken; 0: any)
 *   --fresh            delete the data directory first
 *   --no-serve, --demo-only   run the demo, then stop and exit
 *   --no-demo          only serve the playground (the cluster still starts)
 */
import { createReadStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { cpus } from 'node:os';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Wafka, logLevel, startCluster, type Cluster, type StorageKind } from './index.ts';
import { runDemo, type DemoResult } from './client/demo.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const { values: args } = parseArgs({
  options: {
    brokers: { type: 'string' },
    storage: { type: 'string' },
    dir: { type: 'string' },
    messages: { type: 'string' },
    partitions: { type: 'string' },
    port: { type: 'string' },
    fresh: { type: 'boolean', default: false },
    'no-serve': { type: 'boolean', default: false },
    'demo-only': { type: 'boolean', default: false },
    'no-demo': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (args.help) {
  const doc = (await import('node:fs')).readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0];
  console.log(doc.replace(/^\/\*\*\n|^ \* ?/gm, ''));
  process.exit(0);
}

const int = (value: string | undefined, fallback: number, name: string) => {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) { console.error(`wafka: --${name} must be a non-negative integer, got "${value}"`); process.exit(2); }
  return n;
};

const settings = {
  brokers: int(args.brokers ?? process.env.WAFKA_BROKERS, 3, 'brokers'),
  storage: (args.storage ?? process.env.WAFKA_STORAGE ?? 'files') as StorageKind,
  dir: resolve(args.dir ?? process.env.WAFKA_DATA_DIR ?? 'data'),
  messages: int(args.messages ?? process.env.WAFKA_MESSAGES, 100_000, 'messages'),
  partitions: int(args.partitions, 3, 'partitions'),
  port: int(args.port ?? process.env.WAFKA_PORT, 8080, 'port'),
  serve: !args['no-serve'] && !args['demo-only'],
  demo: !args['no-demo'],
};
if (settings.storage !== 'files' && settings.storage !== 'memory') {
  console.error(`wafka: --storage ${settings.storage}: on Node, 'files' or 'memory' (OPFS and IndexedDB are the playground's)`);
  process.exit(2);
}

const log = (line = '') => console.log(line);
let cluster: Cluster | undefined;
let server: Server | undefined;
let stopping = false;

async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log(`\n${signal}: stopping…`);
  const timer = setTimeout(() => { console.error('wafka: shutdown took over 10 s, exiting'); process.exit(1); }, 10_000);
  timer.unref();
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await cluster?.stop();
  log('stopped: brokers flushed and closed, workers ended.');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

function printResult(r: DemoResult): void {
  const fmt = (n: number) => n.toLocaleString('en-US');
  log('');
  log(`  topic "${r.topic}": ${fmt(r.messages)} keyed messages (${r.recordsBefore ? `${fmt(r.recordsBefore)} records already there from earlier runs` : 'new topic'})`);
  log(`  produce  ${fmt(r.produce.recordsPerSec).padStart(10)} records/s  ${String(r.produce.mbPerSec).padStart(6)} MB/s   ${fmt(r.produce.ms)} ms, ${r.produce.batches} batches in ${r.produce.requests} requests (acks=1)`);
  log(`  consume  ${fmt(r.consume.recordsPerSec).padStart(10)} records/s  ${String(r.consume.mbPerSec).padStart(6)} MB/s   ${fmt(r.consume.ms)} ms`);
  log('');
  log('  partition   records   offsets');
  for (const p of r.partitions) log(`  ${String(p.partition).padStart(9)} ${fmt(p.records).padStart(9)}   ${p.firstOffset}..${p.lastOffset}`);
  log('');
  log('  first messages consumed:');
  for (const s of r.sample) log(`    p${s.partition} @${s.offset}  ${s.key.padEnd(9)} ${s.value}…`);
  log('');
  log(r.verified
    ? '  ✓ every message came back once, in order per partition and per key, with its key, value and headers'
    : `  ✗ problems:\n    ${r.problems.join('\n    ')}`);
}

// ------------------------------------------------------------------ the playground

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.wasm': 'application/wasm', '.json': 'application/json', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.ico': 'image/x-icon', '.map': 'application/json',
};

/** Builds playground/ with Vite into node_modules/.cache (a few seconds). */
async function buildPlayground(): Promise<string> {
  const outDir = join(ROOT, 'node_modules', '.cache', 'wafka-playground');
  const { build } = await import('vite');
  await build({
    configFile: false,
    root: join(ROOT, 'playground'),
    base: './',
    logLevel: 'warn',
    worker: { format: 'es' },
    build: { outDir, emptyOutDir: true, target: 'es2022', sourcemap: false, reportCompressedSize: false, chunkSizeWarningLimit: 4096 },
  });
  return outDir;
}

function serve(rootDir: string, nodeResult: () => DemoResult | undefined, port: number): Promise<Server> {
  const root = resolve(rootDir) + sep;
  const s = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/node-result.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ settings, result: nodeResult() ?? null, cpus: cpus().length }));
      return;
    }
    let path = normalize(join(root, decodeURIComponent(url.pathname)));
    if (!path.startsWith(root) && path + sep !== root) { res.writeHead(403).end(); return; }
    try {
      if ((await stat(path)).isDirectory()) path = join(path, 'index.html');
      await stat(path);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': MIME[extname(path)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    createReadStream(path).pipe(res);
  });
  return new Promise((resolveServer, reject) => {
    const listen = (p: number) => s.listen(p, '127.0.0.1');
    s.once('listening', () => resolveServer(s));
    s.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE' && port !== 0) { log(`  port ${port} is taken; using a free one`); port = 0; listen(0); }
      else reject(error);
    });
    listen(port);
  });
}

// ------------------------------------------------------------------ main

log(`wafka: Kafka's log in WebAssembly — ${settings.brokers} brokers, storage '${settings.storage}'${settings.storage === 'files' ? ` under ${settings.dir}` : ''}`);
if (args.fresh && settings.storage === 'files') await rm(settings.dir, { recursive: true, force: true });
if (settings.storage === 'files') await mkdir(settings.dir, { recursive: true });

const startedMs = performance.now();
cluster = await startCluster({ brokers: settings.brokers, storage: settings.storage, dir: settings.dir, clusterId: 'wafka-demo' });
log(`cluster up in ${Math.round(performance.now() - startedMs)} ms: brokers ${cluster.bootstrap.nodeIds.join(', ')} (${cluster.inProcess ? 'in-process' : 'worker threads'})`);

const wafka = new Wafka({ clientId: 'wafka-start', cluster, logLevel: logLevel.WARN });
let result: DemoResult | undefined;
if (settings.demo && !stopping) {
  log(`\ndemo: ${settings.messages.toLocaleString('en-US')} keyed messages over ${settings.partitions} partitions`);
  const c = cluster;
  result = await runDemo({
    wafka, messages: settings.messages, partitions: settings.partitions,
    metrics: () => Promise.all(c.brokers.map((b) => b.metrics())),
    log: (line) => log(`  ${line}`),
  });
  printResult(result);
}

if (!settings.serve) {
  await cluster.stop();
  log('\ndone: cluster stopped.');
  process.exit(result && !result.verified ? 1 : 0);
}

if (!stopping) {
  log('\nbuilding the playground page (Vite)…');
  const outDir = await buildPlayground();
  server = await serve(outDir, () => result, settings.port);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : settings.port;
  log(`\nplayground: http://127.0.0.1:${port}/   (the same demo in your browser: broker workers on OPFS)`);
  log('Ctrl-C to stop.');
}
