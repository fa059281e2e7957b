/**
 * The cross-tab suite (Chromium, several tabs of one persistent profile):
 * wafka's shared cluster carrying messages from a producing tab A to a
 * consuming tab B, brokers spread over both tabs (one broker worker each,
 * OPFS, replication factor 2, acks=-1), against the `broadcast-channel`
 * package and a raw BroadcastChannel on the same messages (neither durable,
 * nor ordered across restarts, nor replayable). Rounds interleave the three.
 *
 *   crosstab-e2e-chromium-opfs    messages/s delivered A → B (send start → last received)
 *   crosstab-latency-chromium     p50/p99 of send → receive, one message every 5 ms
 *   crosstab-failover-tab-close   p50/p99 over closes of the tab leading the partition: from the
 *                                 close to the first acknowledged send started after it
 */
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright';
import { CHROMIUM, CHROMIUM_ARGS, chromiumVersion } from '../lib/chromium.ts';
import { percentile, summarize, type Case, type CaseResult, type MeasureOptions } from '../lib/measure.ts';
import { ROOT } from '../lib/node.ts';
import { caseTable } from '../lib/report.ts';

type Kind = 'wafka' | 'broadcast-channel' | 'broadcastchannel-raw';
const KINDS: Kind[] = ['wafka', 'broadcast-channel', 'broadcastchannel-raw'];

function call(page: Page, method: string, ...args: unknown[]): Promise<any> {
  return page.evaluate(([m, a]) => (globalThis as any).crosstab[m as string](...(a as unknown[])), [method, args] as const);
}

export async function runCrosstab(opts: Partial<MeasureOptions> & Record<string, unknown>, log: (s: string) => void): Promise<{ results: CaseResult[]; runtime: string }> {
  const quick = !!opts.quick;
  const { createServer } = await import('vite');
  const { chromium } = await import('playwright');
  const server = await createServer({
    root: ROOT, configFile: false, logLevel: 'warn', clearScreen: false,
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false, watch: null, fs: { allow: [ROOT, realpathSync(join(ROOT, 'node_modules'))] } },
    worker: { format: 'es' },
    optimizeDeps: { entries: ['bench/crosstab/index.html'], include: ['idb', 'comlink/dist/esm/comlink.mjs', 'broadcast-channel'] },
  });
  await server.listen();
  const addr = server.httpServer!.address() as { port: number };
  const url = `http://127.0.0.1:${addr.port}/bench/crosstab/index.html`;
  const profile = mkdtempSync(join(tmpdir(), 'wafka-bench-crosstab-'));
  const context: BrowserContext = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const open = async () => {
    const page = await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') log(`  [chromium] ${m.text()}`); });
    await page.goto(url);
    await page.waitForFunction(() => (globalThis as any).crosstab !== undefined, null, { timeout: 120_000 });
    return page;
  };
  const results: CaseResult[] = [];
  const runtime = `${chromiumVersion()}, headless, persistent profile (OPFS on disk)`;
  try {
    // ---- throughput and latency: tabs A and B, one broker worker each
    const clusterId = `bench-crosstab-${Date.now().toString(36)}`;
    const [a, b] = [await open(), await open()];
    await call(a, 'join', clusterId, 2, 1);
    await call(b, 'join', clusterId, 2, 1);
    log(`hosting: A ${JSON.stringify(await call(a, 'hosting'))}, B ${JSON.stringify(await call(b, 'hosting'))}`);
    // 100,000 messages: a round of 20,000 took ~120 ms, in which the producer's connect and the consumer's first
    // fetches weighed (4.5-5x broadcast-channel at 20,000 against 6.5-7.5x at 100,000 in the same probe).
    const n = quick ? 20_000 : 100_000;
    const rounds = Number(opts.rounds ?? (quick ? 2 : 3));
    let topicSeq = 0;
    const carry = async (kind: Kind, count: number, gapMs: number) => {
      const name = `${kind}-${topicSeq++}`;
      if (kind === 'wafka') await call(a, 'createTopic', name, 2, 2, 1);
      await call(b, 'receive', kind, name, count);
      const startMs: number = await call(a, 'send', kind, name, count, 100, gapMs);
      const got = await call(b, 'received', 120_000) as { count: number; lastMs: number; latenciesMs: number[] };
      if (got.count !== count) throw new Error(`${kind}: ${got.count} of ${count} messages arrived`);
      return { messagesPerSec: count / ((got.lastMs - startMs) / 1000), latenciesMs: got.latenciesMs };
    };
    await carry('wafka', Math.min(n, 2_000), 0); // warm-up
    const throughput = new Map<string, number[]>(KINDS.map((k) => [k, []]));
    for (let r = 0; r < rounds; r++) {
      for (const kind of r % 2 ? [...KINDS].reverse() : KINDS) {
        const { messagesPerSec } = await carry(kind, n, 0);
        throughput.get(kind)!.push(messagesPerSec);
      }
      log(`round ${r + 1}/${rounds}: ${KINDS.map((k) => `${k} ${throughput.get(k)!.at(-1)!.toFixed(0)} msg/s`).join(', ')}`);
    }
    const e2e: Case = {
      metric: 'crosstab-e2e-chromium-opfs', unit: 'messages/s', higherIsBetter: true,
      note: `${n} messages of 100 bytes from tab A to tab B per round, ${rounds} rounds; send start to the last one received in B. Two tabs, one broker worker each (OPFS), topic of 2 partitions, replication factor 2, acks=-1. Machine shared with other agents (2 cores)`,
      goal: { peer: 'broadcast-channel', ratio: 10 },
      contenders: [
        { name: 'wafka', role: 'wafka', note: 'producer in A (batches of 500, lingerMs 2, acks=-1), consumer in B (eachBatch); brokers reached through MessagePorts handed over by the relay SharedWorker; durable, ordered per partition, replayable' },
        { name: 'broadcast-channel', role: 'peer', note: 'the broadcast-channel package (method native, its default in Chromium): postMessage per message, onmessage in B; not durable' },
        { name: 'broadcastchannel-raw', role: 'peer', note: 'the platform BroadcastChannel: postMessage per message; not durable' },
      ],
    };
    const e2eResult = summarize(e2e, throughput);
    log(caseTable(e2eResult));
    results.push(e2eResult);

    const count = quick ? 100 : 300;
    const latency = new Map<Kind, { p50: number[]; p99: number[] }>(KINDS.map((k) => [k, { p50: [], p99: [] }]));
    for (let r = 0; r < 2; r++) {
      for (const kind of r % 2 ? [...KINDS].reverse() : KINDS) {
        const { latenciesMs } = await carry(kind, count, 5);
        latency.get(kind)!.p50.push(percentile(latenciesMs, 50));
        latency.get(kind)!.p99.push(percentile(latenciesMs, 99));
      }
    }
    for (const q of ['p50', 'p99'] as const) {
      const c: Case = {
        metric: `crosstab-latency-${q}-chromium`, unit: 'ms', higherIsBetter: false,
        note: `${count} messages, one every 5 ms (each send awaited), 2 runs; the ${q} of send in A → received in B of each run`,
        ...(q === 'p99' ? { goal: { value: 5 } } : {}),
        contenders: [
          { name: 'wafka', role: 'wafka', note: 'lingerMs 0, acks=-1, replication factor 2: received once both replicas have it (the high watermark)' },
          { name: 'broadcast-channel', role: 'peer', note: 'the broadcast-channel package' },
          { name: 'broadcastchannel-raw', role: 'peer', note: 'the platform BroadcastChannel' },
        ],
      };
      const res = summarize(c, new Map([...latency].map(([k, v]) => [k, v[q]])));
      log(caseTable(res));
      results.push(res);
    }
    await call(a, 'leave');
    await call(b, 'leave');
    await a.close();
    await b.close();

    // ---- failover: A produces (hosting no broker), three broker tabs; close the one leading the partition
    const failoverId = `bench-failover-${Date.now().toString(36)}`;
    const producerTab = await open();
    const brokerTabs = [await open(), await open(), await open()];
    for (const t of brokerTabs) await call(t, 'join', failoverId, 3, 1);
    await call(producerTab, 'join', failoverId, 3, 0);
    await call(producerTab, 'createTopic', 'failover', 1, 3, 2);
    await call(producerTab, 'startSteadyProduce', 'failover');
    const closes = quick ? 5 : 20;
    const failoverMs: number[] = [];
    for (let k = 0; k < closes; k++) {
      const [leader] = await call(producerTab, 'leaders', 'failover') as number[];
      const hostings = await Promise.all(brokerTabs.map((t) => call(t, 'hosting')));
      const i = hostings.findIndex((h: { hostedBrokerIds: number[] }) => h.hostedBrokerIds.includes(leader));
      const closedMs: number = await call(producerTab, 'now');
      await brokerTabs[i].close();
      const goneMs: number = await call(producerTab, 'now');
      let ackedMs: number | null = null;
      for (let w = 0; w < 600 && ackedMs === null; w++) {
        ackedMs = await call(producerTab, 'firstAckSince', goneMs);
        if (ackedMs === null) await new Promise((r) => setTimeout(r, 20));
      }
      if (ackedMs === null) throw new Error(`close ${k}: no acknowledged send after 12 s`);
      failoverMs.push(ackedMs - closedMs);
      log(`close ${k + 1}/${closes}: leader ${leader}, first ack after ${(ackedMs - closedMs).toFixed(0)} ms`);
      brokerTabs[i] = await open();
      await call(brokerTabs[i], 'join', failoverId, 3, 1);
      for (let w = 0; w < 600 && !(await call(producerTab, 'fullIsr', 'failover')); w++) await new Promise((r) => setTimeout(r, 50));
    }
    await call(producerTab, 'stopSteadyProduce');
    for (const q of ['p50', 'p99'] as const) {
      const c: Case = {
        metric: `crosstab-failover-tab-close-${q}`, unit: 'ms', higherIsBetter: false,
        note: `${closes} closes of the tab hosting the partition's leader (Playwright page.close), each timed from the close to the first acks=-1 send acknowledged among those started after the tab was gone; the producer runs in a tab hosting no broker; replication factor 3, minInsyncReplicas 2. Kafka needs about its broker session timeout (9 s)`,
        ...(q === 'p99' ? { goal: { value: 500 } } : {}),
        contenders: [{ name: 'wafka', role: 'wafka', note: 'the broker lock is freed, the controller tab sees it (lock poll, 50 ms) and elects a new leader from the ISR; the producer\'s tab closes its connection to the gone broker, refreshes metadata and retries' }],
      };
      const res = summarize(c, new Map([['wafka', [percentile(failoverMs, q === 'p50' ? 50 : 99)]]]));
      log(caseTable(res));
      results.push(res);
    }
  } finally {
    await context.close().catch(() => {});
    await server.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
  return { results, runtime };
}
