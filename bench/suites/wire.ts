/**
 * The wire suite (Node): Kafka clients through wafka's wire-protocol
 * listeners against wafka's own client, on the same 3-broker files cluster
 * (worker threads), the same values, rounds interleaved (A B A B).
 *
 *   wire-produce-kafkajs-node     KafkaJS 2.2.4 producing through the listener
 *   wire-consume-kafkajs-node     KafkaJS consuming through the listener (needs the group APIs over the wire)
 *   wire-produce-librdkafka-node  kcat (librdkafka) producing through the listener, when kcat is installed
 *   wire-produce-latency-*        single awaited KafkaJS sends vs wafka's
 *
 * Peer `wafka-client`: wafka's in-process client (Wafka, producer/consumer)
 * reaching the same brokers over their worker ports.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { startCluster } from '../../src/cluster/index.ts';
import { loadBenchCore } from '../lib/core-load.ts';
import { percentile, summarize, type Case, type CaseResult, type MeasureOptions } from '../lib/measure.ts';
import { caseTable } from '../lib/report.ts';
import { e2eValues } from './e2e-data.ts';
import { consume, IN_FLIGHT, newTopic, openClient, produce, sendLatencies, SEND_CHUNK, type E2eContext } from './e2e-wafka.ts';

const KAFKAJS_NOTE = `KafkaJS 2.2.4 producer (acks 1, no compression, its default partitioner), send() of ${SEND_CHUNK} messages at a time, up to ${IN_FLIGHT} sends in flight (its fastest documented path: concurrent send() calls share one connection per broker)`;

async function produceKafkaJS(producer: Producer, topic: string, values: string[]): Promise<number> {
  const inFlight: Promise<unknown>[] = [];
  const t0 = performance.now();
  for (let start = 0; start < values.length; start += SEND_CHUNK) {
    const messages = [];
    const end = Math.min(values.length, start + SEND_CHUNK);
    for (let i = start; i < end; i++) messages.push({ value: values[i] });
    inFlight.push(producer.send({ topic, acks: 1, messages }));
    if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
  }
  await Promise.all(inFlight);
  return performance.now() - t0;
}

async function consumeKafkaJS(kafka: Kafka, topic: string, n: number): Promise<number> {
  const consumer = kafka.consumer({ groupId: `bench-${topic}`, maxWaitTimeInMs: 100, maxBytesPerPartition: 4 * 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => { done = resolve; });
  let crash: unknown;
  consumer.on(consumer.events.CRASH, (event) => { crash = event.payload.error; done(); });
  const t0 = performance.now();
  await consumer.run({ eachBatch: async ({ batch }) => { seen += batch.messages.length; if (seen >= n) done(); } });
  const timer = setTimeout(() => done(), 120_000);
  await finished;
  clearTimeout(timer);
  const ms = performance.now() - t0;
  await consumer.disconnect();
  if (seen < n) throw new Error(`KafkaJS consumed ${seen} of ${n}${crash ? `: ${String(crash)}` : ''}`);
  return ms;
}

/**
 * kcat's (librdkafka's) producer: one record per line of stdin, acks 1; ms
 * from spawn to exit (which waits for every delivery). Asynchronous: the
 * listeners answering it run in this thread.
 */
function produceKcat(bootstrap: string, topic: string, lines: string): Promise<number> {
  const t0 = performance.now();
  const child = spawn('kcat', ['-b', bootstrap, '-P', '-t', topic, '-X', 'acks=1', '-X', 'linger.ms=2', '-X', 'batch.size=262144'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += String(d); });
  child.stdin.end(lines);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`kcat failed (${code}): ${stderr.slice(0, 500)}`))));
  });
}

function kcatVersion(): string | null {
  const r = spawnSync('kcat', ['-V'], { encoding: 'utf8' });
  return r.status === 0 ? (/librdkafka [\d.]+/.exec(r.stdout)?.[0] ?? 'kcat') : null;
}

export async function runWire(opts: Partial<MeasureOptions> & Record<string, unknown>, log: (s: string) => void): Promise<CaseResult[]> {
  const quick = !!opts.quick;
  log(`wafka core: ${await loadBenchCore()}`);
  const dir = mkdtempSync(join(tmpdir(), 'wafka-bench-wire-'));
  // The controller shares this thread with KafkaJS and the listeners: a session timeout as Kafka's (9 s), not 1.5 s, so a busy loop does not fence brokers.
  const cluster = await startCluster({ brokers: 3, storage: 'files', dir, clusterId: 'bench-wire', brokerSessionTimeoutMs: 9_000, listen: { port: 0 } });
  const bootstrap = cluster.listeners.map((l) => `${l.host}:${l.port}`);
  const results: CaseResult[] = [];
  const kafka = new Kafka({ clientId: 'bench-wire', brokers: bootstrap, logLevel: logLevel.ERROR });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  let ctx: E2eContext | undefined;
  try {
    ctx = await openClient(cluster);
    await producer.connect();
    const n = quick ? 20_000 : 100_000;
    const rounds = Number(opts.rounds ?? (quick ? 2 : 4));
    const values = e2eValues(n);
    await produce(ctx, await newTopic(ctx), values.slice(0, n / 4)); // warm-up, untimed
    await produceKafkaJS(producer, await newTopic(ctx), values.slice(0, n / 4));

    // Produce: KafkaJS through the listener vs wafka's client. The topics stay for the consume rounds.
    const produced = { wire: [] as string[], client: [] as string[] };
    const produceSamples = new Map<string, number[]>([['wafka', []], ['wafka-client', []]]);
    for (let r = 0; r < rounds; r++) {
      const steps = [
        async () => { const t = await newTopic(ctx!); produced.wire.push(t); produceSamples.get('wafka')!.push(n / ((await produceKafkaJS(producer, t, values)) / 1000)); },
        async () => { const t = await newTopic(ctx!); produced.client.push(t); produceSamples.get('wafka-client')!.push(n / ((await produce(ctx!, t, values)) / 1000)); },
      ];
      for (const i of r % 2 ? [1, 0] : [0, 1]) await steps[i]();
      log(`produce round ${r + 1}/${rounds}: KafkaJS over the wire ${produceSamples.get('wafka')!.at(-1)!.toFixed(0)} rec/s, wafka client ${produceSamples.get('wafka-client')!.at(-1)!.toFixed(0)} rec/s`);
    }
    const produceCase: Case = {
      metric: 'wire-produce-kafkajs-node', unit: 'records/s', higherIsBetter: true,
      note: `${n} records of 100-byte JSON values per round, ${rounds} rounds, 3 partitions, replication factor 1; 3 brokers in worker threads on files, listeners on 127.0.0.1; machine shared with other agents`,
      contenders: [
        { name: 'wafka', role: 'wafka', note: `${KAFKAJS_NOTE}, through wafka's listeners` },
        { name: 'wafka-client', role: 'peer', note: 'wafka\'s own producer (lingerMs 2, 256 KiB batches, acks 1) on the same cluster, same send pattern' },
      ],
    };
    results.push(summarize(produceCase, produceSamples));
    log(caseTable(results.at(-1)!));

    // Consume: each reads a topic the other side produced (same values, same layout).
    const consumeSamples = new Map<string, number[]>([['wafka', []], ['wafka-client', []]]);
    let consumeError: string | null = null;
    for (let r = 0; r < rounds && consumeError === null; r++) {
      try {
        const steps = [
          async () => consumeSamples.get('wafka')!.push(n / ((await consumeKafkaJS(kafka, produced.client[r], n)) / 1000)),
          async () => consumeSamples.get('wafka-client')!.push(n / ((await consume(ctx!, produced.wire[r], n)) / 1000)),
        ];
        for (const i of r % 2 ? [1, 0] : [0, 1]) await steps[i]();
        log(`consume round ${r + 1}/${rounds}: KafkaJS over the wire ${consumeSamples.get('wafka')!.at(-1)!.toFixed(0)} rec/s, wafka client ${consumeSamples.get('wafka-client')!.at(-1)!.toFixed(0)} rec/s`);
      } catch (error) {
        consumeError = error instanceof Error ? error.message : String(error);
      }
    }
    if (consumeError === null) {
      results.push(summarize({
        metric: 'wire-consume-kafkajs-node', unit: 'records/s', higherIsBetter: true,
        note: `${n} records per round from the beginning of a 3-partition topic, ${rounds} rounds; timed from run() to the n-th record; machine shared with other agents`,
        contenders: [
          { name: 'wafka', role: 'wafka', note: 'KafkaJS 2.2.4 consumer (eachBatch, maxBytesPerPartition 4 MiB, maxWaitTimeInMs 100) in a consumer group over the listeners' },
          { name: 'wafka-client', role: 'peer', note: 'wafka\'s own consumer, same settings' },
        ],
      }, consumeSamples));
      log(caseTable(results.at(-1)!));
    } else {
      log(`wire-consume-kafkajs-node not measured: ${consumeError}`);
    }

    // librdkafka (kcat), when installed.
    const rdkafka = kcatVersion();
    if (rdkafka) {
      // More records than the other cases: kcat's start (process, bootstrap metadata, connections: 15-30 ms here)
      // is inside its timing, and was 15-20% of a 100,000-record round.
      const kcatN = 3 * n;
      const kcatValues = e2eValues(kcatN);
      const lines = kcatValues.join('\n') + '\n';
      await produceKcat(bootstrap[0], await newTopic(ctx), lines); // warm-up
      const samples = new Map<string, number[]>([['wafka', []], ['wafka-client', []]]);
      for (let r = 0; r < rounds; r++) {
        const steps = [
          async () => samples.get('wafka')!.push(kcatN / ((await produceKcat(bootstrap[0], await newTopic(ctx!), lines)) / 1000)),
          async () => samples.get('wafka-client')!.push(kcatN / ((await produce(ctx!, await newTopic(ctx!), kcatValues)) / 1000)),
        ];
        for (const i of r % 2 ? [1, 0] : [0, 1]) await steps[i]();
        log(`librdkafka round ${r + 1}/${rounds}: kcat over the wire ${samples.get('wafka')!.at(-1)!.toFixed(0)} rec/s, wafka client ${samples.get('wafka-client')!.at(-1)!.toFixed(0)} rec/s`);
      }
      results.push(summarize({
        metric: 'wire-produce-librdkafka-node', unit: 'records/s', higherIsBetter: true,
        note: `${kcatN} lines of 100-byte JSON values per round, ${rounds} rounds, 3 partitions; kcat timed from spawn to exit (it exits once every record is delivered), so its process start is included; machine shared with other agents`,
        goal: { peer: 'wafka-client', ratio: 0.5 },
        contenders: [
          { name: 'wafka', role: 'wafka', note: `kcat -P (${rdkafka}, acks 1, linger.ms 2, batch.size 256 KiB, no compression) through the listeners` },
          { name: 'wafka-client', role: 'peer', note: 'wafka\'s own producer on the same cluster' },
        ],
      }, samples));
      log(caseTable(results.at(-1)!));
    } else {
      log('wire-produce-librdkafka-node not measured: kcat is not installed (apt-get install kcat)');
    }

    // Latency of single awaited sends.
    const count = quick ? 100 : 300;
    const latency = new Map<string, { p50: number[]; p99: number[] }>([['wafka', { p50: [], p99: [] }], ['wafka-client', { p50: [], p99: [] }]]);
    for (let r = 0; r < 2; r++) {
      const wireTopic = await newTopic(ctx, 1);
      const wire: number[] = [];
      for (let i = 0; i < count + 20; i++) {
        const t0 = performance.now();
        await producer.send({ topic: wireTopic, acks: 1, messages: [{ value: values[0] }] });
        if (i >= 20) wire.push(performance.now() - t0);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const client = await sendLatencies(ctx, await newTopic(ctx, 1), values[0], count, 2, 1);
      for (const [name, xs] of [['wafka', wire], ['wafka-client', client]] as const) {
        latency.get(name)!.p50.push(percentile(xs, 50));
        latency.get(name)!.p99.push(percentile(xs, 99));
      }
    }
    for (const q of ['p50', 'p99'] as const) {
      results.push(summarize({
        metric: `wire-produce-latency-${q}-kafkajs-node`, unit: 'ms', higherIsBetter: false,
        note: `${count} single-record sends per run, each awaited, 2 ms apart, acks 1, 2 runs; the ${q} of each run; machine shared with other agents`,
        contenders: [
          { name: 'wafka', role: 'wafka', note: 'KafkaJS producer through the listener' },
          { name: 'wafka-client', role: 'peer', note: 'wafka\'s own producer, lingerMs 0' },
        ],
      }, new Map([...latency].map(([k, v]) => [k, v[q]]))));
      log(caseTable(results.at(-1)!));
    }
  } finally {
    await producer.disconnect().catch(() => {});
    await ctx?.admin.disconnect().catch(() => {});
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
