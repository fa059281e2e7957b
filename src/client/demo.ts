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
  /** Called with the counts while the demo runs, at most every progressIntervalMs (default 250). */
  onProgress?: (progress: DemoProgress) => void;
  progressIntervalMs?: number;
  /** Aborting stops producing and consuming; runDemo then rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface DemoProgress {
  phase: 'produce' | 'consume';
  produced: number;
  consumed: number;
  messages: number;
  /** Since this phase started. */
  elapsedMs: number;
  /** Records per second in this phase so far. */
  recordsPerSec: number;
}

/**
 * How many brokers to start on storage that already holds a cluster: partitions stay on the
 * broker that was given them (no reassignment), so at least every registered broker.
 * `note` says why, when the requested count was raised.
 */
export function brokersToStart(requested: number, registeredNodeIds: readonly number[], where: string): { brokers: number; note?: string } {
  const registered = registeredNodeIds.length === 0 ? 0 : Math.max(...registeredNodeIds) + 1;
  if (requested >= registered) return { brokers: requested };
  return {
    brokers: registered,
    note: `${where} holds a ${registered}-broker cluster whose partitions live on brokers 0..${registered - 1}: starting ${registered} brokers, not ${requested} (clear the storage to start smaller)`,
  };
}

/** Bounds of the demo's inputs: it holds every key's last sequence number and checks every message. */
export const DEMO_MESSAGES_MAX = 10_000_000;
export const DEMO_PARTITIONS_MAX = 1_000;

export interface DemoResult {
  topic: string;
  messages: number;
  /** Records the topic held before this run (earlier runs on the same storage). */
  recordsBefore: number;
  /** Partitions of the topic as the run used it (more than asked when it already had more). */
  partitionCount: number;
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
  const signal = options.signal;
  if (!Number.isSafeInteger(n) || n < 1 || n > DEMO_MESSAGES_MAX) throw new RangeError(`messages = ${n}: expected a whole number from 1 to ${DEMO_MESSAGES_MAX.toLocaleString('en-US')}`);
  if (!Number.isSafeInteger(numPartitions) || numPartitions < 1 || numPartitions > DEMO_PARTITIONS_MAX) {
    throw new RangeError(`partitions = ${numPartitions}: expected a whole number from 1 to ${DEMO_PARTITIONS_MAX}`);
  }
  signal?.throwIfAborted();

  const admin = wafka.admin();
  await admin.connect();
  const created = await admin.createTopics({ topics: [{ topic, numPartitions }] });
  let before = await admin.fetchTopicOffsets(topic);
  const recordsBefore = before.reduce((sum, p) => sum + Number(BigInt(p.high) - BigInt(p.low)), 0);
  if (created) log(`created topic "${topic}" with ${numPartitions} partitions`);
  else {
    log(`topic "${topic}" exists (${before.length} partitions, ${recordsBefore} records from earlier runs)`);
    if (before.length < numPartitions) {
      // As kafka-topics --alter --partitions: a topic grows; keys may map to other partitions from now on.
      await admin.createPartitions({ topicPartitions: [{ topic, count: numPartitions }] });
      log(`grew topic "${topic}" from ${before.length} to ${numPartitions} partitions`);
      before = await admin.fetchTopicOffsets(topic);
    } else if (before.length > numPartitions) {
      log(`topic "${topic}" keeps its ${before.length} partitions: ${numPartitions} were asked for, and a Kafka topic cannot shrink (clear the storage to start over)`);
    }
  }
  const partitionCount = before.length;
  let lastProgressMs = -Infinity;
  let phaseStartMs = performance.now();
  let produced = 0;
  let consumed = 0;
  const progress = (phase: DemoProgress['phase'], force = false) => {
    const now = performance.now();
    if (!options.onProgress || (!force && now - lastProgressMs < (options.progressIntervalMs ?? 250))) return;
    lastProgressMs = now;
    const elapsedMs = now - phaseStartMs;
    const count = phase === 'produce' ? produced : consumed;
    options.onProgress({ phase, produced, consumed, messages: n, elapsedMs: round(elapsedMs), recordsPerSec: elapsedMs > 0 ? round(count / (elapsedMs / 1000)) : 0 });
  };

  // ---- produce
  const pad = 'x'.repeat(valueBytes);
  const valueOf = (i: number) => { const head = `{"i":${i},"user":"user-${i % keys}"}`; return head + pad.slice(head.length); };
  const metricsBefore = await options.metrics();
  const producer = wafka.producer({ lingerMs: options.lingerMs ?? 2, batchSizeBytes: options.batchSizeBytes ?? 256 * 1024, acks: 1 });
  await producer.connect();
  const chunk = 1000;
  const inFlight: Promise<unknown>[] = [];
  const produceStart = performance.now();
  phaseStartMs = produceStart;
  progress('produce', true);
  try {
    for (let start = 0; start < n; start += chunk) {
      signal?.throwIfAborted();
      const messages = [];
      for (let i = start; i < Math.min(n, start + chunk); i++) {
        messages.push({ key: `user-${i % keys}`, value: valueOf(i), headers: { seq: String(i) } });
      }
      inFlight.push(producer.send({ topic, messages }).then(() => { produced += messages.length; progress('produce'); }));
      if (inFlight.length >= 64) await inFlight.shift();
    }
    await Promise.all(inFlight);
  } catch (error) {
    await Promise.allSettled(inFlight);
    await producer.disconnect().catch(() => {});
    await admin.disconnect();
    throw error;
  }
  const produceMs = performance.now() - produceStart;
  progress('produce', true);
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
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => { resolveDone = resolve; });
  const consumeStart = performance.now();
  phaseStartMs = consumeStart;
  progress('consume', true);
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
      progress('consume');
      if (consumed >= n) resolveDone();
    },
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  let consumeMs = 0;
  try {
    await Promise.race([
      done,
      new Promise<void>((_, reject) => { timer = setTimeout(() => reject(new Error(`consumed ${consumed} of ${n} messages after 120 s`)), 120_000); }),
      new Promise<void>((_, reject) => {
        onAbort = () => reject(signal!.reason);
        if (signal?.aborted) onAbort();
        else signal?.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
    consumeMs = performance.now() - consumeStart;
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    await consumer.disconnect();
    await admin.disconnect();
  }
  progress('consume', true);
  log(`consumed ${consumed} messages in ${round(consumeMs)} ms: ${round(consumed / (consumeMs / 1000)).toLocaleString('en-US')} records/s`);

  if (consumed !== n) problems.push(`consumed ${consumed} messages, produced ${n}`);
  const partitions = [...perPartition].sort(([a], [b]) => a - b).map(([partition, s]) => ({ partition, records: s.records, firstOffset: s.first, lastOffset: s.last }));
  return {
    topic, messages: n, recordsBefore, partitionCount,
    produce: { ms: round(produceMs), recordsPerSec: round(n / (produceMs / 1000)), mbPerSec: +(bytesProduced / 1e6 / (produceMs / 1000)).toFixed(1), batches, requests },
    consume: { ms: round(consumeMs), recordsPerSec: round(consumed / (consumeMs / 1000)), mbPerSec: +(bytesProduced / 1e6 / (consumeMs / 1000)).toFixed(1) },
    partitions, sample, verified: problems.length === 0, problems,
  };
}
