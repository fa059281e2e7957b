/**
 * `npx wafka` / `npm start`: a local wafka cluster and a demo, on Node.
 *
 *  1. starts a cluster: 3 brokers in worker threads, logs in files under ./data;
 *  2. runs the producer → consumer demo (100,000 keyed messages over 3
 *     partitions), checks what comes back and prints the throughput;
 *  3. serves the playground page on http://127.0.0.1:<port>/, where the same
 *     demo runs inside the browser with broker workers on OPFS or IndexedDB,
 *     and the console (console.html) over this cluster, fed live through
 *     loopback server-sent events (src/cli/console-feed.ts);
 *  4. Ctrl-C stops everything cleanly (brokers flush and close, workers end, exit 0).
 *
 * Flags: START_HELP below.
 */
import { createReadStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { cpus } from 'node:os';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Wafka, logLevel, startCluster, type Cluster, type StorageKind } from '../index.ts';
import { DEMO_MESSAGES_MAX, DEMO_PARTITIONS_MAX, runDemo, type DemoResult } from '../client/demo.ts';
import { CLUSTER_BROKERS_MAX } from '../cluster/start-cluster.ts';
import { DATA_DIR_CLUSTER_ID, dataDirCluster } from './data-dir.ts';
import { intOption, parse, UsageError } from './usage.ts';
import type { ConsoleFeed } from './console-feed.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const START_HELP = `Usage: wafka [start] [options]

Starts a cluster (brokers in worker threads, logs in files), runs the demo
(keyed messages produced, consumed back and checked, with throughput), then
serves the playground page, where the same demo runs in your browser with
broker workers on OPFS or IndexedDB, and the console (/console.html), a live
view of this cluster. Ctrl-C stops everything cleanly.

Options (environment variables in brackets):
  --brokers N        [WAFKA_BROKERS]   1..32, default 3 (raised to the brokers the data directory registered)
  --storage KIND     [WAFKA_STORAGE]   files | memory, default files
  --dir PATH         [WAFKA_DATA_DIR]  default ./data
  --messages N       [WAFKA_MESSAGES]  1..10,000,000, default 100000
  --partitions N                       1..1000, default 3 (an existing topic with fewer grows)
  --port N           [WAFKA_PORT]      default 8080 (any free port when taken; 0: any)
  --fresh            delete the data directory first
  --no-serve, --demo-only   run the demo, then stop and exit
  --no-demo          only serve the playground and the console (the cluster still starts)
  -h, --help         this help`;

const OPTIONS = {
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
} as const;

export interface StartSettings {
  brokers: number | undefined;
  storage: StorageKind;
  dir: string;
  messages: number;
  partitions: number;
  port: number;
  serve: boolean;
  demo: boolean;
  fresh: boolean;
}

/** Flags and environment into settings; bad values are a UsageError (exit code 2). */
export function startSettings(argv: string[], env: NodeJS.ProcessEnv = process.env): StartSettings | 'help' {
  const { values: args } = parse(argv, OPTIONS);
  if (args.help) return 'help';
  const orEnv = (value: string | undefined, name: string) => value ?? (env[name] === '' ? undefined : env[name]);
  const storage = (args.storage ?? env.WAFKA_STORAGE ?? 'files') as StorageKind;
  if (storage !== 'files' && storage !== 'memory') {
    throw new UsageError(`--storage ${storage}: on Node, 'files' or 'memory' (OPFS and IndexedDB are the playground's)`);
  }
  return {
    brokers: intOption(orEnv(args.brokers, 'WAFKA_BROKERS'), 'brokers', 1, CLUSTER_BROKERS_MAX),
    storage,
    dir: resolve(args.dir ?? env.WAFKA_DATA_DIR ?? 'data'),
    messages: intOption(orEnv(args.messages, 'WAFKA_MESSAGES'), 'messages', 1, DEMO_MESSAGES_MAX) ?? 100_000,
    partitions: intOption(args.partitions, 'partitions', 1, DEMO_PARTITIONS_MAX) ?? 3,
    port: intOption(orEnv(args.port, 'WAFKA_PORT'), 'port', 0, 65_535) ?? 8080,
    serve: !args['no-serve'] && !args['demo-only'],
    demo: !args['no-demo'],
    fresh: args.fresh,
  };
}

const log = (line = '') => console.log(line);

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

/**
 * The playground page: prebuilt beside this module in the package (dist/playground/, made by
 * `npm run build`), else built from playground/ with Vite into node_modules/.cache (a few seconds).
 */
async function playgroundDir(): Promise<string> {
  const prebuilt = fileURLToPath(new URL('./playground/', import.meta.url));
  try {
    await stat(join(prebuilt, 'index.html'));
    return prebuilt;
  } catch {
    log('\nbuilding the playground page (Vite)…');
    return buildPlayground();
  }
}

async function buildPlayground(): Promise<string> {
  const outDir = join(ROOT, 'node_modules', '.cache', 'wafka-playground');
  const { build } = await import('vite');
  // @ts-expect-error: a plain .mjs module beside the page, shared with scripts/build.mjs (no types).
  const { playgroundViteConfig } = await import('../../playground/vite-config.mjs');
  await build(playgroundViteConfig(outDir));
  return outDir;
}

function serve(rootDir: string, nodeResult: () => unknown, port: number, feed: ConsoleFeed): Promise<Server> {
  const root = resolve(rootDir) + sep;
  const s = createServer(async (req, res) => {
    if (feed.handle(req, res)) return;
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/node-result.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(nodeResult()));
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

/** Runs the demo and serves the playground until SIGINT/SIGTERM; exits the process when done. */
export async function start(argv: string[]): Promise<void> {
  const parsed = startSettings(argv);
  if (parsed === 'help') { log(START_HELP); return; }
  const settings = parsed;
  let cluster: Cluster | undefined;
  let server: Server | undefined;
  let feed: ConsoleFeed | undefined;
  let stopping = false;

  async function shutdown(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    log(`\n${signal}: stopping…`);
    const timer = setTimeout(() => { console.error('wafka: shutdown took over 10 s, exiting'); process.exit(1); }, 10_000);
    timer.unref();
    feed?.close();
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await cluster?.stop();
    log('stopped: brokers flushed and closed, workers ended.');
    process.exit(0);
  }
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  if (settings.fresh && settings.storage === 'files') await rm(settings.dir, { recursive: true, force: true });
  if (settings.storage === 'files') await mkdir(settings.dir, { recursive: true });
  const where = settings.storage === 'files'
    ? await dataDirCluster(settings.dir, settings.brokers, 3)
    : { clusterId: DATA_DIR_CLUSTER_ID, brokers: settings.brokers ?? 3, note: undefined };
  log(`wafka: Kafka's log in WebAssembly — ${where.brokers} brokers, storage '${settings.storage}'${settings.storage === 'files' ? ` under ${settings.dir}` : ''}`);
  if (where.note) log(`  note: ${where.note}`);

  const startedMs = performance.now();
  cluster = await startCluster({ brokers: where.brokers, storage: settings.storage, dir: settings.dir, clusterId: where.clusterId });
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
    const outDir = await playgroundDir();
    const shown = { settings: { ...settings, brokers: where.brokers }, cpus: cpus().length };
    // Loaded here, not at the top: the other subcommands start without the console's modules.
    const [{ consoleFeed }, { clusterSource }] = await Promise.all([import('./console-feed.ts'), import('../console/cluster-source.ts')]);
    feed = consoleFeed(clusterSource(cluster, { description: `Node cluster: ${where.brokers} brokers ${cluster.inProcess ? 'in-process' : 'in worker threads'}, storage '${settings.storage}'` }));
    server = await serve(outDir, () => ({ ...shown, result: result ?? null }), settings.port, feed);
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : settings.port;
    log(`\nplayground: http://127.0.0.1:${port}/   (the same demo in your browser: broker workers on OPFS)`);
    log(`console:    http://127.0.0.1:${port}/console.html   (this cluster, live)`);
    log('Ctrl-C to stop.');
  }
}
