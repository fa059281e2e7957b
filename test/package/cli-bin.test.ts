/**
 * The `wafka` bin as a user gets it: `npm pack` (its prepack builds dist/), the tarball installed
 * into a fresh directory, then `npx wafka` there: topics, produce, consume on a files cluster in
 * ./data, the demo on worker-thread brokers, the prebuilt playground page served; and the README's
 * Node example copied verbatim and run with plain node.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeExamples } from '../readme/node-examples.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const NPM_ENV = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
const execFileAsync = promisify(execFile);

let dir: string;
let tarballFiles: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wafka-bin-'));
  const packed = await execFileAsync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: REPO, env: NPM_ENV, timeout: 600_000, maxBuffer: 64 << 20 });
  const tarball = join(dir, packed.stdout.trim().split('\n').at(-1)!);
  tarballFiles = (await execFileAsync('tar', ['tzf', tarball])).stdout.trim().split('\n');
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'wafka-cli-user', private: true, type: 'module', dependencies: { wafka: `file:${tarball}` } }));
  await execFileAsync('npm', ['install', '--no-audit', '--no-fund'], { cwd: dir, env: NPM_ENV, timeout: 600_000 });
}, 900_000);

afterAll(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

/** `npx wafka <args>` in `cwd` with `stdin`, to its end. */
function npxWafka(args: string[], cwd: string, stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['--no-install', 'wafka', ...args], { cwd, env: NPM_ENV, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += String(d); });
    child.stderr.on('data', (d) => { stderr += String(d); });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

async function appDir(name: string): Promise<string> {
  const path = join(dir, name);
  await mkdir(path, { recursive: true });
  return path;
}

describe('npx wafka from the packed tarball', () => {
  it('is the package bin, dist/cli.js, with the playground prebuilt beside it', async () => {
    const pkg = JSON.parse(await readFile(join(dir, 'node_modules/wafka/package.json'), 'utf8'));
    expect(pkg.bin).toEqual({ wafka: 'dist/cli.js' });
    expect(tarballFiles).toContain('package/dist/cli.js');
    expect(tarballFiles).toContain('package/dist/playground/index.html');
    expect((await readFile(join(dir, 'node_modules/wafka/dist/cli.js'), 'utf8')).startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('topics create, produce from stdin, consume and describe on a files cluster in ./data', async () => {
    const app = await appDir('cli-app');
    const created = await npxWafka(['topics', 'create', 'orders', '--partitions', '3'], app);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toContain("created topic 'orders' with 3 partitions");
    const produced = await npxWafka(['produce', '--topic', 'orders', '--key-separator', ':'], app, 'o-1:created\no-2:created\no-1:paid\n');
    expect(produced.code, produced.stderr).toBe(0);
    expect(produced.stderr).toContain("produced 3 messages to topic 'orders'");
    const consumed = await npxWafka(['consume', '--topic', 'orders', '--from-beginning', '--max-messages', '3', '--print-key'], app);
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(consumed.stdout.trimEnd().split('\n').sort()).toEqual(['o-1\tcreated', 'o-1\tpaid', 'o-2\tcreated']);
    const described = await npxWafka(['topics', 'describe', 'orders'], app);
    expect(described.stdout).toMatch(/^Topic: orders\tPartitionCount: 3\tReplicationFactor: 1/);
    expect([...described.stdout.matchAll(/Offsets: 0\.\.(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0)).toBe(3);
    expect((await npxWafka(['topics', 'list'], app)).stdout).toBe('orders\n');
    const bad = await npxWafka(['consume'], app);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--topic is required');
  }, 120_000);

  it('with no command: the demo on worker-thread brokers, then the prebuilt playground page until SIGINT', async () => {
    const app = await appDir('cli-demo');
    const demo = await npxWafka(['--demo-only', '--messages', '2000'], app);
    expect(demo.code, demo.stdout + demo.stderr).toBe(0);
    expect(demo.stdout).toMatch(/brokers 0, 1, 2 \(worker threads\)/);
    expect(demo.stdout).toContain('✓ every message came back once');

    // The bin's own node process (not npx's), so that SIGINT reaches it.
    const server = spawn(process.execPath, [join(dir, 'node_modules/wafka/dist/cli.js'), '--no-demo', '--port', '0'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    server.stdout.on('data', (d) => { output += String(d); });
    server.stderr.on('data', (d) => { output += String(d); });
    const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
    try {
      const deadline = Date.now() + 60_000;
      while (!/playground: (http:\/\/127\.0\.0\.1:\d+\/)/.test(output)) {
        if (server.exitCode !== null || Date.now() > deadline) throw new Error(`no playground URL:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(output).not.toContain('building the playground page');
      const url = /playground: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)![1];
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<title>wafka playground</title>');
      server.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      if (server.exitCode === null) server.kill('SIGKILL');
    }
  }, 180_000);

  it('the README\'s Node example, copied verbatim, runs with plain node and prints what it says', async () => {
    const [example] = nodeExamples(await readFile(join(REPO, 'README.md'), 'utf8')).filter((e) => e.name === 'app.mjs');
    const app = await appDir('readme-app');
    await writeFile(join(app, 'app.mjs'), example.code);
    const { stdout } = await execFileAsync(process.execPath, ['app.mjs'], { cwd: app, timeout: 120_000 });
    expect(stdout.trimEnd().split('\n')).toEqual(example.expected);
  }, 150_000);
});
