/**
 * The console page as `wafka start` serves it, in Chromium through Playwright:
 * attached to the server's Node cluster (brokers in worker threads, logs in
 * files) through the live feed, it shows the brokers; a topic is created,
 * given more partitions and deleted through the console's confirmations; a
 * message sent with its produce form shows in its tail. Then the same page
 * with `?attach=page` runs its own cluster and producer, and the chart moves.
 * Ctrl-C stops the server with the console's stream open, exit code 0.
 * Screenshots: test-results/console-node.png, test-results/console-page.png.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
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
  dataDir = await mkdtemp(join(tmpdir(), 'wafka-console-data-'));
  profileDir = await mkdtemp(join(tmpdir(), 'wafka-console-profile-'));
  server = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--messages', '3000', '--port', '0', '--dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout!.on('data', (d) => { output += String(d); });
  server.stderr!.on('data', (d) => { output += String(d); });
  const deadline = Date.now() + 120_000;
  while (!/console: +(http:\/\/127\.0\.0\.1:\d+\/console\.html)/.test(output)) {
    if (server.exitCode !== null) throw new Error(`wafka exited ${server.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`no console URL after 120 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  url = /console: +(http:\/\/127\.0\.0\.1:\d+\/console\.html)/.exec(output)![1];
  context = await chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, args: ARGS, headless: true, viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') output += `[page] ${m.text()}\n`; });
  page.on('pageerror', (e) => { output += `[page] ${e.message}\n`; });
}, 180_000);

afterAll(async () => {
  await context?.close();
  if (server && server.exitCode === null) server.kill('SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
  await rm(profileDir, { recursive: true, force: true });
});

const confirm = async () => { await page.locator('dialog[open] [data-confirm]').click(); };

describe('the console served by wafka start', () => {
  it('shows the Node cluster live; creates, grows and deletes a topic; produces and tails a message', async () => {
    await page.goto(url);
    const brokers = page.locator('[data-broker]');
    await expect.poll(() => brokers.count(), { timeout: 30_000 }).toBe(3);
    for (let i = 0; i < 3; i++) {
      const row = page.locator(`[data-broker="${i}"]`);
      await expect.poll(() => row.getAttribute('data-state'), { timeout: 30_000 }).toBe('up');
      expect(await row.locator('[data-field="runs"]').textContent()).toBe('Node worker thread');
      expect(await row.locator('[data-field="storage"]').textContent()).toBe('files');
    }
    // Live: the status line counts updates without a reload.
    const updates = async () => Number(await page.locator('[data-console-status]').getAttribute('data-updates'));
    const seen = await updates();
    await expect.poll(updates, { timeout: 10_000 }).toBeGreaterThan(seen + 2);

    // Create a topic through the console, behind its confirmation.
    await page.fill('#wc-topics input[name="topic"]', 'console-e2e');
    await page.fill('#wc-topics input[name="partitions"]', '2');
    await page.fill('#wc-topics input[name="replicationFactor"]', '2');
    await page.click('#wc-topics button[type="submit"]');
    await confirm();
    const topic = page.locator('[data-topic="console-e2e"]');
    await expect.poll(() => topic.count(), { timeout: 15_000 }).toBe(1);

    // Tail it (every partition, new messages), then produce through the form.
    await expect.poll(() => page.locator('#wc-tail select[name="topic"] option[value="console-e2e"]').count(), { timeout: 10_000 }).toBe(1);
    await page.selectOption('#wc-tail select[name="topic"]', 'console-e2e');
    await page.click('#wc-tail [data-tail-toggle]');
    await expect.poll(() => page.locator('[data-tail-state]').getAttribute('data-tail-state'), { timeout: 10_000 }).toBe('following');
    await page.selectOption('#wc-produce select[name="topic"]', 'console-e2e');
    await page.fill('#wc-produce input[name="key"]', 'k-1');
    await page.fill('#wc-produce textarea[name="value"]', 'hello from the console');
    await page.fill('#wc-produce textarea[name="headers"]', 'source=e2e');
    await page.click('#wc-produce button[type="submit"]');
    await expect.poll(() => page.locator('[data-produce-result]').textContent(), { timeout: 10_000 }).toMatch(/^sent to console-e2e-\d at offset 0$/);
    await expect.poll(() => page.locator('#wc-tail [data-field="value"]').allTextContents(), { timeout: 10_000 }).toContain('hello from the console');

    // Grow it to 3 partitions; open it: the partition table shows them.
    await topic.locator('summary').click();
    await topic.locator('input[type="number"]').fill('3');
    await topic.locator('button[type="submit"]').click();
    await confirm();
    await expect.poll(() => topic.locator('[data-partition]').count(), { timeout: 15_000 }).toBe(3);
    await expect.poll(() => topic.locator('[data-partition="console-e2e/2"] [data-field="replicas"]').textContent(), { timeout: 15_000 }).toMatch(/^\d, \d$/);
    // The tail follows every partition, the new one too: a message sent to it shows.
    await page.fill('#wc-produce input[name="partition"]', '2');
    await page.fill('#wc-produce textarea[name="value"]', 'to the new partition');
    await page.click('#wc-produce button[type="submit"]');
    await expect.poll(() => page.locator('[data-produce-result]').textContent(), { timeout: 10_000 }).toBe('sent to console-e2e-2 at offset 0');
    await expect.poll(() => page.locator('#wc-tail [data-offset="2/0"]').count(), { timeout: 10_000 }).toBe(1);
    await mkdir('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/console-node.png', fullPage: true });

    // Delete it; a cancelled confirmation changes nothing first.
    await topic.locator('button.danger').click();
    await page.locator('dialog[open] button[value="cancel"]').click();
    await topic.locator('button.danger').click();
    await confirm();
    await expect.poll(() => topic.count(), { timeout: 15_000 }).toBe(0);
  }, 180_000);

  it("attaches to the page's own cluster instead (?attach=page), with a producer: the chart moves", async () => {
    await page.goto(`${url}?attach=page&storage=opfs&brokers=3&topic=clicks`);
    const section = page.locator('#wc-throughput');
    await expect.poll(async () => Number(await section.getAttribute('data-records-in-per-sec')), { timeout: 60_000 }).toBeGreaterThan(0);
    await expect.poll(async () => Number(await section.getAttribute('data-points')), { timeout: 60_000 }).toBeGreaterThan(20);
    expect(await page.locator('[data-broker="0"] [data-field="runs"]').textContent()).toBe('dedicated worker (this page)');
    await page.locator('[data-topic="clicks"] summary').click();
    await page.selectOption('#wc-tail select[name="format"]', 'json');
    await page.click('#wc-tail [data-tail-toggle]');
    await expect.poll(() => page.locator('#wc-tail tbody tr').count(), { timeout: 15_000 }).toBeGreaterThan(10);
    await page.screenshot({ path: 'test-results/console-page.png', fullPage: true });
  }, 120_000);

  it('stops cleanly on Ctrl-C with the console still streaming: exit code 0', async () => {
    await page.goto(url);
    await expect.poll(() => page.locator('[data-broker]').count(), { timeout: 30_000 }).toBe(3);
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    server.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('stopped: brokers flushed and closed, workers ended.');
  }, 30_000);
});
