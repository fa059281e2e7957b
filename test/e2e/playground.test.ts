/**
 * `npm start` end to end: the server process (cluster of worker-thread
 * brokers, playground served on 127.0.0.1) and the playground page in real
 * Chromium through Playwright, with a persistent profile so OPFS is on disk.
 * The page runs the demo with broker workers on OPFS, twice (the second run
 * finds the first run's records), then IndexedDB; Ctrl-C stops the server
 * with exit code 0. Screenshot: test-results/playground.png.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright';

const CHROMIUM = process.env.WAFKA_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let server: ChildProcess;
let output = '';
let url = '';
let context: BrowserContext;
let page: Page;
let dataDir: string;
let profileDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'wafka-e2e-data-'));
  profileDir = await mkdtemp(join(tmpdir(), 'wafka-e2e-profile-'));
  server = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--messages', '20000', '--port', '0', '--dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout!.on('data', (d) => { output += String(d); });
  server.stderr!.on('data', (d) => { output += String(d); });
  const deadline = Date.now() + 120_000;
  while (!/playground: (http:\/\/127\.0\.0\.1:\d+\/)/.test(output)) {
    if (server.exitCode !== null) throw new Error(`npm start exited ${server.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`no playground URL after 120 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  url = /playground: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)![1];
  context = await chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, args: ARGS, headless: true, viewport: { width: 1000, height: 900 } });
  page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') output += `[page] ${m.text()}\n`; });
}, 180_000);

afterAll(async () => {
  await context?.close();
  if (server && server.exitCode === null) server.kill('SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
  await rm(profileDir, { recursive: true, force: true });
});

async function runOnPage(query: string): Promise<{ state: string; verdict: string; produce: string[]; consume: string[]; partitions: string[][] }> {
  await page.goto(`${url}?autorun=1&${query}`);
  await page.waitForFunction(() => ['done', 'error'].includes(document.querySelector('#status')?.getAttribute('data-state') ?? ''), null, { timeout: 120_000 });
  return page.evaluate(() => {
    const cells = (id: string) => [...document.querySelectorAll(`${id} td`)].map((td) => td.textContent ?? '');
    return {
      state: document.querySelector('#status')!.getAttribute('data-state')!,
      verdict: document.querySelector('#verdict')!.textContent ?? '',
      produce: cells('#row-produce'),
      consume: cells('#row-consume'),
      partitions: [...document.querySelectorAll('#partitions tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
    };
  });
}

describe('npm start and the playground page', () => {
  it('prints the Node demo with its throughput', () => {
    expect(output).toMatch(/cluster up in \d+ ms: brokers 0, 1, 2 \(worker threads\)/);
    expect(output).toMatch(/produce\s+[\d,]+ records\/s/);
    expect(output).toMatch(/consume\s+[\d,]+ records\/s/);
    expect(output).toContain('✓ every message came back once');
  });

  it('runs the demo in Chromium with broker workers on OPFS, and again after a restart on the same storage', async () => {
    const first = await runOnPage('storage=opfs&messages=20000');
    expect(first.state, output).toBe('done');
    expect(first.verdict).toMatch(/^✓ all 20,000 messages came back/);
    expect(first.partitions).toHaveLength(3);
    expect(first.partitions.reduce((n, p) => n + Number(p[1].replace(/,/g, '')), 0)).toBe(20_000);
    expect(Number(first.produce[1].replace(/,/g, ''))).toBeGreaterThan(0);
    expect(first.consume[4]).toContain('3 broker workers on opfs');
    await mkdir('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/playground.png', fullPage: true });

    // A new cluster (new workers) on the same OPFS directories finds the first run's records.
    const second = await runOnPage('storage=opfs&messages=5000');
    expect(second.state, output).toBe('done');
    expect(second.verdict).toContain('already held 20,000 records from earlier runs (read back from opfs)');
    expect(second.partitions.map((p) => p[2].split('..')[0]).map(Number).reduce((a, b) => a + b, 0)).toBe(20_000);
  }, 240_000);

  it('runs it with broker workers on IndexedDB', async () => {
    const result = await runOnPage('storage=indexeddb&messages=5000');
    expect(result.state, output).toBe('done');
    expect(result.verdict).toMatch(/^✓ all 5,000 messages/);
  }, 180_000);

  it('stops cleanly on Ctrl-C (SIGINT): exit code 0', async () => {
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    server.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('stopped: brokers flushed and closed, workers ended.');
  }, 30_000);
});
