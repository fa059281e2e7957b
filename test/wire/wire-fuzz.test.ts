// Protocol fuzz: random and mutated request frames against the frame handler (in-process, 100,000 frames) and the TCP listener.
import { connect, type Socket } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, type Logger } from '../../src/client/logger.ts';
import { startCluster, WafkaError, type BrokerApi, type Cluster } from '../../src/index.ts';
import type { WireContext } from '../../src/wire/api.ts';
import { WireFormatError } from '../../src/wire/codec.ts';
import { handleFrame, type HandledFrame } from '../../src/wire/frame-handler.ts';
import { fuzzFrame, seeded, validFrame } from './wire-frames.ts';

const SEED = Number(process.env.WAFKA_FUZZ_SEED ?? 13);
const FRAMES = Number(process.env.WAFKA_WIRE_FUZZ_FRAMES ?? 100_000);
/** Frames served by a real broker (≈ 1 ms each on this machine, so fewer than the handler's). */
const BROKER_FRAMES = Number(process.env.WAFKA_WIRE_FUZZ_BROKER_FRAMES ?? 5_000);
const quiet: Logger = createLogger({ level: logLevel.NOTHING });

/**
 * A broker double that answers every request at once with the shape a
 * broker's answer has (each topic and partition asked about, no error), so
 * that 100,000 frames exercise decoding, the per-API mapping and response
 * encoding in seconds. Real brokers get the fuzz below, and the broker's own
 * input checks have their own (test/fuzz/).
 */
const echoBroker: BrokerApi = {
  metadata: async (r) => ({ clusterId: 'echo', controllerId: 0, metadataVersion: 1, brokers: [{ nodeId: 0, host: 'echo', rack: null }], topics: (r.topics ?? ['t']).map((name) => ({ name, partitions: [{ partitionId: 0, leader: 0, leaderEpoch: 0, replicas: [0], isr: [0] }] })) }),
  produce: async (r) => ({ topics: r.topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, baseOffset: 0n, logAppendTimeMs: -1n, logStartOffset: 0n })) })) }),
  fetch: async (r) => ({ topics: r.topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, highWatermark: 1n, lastStableOffset: 1n, logStartOffset: 0n, records: new Uint8Array(70) })) })) }),
  listOffsets: async (r) => ({ topics: r.topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, offset: 0n, timestamp: -1n })) })) }),
  createTopics: async (r) => ({ topics: r.topics.map((t) => ({ topic: t.topic })) }),
  deleteTopics: async (r) => ({ topics: r.topics.map((topic) => ({ topic })) }),
  createPartitions: async (r) => ({ topics: r.topicPartitions.map((t) => ({ topic: t.topic })) }),
  describeConfigs: async (r) => ({ resources: r.resources.map((x) => ({ type: x.type, name: x.name, configEntries: [{ name: 'retention.ms', value: '1', isDefault: false, readOnly: false, isSensitive: false }] })) }),
  alterConfigs: async (r) => ({ resources: r.resources.map((x) => ({ type: x.type, name: x.name })) }),
  deleteRecords: async (r) => ({ topics: r.topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, lowWatermark: p.offset })) })) }),
  initProducerId: async () => ({ producerId: 1n, producerEpoch: 0 }),
  metrics: async () => { throw new Error('not asked over the wire'); },
};

/** Feeds `frames` frames to the frame handler; returns what became of them and anything that was not a WireFormatError or a WafkaError. */
async function fuzzHandler(context: WireContext, seed: number, frames: number) {
  const rand = seeded(seed);
  const counts = { refused: 0, answered: 0, noResponse: 0, failedRequest: 0 };
  const surprises: string[] = [];
  let open: Promise<void>[] = [];
  for (let i = 0; i < frames; i++) {
    const frame = fuzzFrame(rand, i);
    let handled: HandledFrame;
    try {
      handled = handleFrame(frame, context);
    } catch (error) {
      if (error instanceof WireFormatError) counts.refused++;
      else surprises.push(`frame ${i}: ${String(error)}`);
      continue;
    }
    open.push(handled.response.then(
      (chunks) => { if (chunks) counts.answered++; else counts.noResponse++; },
      (error) => {
        if (error instanceof WafkaError) counts.failedRequest++;
        else surprises.push(`frame ${i} (${handled.api.name} v${handled.header.apiVersion}): ${String(error)}`);
      },
    ));
    if (open.length >= 256) { await Promise.all(open); open = []; }
  }
  await Promise.all(open);
  return { counts, surprises };
}

let cluster: Cluster;
beforeAll(async () => {
  // Long-polls end at once: the fuzz is about the protocol layer, and a fetch of random partitions would otherwise wait.
  cluster = await startCluster({ storage: 'memory', brokers: 1, clusterId: 'wire-fuzz', brokerConfig: { fetchWaitMsMax: 1 }, listen: { port: 0, logger: quiet } });
}, 30_000);
afterAll(async () => { await cluster?.stop(); });

describe(`wire protocol fuzz (seed ${SEED})`, () => {
  it(`${FRAMES.toLocaleString('en-US')} random and mutated frames through the frame handler: a WireFormatError or an answer, never a crash; memory stays bounded`, async () => {
    const context: WireContext = { broker: echoBroker, nodeId: 0, endpoints: () => new Map([[0, { host: '127.0.0.1', port: 9092 }]]), log: quiet };
    const heapBefore = process.memoryUsage().heapUsed;
    const { counts, surprises } = await fuzzHandler(context, SEED, FRAMES);
    const heapGrowthBytes = process.memoryUsage().heapUsed - heapBefore;
    expect(surprises.slice(0, 5)).toEqual([]);
    expect(counts.refused + counts.answered + counts.noResponse + counts.failedRequest).toBe(FRAMES);
    expect(counts.answered).toBeGreaterThan(FRAMES / 20);
    expect(counts.refused).toBeGreaterThan(FRAMES / 2);
    expect(heapGrowthBytes).toBeLessThan(128 * 1024 * 1024);
  }, 120_000);

  it(`${BROKER_FRAMES.toLocaleString('en-US')} fuzz frames served by a real broker: no crash, and it answers a well-formed request after`, async () => {
    const context: WireContext = { broker: cluster.broker(0), nodeId: 0, endpoints: () => new Map([[0, { host: '127.0.0.1', port: 9092 }]]), log: quiet };
    const { counts, surprises } = await fuzzHandler(context, SEED + 3, BROKER_FRAMES);
    expect(surprises.slice(0, 5)).toEqual([]);
    expect(counts.answered).toBeGreaterThan(BROKER_FRAMES / 20);
    expect((await cluster.broker(0).metadata({ topics: [] })).brokers).toHaveLength(1);
  }, 120_000);

  it('every generated valid frame is read and answered (the generator speaks the protocol)', async () => {
    const context: WireContext = { broker: cluster.broker(0), nodeId: 0, endpoints: () => new Map(), log: quiet };
    const rand = seeded(SEED + 1);
    for (let i = 0; i < 2_000; i++) {
      const handled = handleFrame(validFrame(rand, i), context);
      await handled.response.catch((error) => { if (!(error instanceof WafkaError)) throw error; });
    }
  }, 60_000);

  it('over TCP: fuzzing connections are closed one by one while a KafkaJS client on another connection keeps producing and reading offsets', async () => {
    const port = cluster.listeners[0].port;
    const kafka = new Kafka({ clientId: 'well-behaved', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await Promise.all([admin.connect(), producer.connect()]);
    let fuzzing = true;
    let produced = 0;
    const wellBehaved = (async () => {
      while (fuzzing) {
        await producer.send({ topic: 'steady', acks: 1, messages: [{ value: `m${produced}` }] });
        produced++;
      }
    })();
    const rand = seeded(SEED + 2);
    let closedByListener = 0;
    for (let c = 0; c < 40; c++) {
      const socket = await new Promise<Socket>((resolve, reject) => { const s = connect(port, '127.0.0.1', () => resolve(s)); s.on('error', reject); });
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.on('error', () => {});
      socket.on('data', () => {});
      for (let k = 0; k < 50 && !socket.destroyed; k++) {
        const frame = fuzzFrame(rand, k);
        const size = Buffer.alloc(4);
        size.writeInt32BE(rand.next() < 0.1 ? rand.pick([-1, 0, 3, 0x7fffffff]) : frame.length);
        socket.write(Buffer.concat([size, frame]));
      }
      socket.end();
      await closed;
      closedByListener++;
    }
    fuzzing = false;
    await wellBehaved;
    const offsets = await admin.fetchTopicOffsets('steady');
    await Promise.all([admin.disconnect(), producer.disconnect()]);
    expect(closedByListener).toBe(40);
    expect(produced).toBeGreaterThan(0);
    expect(offsets[0].high).toBe(String(produced));
  }, 60_000);
});
