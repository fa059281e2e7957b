/**
 * wafka as users install it: the packed tarball, installed from the registry into fresh apps
 * (test/package/fixtures/), run with each runtime's plain command, bundled by Vite and webpack
 * with no wafka-specific configuration and driven in Chromium, type-checked by a user's strict
 * tsc, and linted by publint and @arethetypeswrong/cli. One pack and one install serve them all.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeExamples } from '../readme/node-examples.ts';
import { emptyDir, freePort, listFiles, mustRun, packAndInstall, run, serve, useFixture, type Installed, type Served } from './harness.ts';

const CHROMIUM = process.env.WAFKA_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let installed: Installed;
let browser: Browser | undefined;

beforeAll(async () => {
  installed = await packAndInstall();
}, 900_000);

afterAll(async () => {
  await browser?.close();
});

describe('the tarball', () => {
  it('holds dist/, the LICENSE, the README and package.json, and nothing from the repository besides', () => {
    const outside = installed.files.filter((f) => !f.startsWith('package/dist/'));
    expect(outside.sort()).toEqual(['package/LICENSE', 'package/README.md', 'package/package.json']);
    for (const file of ['index.js', 'core.js', 'storage.js', 'zstd.js', 'console.js', 'wafka/broker.worker.js', 'wafka/wafka.wasm', 'types/index.d.ts']) {
      expect(installed.files).toContain(`package/dist/${file}`);
    }
  });

  it('installs with no script and no warning', async () => {
    const pkg = JSON.parse(await readFile(join(installed.dir, 'node_modules/wafka/package.json'), 'utf8'));
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) expect(pkg.scripts?.[hook]).toBeUndefined();
    expect(await readFile(join(installed.dir, 'node_modules/wafka/LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0/);
    const alone = await emptyDir(join(installed.dir, 'alone'));
    await mustRun('npm', ['init', '-y'], { cwd: alone });
    const install = await mustRun('npm', ['install', '--no-audit', '--no-fund', installed.tarball], { cwd: alone, timeoutMs: 300_000 });
    expect(install.stderr.split('\n').filter((line) => /warn|ERR/i.test(line))).toEqual([]);
  });
});

/** Capability modes of test/package/fixtures/runtime-app/capabilities.mjs, each a row of the README's matrix. */
const MODES = ['files-workers', 'files-in-process', 'memory'] as const;
const RUNTIMES: Record<string, (i: Installed) => [string, string[]]> = {
  node: () => [process.execPath, []],
  deno: (i) => [i.bin('deno'), ['run', '--allow-all']],
  bun: (i) => [i.bin('bun'), []],
};

/** The installed package's README (the one users read on the registry). */
const readme = () => readFile(join(installed.dir, 'node_modules/wafka/README.md'), 'utf8');

describe.each(Object.keys(RUNTIMES))('%s runs the package from dist/', (runtime) => {
  it.each(['app.mjs', 'log.mjs'])("the README's %s, on a fresh directory, prints what its comments say", async (name) => {
    const example = nodeExamples(await readme()).find((e) => e.name === name);
    expect(example, `README example ${name}`).toBeDefined();
    const cwd = await emptyDir(join(installed.dir, `readme-${runtime}-${name}`));
    await writeFile(join(cwd, name), example!.code);
    const [command, args] = RUNTIMES[runtime](installed);
    const result = await mustRun(command, [...args, name], { cwd, timeoutMs: 120_000 });
    // Deno and Bun print strings inside arrays with double quotes where Node uses single ones.
    const quotes = (line: string) => line.replaceAll('"', "'");
    expect(result.stdout.trimEnd().split('\n').map(quotes)).toEqual(example!.expected.map(quotes));
  });

  it.each(MODES)('%s: 200 records produced, read back, and (with files) read back after a restart', async (mode) => {
    const app = await useFixture(installed, 'runtime-app');
    const [command, args] = RUNTIMES[runtime](installed);
    const result = await mustRun(command, [...args, 'capabilities.mjs', mode, join(app, `data-${runtime}-${mode}`)], { cwd: app, timeoutMs: 120_000 });
    const report = JSON.parse(result.stdout.trim().split('\n').at(-1)!);
    expect(report).toEqual({ mode, produced: 200, consumed: 200, recovered: mode === 'memory' ? null : 200 });
  });
});

describe('the wafka command, installed from the tarball', () => {
  it("runs the README's command-line block (npx wafka topics, produce, consume) on a fresh directory", async () => {
    const block = /## The command line[\s\S]*?```sh\n([\s\S]*?)```/.exec(await readme())?.[1] ?? '';
    const lines = block.trim().split('\n');
    expect(lines.some((l) => l.includes('npx wafka produce')) && lines.some((l) => l.includes('npx wafka consume'))).toBe(true);
    const cwd = await emptyDir(join(installed.dir, 'cli'));
    const outputs: string[] = [];
    // npm_config_yes=false: npx runs the installed bin or fails; it never fetches another package.
    for (const line of lines) outputs.push((await mustRun('sh', ['-c', line], { cwd, timeoutMs: 60_000, env: { npm_config_yes: 'false' } })).stdout);
    const sent = (/printf '([^']*)'/.exec(block)?.[1] ?? '').split('\\n').filter(Boolean).map((l) => l.replace(':', '\t'));
    expect(sent.length).toBe(3);
    const consumed = outputs[lines.findIndex((l) => l.includes('npx wafka consume'))].trimEnd().split('\n');
    expect(consumed.sort()).toEqual(sent.sort());
    expect(outputs.at(-1)!.trim()).toBe('orders');
    const bad = await run('npx', ['--no-install', 'wafka', 'consume'], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--topic is required');
  });

  it('is the package bin, dist/cli.js, with the playground prebuilt beside it', async () => {
    const pkg = JSON.parse(await readFile(join(installed.dir, 'node_modules/wafka/package.json'), 'utf8'));
    expect(pkg.bin).toEqual({ wafka: 'dist/cli.js' });
    expect(installed.files).toContain('package/dist/cli.js');
    expect(installed.files).toContain('package/dist/playground/index.html');
    expect((await readFile(join(installed.dir, 'node_modules/wafka/dist/cli.js'), 'utf8')).startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('with no command: the demo on worker-thread brokers, then the prebuilt playground page until SIGINT', async () => {
    const app = await emptyDir(join(installed.dir, 'cli-demo'));
    const demo = await mustRun('npx', ['--no-install', 'wafka', '--demo-only', '--messages', '2000'], { cwd: app, timeoutMs: 120_000 });
    expect(demo.stdout).toMatch(/brokers 0, 1, 2 \(worker threads\)/);
    expect(demo.stdout).toContain('✓ every message came back once');
    // The bin's own node process (not npx's), so that SIGINT reaches it.
    const port = await freePort();
    const server = await serve(process.execPath, [join(installed.dir, 'node_modules/wafka/dist/cli.js'), '--no-demo', '--port', String(port)], { cwd: app, port });
    try {
      expect(server.output()).not.toContain('building the playground page');
      const page = await fetch(server.url);
      expect(await page.text()).toContain('<title>wafka playground</title>');
      expect(await server.stop('SIGINT')).toBe(0);
    } finally {
      await server.stop('SIGKILL');
    }
  });
});

describe('types', () => {
  it.each([['TypeScript 5.9', 'tsc'], ['TypeScript native 7', 'tsgo']])('%s: a strict NodeNext user file over every entry compiles with skipLibCheck false', async (_name, compiler) => {
    const app = await useFixture(installed, 'types-app');
    const version = await mustRun(installed.bin(compiler), ['--version'], { cwd: app });
    expect(version.stdout).toMatch(compiler === 'tsc' ? /Version 5\.9\./ : /Version 7\./);
    const result = await run(installed.bin(compiler), ['-p', 'tsconfig.json'], { cwd: app, timeoutMs: 180_000 });
    expect(result.stdout + result.stderr.split('\n').filter((l) => l.includes('error')).join('\n')).toBe('');
    expect(result.code).toBe(0);
  });

  it('publint finds nothing to report', async () => {
    const unpacked = await emptyDir(join(installed.dir, 'unpacked'));
    await mustRun('tar', ['xzf', installed.tarball, '-C', unpacked], { cwd: unpacked });
    const result = await mustRun(installed.bin('publint'), ['run', join(unpacked, 'package'), '--pack', 'false', '--strict'], { cwd: installed.dir });
    expect(result.stdout).toContain('All good!');
  });

  it('@arethetypeswrong/cli finds no problem for an ESM-only package (the worker and Wasm subpaths are URLs, not modules)', async () => {
    const result = await run(installed.bin('attw'), [installed.tarball, '--profile', 'esm-only', '--exclude-entrypoints', 'broker.worker.js', 'tab-relay.worker.js', 'wafka.wasm', '--format', 'ascii'], { cwd: installed.dir });
    const problems = result.stdout.split('\n').filter((line) => /💀|❌|⚠️/u.test(line) && !line.includes('(ignored'));
    expect(problems).toEqual([]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });
});

interface PageReport {
  before: number;
  values: string[];
}

/** Loads `url` in a fresh Chromium context, then reloads it: the second load must find the first load's record. */
async function loadAndReload(url: string): Promise<PageReport[]> {
  browser ??= await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const reports: PageReport[] = [];
    for (let load = 0; load < 2; load++) {
      if (load === 0) await page.goto(url);
      else await page.reload();
      await page.waitForFunction(() => document.querySelector('#out')?.textContent !== 'starting', null, { timeout: 90_000 });
      const text = (await page.textContent('#out')) ?? '';
      if (!text.startsWith('{')) throw new Error(`${url}: ${text}\n${errors.join('\n')}`);
      reports.push(JSON.parse(text));
    }
    return reports;
  } finally {
    await context.close();
  }
}

const RELOADED: PageReport[] = [{ before: 0, values: ['load-0'] }, { before: 1, values: ['load-0', 'load-1'] }];

describe('bundlers, with no wafka-specific configuration, in Chromium', () => {
  let server: Served | undefined;
  afterAll(async () => {
    await server?.stop();
  });
  const vite = () => join(installed.dir, 'node_modules/vite/bin/vite.js');

  it('Vite 7: vite build, then vite preview: brokers on OPFS and on IndexedDB recover after a reload', async () => {
    const app = await useFixture(installed, 'vite-app');
    await mustRun(process.execPath, [vite(), 'build'], { cwd: app, timeoutMs: 180_000 });
    const port = await freePort();
    server = await serve(process.execPath, [vite(), 'preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], { cwd: app, port });
    expect(await loadAndReload(server.url)).toEqual(RELOADED);
    expect(await loadAndReload(`${server.url}?storage=indexeddb`)).toEqual(RELOADED);
    await server.stop();
  });

  it('Vite 7: the vite dev server (dependencies pre-bundled): brokers on OPFS recover after a reload', async () => {
    const app = await useFixture(installed, 'vite-app');
    const optimized = join(installed.dir, 'node_modules/.vite/deps');
    await rm(optimized, { recursive: true, force: true });
    const port = await freePort();
    server = await serve(process.execPath, [vite(), '--host', '127.0.0.1', '--port', String(port), '--strictPort'], { cwd: app, port });
    expect(await loadAndReload(server.url)).toEqual(RELOADED);
    // What breaks URLs that are only relative: the page ran wafka from Vite's pre-bundled copy, away from dist/.
    const prebundled = await Promise.all((await listFiles(optimized)).filter((f) => f.endsWith('.js')).map((f) => readFile(f, 'utf8')));
    expect(prebundled.some((code) => code.includes('new URL("wafka/broker.worker.js", import.meta.url)'))).toBe(true);
    await server.stop();
  });

  it('webpack 5: a production build: brokers on OPFS recover after a reload', async () => {
    const app = await useFixture(installed, 'webpack-app');
    const build = await mustRun(installed.bin('webpack'), ['--mode', 'production'], { cwd: app, timeoutMs: 180_000 });
    expect(build.stdout).not.toMatch(/WARNING|ERROR/);
    await mustRun('cp', ['index.html', 'dist/'], { cwd: app });
    const port = await freePort();
    server = await serve(process.execPath, [vite(), 'preview', '--outDir', 'dist', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], { cwd: app, port });
    expect(await loadAndReload(server.url)).toEqual(RELOADED);
    await server.stop();
  });
});
