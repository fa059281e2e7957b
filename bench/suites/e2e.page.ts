/**
 * The e2e suite's Chromium half, on the page of an on-disk profile: three
 * broker workers on OPFS (startCluster({ storage: 'opfs' })), the client on
 * the page, against an IndexedDB outbox (idb) and the broadcast-channel
 * package, interleaved round by round.
 */
import { openDB } from 'idb';
import { BroadcastChannel } from 'broadcast-channel';
import { opfsBrokerDir, startCluster } from '../../src/cluster/index.ts';
import { summarize, type Case, type CaseResult } from '../lib/measure.ts';
import { caseTable } from '../lib/report.ts';
import { loadBenchCore } from '../lib/core-load.ts';
import type { BrowserSuiteContext } from '../browser/protocol.ts';
import { consume, latencyStats, newTopic, openClient, produce, PRODUCER_NOTE, sendLatencies, SEND_CHUNK, type E2eContext } from './e2e-wafka.ts';
import { e2eValues } from './e2e-data.ts';

const OUTBOX_NOTE =
  `idb outbox at its best: one readwrite transaction per ${SEND_CHUNK} events (durability 'default': in Chromium no fsync, like wafka's acks=1 without flush), ` +
  'store.put(event) each without awaiting, await tx.done; the same 100-byte JSON strings';

async function outboxWrite(dbName: string, values: string[]): Promise<number> {
  const db = await openDB(dbName, 1, { upgrade: (d) => void d.createObjectStore('outbox', { autoIncrement: true }) });
  const t0 = performance.now();
  for (let start = 0; start < values.length; start += SEND_CHUNK) {
    const tx = db.transaction('outbox', 'readwrite');
    const end = Math.min(values.length, start + SEND_CHUNK);
    for (let i = start; i < end; i++) void tx.store.put(values[i]);
    await tx.done;
  }
  const ms = performance.now() - t0;
  db.close();
  return ms;
}

/** Drains the outbox in key order, SEND_CHUNK events per getAll (how an outbox is read to ship it). */
async function outboxRead(dbName: string, n: number): Promise<number> {
  const db = await openDB(dbName, 1);
  const t0 = performance.now();
  let seen = 0;
  let bytes = 0;
  let from: IDBValidKey | undefined;
  for (;;) {
    const tx = db.transaction('outbox', 'readonly');
    const range = from === undefined ? undefined : IDBKeyRange.lowerBound(from, true);
    const [keys, vals] = await Promise.all([tx.store.getAllKeys(range, SEND_CHUNK), tx.store.getAll(range, SEND_CHUNK)]);
    if (vals.length === 0) break;
    for (const v of vals) bytes += (v as string).length;
    seen += vals.length;
    from = keys[keys.length - 1];
  }
  const ms = performance.now() - t0;
  db.close();
  if (seen < n || bytes < n * 50) throw new Error(`outbox read ${seen} of ${n}`);
  return ms;
}

async function outboxLatencies(dbName: string, value: string, count: number, gapMs = 2): Promise<number[]> {
  const db = await openDB(dbName, 1, { upgrade: (d) => void d.createObjectStore('outbox', { autoIncrement: true }) });
  const out: number[] = [];
  for (let i = 0; i < count + 20; i++) {
    const t0 = performance.now();
    await db.put('outbox', value);
    if (i >= 20) out.push(performance.now() - t0);
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
  }
  db.close();
  return out;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no completion after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function receiver(): { worker: Worker; next: (type: string) => Promise<unknown> } {
  const worker = new Worker(new URL('./e2e-receiver.ts', import.meta.url), { type: 'module' });
  const waiting: { type: string; resolve: (m: unknown) => void; reject: (e: Error) => void }[] = [];
  worker.onmessage = (e: MessageEvent<{ type: string; error?: string }>) => {
    const m = e.data;
    if (m.type === 'error') for (const w of waiting.splice(0)) w.reject(new Error(m.error));
    const i = waiting.findIndex((w) => w.type === m.type);
    if (i >= 0) waiting.splice(i, 1)[0].resolve(m);
  };
  worker.onerror = (e) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`receiver: ${e.message}`));
  };
  return { worker, next: (type) => new Promise((resolve, reject) => waiting.push({ type, resolve, reject })) };
}

/** wafka: producer on the page → broker workers (OPFS) → consumer in another worker; ms from the first send to the n-th record there. */
async function wafkaDelivery(ctx: E2eContext, values: string[]): Promise<number> {
  const topic = await newTopic(ctx);
  const rx = receiver();
  try {
    const ports = ctx.cluster.bootstrap.nodeIds.map((id) => ctx.cluster.connectPort(id));
    const ready = rx.next('ready');
    rx.worker.postMessage({ mode: 'wafka', clusterId: ctx.cluster.clusterId, ports, topic, n: values.length }, ports);
    await ready;
    const done = withTimeout(rx.next('done'), 120_000, 'wafka delivery');
    const t0 = performance.now();
    await produce(ctx, topic, values);
    await done;
    return performance.now() - t0;
  } finally {
    rx.worker.terminate();
  }
}

/** broadcast-channel (npm): postMessage(event) per event from the page; ms until the receiver worker has them all. */
async function bcDelivery(values: string[]): Promise<number> {
  const name = `bench-bc-${Math.random().toString(36).slice(2)}`;
  const rx = receiver();
  const ch = new BroadcastChannel<string>(name);
  try {
    const ready = rx.next('ready');
    rx.worker.postMessage({ mode: 'bc', channel: name, n: values.length });
    await ready;
    // broadcast-channel drops messages stamped earlier than its listener (microsecond stamps from
    // Date.now() plus a per-context counter): let the listener's stamp pass before sending.
    await new Promise((r) => setTimeout(r, 5));
    const done = withTimeout(rx.next('done'), 60_000, 'broadcast-channel delivery');
    const t0 = performance.now();
    const sends: Promise<void>[] = [];
    for (const v of values) sends.push(ch.postMessage(v));
    await Promise.all(sends);
    await done;
    return performance.now() - t0;
  } finally {
    await ch.close();
    rx.worker.terminate();
  }
}

async function cleanup(clusterId: string, brokers: number): Promise<void> {
  const root = await navigator.storage.getDirectory();
  for (let id = 0; id < brokers; id++) {
    const dir = opfsBrokerDir(clusterId, id).split('/').filter(Boolean);
    await root.removeEntry(dir[0], { recursive: true }).catch(() => {});
  }
  for (const db of await indexedDB.databases()) {
    if (db.name && (db.name.includes(clusterId) || db.name.startsWith('bench-outbox'))) {
      await new Promise<void>((r) => {
        const req = indexedDB.deleteDatabase(db.name!);
        req.onsuccess = req.onerror = req.onblocked = () => r();
      });
    }
  }
}

export async function run({ opts, log }: BrowserSuiteContext): Promise<CaseResult[]> {
  const quick = !!opts.quick;
  log(`wafka core: ${await loadBenchCore()}`);
  const brokers = 3;
  const clusterId = `bench-e2e-${Date.now().toString(36)}`;
  const t0 = performance.now();
  const cluster = await startCluster({ brokers, storage: 'opfs', clusterId });
  log(`cluster of ${brokers} OPFS broker workers started in ${(performance.now() - t0).toFixed(0)} ms`);
  const results: CaseResult[] = [];
  try {
    const ctx = await openClient(cluster);
    const n = quick ? 50_000 : 200_000;
    const nOutbox = quick ? 10_000 : 40_000;
    const nBc = quick ? 10_000 : 30_000;
    const rounds = Number(opts.rounds ?? (quick ? 2 : 4));
    const values = e2eValues(n);

    // Warm-up (untimed): every path once, so JIT tiers and worker start-up are out of the rounds.
    {
      const ts = performance.now();
      const w = values.slice(0, n / 4);
      // Repeat the client paths for at least 2 s: Wasm tier-up in Chromium can take seconds.
      for (let i = 0; i < 2 || performance.now() - ts < 2000; i++) {
        const topic = await newTopic(ctx);
        await produce(ctx, topic, w);
        await consume(ctx, topic, w.length);
      }
      await outboxWrite('bench-outbox-warm', values.slice(0, nOutbox / 4));
      await outboxRead('bench-outbox-warm', nOutbox / 4);
      await wafkaDelivery(ctx, w);
      await bcDelivery(values.slice(0, nBc / 4));
      log(`warm-up ${(performance.now() - ts).toFixed(0)} ms`);
    }
    const prod = new Map<string, number[]>([['wafka', []], ['idb-outbox', []]]);
    const cons = new Map<string, number[]>([['wafka', []], ['idb-outbox', []]]);
    const deliv = new Map<string, number[]>([['wafka', []], ['broadcast-channel', []]]);
    for (let r = 0; r < rounds; r++) {
      const steps = [
        async () => {
          const topic = await newTopic(ctx);
          prod.get('wafka')!.push(n / ((await produce(ctx, topic, values)) / 1000));
          cons.get('wafka')!.push(n / ((await consume(ctx, topic, n)) / 1000));
        },
        async () => {
          const db = `bench-outbox-${r}`;
          prod.get('idb-outbox')!.push(nOutbox / ((await outboxWrite(db, values.slice(0, nOutbox))) / 1000));
          cons.get('idb-outbox')!.push(nOutbox / ((await outboxRead(db, nOutbox)) / 1000));
          await new Promise<void>((res) => {
            const q = indexedDB.deleteDatabase(db);
            q.onsuccess = q.onerror = q.onblocked = () => res();
          });
        },
        async () => deliv.get('wafka')!.push(n / ((await wafkaDelivery(ctx, values)) / 1000)),
        async () => deliv.get('broadcast-channel')!.push(nBc / ((await bcDelivery(values.slice(0, nBc))) / 1000)),
      ];
      const order = r % 2 === 0 ? [0, 1, 2, 3] : [1, 0, 3, 2];
      const names = ['wafka produce+consume', 'idb-outbox write+read', 'wafka delivery', 'broadcast-channel delivery'];
      for (const i of order) {
        const ts = performance.now();
        if (opts.verbose) log(`  ${names[i]} ...`);
        await steps[i]();
        if (opts.verbose) log(`  ${names[i]}: ${(performance.now() - ts).toFixed(0)} ms`);
      }
      log(`round ${r + 1}/${rounds}: produce ${prod.get('wafka')!.at(-1)!.toFixed(0)} rec/s, outbox ${prod.get('idb-outbox')!.at(-1)!.toFixed(0)} ev/s`);
    }

    const produceCase: Case = {
      metric: 'e2e-produce-chromium-opfs',
      unit: 'records/s',
      higherIsBetter: true,
      goals: [{ value: 1_000_000 }, { peer: 'idb-outbox', ratio: 50 }],
      note: `${n} records of 100-byte JSON values per round (outbox: ${nOutbox}), ${rounds} rounds; ${brokers} broker workers on OPFS, client on the page`,
      contenders: [
        { name: 'wafka', role: 'wafka', note: `wafka Producer → broker workers (OPFS, acks=1: in the leader's log before the ack): ${PRODUCER_NOTE}` },
        { name: 'idb-outbox', role: 'peer', note: OUTBOX_NOTE },
      ],
    };
    const consumeCase: Case = {
      metric: 'e2e-consume-chromium-opfs',
      unit: 'records/s',
      higherIsBetter: true,
      goals: [{ value: 1_000_000 }],
      note: 'reading back what the round produced, from the first offset / first key',
      contenders: [
        { name: 'wafka', role: 'wafka', note: 'wafka Consumer on the page, eachBatch, fetches from the OPFS broker workers (timed from run() to the last record)' },
        { name: 'idb-outbox', role: 'peer', note: `idb outbox drained in key order, getAll(range, ${SEND_CHUNK}) per readonly transaction` },
      ],
    };
    const deliveryCase: Case = {
      metric: 'e2e-delivery-cross-context-chromium',
      unit: 'records/s',
      higherIsBetter: true,
      note: `producer on the page, receiver in a dedicated worker, timed from the first send until the receiver has all (wafka ${n}, broadcast-channel ${nBc} per round)`,
      contenders: [
        { name: 'wafka', role: 'wafka', note: 'page Producer → OPFS broker workers (durable log) → Consumer in another worker connected with connectCluster(ports)' },
        { name: 'broadcast-channel', role: 'peer', note: 'broadcast-channel 7 (npm, native BroadcastChannel method): postMessage(event) per event, not durable' },
      ],
    };
    for (const [c, s] of [[produceCase, prod], [consumeCase, cons], [deliveryCase, deliv]] as const) {
      const res = summarize(c, s);
      log(caseTable(res));
      results.push(res);
    }

    // --- single-send latency at a low rate (lingerMs 0), interleaved with the outbox's single put
    const count = quick ? 100 : 300;
    const lat = new Map<string, { p50: number[]; p99: number[] }>([['wafka', { p50: [], p99: [] }], ['idb-put', { p50: [], p99: [] }]]);
    for (let r = 0; r < 2; r++) {
      const steps = [
        async () => {
          const topic = await newTopic(ctx, 1);
          const s = latencyStats(await sendLatencies(ctx, topic, values[0], count));
          lat.get('wafka')!.p50.push(s.p50);
          lat.get('wafka')!.p99.push(s.p99);
        },
        async () => {
          const s = latencyStats(await outboxLatencies(`bench-outbox-lat-${r}`, values[0], count));
          lat.get('idb-put')!.p50.push(s.p50);
          lat.get('idb-put')!.p99.push(s.p99);
        },
      ];
      for (const i of r % 2 ? [1, 0] : [0, 1]) await steps[i]();
    }
    for (const q of ['p50', 'p99'] as const) {
      const c: Case = {
        metric: `e2e-produce-latency-${q}-chromium-opfs`,
        unit: 'ms',
        higherIsBetter: false,
        note: `${count} single-record sends per run, each awaited, 2 ms apart (a low rate), 2 runs each; the ${q} of each run`,
        contenders: [
          { name: 'wafka', role: 'wafka', note: "wafka producer.send({ topic, messages: [one] }) with lingerMs 0, acks=1, to an OPFS broker worker" },
          { name: 'idb-put', role: 'peer', note: "idb: await db.put('outbox', event) (one readwrite transaction, durability 'default')" },
        ],
      };
      const res = summarize(c, new Map([...lat].map(([k, v]) => [k, v[q]])));
      log(caseTable(res));
      results.push(res);
    }
    await ctx.admin.disconnect();
  } finally {
    await cluster.stop();
    await cleanup(clusterId, brokers);
  }
  return results;
}
