/**
 * The playground page's controls, driven in Chromium through Playwright: the
 * partitions and messages fields, the brokers count on storage that holds a
 * larger cluster, OPFS and IndexedDB kept apart, progress while a run goes,
 * Cancel, and "Clear storage" during a run. The server is `wafka --no-demo`
 * (the playground alone); storage is the context's (in memory, kept across
 * page loads of the context).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright';

const CHROMIUM = process.env.WAFKA_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let server: ChildProcess;
let output = '';
let url = '';
let browser: Browser;
let page: Page;

beforeAll(async () => {
  server = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--no-demo', '--storage', 'memory', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout!.on('data', (d) => { output += String(d); });
  server.stderr!.on('data', (d) => { output += String(d); });
  const deadline = Date.now() + 120_000;
  while (!/playground: (http:\/\/127\.0\.0\.1:\d+\/)/.test(output)) {
    if (server.exitCode !== null) throw new Error(`wafka exited ${server.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`no playground URL after 120 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  url = /playground: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)![1];
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  page = await (await browser.newContext()).newPage();
  page.on('console', (m) => { if (m.type() === 'error') output += `[page] ${m.text()}\n`; });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (server && server.exitCode === null) server.kill('SIGKILL');
});

const ENDED = ['done', 'error', 'cancelled'];

interface PageState { state: string; status: string; verdict: string; log: string; partitions: string[][]; resultsHidden: boolean; runEnabled: boolean }

async function state(): Promise<PageState> {
  return page.evaluate(() => ({
    state: document.querySelector('#status')!.getAttribute('data-state')!,
    status: document.querySelector('#status')!.textContent ?? '',
    verdict: document.querySelector('#verdict')!.textContent ?? '',
    log: document.querySelector('#log')!.textContent ?? '',
    partitions: [...document.querySelectorAll('#partitions tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
    resultsHidden: (document.querySelector('#results') as HTMLElement).hidden,
    runEnabled: !(document.querySelector('#run') as HTMLButtonElement).disabled,
  }));
}

async function waitForEnd(): Promise<PageState> {
  await page.waitForFunction((ended) => ended.includes(document.querySelector('#status')?.getAttribute('data-state') ?? ''), ENDED, { timeout: 120_000 });
  return state();
}

async function runOnPage(query: string): Promise<PageState> {
  await page.goto(`${url}?autorun=1&${query}`);
  return waitForEnd();
}

/** Starts a long run and waits until the page shows records produced. */
async function startLongRun(): Promise<string> {
  await page.goto(`${url}?autorun=1&storage=opfs&messages=2000000`);
  await page.waitForFunction(() => /^producing: [1-9][\d,]* \/ 2,000,000 records, [\d,]+ records\/s$/.test(document.querySelector('#progress-text')?.textContent ?? ''), null, { timeout: 60_000 });
  return page.evaluate(() => document.querySelector('#progress-text')!.textContent!);
}

describe('the playground page', () => {
  it('an empty or zero messages field is refused with a message, nothing runs (no NaN, no hang)', async () => {
    for (const messages of ['', '0']) {
      const s = await runOnPage(`storage=opfs&messages=${messages}`);
      expect(s.state).toBe('error');
      expect(s.status).toBe(`messages: enter a whole number from 1 to 2,000,000${messages === '' ? '' : ', not 0'}`);
      expect(s.log).not.toContain('NaN');
      expect(s.log).not.toContain('broker workers');
      expect(s.runEnabled).toBe(true);
    }
    expect((await runOnPage('storage=opfs&messages=10&partitions=0')).status).toBe('partitions: enter a whole number from 1 to 64, not 0');
  });

  it('more partitions than the topic has grow it; fewer are reported, not silently ignored', async () => {
    const first = await runOnPage('storage=opfs&brokers=3&partitions=3&messages=3000');
    expect(first.state, output).toBe('done');
    expect(first.partitions).toHaveLength(3);
    const grown = await runOnPage('storage=opfs&brokers=3&partitions=5&messages=3000');
    expect(grown.state, grown.log).toBe('done');
    expect(grown.log).toContain('grew topic "demo" from 3 to 5 partitions');
    expect(grown.partitions).toHaveLength(5);
    const fewer = await runOnPage('storage=opfs&brokers=3&partitions=2&messages=1000');
    expect(fewer.state).toBe('done');
    expect(fewer.log).toContain('topic "demo" keeps its 5 partitions: 2 were asked for, and a Kafka topic cannot shrink');
  }, 240_000);

  it('brokers 1 after a 3-broker run starts the 3 brokers the storage holds, and says so', async () => {
    const s = await runOnPage('storage=opfs&brokers=1&partitions=3&messages=2000');
    expect(s.state, s.log).toBe('done');
    expect(s.log).toContain('note: the opfs storage holds a 3-broker cluster whose partitions live on brokers 0..2: starting 3 brokers, not 1');
    expect(s.verdict).toMatch(/^✓ all 2,000 messages came back/);
  }, 120_000);

  it('IndexedDB runs do not see the OPFS runs\' topic: the first one creates it', async () => {
    const s = await runOnPage('storage=indexeddb&brokers=2&partitions=2&messages=2000');
    expect(s.state, s.log).toBe('done');
    expect(s.log).toContain('created topic "demo" with 2 partitions');
    expect(s.verdict).not.toContain('already held');
    expect(s.partitions).toHaveLength(2);
  }, 120_000);

  it('a run shows records produced and the rate while it runs, and Cancel stops it', async () => {
    await startLongRun();
    await page.click('#cancel');
    const s = await waitForEnd();
    expect(s.state).toBe('cancelled');
    expect(s.log).toContain('run cancelled');
    expect(s.log).toContain('cluster stopped');
    expect(s.resultsHidden).toBe(true);
    expect(s.runEnabled).toBe(true);
  }, 120_000);

  it('Clear storage during a run cancels it first, clears, and takes the old results off the screen', async () => {
    const done = await runOnPage('storage=opfs&brokers=3&partitions=3&messages=1000');
    expect(done.resultsHidden).toBe(false);
    await startLongRun();
    await page.click('#clear');
    await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'storage cleared', null, { timeout: 60_000 });
    const s = await state();
    expect(s.log).toContain('clear storage: cancelling the run first');
    expect(s.log).toContain('run cancelled');
    expect(s.log.indexOf('cluster stopped')).toBeLessThan(s.log.indexOf('cleared OPFS'));
    expect(s.resultsHidden).toBe(true);
    expect(s.verdict).toBe('');
    // Really cleared: the next run creates the topic again, with nothing from before.
    const after = await runOnPage('storage=opfs&brokers=1&partitions=2&messages=1000');
    expect(after.state, after.log).toBe('done');
    expect(after.log).toContain('created topic "demo" with 2 partitions');
    expect(after.log).not.toContain('note:');
    expect(after.verdict).not.toContain('already held');
  }, 180_000);
});
