/**
 * `npm run bench [-- suite...] [--quick] [--rounds=N] [--opt=name=value...]`
 * (--opt passes a suite's own option, e.g. `start --opt=segments=1000`)
 *
 * Suites: core (Node), core-chromium (the same core cases in a Chromium
 * worker), storage, e2e, start (cluster start with 10,000 segments per replica, Chromium),
 * replication, groups (consumer groups: rebalance, group consume, offset commits), groups-chromium
 * (the rebalance with brokers and every member in workers of one Chromium tab), transactions
 * (transactional consume-transform-produce against the same copy without transactions, and
 * commit latency; Node and Chromium), wire (Kafka clients over the wire protocol), bundle (bytes a page downloads),
 * console (end-to-end throughput with the console open against without it, Chromium), crosstab
 * (tabs of one profile). With no suite named, runs them all. Each prints its
 * table and writes bench/results/<suite>.json; docs/benchmarks.md is then
 * regenerated from every results file.
 */
import { execFileSync, execSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CaseResult, MeasureOptions } from './lib/measure.ts';
import { RESULTS_DIR as RESULTS, ROOT, suiteResult, writeDocs, writeSuite } from './lib/node.ts';
import { summaryTable } from './lib/report.ts';

type SuiteFn = (opts: Partial<MeasureOptions> & Record<string, unknown>, log: (s: string) => void) => Promise<{ results: CaseResult[]; runtime?: string }>;

const SUITES: Record<string, SuiteFn> = {
  core: async (o, log) => ({ results: await (await import('./suites/core.ts')).runCore(o, log) }),
  'core-chromium': async (o, log) => (await import('./suites/chromium-suites.ts')).runInChromium('core', o, log),
  storage: async (o, log) => (await import('./suites/storage.ts')).runStorage(o, log),
  e2e: async (o, log) => (await import('./suites/e2e.ts')).runE2e(o, log),
  start: async (o, log) => { buildPackage(log); return (await import('./suites/chromium-suites.ts')).runInChromium('start', o, log); },
  replication: async (o, log) => ({ results: await (await import('./suites/replication.ts')).runReplication(o, log) }),
  groups: async (o, log) => ({ results: await (await import('./suites/groups.ts')).runGroups(o, log) }),
  'groups-chromium': async (o, log) => (await import('./suites/chromium-suites.ts')).runInChromium('groups', o, log, 1_800_000),
  transactions: async (o, log) => (await import('./suites/transactions.ts')).runTransactions(o, log),
  bundle: async (o, log) => ({ results: await (await import('./suites/bundle.ts')).runBundle(o, log) }),
  wire: async (o, log) => ({ results: await (await import('./suites/wire.ts')).runWire(o, log) }),
  console: async (o, log) => (await import('./suites/chromium-suites.ts')).runInChromium('console', o, log),
  crosstab: async (o, log) => (await import('./suites/crosstab.ts')).runCrosstab(o, log),
};

/**
 * Builds the current assembly/ into the bench's own file (bench/lib/core-load.ts
 * loads it), so a partial dev build in build/ cannot change what is measured.
 */
function buildWasm(log: (s: string) => void): void {
  const out = join(ROOT, 'node_modules', '.cache', 'wafka-bench');
  mkdirSync(out, { recursive: true });
  const wasm = join(out, 'wafka.wasm');
  rmSync(wasm, { force: true });
  try {
    execFileSync(
      join(ROOT, 'node_modules', '.bin', 'asc'),
      ['assembly/index.ts', '--target', 'release', '--outFile', wasm, '--textFile', join(out, 'wafka.wat')],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    // Broker workers load the default build/wafka.wasm: make it this same build (what `npm run asbuild` writes).
    copyFileSync(wasm, join(ROOT, 'build', 'wafka.wasm'));
    log(`Wasm core built from assembly/ → ${wasm} (and build/wafka.wasm)`);
  } catch (e) {
    log(`asc failed, measuring build/wafka.wasm as it is:\n${String((e as { stderr?: Buffer }).stderr ?? e).slice(0, 2000)}`);
  }
}

/** Builds dist/ (what an app loads: the start suite measures the bundled broker worker). */
function buildPackage(log: (s: string) => void): void {
  const t0 = Date.now();
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  log(`package built into dist/ in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

/**
 * --snapshot: measure the last commit rather than the working tree (where
 * colleagues' edits may be half done): `git archive HEAD` into a temporary
 * directory with this node_modules linked in, run the suites there, copy the
 * results and docs/benchmarks.md back.
 */
function runSnapshot(args: string[], log: (s: string) => void): number {
  const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  const dir = mkdtempSync(join(tmpdir(), 'wafka-bench-snapshot-'));
  const started = Date.now();
  try {
    execSync(`git archive --format=tar HEAD | tar -x -C ${JSON.stringify(dir)}`, { cwd: ROOT, stdio: 'inherit' });
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    mkdirSync(join(dir, 'build'), { recursive: true });
    log(`measuring commit ${sha.slice(0, 12)} in ${dir}`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], {
      cwd: dir,
      stdio: 'inherit',
      env: { ...process.env, WAFKA_BENCH_COMMIT: sha },
    });
    mkdirSync(RESULTS, { recursive: true });
    const out = join(dir, 'bench', 'results');
    for (const f of readdirSync(out)) {
      if (statSync(join(out, f)).mtimeMs >= started) copyFileSync(join(out, f), join(RESULTS, f));
    }
    writeDocs();
    return r.status ?? 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const all = process.argv.slice(2);
  if (all.includes('--snapshot')) {
    process.exitCode = runSnapshot(all.filter((a) => a !== '--snapshot'), (s) => console.log(s));
    return;
  }
  const args = all;
  const opts: Partial<MeasureOptions> & Record<string, unknown> = {};
  const names: string[] = [];
  for (const a of args) {
    if (a === '--quick') Object.assign(opts, { rounds: 3, sampleMs: 40, warmupMs: 60, quick: true });
    else if (a.startsWith('--rounds=')) opts.rounds = Number(a.slice(9));
    else if (a.startsWith('--warmup=')) opts.warmupMs = Number(a.slice(9));
    else if (a.startsWith('--sample=')) opts.sampleMs = Number(a.slice(9));
    else if (a.startsWith('--opt=')) { const [k, v] = a.slice(6).split('='); opts[k] = v ?? true; }
    else if (a.startsWith('--')) throw new Error(`unknown flag ${a}`);
    else names.push(a);
  }
  const run = names.length ? names : Object.keys(SUITES);
  for (const n of run) if (!SUITES[n]) throw new Error(`unknown suite ${n}; have: ${Object.keys(SUITES).join(', ')}`);
  const log = (s: string): void => console.log(s);
  buildWasm(log);
  let failed = 0;
  for (const name of run) {
    const t0 = performance.now();
    log(`\n### suite ${name}\n`);
    try {
      const { results, runtime } = await SUITES[name](opts, log);
      const s = suiteResult(name, results, runtime);
      const file = writeSuite(s);
      log(summaryTable(s));
      log(`\n${name}: ${results.length} results → ${file} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    } catch (e) {
      failed++;
      log(`suite ${name} FAILED: ${e instanceof Error ? e.stack : String(e)}`);
    }
  }
  log(`docs → ${writeDocs()}`);
  if (failed) process.exitCode = 1;
}

await main();
