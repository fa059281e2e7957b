/**
 * The e2e suite's Node half: three brokers in worker threads with their logs
 * in files (startCluster({ storage: 'files' })), the client on the main
 * thread. KafkaJS's batch encoder/decoder alone (no I/O, no broker) is the
 * reference for what the client side costs in the most used JS client.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster } from '../../src/cluster/index.ts';
import { summarize, type Case, type CaseResult, type MeasureOptions } from '../lib/measure.ts';
import { caseTable } from '../lib/report.ts';
import { loadBenchCore } from '../lib/core-load.ts';
import { buf, kafkajsDecodeBatch, kafkajsEncodeBatch } from './peers-node.ts';
import { consume, latencyStats, newTopic, openClient, produce, PRODUCER_NOTE, sendLatencies, SEND_CHUNK } from './e2e-wafka.ts';
import { e2eValues } from './e2e-data.ts';

async function kafkajsEncodeAll(values: string[]): Promise<{ ms: number; batches: Uint8Array[] }> {
  const batches: Uint8Array[] = [];
  const t0 = performance.now();
  for (let start = 0; start < values.length; start += SEND_CHUNK) {
    const msgs = values.slice(start, start + SEND_CHUNK).map((value) => ({ key: null as unknown as string, value }));
    batches.push(await kafkajsEncodeBatch(msgs));
  }
  return { ms: performance.now() - t0, batches };
}

async function kafkajsDecodeAll(batches: Uint8Array[]): Promise<number> {
  const t0 = performance.now();
  let n = 0;
  for (const b of batches) n += (await kafkajsDecodeBatch(buf(b))).length;
  const ms = performance.now() - t0;
  if (n === 0) throw new Error('kafkajs decoded nothing');
  return ms;
}

export async function runE2eNode(opts: Partial<MeasureOptions> & Record<string, unknown>, log: (s: string) => void): Promise<CaseResult[]> {
  const quick = !!opts.quick;
  log(`wafka core: ${await loadBenchCore()}`);
  const dir = mkdtempSync(join(tmpdir(), 'wafka-bench-e2e-'));
  const brokers = 3;
  const t0 = performance.now();
  const cluster = await startCluster({ brokers, storage: 'files', dir, clusterId: 'bench-e2e' });
  log(`cluster of ${brokers} broker worker threads on files started in ${(performance.now() - t0).toFixed(0)} ms`);
  const results: CaseResult[] = [];
  try {
    const ctx = await openClient(cluster);
    const n = quick ? 50_000 : 200_000;
    const rounds = Number(opts.rounds ?? (quick ? 2 : 4));
    const values = e2eValues(n);
    // Warm-up (untimed): both paths once.
    {
      const w = values.slice(0, n / 4);
      const ts = performance.now();
      for (let i = 0; i < 2 || performance.now() - ts < 2000; i++) {
        const topic = await newTopic(ctx);
        await produce(ctx, topic, w);
        await consume(ctx, topic, w.length);
      }
      await kafkajsDecodeAll((await kafkajsEncodeAll(w)).batches);
    }
    const prod = new Map<string, number[]>([['wafka', []], ['kafkajs-encode-only', []]]);
    const cons = new Map<string, number[]>([['wafka', []], ['kafkajs-decode-only', []]]);
    for (let r = 0; r < rounds; r++) {
      const steps = [
        async () => {
          const topic = await newTopic(ctx);
          prod.get('wafka')!.push(n / ((await produce(ctx, topic, values)) / 1000));
          cons.get('wafka')!.push(n / ((await consume(ctx, topic, n)) / 1000));
        },
        async () => {
          const { ms, batches } = await kafkajsEncodeAll(values);
          prod.get('kafkajs-encode-only')!.push(n / (ms / 1000));
          cons.get('kafkajs-decode-only')!.push(n / ((await kafkajsDecodeAll(batches)) / 1000));
        },
      ];
      for (const i of r % 2 ? [1, 0] : [0, 1]) await steps[i]();
      log(`round ${r + 1}/${rounds}: produce ${prod.get('wafka')!.at(-1)!.toFixed(0)} rec/s, consume ${cons.get('wafka')!.at(-1)!.toFixed(0)} rec/s`);
    }
    const produceCase: Case = {
      metric: 'e2e-produce-node-files',
      unit: 'records/s',
      higherIsBetter: true,
      note: `${n} records of 100-byte JSON values per round, ${rounds} rounds; ${brokers} brokers in worker threads, logs in files, client on the main thread`,
      contenders: [
        { name: 'wafka', role: 'wafka', note: `wafka Producer → broker worker threads (files, acks=1): ${PRODUCER_NOTE}` },
        {
          name: 'kafkajs-encode-only',
          role: 'peer',
          note: `reference, not a competitor: KafkaJS's own RecordBatch encoder alone on the same values, ${SEND_CHUNK} per batch as its producer batches one send; no I/O, no broker (a ceiling for a KafkaJS-based client)`,
        },
      ],
    };
    const consumeCase: Case = {
      metric: 'e2e-consume-node-files',
      unit: 'records/s',
      higherIsBetter: true,
      note: 'reading back what the round produced, from the first offset',
      contenders: [
        { name: 'wafka', role: 'wafka', note: 'wafka Consumer on the main thread, eachBatch, fetches from the broker worker threads (timed from run() to the last record)' },
        { name: 'kafkajs-decode-only', role: 'peer', note: "reference: KafkaJS's batch decoder (+ its crc32C) alone over the batches it encoded; no I/O, no broker" },
      ],
    };
    for (const [c, s] of [[produceCase, prod], [consumeCase, cons]] as const) {
      const res = summarize(c, s);
      log(caseTable(res));
      results.push(res);
    }

    const count = quick ? 100 : 300;
    const p50: number[] = [];
    const p99: number[] = [];
    for (let r = 0; r < 2; r++) {
      const topic = await newTopic(ctx, 1);
      const s = latencyStats(await sendLatencies(ctx, topic, values[0], count));
      p50.push(s.p50);
      p99.push(s.p99);
    }
    for (const [q, xs] of [['p50', p50], ['p99', p99]] as const) {
      const c: Case = {
        metric: `e2e-produce-latency-${q}-node-files`,
        unit: 'ms',
        higherIsBetter: false,
        note: `${count} single-record sends per run, each awaited, 2 ms apart (a low rate), 2 runs; the ${q} of each run`,
        contenders: [{ name: 'wafka', role: 'wafka', note: 'wafka producer.send({ topic, messages: [one] }) with lingerMs 0, acks=1, to a broker worker thread (files)' }],
      };
      const res = summarize(c, new Map([['wafka', xs]]));
      log(caseTable(res));
      results.push(res);
    }
    await ctx.admin.disconnect();
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
