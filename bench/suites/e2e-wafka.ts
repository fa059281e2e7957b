/**
 * wafka's end-to-end runs, runtime-agnostic: a started cluster, a Wafka
 * client, a topic per round; produce N records (acks=1: written by the
 * leader to its log before the ack), consume them back, and single-send
 * latency at a low rate.
 */
import { Wafka } from '../../src/index.ts';
import type { Cluster } from '../../src/cluster/index.ts';
import { percentile } from '../lib/measure.ts';

export const PRODUCER = { lingerMs: 2, batchSizeBytes: 256 * 1024, acks: 1 as const };
export const SEND_CHUNK = 1000;
export const IN_FLIGHT = 64;
export const PARTITIONS = 3;

export const PRODUCER_NOTE =
  `producer { lingerMs: ${PRODUCER.lingerMs}, batchSizeBytes: ${PRODUCER.batchSizeBytes / 1024} KiB, acks: 1 }, ` +
  `send() of ${SEND_CHUNK} messages at a time, up to ${IN_FLIGHT} sends in flight, null keys (sticky partitioner), ` +
  `${PARTITIONS} partitions, replication factor 1; timed until every send is acknowledged`;

export interface E2eContext {
  cluster: Cluster;
  wafka: Wafka;
  admin: ReturnType<Wafka['admin']>;
}

export async function openClient(cluster: Cluster): Promise<E2eContext> {
  const wafka = new Wafka({ clientId: 'bench', cluster, logLevel: 1 });
  const admin = wafka.admin();
  await admin.connect();
  return { cluster, wafka, admin };
}

let topicSeq = 0;

export async function newTopic(ctx: E2eContext, partitions = PARTITIONS, replicationFactor = 1): Promise<string> {
  const topic = `bench-${Date.now().toString(36)}-${++topicSeq}`;
  const configEntries = replicationFactor > 1 ? [{ name: 'min.insync.replicas', value: '2' }] : [];
  await ctx.admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor, configEntries }], waitForLeaders: true });
  return topic;
}

/** Produces `values` to `topic`; returns elapsed ms until all sends are acknowledged. */
export async function produce(ctx: E2eContext, topic: string, values: string[], acks: 1 | -1 = PRODUCER.acks, options: { idempotent?: boolean; maxInFlightRequests?: number } = {}): Promise<number> {
  const producer = ctx.wafka.producer({ ...PRODUCER, acks, allowAutoTopicCreation: false, ...options });
  await producer.connect();
  const inFlight: Promise<unknown>[] = [];
  const t0 = performance.now();
  for (let start = 0; start < values.length; start += SEND_CHUNK) {
    const messages = [];
    const end = Math.min(values.length, start + SEND_CHUNK);
    for (let i = start; i < end; i++) messages.push({ value: values[i] });
    inFlight.push(producer.send({ topic, messages }));
    if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
  }
  await Promise.all(inFlight);
  const ms = performance.now() - t0;
  await producer.disconnect();
  return ms;
}

/** Consumes `n` records of `topic` from the beginning; returns elapsed ms from run() to the n-th record. */
export async function consume(ctx: E2eContext, topic: string, n: number, timeoutMs = 120_000): Promise<number> {
  const consumer = ctx.wafka.consumer({ groupId: `bench-${topic}`, maxWaitTimeInMs: 100, maxBytesPerPartition: 4 * 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  let bytes = 0;
  let done!: () => void;
  let crashed!: (e: Error) => void;
  const finished = new Promise<void>((resolve, reject) => {
    done = resolve;
    crashed = reject;
  });
  consumer.on(consumer.events.CRASH, (e: unknown) => crashed(new Error(`consumer crashed: ${JSON.stringify((e as { payload?: unknown }).payload ?? e)}`)));
  const t0 = performance.now();
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) bytes += m.value ? m.value.length : 0;
      seen += batch.messages.length;
      if (seen >= n) done();
    },
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`consumed ${seen} of ${n} after ${timeoutMs} ms`)), timeoutMs);
  });
  await Promise.race([finished, timeout]);
  clearTimeout(timer);
  const ms = performance.now() - t0;
  await consumer.disconnect();
  if (bytes < n * 50) throw new Error(`consumed ${bytes} value bytes for ${n} records`);
  return ms;
}

/** Producer and consumer at once: ms from the first send to the n-th record received. */
export async function pipeline(ctx: E2eContext, topic: string, values: string[]): Promise<number> {
  const t0 = performance.now();
  const consumed = consume(ctx, topic, values.length);
  await produce(ctx, topic, values);
  await consumed;
  return performance.now() - t0;
}

/** `count` single-record sends, each awaited (lingerMs 0, acks=1), `gapMs` apart; returns per-send ms. */
export async function sendLatencies(ctx: E2eContext, topic: string, value: string, count: number, gapMs = 2, acks: 1 | -1 = 1): Promise<number[]> {
  const producer = ctx.wafka.producer({ lingerMs: 0, acks, allowAutoTopicCreation: false });
  await producer.connect();
  const out: number[] = [];
  for (let i = 0; i < count + 20; i++) {
    const t0 = performance.now();
    await producer.send({ topic, messages: [{ value }] });
    if (i >= 20) out.push(performance.now() - t0); // the first 20 warm the path
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
  }
  await producer.disconnect();
  return out;
}

export function latencyStats(xs: number[]): { p50: number; p99: number } {
  return { p50: percentile(xs, 50), p99: percentile(xs, 99) };
}
