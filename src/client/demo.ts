/**
 * The producer → consumer demo that `npm start` runs on Node and the
 * playground page runs in the browser: N keyed messages over a few
 * partitions, produced with batching, consumed back, checked (per-partition
 * offset order, every key's messages in send order, every value and header
 * intact), with throughput figures. Runtime-agnostic.
 */
import type { BrokerMetrics } from '../protocol/types.ts';
import type { Wafka } from './wafka.ts';

export interface DemoOptions {
  wafka: Wafka;
  /** Broker metrics, to count the batches the brokers appended. */
  metrics: () => Promise<BrokerMetrics[]>;
  topic?: string;
  partitions?: number;
  messages?: number;
  /** Distinct keys (the default partitioner spreads them over partitions). */
  keys?: number;
  valueBytes?: number;
  lingerMs?: number;
  batchSizeBytes?: number;
  log?: (line: string) => void;
}

export interface DemoResult {
  topic: string;
  messages: number;
  /** Records the topic held before this run (earlier runs on the same storage). */
  recordsBefore: number;
  produce: { ms: number; recordsPerSec: number; mbPerSec: number; batches: number; requests: number };
  consume: { ms: number; recordsPerSec: number; mbPerSec: number };
  partitions: { partition: number; records: number; firstOffset: string; lastOffset: string }[];
  sample: { partition: number; offset: string; key: string; value: string }[];
  verified: boolean;
  problems: string[];
}

const utf8 = new TextDecoder();
const round = (x: number) => Math.round(x);

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { wafka } = options;
  const topic = options.topic ?? 'demo';
  const numPartitions = options.partitions ?? 3;
  const n = options.messages ?? 100_000;
  const keys = options.keys ?? 1000;
  const valueBytes = options.valueBytes ?? 100;
  const log = options.log ?? (() => {});

  const admin = wafka.admin();
  await admin.connect();
  const created = await admin.createTopics({ topics: [{ topic, numPartitions }] });
  const before = await admin.fetchTopicOffsets(topic);
  const recordsBefore = before.reduce((sum, p) => sum + Number(BigInt(p.high) - BigInt(p.low)), 0);
  log(created ? `created topic "${topic}" with ${numPartitions} partitions` : `topic "${topic}" exists (${before.length} partitions, ${recordsBefore} records from earlier runs)`);

  // ---- produce
  const pad = 'x'.repeat(valueBytes);
  const valueOf = (i: number) => { const head = `{"i":${i},"user":"user-${i % keys}"}`; return head + pad.slice(head.length); };
  const metricsBefore = await options.metrics();
  const producer = wafka.producer({ lingerMs: options.lingerMs ?? 2, batchSizeBytes: options.batchSizeBytes ?? 256 * 1024, acks: 1 });
  await producer.connect();
  const chunk = 1000;
  const inFlight: Promise<unknown>[] = [];
  const produceStart = performance.now();
  for (let start = 0; start < n; start += chunk) {
    const messages = [];
    for (let i = start; i < Math.min(n, start + chunk); i++) {
      messages.push({ key: `user-${i % keys}`, value: valueOf(i), headers: { seq: String(i) } });
    }
    inFlight.push(producer.send({ topic, messages }));
    if (inFlight.length >= 64) await inFlight.shift();
  }
  await Promise.all(inFlight);
  const produceMs = performance.now() - produceStart;
  await producer.disconnect();
  const metricsAfter = await options.metrics();
  const sum = (ms: BrokerMetrics[], f: (m: BrokerMetrics) => number) => ms.reduce((s, m) => s + f(m), 0);
  const batches = sum(metricsAfter, (m) => m.batchesAppended) - sum(metricsBefore, (m) => m.batchesAppended);
  const requests = sum(metricsAfter, (m) => m.produceRequests) - sum(metricsBefore, (m) => m.produceRequests);
  const bytesProduced = n * (valueBytes + 8 + 12);
  log(`produced ${n} messages in ${round(produceMs)} ms: ${round(n / (produceMs / 1000)).toLocaleString('en-US')} records/s, ${batches} batches in ${requests} produce requests`);

  // ---- consume what this run produced, from the offsets the topic had before
  const consumer = wafka.consumer({ groupId: 'demo', maxWaitTimeInMs: 100, maxBytesPerPartition: 4 * 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  for (const p of before) consumer.seek({ topic, partition: p.partition, offset: p.high });
  const perPartition = new Map<number, { records: number; first: string; last: string; nextOffset: bigint }>();
  const lastSeqByKey = new Map<string, number>();
  const sample: DemoResult['sample'] = [];
  const problems: string[] = [];
  let consumed = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => { resolveDone = resolve; });
  const consumeStart = performance.now();
  await consumer.run({
    eachBatch: async ({ batch }) => {
      let state = perPartition.get(batch.partition);
      if (!state) {
        const startOffset = BigInt(before.find((p) => p.partition === batch.partition)!.high);
        perPartition.set(batch.partition, (state = { records: 0, first: String(startOffset), last: '', nextOffset: startOffset }));
      }
      for (const m of batch.messages) {
        const offset = BigInt(m.offset);
        if (offset !== state.nextOffset && problems.length < 10) problems.push(`partition ${batch.partition}: offset ${offset} after ${state.nextOffset - 1n}`);
        state.nextOffset = offset + 1n;
        const key = utf8.decode(m.key!);
        const seq = Number(utf8.decode(m.headers.seq as Uint8Array));
        const value = utf8.decode(m.value!);
        if (value !== valueOf(seq) || key !== `user-${seq % keys}`) { if (problems.length < 10) problems.push(`offset ${m.offset}: key/value do not match seq ${seq}`); }
        if ((lastSeqByKey.get(key) ?? -1) >= seq && problems.length < 10) problems.push(`key ${key}: seq ${seq} after ${lastSeqByKey.get(key)}`);
        lastSeqByKey.set(key, seq);
        if (sample.length < 5) sample.push({ partition: batch.partition, offset: m.offset, key, value: value.slice(0, 40) });
      }
      state.records += batch.messages.length;
      state.last = batch.lastOffset();
      consumed += batch.messages.length;
      if (consumed >= n) resolveDone();
    },
  });
  const timeout = new Promise<void>((_, reject) => setTimeout(() => reject(new Error(`consumed ${consumed} of ${n} messages after 120 s`)), 120_000));
  await Promise.race([done, timeout]);
  const consumeMs = performance.now() - consumeStart;
  await consumer.disconnect();
  await admin.disconnect();
  log(`consumed ${consumed} messages in ${round(consumeMs)} ms: ${round(consumed / (consumeMs / 1000)).toLocaleString('en-US')} records/s`);

  if (consumed !== n) problems.push(`consumed ${consumed} messages, produced ${n}`);
  const partitions = [...perPartition].sort(([a], [b]) => a - b).map(([partition, s]) => ({ partition, records: s.records, firstOffset: s.first, lastOffset: s.last }));
  return {
    topic, messages: n, recordsBefore,
    produce: { ms: round(produceMs), recordsPerSec: round(n / (produceMs / 1000)), mbPerSec: +(bytesProduced / 1e6 / (produceMs / 1000)).toFixed(1), batches, requests },
    consume: { ms: round(consumeMs), recordsPerSec: round(consumed / (consumeMs / 1000)), mbPerSec: +(bytesProduced / 1e6 / (consumeMs / 1000)).toFixed(1) },
    partitions, sample, verified: problems.length === 0, problems,
  };
}
