/**
 * One cluster for every tab of an origin, in real Chromium through Playwright:
 * a persistent context (on-disk OPFS), several pages on 127.0.0.1, each a
 * fixture tab (test/e2e/fixtures/tabs/) that joins with
 * startCluster({ shared: true }) and hosts one broker worker. Closing a page
 * is a tab closing: its locks are freed, its ports go silent.
 */
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright';

const CHROMIUM = process.env.WAFKA_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };

let outDir: string;
let profileDir: string;
let server: Server;
let url = '';
let context: BrowserContext;
let pageLog = '';

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'wafka-tabs-site-'));
  profileDir = await mkdtemp(join(tmpdir(), 'wafka-tabs-profile-'));
  const { build } = await import('vite');
  await build({
    configFile: false, root: fileURLToPath(new URL('./fixtures/tabs/', import.meta.url)), base: './', logLevel: 'warn',
    worker: { format: 'es' },
    build: { outDir, emptyOutDir: true, target: 'es2022', sourcemap: false, reportCompressedSize: false, minify: false },
  });
  server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    try {
      const body = await readFile(join(outDir, path === '/' ? 'index.html' : path));
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? (path === '/' ? 'text/html' : 'application/octet-stream') });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  context = await chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, args: ARGS, headless: true });
}, 180_000);

afterAll(async () => {
  await context?.close();
  await new Promise((resolve) => server?.close(resolve));
  await rm(outDir, { recursive: true, force: true });
  await rm(profileDir, { recursive: true, force: true });
});

interface Hosting { tabId: string; hostedBrokerIds: number[]; controller: boolean; controllerEpoch: number; runningBrokerIds: number[] }
interface PartitionView { partition: number; leader: number; isr: number[]; replicas: number[] }

type TabApi = {
  join(o: { clusterId: string; brokers: number; maxBrokersPerTab: number; brokerSessionTimeoutMs?: number }): Promise<string>;
  hosting(): Hosting;
  createTopic(topic: string, partitions: number, rf: number, minIsr: number): Promise<void>;
  partitions(topic: string): Promise<PartitionView[]>;
  brokerHosts(): Promise<{ brokers: { nodeId: number; host: string }[]; controller: number }>;
  startProducing(topic: string, prefix: string): void;
  stopProducing(): Promise<number>;
  acknowledged(): string[];
  startConsuming(topic: string, groupId: string): Promise<void>;
  consumedCount(): number;
  missing(values: string[]): string[];
  errors(): string[];
  hangBroker(nodeId: number, ms: number): void;
  leave(): Promise<void>;
};

/** Calls wafkaTab.<method>(...args) in the page. */
function call<K extends keyof TabApi>(page: Page, method: K, ...args: Parameters<TabApi[K]>): Promise<Awaited<ReturnType<TabApi[K]>>> {
  return page.evaluate(([m, a]) => (globalThis as any).wafkaTab[m](...a), [method, args] as const) as never;
}

async function openTab(): Promise<Page> {
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error' && pageLog.length < 20_000) pageLog += `[page] ${m.text()}\n`; });
  page.on('pageerror', (e) => { if (pageLog.length < 20_000) pageLog += `[pageerror] ${e.message}\n`; });
  await page.goto(url);
  await page.waitForFunction(() => (globalThis as any).wafkaTab !== undefined);
  return page;
}

async function until<T>(what: string, probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (ok(last)) return last;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not after ${timeoutMs} ms (last: ${JSON.stringify(last)}, error: ${String(lastError)})\n${pageLog.slice(-4_000)}`);
}

const fullIsr = (ps: PartitionView[]) => ps.length > 0 && ps.every((p) => p.isr.length === p.replicas.length && p.leader >= 0);

describe('many tabs, one cluster', () => {
  it('3 tabs, RF=3, minInsyncReplicas 2: A produces, B and C consume; closing the tab hosting leaders moves leadership and loses nothing acknowledged, 10 times; a fourth tab joins while A produces', async () => {
    const clusterId = `tabs-${Date.now().toString(36)}`;
    const join = { clusterId, brokers: 3, maxBrokersPerTab: 1 };
    const a = await openTab();
    const tabs: Page[] = [a, await openTab(), await openTab()];
    for (const tab of tabs) await call(tab, 'join', join);
    const hosting = await Promise.all(tabs.map((t) => call(t, 'hosting')));
    expect(hosting.map((h) => h.hostedBrokerIds.length)).toEqual([1, 1, 1]);
    expect(new Set(hosting.flatMap((h) => h.hostedBrokerIds))).toEqual(new Set([0, 1, 2]));
    expect(hosting.filter((h) => h.controller)).toHaveLength(1);
    // Where each broker runs is in the cluster's metadata: host 'tab:<tabId>'.
    const hosts = await call(tabs[1], 'brokerHosts');
    for (const h of hosting) expect(hosts.brokers.find((b) => b.nodeId === h.hostedBrokerIds[0])?.host).toBe(`tab:${h.tabId}`);

    await call(a, 'createTopic', 'events', 3, 3, 2);
    await until('full ISR', () => call(a, 'partitions', 'events'), fullIsr);
    await call(tabs[1], 'startConsuming', 'events', 'b');
    await call(tabs[2], 'startConsuming', 'events', 'c');
    call(a, 'startProducing', 'events', 'a');

    for (let cycle = 0; cycle < 10; cycle++) {
      const before = await call(a, 'partitions', 'events');
      // Close the consumer tab that leads the most partitions.
      const led = await Promise.all([1, 2].map(async (i) => {
        const ids = (await call(tabs[i], 'hosting')).hostedBrokerIds;
        return { i, ids, leads: before.filter((p) => ids.includes(p.leader)).length };
      }));
      const victim = led.sort((x, y) => y.leads - x.leads || (x.i === 1 + (cycle % 2) ? -1 : 1))[0];
      const ackedBefore = (await call(a, 'acknowledged')).length;
      await tabs[victim.i].close();
      const closedBroker = victim.ids[0];
      const moved = await until(`cycle ${cycle}: leadership off broker ${closedBroker}`, () => call(a, 'partitions', 'events'),
        (ps) => ps.every((p) => p.leader !== closedBroker && p.leader >= 0));
      if (victim.leads > 0) expect(moved.filter((p) => before.find((b) => b.partition === p.partition)!.leader === closedBroker).every((p) => p.leader !== closedBroker)).toBe(true);
      await until(`cycle ${cycle}: producing goes on`, () => call(a, 'acknowledged'), (acked) => acked.length > ackedBefore + 50);
      // Reopen: the new tab takes the freed id, recovers its log and rejoins the ISR.
      const reopened = await openTab();
      tabs[victim.i] = reopened;
      await call(reopened, 'join', join);
      expect((await call(reopened, 'hosting')).hostedBrokerIds).toEqual([closedBroker]);
      await until(`cycle ${cycle}: broker ${closedBroker} back in every ISR`, () => call(a, 'partitions', 'events'), fullIsr);
      await call(reopened, 'startConsuming', 'events', `${victim.i === 1 ? 'b' : 'c'}${cycle}`);
    }

    // A fourth tab opening while A produces hosts nothing (every id is taken) and reads everything.
    const d = await openTab();
    await call(d, 'join', join);
    expect((await call(d, 'hosting')).hostedBrokerIds).toEqual([]);
    await call(d, 'startConsuming', 'events', 'd');

    await call(a, 'stopProducing');
    const acknowledged = await call(a, 'acknowledged');
    expect(acknowledged.length).toBeGreaterThan(500);
    for (const reader of [tabs[1], tabs[2], d]) {
      await until('acknowledged − consumed = ∅', () => call(reader, 'missing', acknowledged), (missing) => missing.length === 0);
    }
    for (const tab of [...tabs, d]) await call(tab, 'leave');
    for (const tab of [...tabs, d]) await tab.close();
  }, 400_000);
});
