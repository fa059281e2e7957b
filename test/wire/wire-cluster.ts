// Shared by the wire tests: a 3-broker files cluster with listeners, KafkaJS codecs from npm, and reading a topic with wafka's own client.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zstd from '@bokuweb/zstd-wasm';
import { CompressionCodecs, CompressionTypes as KafkaJSCompression } from 'kafkajs';
import SnappyCodec from 'kafkajs-snappy';
import * as lz4js from 'lz4js';
import { Wafka, logLevel, startCluster, type Cluster, type KafkaMessage } from '../../src/index.ts';
import { registerZstd } from '../../src/core/zstd.ts';
import type { BrokerConfigInput } from '../../src/broker/broker-config.ts';
import { createLogger, type LogEntry } from '../../src/client/logger.ts';
import { sleep, text } from '../client/wait.ts';

export interface WireCluster {
  cluster: Cluster;
  /** 127.0.0.1:port of each broker's listener. */
  brokers: string[];
  /** What the listeners logged (closed connections and why). */
  logged: string[];
  stop(): Promise<void>;
}

export async function startWireCluster(options: { clusterId: string; inProcess?: boolean; limits?: Record<string, number>; brokerConfig?: BrokerConfigInput }): Promise<WireCluster> {
  const dir = await mkdtemp(join(tmpdir(), `wafka-${options.clusterId}-`));
  const logged: string[] = [];
  const logger = createLogger({ level: logLevel.WARN, logCreator: () => (entry: LogEntry) => { logged.push(entry.log.message); } });
  const cluster = await startCluster({
    brokers: 3, storage: 'files', dir, clusterId: options.clusterId, inProcess: options.inProcess,
    // KafkaJS shares this thread with the controller: Kafka's session timeout (9 s), so a loaded machine does not fence brokers mid-test.
    brokerSessionTimeoutMs: 9_000,
    brokerConfig: options.brokerConfig,
    listen: { port: 0, logger, ...options.limits },
  });
  return {
    cluster, logged,
    brokers: cluster.listeners.map((l) => `${l.host}:${l.port}`),
    async stop() {
      await cluster.stop();
      await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };
}

let codecsReady: Promise<void> | undefined;

/** KafkaJS's snappy (kafkajs-snappy), lz4 (lz4js) and zstd (@bokuweb/zstd-wasm) codecs; gzip is built in. The same zstd for wafka's client. */
export function registerKafkaJSCodecs(): Promise<void> {
  return codecsReady ??= (async () => {
    await zstd.init();
    await registerZstd(zstd as never);
    CompressionCodecs[KafkaJSCompression.Snappy] = SnappyCodec;
    CompressionCodecs[KafkaJSCompression.LZ4] = () => ({
      compress: async (encoder: { buffer: Buffer }) => Buffer.from(lz4js.compress(encoder.buffer)),
      decompress: async (buffer: Buffer) => Buffer.from(lz4js.decompress(buffer)),
    });
    CompressionCodecs[KafkaJSCompression.ZSTD] = () => ({
      compress: async (encoder: { buffer: Buffer }) => Buffer.from(zstd.compress(encoder.buffer, 3)),
      decompress: async (buffer: Buffer) => Buffer.from(zstd.decompress(buffer)),
    });
  })();
}

export interface Received { partition: number; offset: string; key: string | null; value: string | null; headers: Record<string, string | string[]> }

const headerText = (v: Uint8Array | Uint8Array[] | Buffer | Buffer[] | string | string[] | undefined): string | string[] =>
  Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x : text(x)!)) : typeof v === 'string' ? v : text(v ?? null) ?? '';

/** Every message of `topic` from the beginning, through wafka's own consumer, until `count` came. */
export async function readWithWafka(cluster: Cluster, topic: string, count: number): Promise<Received[]> {
  const wafka = new Wafka({ clientId: 'wire-test', cluster, logLevel: logLevel.NOTHING });
  const consumer = wafka.consumer({ groupId: `read-${topic}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  const got: Received[] = [];
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }: { partition: number; message: KafkaMessage }) => {
        got.push({
          partition, offset: message.offset, key: text(message.key), value: text(message.value),
          headers: Object.fromEntries(Object.entries(message.headers).map(([k, v]) => [k, headerText(v)])),
        });
      },
    });
    const deadline = Date.now() + 20_000;
    while (got.length < count && Date.now() < deadline) await sleep(10);
  } finally {
    await consumer.disconnect();
  }
  return got;
}

/** The messages the tests send: message i of a run has key k<i % 7>, value `<tag>:<i>`, a header and a repeated header. */
export function testMessages(tag: string, from: number, count: number) {
  return Array.from({ length: count }, (_, j) => {
    const i = from + j;
    return { key: `k${i % 7}`, value: `${tag}:${i}`, headers: { i: String(i), tag: ['a', `t${i % 3}`] } };
  });
}

/** Each message came once, intact, and in send order within its partition. */
export function checkReceived(got: Received[], tag: string, count: number): void {
  const values = got.map((g) => g.value).sort();
  const expected = Array.from({ length: count }, (_, i) => `${tag}:${i}`).sort();
  if (JSON.stringify(values) !== JSON.stringify(expected)) throw new Error(`${tag}: got ${got.length} messages, expected ${count} distinct: ${JSON.stringify(values.slice(0, 10))}…`);
  for (const g of got) {
    const i = Number(g.value!.split(':')[1]);
    const want = { key: `k${i % 7}`, headers: { i: String(i), tag: ['a', `t${i % 3}`] } };
    if (g.key !== want.key || JSON.stringify(g.headers) !== JSON.stringify(want.headers)) {
      throw new Error(`${tag}: message ${i} arrived as ${JSON.stringify(g)}, expected ${JSON.stringify(want)}`);
    }
  }
  for (const partition of new Set(got.map((g) => g.partition))) {
    const mine = got.filter((g) => g.partition === partition);
    const order = mine.map((g) => Number(g.value!.split(':')[1]));
    if (order.some((v, k) => k > 0 && v < order[k - 1])) throw new Error(`${tag}: partition ${partition} out of send order: ${order.join(',')}`);
    if (mine.some((g, k) => k > 0 && BigInt(g.offset) <= BigInt(mine[k - 1].offset))) throw new Error(`${tag}: partition ${partition} offsets not ascending`);
  }
}
