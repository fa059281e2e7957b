/**
 * The console suite, on the page of an on-disk profile: three broker workers
 * on OPFS, a producer and a consumer on the page (the e2e suite's pipeline:
 * ms from the first send to the n-th record consumed), run without the
 * console, with the console mounted on the same page (every view live at
 * 2.5 Hz, the round's topic open), and with the console also tailing the
 * round's topic. Rounds interleave the three, in a rotating order.
 */
import { startCluster } from '../../src/cluster/index.ts';
import { mountConsole, type MountedConsole } from '../../src/console/index.ts';
import { summarize, type Case, type CaseResult } from '../lib/measure.ts';
import { caseTable } from '../lib/report.ts';
import { loadBenchCore } from '../lib/core-load.ts';
import type { BrowserSuiteContext } from '../browser/protocol.ts';
import { newTopic, openClient, pipeline, PRODUCER_NOTE, type E2eContext } from './e2e-wafka.ts';
import { e2eValues } from './e2e-data.ts';

type Mode = 'without-console' | 'console' | 'console-tailing';

/** Polls until `ready` holds (at most 200 × 25 ms). */
async function until(ready: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (ready()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`console: ${what} not shown after 5 s`);
}

/** Mounts the console, waits for its first views of `topic`, opens the topic (and follows it when tailing). */
async function openConsole(ctx: E2eContext, host: HTMLElement, topic: string, tailing: boolean): Promise<MountedConsole> {
  const mounted = mountConsole(host, { cluster: ctx.cluster });
  await until(() => host.querySelector(`[data-topic="${CSS.escape(topic)}"] summary`) !== null, `topic ${topic}`);
  host.querySelector<HTMLElement>(`[data-topic="${CSS.escape(topic)}"] summary`)!.click();
  if (tailing) {
    const select = host.querySelector<HTMLSelectElement>('#wc-tail select[name="topic"]')!;
    await until(() => [...select.options].some((o) => o.value === topic), 'the tail\'s topic');
    select.value = topic;
    host.querySelector<HTMLElement>('#wc-tail [data-tail-toggle]')!.click();
    await until(() => host.querySelector('[data-tail-state]')?.getAttribute('data-tail-state') === 'following', 'the tail following');
  }
  return mounted;
}

async function round(ctx: E2eContext, host: HTMLElement, values: string[], mode: Mode): Promise<number> {
  const topic = await newTopic(ctx);
  const mounted = mode === 'without-console' ? undefined : await openConsole(ctx, host, topic, mode === 'console-tailing');
  try {
    return values.length / ((await pipeline(ctx, topic, values)) / 1000);
  } finally {
    mounted?.unmount();
    await ctx.admin.deleteTopics({ topics: [topic] });
  }
}

export async function run({ opts, log }: BrowserSuiteContext): Promise<CaseResult[]> {
  const quick = !!opts.quick;
  log(`wafka core: ${await loadBenchCore()}`);
  const brokers = 3;
  const clusterId = `bench-console-${Date.now().toString(36)}`;
  const cluster = await startCluster({ brokers, storage: 'opfs', clusterId });
  const host = document.createElement('div');
  document.body.append(host);
  const results: CaseResult[] = [];
  try {
    const ctx = await openClient(cluster);
    const n = quick ? 30_000 : 100_000;
    const rounds = Number(opts.rounds ?? (quick ? 2 : 6));
    const values = e2eValues(n);
    const modes: Mode[] = ['without-console', 'console', 'console-tailing'];
    {
      const ts = performance.now();
      for (let i = 0; i < 2 || performance.now() - ts < 2000; i++) for (const m of modes) await round(ctx, host, values.slice(0, n / 4), m);
      log(`warm-up ${(performance.now() - ts).toFixed(0)} ms`);
    }
    const samples = new Map<Mode, number[]>(modes.map((m) => [m, []]));
    for (let r = 0; r < rounds; r++) {
      const order = modes.map((_, i) => modes[(i + r) % modes.length]);
      for (const m of order) samples.get(m)!.push(await round(ctx, host, values, m));
      log(`round ${r + 1}/${rounds}: ${modes.map((m) => `${m} ${samples.get(m)!.at(-1)!.toFixed(0)}`).join(', ')} records/s`);
    }
    const note = `${n} records of 100-byte JSON values per round, produced and consumed at once on the page (ms from the first send to the n-th record), ${rounds} rounds; ${brokers} broker workers on OPFS. ${PRODUCER_NOTE}`;
    for (const [metric, mode, what] of [
      ['console-overhead-chromium', 'console', 'the console mounted on the same page: snapshots of every broker at 2.5 Hz, all views live, the round\'s topic open'],
      ['console-tail-overhead-chromium', 'console-tailing', 'as console-overhead-chromium, and the console\'s tail following the round\'s topic (every partition, bounded fetches of 256 KiB at 2.5 Hz, 500 rows kept)'],
    ] as const) {
      const c: Case = {
        metric, unit: 'records/s', higherIsBetter: true, goal: { peer: 'without-console', ratio: 0.95 }, note,
        contenders: [
          { name: 'wafka', role: 'wafka', note: what },
          { name: 'without-console', role: 'peer', note: 'the same producer and consumer with no console on the page' },
        ],
      };
      const res = summarize(c, new Map([['wafka', samples.get(mode)!], ['without-console', samples.get('without-console')!]]));
      log(caseTable(res));
      results.push(res);
    }
    await ctx.admin.disconnect();
  } finally {
    host.remove();
    await cluster.stop();
    const root = await navigator.storage.getDirectory();
    const wafkaDir = await root.getDirectoryHandle('wafka').catch(() => null);
    await wafkaDir?.removeEntry(clusterId, { recursive: true }).catch(() => {});
    for (const db of await indexedDB.databases()) {
      if (db.name?.includes(clusterId)) await new Promise<void>((r) => { const q = indexedDB.deleteDatabase(db.name!); q.onsuccess = q.onerror = q.onblocked = () => r(); });
    }
  }
  return results;
}
