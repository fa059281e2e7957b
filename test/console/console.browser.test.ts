// The console in real Chromium, mounted on a page's own cluster (three broker workers on OPFS) while a
// producer runs: the brokers, leaders and ISR it shows are checked against the admin client's answers, the
// throughput chart moves, the tail shows messages as they are produced (one of them sent through the
// console's own produce form); then a broker worker is terminated and the console shows it down and the
// new leaders. Screenshots: test-results/console-*.png.
import { afterEach, describe, expect, test } from 'vitest';
import { page } from 'vitest/browser';
import { startCluster } from '../../src/cluster/start-cluster.ts';
import { Wafka, logLevel, type Admin } from '../../src/index.ts';
import { mountConsole } from '../../src/console/index.ts';
import { removeClusterStorage } from '../cluster/browser-cluster-storage.ts';

const BROKERS = 3;
const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await Promise.resolve(cleanup()).catch(() => {});
});

/** Polls `check` (which throws until it holds) every 50 ms, for at most `tries` polls. */
async function eventually<T>(check: () => T | Promise<T>, tries = 1200): Promise<T> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      return await check();
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw last;
}

const $ = (root: Element, selector: string) => {
  const el = root.querySelector(selector);
  if (!el) throw new Error(`no ${selector}`);
  return el as HTMLElement;
};
const cell = (row: Element, field: string) => $(row, `[data-field="${field}"]`).textContent ?? '';

/** Every partition row of `topic` as the console shows it, against the admin client's metadata. */
async function partitionsMatchAdmin(root: Element, admin: Admin, topic: string) {
  const { topics: [t] } = await admin.fetchTopicMetadata({ topics: [topic] });
  for (const p of t.partitions) {
    const row = $(root, `[data-partition="${topic}/${p.partitionId}"]`);
    expect(cell(row, 'leader')).toBe(p.leader < 0 ? 'none' : String(p.leader));
    expect(cell(row, 'replicas')).toBe(p.replicas.join(', '));
    expect(cell(row, 'isr').replace(' (under-replicated)', '')).toBe(p.isr.join(', '));
    expect(row.hasAttribute('data-under-replicated')).toBe(p.isr.length < p.replicas.length);
  }
  return t.partitions;
}

/**
 * Screenshots of the console, top (brokers, topics) and bottom (throughput, tail, produce): the test
 * page paints only what its frame shows, so each part is scrolled into view first.
 */
async function shoot(host: HTMLElement, name: string): Promise<void> {
  window.scrollTo(0, 0);
  await page.screenshot({ path: `../../test-results/${name}-top.png` });
  $(host, '#wc-throughput').scrollIntoView();
  await page.screenshot({ path: `../../test-results/${name}-bottom.png` });
}

describe('the console on the page\'s own cluster', () => {
  test('brokers, leaders and ISR as admin answers; the chart moves; the tail follows; a killed broker shows down with new leaders', async () => {
    await page.viewport(1280, 1000);
    const clusterId = `console-${crypto.randomUUID().slice(0, 8)}`;
    cleanups.push(() => removeClusterStorage(clusterId, BROKERS));
    const cluster = await startCluster({ brokers: BROKERS, storage: 'opfs', clusterId, brokerSessionTimeoutMs: 5_000, restartBrokers: false });
    cleanups.push(() => cluster.stop());
    const wafka = new Wafka({ clientId: 'console-test', cluster, logLevel: logLevel.NOTHING });
    const admin = wafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3, replicationFactor: 3 }] });

    // A producer that keeps sending until the test ends.
    const producer = wafka.producer({ lingerMs: 5 });
    await producer.connect();
    let producing = true;
    let sent = 0;
    const producerDone = (async () => {
      while (producing) {
        await producer.send({ topic: 'orders', acks: -1, messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${(sent + i) % 7}`, value: JSON.stringify({ n: sent + i }) })) }).catch(() => {});
        sent += 20;
        await new Promise((r) => setTimeout(r, 30));
      }
    })();
    cleanups.push(async () => { producing = false; await producerDone; await producer.disconnect(); });

    const host = document.createElement('div');
    document.body.append(host);
    const mounted = mountConsole(host, { cluster, description: 'this page\'s cluster (3 broker workers on OPFS)' });
    cleanups.push(() => { mounted.unmount(); host.remove(); });

    // Brokers: the three of describeCluster, all up, each in a dedicated worker on OPFS.
    const described = await admin.describeCluster();
    await eventually(() => {
      const rows = [...host.querySelectorAll('[data-broker]')];
      expect(rows.map((r) => Number(r.getAttribute('data-broker')))).toEqual(described.brokers.map((b) => b.nodeId));
      for (const r of rows) {
        expect(r.getAttribute('data-state')).toBe('up');
        expect(cell(r, 'storage')).toBe('opfs');
        expect(cell(r, 'runs')).toContain('dedicated worker');
      }
    });

    // Topics → partitions: open the topic, then leaders, replicas and ISR as the admin client sees them.
    $(host, '[data-topic="orders"] summary').click();
    await eventually(() => partitionsMatchAdmin(host, admin, 'orders'));
    await eventually(() => expect(Number(cell($(host, '[data-partition="orders/0"]'), 'highWatermark'))).toBeGreaterThan(0));
    await eventually(() => expect($(host, '[data-topic="orders"] .wc-configs').textContent).toContain('retentionMs'));

    // The chart moves: produced records/s above zero, and more points as time passes.
    const throughput = $(host, '#wc-throughput');
    await eventually(() => expect(Number(throughput.dataset.recordsInPerSec)).toBeGreaterThan(0));
    const points = Number(throughput.dataset.points);
    await eventually(() => expect(Number(throughput.dataset.points)).toBeGreaterThan(points));
    expect(throughput.querySelectorAll('canvas').length).toBeGreaterThan(0);

    // Tail: follow new messages, as JSON; they arrive while the producer runs.
    const tail = $(host, '#wc-tail');
    ($(tail, 'select[name="format"]') as HTMLSelectElement).value = 'json';
    $(tail, '[data-tail-toggle]').click();
    await eventually(() => expect(tail.querySelectorAll('tbody tr').length).toBeGreaterThan(5));
    expect(cell($(tail, 'tbody tr'), 'value')).toMatch(/^\{"n":\d+\}$/);

    // Produce through the console's form; the tail shows that very message.
    const produce = $(host, '#wc-produce');
    ($(produce, 'input[name="key"]') as HTMLInputElement).value = 'console-key';
    ($(produce, 'textarea[name="value"]') as HTMLTextAreaElement).value = '{"from":"the console"}';
    ($(produce, 'textarea[name="headers"]') as HTMLTextAreaElement).value = 'source=console';
    $(produce, 'button[type="submit"]').click();
    await eventually(() => expect($(produce, '[data-produce-result]').textContent).toMatch(/^sent to orders-\d+ at offset \d+$/));
    await eventually(() => expect([...tail.querySelectorAll('[data-field="value"]')].some((td) => td.textContent === '{"from":"the console"}')).toBe(true));
    await shoot(host, 'console-live');

    // A broker worker is terminated: the console shows it down, and the leaders the admin client now reports.
    // From a settled cluster (a loaded machine may have fenced a broker for a moment): every partition led, every ISR full.
    const before = await eventually(async () => {
      const ps = await partitionsMatchAdmin(host, admin, 'orders');
      expect(ps.every((p) => p.leader >= 0 && p.isr.length === p.replicas.length)).toBe(true);
      return ps;
    });
    const victim = before[0].leader;
    await cluster.killBroker(victim);
    await eventually(() => expect($(host, `[data-broker="${victim}"]`).getAttribute('data-state')).toBe('down'));
    await eventually(async () => {
      const after = await partitionsMatchAdmin(host, admin, 'orders');
      expect(after.every((p) => p.leader !== victim && p.leader >= 0 && !p.isr.includes(victim))).toBe(true);
    });
    expect(host.querySelectorAll('[data-under-replicated]').length).toBeGreaterThan(0);
    await shoot(host, 'console-broker-down');
  }, 240_000);
});
