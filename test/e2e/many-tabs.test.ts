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
  // The playground too, under /playground/ (its "Many tabs" section).
  // @ts-expect-error: a plain .mjs module beside the page, shared with scripts/build.mjs (no types).
  const { playgroundViteConfig } = await import('../../playground/vite-config.mjs');
  await build(playgroundViteConfig(join(outDir, 'playground')));
  server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    try {
      const body = await readFile(join(outDir, path.endsWith('/') ? `${path}index.html` : path));
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? (path.endsWith('/') ? 'text/html' : 'application/octet-stream') });
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
  consumedValues(): string[];
  consumedTimes(): [string, number][];
  groupState(groupId: string): Promise<{ state: string; members: number }>;
  partitionsVia(topic: string, nodeId: number): Promise<PartitionView[]>;
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
  // The last 20,000 characters of what pages report as errors.
  page.on('console', (m) => { if (m.type() === 'error') pageLog = `${pageLog}[page] ${m.text()}\n`.slice(-20_000); });
  page.on('pageerror', (e) => { pageLog = `${pageLog}[pageerror] ${e.message}\n`.slice(-20_000); });
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
  throw new Error(`${what}: not after ${timeoutMs} ms (last: ${JSON.stringify(last)}, error: ${String(lastError)})\n${pageLog}`);
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

  it('B and C consume in one group: each message handled by exactly one of them; closing C hands its partitions to B, and a tab that opens later takes its share; nothing acknowledged is lost', async () => {
    const clusterId = `group-${Date.now().toString(36)}`;
    const join = { clusterId, brokers: 3, maxBrokersPerTab: 1 };
    const [a, b, c] = [await openTab(), await openTab(), await openTab()];
    for (const tab of [a, b, c]) await call(tab, 'join', join);
    await call(a, 'createTopic', 'work', 6, 3, 2);
    await until('full ISR', () => call(a, 'partitions', 'work'), fullIsr);
    await call(b, 'startConsuming', 'work', 'workers');
    await call(c, 'startConsuming', 'work', 'workers');
    await until('one group of B and C, stable', () => call(a, 'groupState', 'workers'), (g) => g.state === 'Stable' && g.members === 2);

    // While the group does not change, every message is handled once, by B or by C.
    call(a, 'startProducing', 'work', 'first');
    await until('some acknowledged', () => call(a, 'acknowledged'), (acked) => acked.length > 300);
    await call(a, 'stopProducing');
    const handled = async () => {
      const times = new Map<string, number>();
      for (const tab of [b, c]) for (const [value, n] of await call(tab, 'consumedTimes')) times.set(value, (times.get(value) ?? 0) + n);
      return times;
    };
    const acknowledgedFirst = await call(a, 'acknowledged');
    const times = await until('B and C handled every acknowledged message', handled, (t) => acknowledgedFirst.every((v) => t.has(v)));
    expect([...times.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    expect(times.size).toBe(acknowledgedFirst.length);
    const [byB, byC] = [(await call(b, 'consumedTimes')).length, (await call(c, 'consumedTimes')).length];
    expect(byB).toBeGreaterThan(0);
    expect(byC).toBeGreaterThan(0);
    expect(acknowledgedFirst.length).toBeGreaterThan(300);

    // C closes (its broker with it): B takes C's partitions over; a new tab D then joins the group and takes a share.
    const seen = new Set([...(await call(b, 'consumedValues')), ...(await call(c, 'consumedValues'))]);
    call(a, 'startProducing', 'work', 'second');
    await c.close();
    await until('the group is B alone', () => call(a, 'groupState', 'workers'), (g) => g.state === 'Stable' && g.members === 1);
    const d = await openTab();
    await call(d, 'join', join);
    await call(d, 'startConsuming', 'work', 'workers');
    await until('the group is B and D', () => call(a, 'groupState', 'workers'), (g) => g.state === 'Stable' && g.members === 2);
    await until('D handles new messages', () => call(d, 'consumedCount'), (n) => n > 20);
    await call(a, 'stopProducing');
    const acknowledged = await call(a, 'acknowledged');
    await until('acknowledged − consumed = ∅', async () => {
      const now = new Set([...seen, ...(await call(b, 'consumedValues')), ...(await call(d, 'consumedValues'))]);
      return acknowledged.filter((v) => !now.has(v));
    }, (missing) => missing.length === 0);
    for (const tab of [a, b, d]) await call(tab, 'leave');
    for (const tab of [a, b, d]) await tab.close();
  }, 200_000);

  it('a stuck broker (its worker busy-looping, its lock still held) is fenced by session expiry; when it wakes it rejoins, and nothing acknowledged is lost', async () => {
    const clusterId = `stuck-${Date.now().toString(36)}`;
    const join = { clusterId, brokers: 3, maxBrokersPerTab: 1, brokerSessionTimeoutMs: 1_500 };
    const tabs = [await openTab(), await openTab(), await openTab()];
    for (const tab of tabs) await call(tab, 'join', join);
    const [a, b] = tabs;
    await call(a, 'createTopic', 'stuck', 1, 3, 2);
    await until('full ISR', () => call(a, 'partitions', 'stuck'), fullIsr);
    call(a, 'startProducing', 'stuck', 'a');
    await until('some acknowledged', () => call(a, 'acknowledged'), (acked) => acked.length > 50);
    const leader = (await call(a, 'partitions', 'stuck'))[0].leader;
    const hostings = await Promise.all(tabs.map((t) => call(t, 'hosting')));
    const stuckTab = tabs[hostings.findIndex((h) => h.hostedBrokerIds.includes(leader))];
    const witness = hostings.find((h) => !h.hostedBrokerIds.includes(leader))!;
    const witnessTab = tabs[hostings.indexOf(witness)];
    await call(stuckTab, 'hangBroker', leader, 8_000);
    // Asked of a broker that is not stuck: a new leader, while the stuck broker's lock is still held (no tab closed).
    const moved = await until('a new leader while the old one hangs', () => call(witnessTab, 'partitionsVia', 'stuck', witness.hostedBrokerIds[0]),
      (ps) => ps[0].leader >= 0 && ps[0].leader !== leader && !ps[0].isr.includes(leader));
    expect(moved[0].isr.length).toBeGreaterThanOrEqual(2);
    expect((await call(witnessTab, 'hosting')).runningBrokerIds).toContain(leader);
    // Awake, it finds itself fenced, registers again, truncates what it took as a stale leader, catches up.
    await until('the stuck broker back in the ISR', () => call(witnessTab, 'partitionsVia', 'stuck', witness.hostedBrokerIds[0]), fullIsr);
    const ackedAfter = (await call(a, 'acknowledged')).length;
    await until('producing goes on', () => call(a, 'acknowledged'), (acked) => acked.length > ackedAfter + 50);
    await call(a, 'stopProducing');
    const acknowledged = await call(a, 'acknowledged');
    await call(b, 'startConsuming', 'stuck', 'b');
    await until('acknowledged − consumed = ∅', () => call(b, 'missing', acknowledged), (missing) => missing.length === 0);
    for (const tab of tabs) await call(tab, 'leave');
    for (const tab of tabs) await tab.close();
  }, 200_000);

  it('reloading every tab, one by one, while producing loses nothing acknowledged; reloading the controller\'s tab moves the controller', async () => {
    const clusterId = `reload-${Date.now().toString(36)}`;
    const join = { clusterId, brokers: 3, maxBrokersPerTab: 1 };
    const tabs = [await openTab(), await openTab(), await openTab()];
    for (const tab of tabs) await call(tab, 'join', join);
    const a = tabs[0];
    await call(a, 'createTopic', 'reload', 3, 3, 2);
    await until('full ISR', () => call(a, 'partitions', 'reload'), fullIsr);
    const acknowledged: string[] = [];
    let round = 0;
    const producer = () => tabs.find((t) => t !== reloading) ?? a;
    let reloading: Page | undefined;
    let producing = a;
    call(producing, 'startProducing', 'reload', `p${round}`);
    for (let i = 0; i < tabs.length; i++) {
      reloading = tabs[i];
      if (reloading === producing) {
        // The producing tab hands producing over before it reloads (what it acknowledged is kept).
        await call(producing, 'stopProducing');
        acknowledged.push(...await call(producing, 'acknowledged'));
        producing = producer();
        call(producing, 'startProducing', 'reload', `p${++round}`);
      }
      const wasController = (await call(reloading, 'hosting')).controller;
      const epochBefore = (await call(producing, 'hosting')).controllerEpoch;
      await until('producing', () => call(producing, 'acknowledged'), (acked) => acked.length > 20);
      await reloading.reload();
      await reloading.waitForFunction(() => (globalThis as any).wafkaTab !== undefined);
      await call(reloading, 'join', join);
      await until(`tab ${i} back in every ISR`, () => call(producing, 'partitions', 'reload'), fullIsr);
      if (wasController) {
        const others = await Promise.all(tabs.map((t) => call(t, 'hosting')));
        expect(others.filter((h) => h.controller)).toHaveLength(1);
        expect(others.find((h) => h.controller)!.controllerEpoch).toBeGreaterThan(epochBefore);
      }
    }
    await call(producing, 'stopProducing');
    acknowledged.push(...await call(producing, 'acknowledged'));
    expect(acknowledged.length).toBeGreaterThan(100);
    await call(tabs[1], 'startConsuming', 'reload', 'after-reloads');
    await until('acknowledged − consumed = ∅', () => call(tabs[1], 'missing', acknowledged), (missing) => missing.length === 0);
    for (const tab of tabs) await call(tab, 'leave');
    for (const tab of tabs) await tab.close();
  }, 200_000);

  it('two clusterIds in one origin stay apart', async () => {
    const suffix = Date.now().toString(36);
    const [p, q] = [await openTab(), await openTab()];
    await call(p, 'join', { clusterId: `x-${suffix}`, brokers: 1, maxBrokersPerTab: 1 });
    await call(q, 'join', { clusterId: `y-${suffix}`, brokers: 1, maxBrokersPerTab: 1 });
    // Each cluster's broker 0 and controller run in its own tab: neither lock is the other's.
    for (const tab of [p, q]) expect(await call(tab, 'hosting')).toMatchObject({ hostedBrokerIds: [0], controller: true, controllerEpoch: 1 });
    for (const [tab, prefix] of [[p, 'x'], [q, 'y']] as const) {
      await call(tab, 'createTopic', 't', 1, 1, 1);
      call(tab, 'startProducing', 't', prefix);
    }
    for (const tab of [p, q]) await until('some acknowledged', () => call(tab, 'acknowledged'), (acked) => acked.length > 20);
    for (const tab of [p, q]) await call(tab, 'stopProducing');
    for (const [tab, prefix] of [[p, 'x'], [q, 'y']] as const) {
      const acknowledged = await call(tab, 'acknowledged');
      await call(tab, 'startConsuming', 't', 'g');
      await until('acknowledged − consumed = ∅', () => call(tab, 'missing', acknowledged), (missing) => missing.length === 0);
      const values = await call(tab, 'consumedValues');
      expect(values.filter((v) => !v.startsWith(`${prefix}-`))).toEqual([]);
    }
    for (const tab of [p, q]) await call(tab, 'leave');
    for (const tab of [p, q]) await tab.close();
  }, 120_000);

  it('the console, attached to the cluster the tabs share, shows which tab runs each broker, and a closed tab\'s broker as down', async () => {
    const consolePage = `${url}playground/console.html?attach=page&cluster=shared&storage=opfs&brokers=2&topic=shared-console`;
    const viewer = await context.newPage();
    await viewer.goto(`${consolePage}&producer=1`);
    const other = await context.newPage();
    await other.goto(`${consolePage}&producer=0`);
    const runsIn = () => viewer.$$eval('#wc-brokers tbody tr', (trs) => trs.map((tr) => ({
      broker: tr.getAttribute('data-broker'), state: tr.getAttribute('data-state'), runs: tr.querySelector('[data-field=runs]')?.textContent ?? '',
    })));
    const tabIds = await Promise.all([viewer, other].map((p) => p.waitForFunction(() => (globalThis as any).wafkaConsole?.cluster?.tabId).then((h) => h.jsonValue() as Promise<string>)));
    const rows = await until('both brokers up, each in its tab', runsIn, (r) => r.length === 2 && r.every((row) => row.state === 'up' && row.runs.startsWith('tab ')));
    expect(rows.map((r) => r.runs).sort()).toEqual([`tab ${tabIds[0]} (this tab)`, `tab ${tabIds[1]}`].sort());
    await viewer.screenshot({ path: 'test-results/console-shared-tabs.png', fullPage: true });
    const closedBroker = rows.find((r) => r.runs === `tab ${tabIds[1]}`)!.broker;
    await other.close();
    const down = await until('the closed tab\'s broker shown down', runsIn, (r) => r.find((row) => row.broker === closedBroker)?.state === 'down', 15_000);
    expect(down.find((row) => row.broker === closedBroker)!.runs).toBe(`tab ${tabIds[1]} (last seen)`);
    await viewer.close();
  }, 120_000);

  it('the playground shows which tab runs which broker, and a closed tab\'s broker as down', async () => {
    const pages = [] as Page[];
    for (let i = 0; i < 3; i++) {
      const page = await context.newPage();
      await page.goto(`${url}playground/`);
      await page.click('#join-shared');
      await page.waitForSelector('#shared-brokers:not([hidden])', { timeout: 60_000 }).catch(async (error) => {
        throw new Error(`${String(error)}\nplayground log: ${await page.textContent('#log')}\n${pageLog}`);
      });
      pages.push(page);
    }
    const rows = (page: Page) => page.$$eval('#shared-brokers tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    const tabIdOf = async (page: Page) => /this tab: (\w+)/.exec(await page.textContent('#shared-status') ?? '')?.[1];
    const ids = await Promise.all(pages.map(tabIdOf));
    for (const [i, page] of pages.entries()) {
      const table = await until('every broker shown in its tab', () => rows(page), (r) => r.length === 3 && r.every((row) => row[1].startsWith('tab ')));
      // Each broker runs in one of the three tabs, one each, and this tab's own is marked.
      expect(new Set(table.map((row) => row[1]))).toEqual(new Set(ids.map((id) => `tab ${id}`)));
      expect(table.filter((row) => row[2] === 'this tab').map((row) => row[1])).toEqual([`tab ${ids[i]}`]);
    }
    const closedBroker = (await rows(pages[2])).find((row) => row[2] === 'this tab')![0];
    await pages[2].close();
    await until('the closed tab\'s broker shown down', () => rows(pages[0]), (r) => r.find((row) => row[0] === closedBroker)?.[1] === 'no tab (down)');
    for (const page of pages.slice(0, 2)) {
      await page.click('#leave-shared');
      await page.waitForSelector('#shared-brokers[hidden]', { state: 'attached' });
      await page.close();
    }
  }, 120_000);
});
