import { describe, expect, it } from 'vitest';
import { Wafka, logLevel } from '../../src/index.ts';
import { FakeCluster } from './fake-broker.ts';
import { WafkaError } from '../../src/errors.ts';
import { decodeBatchSync, loadCore } from '../../src/core/index.ts';
import { sleep } from './wait.ts';

const quiet = { logLevel: logLevel.NOTHING };

async function setup(options: { partitions?: number; brokers?: number } = {}) {
  const cluster = new FakeCluster(options.brokers ?? 3);
  cluster.createTopic('t', options.partitions ?? 3);
  const wafka = new Wafka({ clientId: 'test', cluster: cluster.brokers, ...quiet, retry: { initialRetryTime: 5, retries: 3 } });
  return { cluster, wafka };
}

const totalBatches = (cluster: FakeCluster) => cluster.brokers.reduce((n, b) => n + b.counters.batchesAppended, 0);
const totalRequests = (cluster: FakeCluster) => cluster.brokers.reduce((n, b) => n + b.counters.produceRequests, 0);

describe('producer', () => {
  it('stamps messages without a timestamp with the send time; keeps given timestamps', async () => {
    const { cluster, wafka } = await setup({ partitions: 1 });
    const producer = wafka.producer({ lingerMs: 5 });
    await producer.connect();
    const before = Date.now();
    const messages = Array.from({ length: 600 }, (_, i) => (i === 7 ? { value: 'old', timestamp: '1000' } : { value: String(i) }));
    await producer.send({ topic: 't', messages, acks: 1 });
    const after = Date.now();
    const consumer = wafka.consumer({ groupId: 'ts', maxWaitTimeInMs: 20 });
    await consumer.connect();
    await consumer.subscribe({ topics: ['t'], fromBeginning: true });
    const stamps: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => { stamps.push(message.timestamp); } });
    while (stamps.length < 600) await sleep(5);
    await consumer.disconnect();
    expect(stamps[7]).toBe('1000');
    for (const [i, t] of stamps.entries()) if (i !== 7) expect(Number(t) >= before && Number(t) <= after).toBe(true);
    expect(cluster).toBeDefined();
  });

  it('sends and returns KafkaJS-shaped RecordMetadata with each partition\'s base offset', async () => {
    const { cluster, wafka } = await setup();
    const producer = wafka.producer();
    await producer.connect();
    const first = await producer.send({ topic: 't', messages: [{ key: 'a', value: '1' }, { key: 'a', value: '2' }], acks: 1 });
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ topicName: 't', errorCode: 0, baseOffset: '0', logStartOffset: '0' });
    const second = await producer.send({ topic: 't', messages: [{ key: 'a', value: '3' }], acks: 1 });
    expect(second[0].baseOffset).toBe('2');
    expect(second[0].partition).toBe(first[0].partition);
    expect(cluster.batchesOf('t', first[0].partition)).toHaveLength(2);
    await producer.disconnect();
  });

  it('with lingerMs, many concurrent sends share a few batches and requests', async () => {
    const { cluster, wafka } = await setup();
    const producer = wafka.producer({ lingerMs: 20, batchSizeBytes: 1 << 20 });
    await producer.connect();
    const sends = Array.from({ length: 300 }, (_, i) => producer.send({ topic: 't', messages: [{ key: `k${i}`, value: `v${i}` }], acks: 1 }));
    const results = await Promise.all(sends);
    expect(results.every((r) => r.length === 1)).toBe(true);
    // One batch per partition: 300 sends → 3 batches.
    expect(totalBatches(cluster)).toBe(3);
    expect(totalRequests(cluster)).toBe(3); // one request per leader broker (3 brokers, 3 partitions)
    // Offsets within each partition are unique and dense.
    for (let p = 0; p < 3; p++) {
      const offsets = results.flat().filter((r) => r.partition === p).map((r) => Number(r.baseOffset)).sort((a, b) => a - b);
      expect(offsets).toEqual(offsets.map((_, i) => i));
    }
    await producer.disconnect();
  });

  it('waits lingerMs before sending a batch that is not full', async () => {
    const { cluster, wafka } = await setup();
    const producer = wafka.producer({ lingerMs: 150 });
    await producer.connect();
    const started = Date.now();
    const sent = producer.send({ topic: 't', messages: [{ key: 'x', value: 'y' }], acks: 1 });
    await sleep(50);
    expect(totalBatches(cluster)).toBe(0);
    await sent;
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(totalBatches(cluster)).toBe(1);
    await producer.disconnect();
  });

  it('seals a batch when it reaches batchSizeBytes without waiting for lingerMs', async () => {
    const { cluster, wafka } = await setup({ partitions: 1, brokers: 1 });
    const producer = wafka.producer({ lingerMs: 60_000, batchSizeBytes: 1000 });
    await producer.connect();
    const value = 'x'.repeat(100);
    // 109 B per record in the batch (exact): 8 fit in 1000 B with the header; 41 records → 5 full batches sent at once, 1 left open.
    const sent = producer.send({ topic: 't', messages: Array.from({ length: 41 }, () => ({ value })), acks: 1 });
    await sleep(100);
    expect(cluster.batchesOf('t', 0).length).toBe(5);
    for (const b of cluster.batchesOf('t', 0)) expect(b.bytes.byteLength).toBe(61 + 8 * 109);
    await producer.disconnect(); // flushes the open batch
    expect((await sent)[0].baseOffset).toBe('0');
    expect(cluster.batchesOf('t', 0).length).toBe(6);
  });

  it('a send\'s string keys and values (ASCII, non-ASCII, emoji, lone surrogates) arrive as TextEncoder bytes in batches of exact size', async () => {
    await loadCore();
    const { cluster, wafka } = await setup({ partitions: 4, brokers: 1 });
    const batchSizeBytes = 1500;
    const producer = wafka.producer({ lingerMs: 60_000, batchSizeBytes });
    await producer.connect();
    const kinds = ['x'.repeat(90), 'déjà vu', '🎉 party', 'lone \ud800 high', 'lone \udfff low', ''];
    const messages = Array.from({ length: 400 }, (_, i) => ({
      key: i % 5 === 0 ? `key-${i % 7}` : null,
      value: i % 50 < 30 ? `ascii-${i}-${'v'.repeat(i % 80)}` : `${kinds[i % kinds.length]}-${i}`,
    }));
    const sent = producer.send({ topic: 't', messages, acks: 1 });
    await producer.flush();
    await sent;
    const enc = new TextEncoder();
    const got = new Map<string, number>();
    for (let p = 0; p < 4; p++) {
      for (const b of cluster.batchesOf('t', p)) {
        expect(b.bytes.byteLength).toBeLessThanOrEqual(batchSizeBytes);
        for (const r of decodeBatchSync(b.bytes).records) {
          const k = `${r.key ? Array.from(r.key).join(',') : 'null'}|${Array.from(r.value!).join(',')}`;
          got.set(k, (got.get(k) ?? 0) + 1);
        }
      }
    }
    const want = new Map<string, number>();
    for (const m of messages) {
      const k = `${m.key === null ? 'null' : Array.from(enc.encode(m.key)).join(',')}|${Array.from(enc.encode(m.value)).join(',')}`;
      want.set(k, (want.get(k) ?? 0) + 1);
    }
    expect(got).toEqual(want);
    await producer.disconnect();
  });

  it('bounds buffered bytes: send waits while the accumulator is over bufferMemoryBytes', async () => {
    const { cluster, wafka } = await setup({ partitions: 1, brokers: 1 });
    // A slow broker: produce answers after 30 ms.
    const broker = cluster.brokers[0];
    const produce = broker.produce.bind(broker);
    let maxBuffered = 0;
    const producer = wafka.producer({ lingerMs: 0, batchSizeBytes: 2000, bufferMemoryBytes: 5000, maxInFlightRequests: 1 });
    broker.produce = async (request) => {
      maxBuffered = Math.max(maxBuffered, producer.stats.bufferedBytes);
      await sleep(30);
      return produce(request);
    };
    await producer.connect();
    const value = 'v'.repeat(200);
    const sends = Array.from({ length: 100 }, (_, i) => producer.send({ topic: 't', messages: [{ key: `k${i}`, value }], acks: 1 }));
    await sleep(5);
    expect(producer.stats.bufferedBytes).toBeLessThanOrEqual(5000);
    await Promise.all(sends);
    expect(maxBuffered).toBeLessThanOrEqual(5000);
    expect(producer.stats.bufferedBytes).toBe(0);
    expect(cluster.batchesOf('t', 0).reduce((n, b) => n + Number(b.lastOffset - b.baseOffset + 1n), 0)).toBe(100);
    await producer.disconnect();
  });

  it('null keys stick to one partition per batch and move on when it is sealed', async () => {
    const { cluster, wafka } = await setup({ partitions: 4, brokers: 1 });
    const producer = wafka.producer({ lingerMs: 60_000, batchSizeBytes: 1200 });
    await producer.connect();
    const value = 'x'.repeat(100);
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) sends.push(producer.send({ topic: 't', messages: [{ value }], acks: 1 }));
    await sleep(20); // all appended (lingerMs is long: only full batches have gone)
    await producer.flush();
    await Promise.all(sends);
    const batches = [0, 1, 2, 3].flatMap((p) => cluster.batchesOf('t', p).map((b) => ({ p, n: Number(b.lastOffset - b.baseOffset + 1n), at: b })));
    // Each sealed batch filled one partition; a full batch holds 10 records of 109 B (exact sizes).
    expect(batches.reduce((n, b) => n + b.n, 0)).toBe(20);
    expect(batches.map((b) => b.n)).toEqual(expect.arrayContaining([10, 10]));
    expect(new Set(batches.map((b) => b.p)).size).toBeGreaterThanOrEqual(2);
    await producer.disconnect();
  });

  it('retries retriable partition errors and succeeds; fails fast on non-retriable ones', async () => {
    const { cluster, wafka } = await setup({ partitions: 1, brokers: 1 });
    const producer = wafka.producer();
    await producer.connect();
    cluster.produceFaults.push({ topic: 't', partition: 0, type: 'NOT_LEADER_OR_FOLLOWER', times: 2 });
    const [r] = await producer.send({ topic: 't', messages: [{ value: 'a' }], acks: 1 });
    expect(r.baseOffset).toBe('0');
    cluster.produceFaults.push({ topic: 't', partition: 0, type: 'INVALID_RECORD', times: 1 });
    const error = await producer.send({ topic: 't', messages: [{ value: 'b' }], acks: 1 }).catch((e) => e);
    expect(error).toBeInstanceOf(WafkaError);
    expect(error.type).toBe('INVALID_RECORD');
    cluster.produceFaults.push({ topic: 't', partition: 0, type: 'REQUEST_TIMED_OUT', times: 100 });
    const exhausted = await producer.send({ topic: 't', messages: [{ value: 'c' }], acks: 1 }).catch((e) => e);
    expect(exhausted.type).toBe('REQUEST_TIMED_OUT');
    cluster.produceFaults.length = 0;
    expect((await producer.send({ topic: 't', messages: [{ value: 'd' }], acks: 1 }))[0].baseOffset).toBe('1');
    await producer.disconnect();
  });

  it('typed errors for an unknown topic, a partition out of range and a record over the limits', async () => {
    const { wafka } = await setup();
    const producer = wafka.producer({ maxRequestSizeBytes: 10_000 });
    await producer.connect();
    await expect(producer.send({ topic: 'nope', messages: [{ value: 'x' }] })).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION', code: 3 });
    await expect(producer.send({ topic: 't', messages: [{ value: 'x', partition: 7 }] })).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: false });
    await expect(producer.send({ topic: 't', messages: [{ value: 'x'.repeat(20_000) }] })).rejects.toMatchObject({ type: 'MESSAGE_TOO_LARGE', code: 10 });
    await expect(producer.send({ topic: 't', messages: [{ value: 42 as any }] })).rejects.toThrow(TypeError);
    await expect(producer.send({ topic: 't', messages: [{ value: 'ok' }], acks: 2 as any })).rejects.toMatchObject({ type: 'INVALID_REQUIRED_ACKS' });
    expect((await producer.send({ topic: 't', messages: [{ value: 'still fine' }] }))).toHaveLength(1);
    await producer.disconnect();
  });

  it('a too-large batch fails only the send whose record it holds', async () => {
    const { cluster, wafka } = await setup({ partitions: 1, brokers: 1 });
    cluster.topics.get('t')!.configs.maxMessageBytes = '2000';
    const producer = wafka.producer({ lingerMs: 20, batchSizeBytes: 1500 });
    await producer.connect();
    const small = producer.send({ topic: 't', messages: [{ value: 'small' }], acks: 1 });
    const big = producer.send({ topic: 't', messages: [{ value: 'x'.repeat(5000) }], acks: 1 }).catch((e) => e);
    expect(await small).toHaveLength(1);
    expect((await big).type).toBe('MESSAGE_TOO_LARGE');
    await producer.disconnect();
  });

  it('acks 0 resolves with baseOffset -1; disconnect flushes pending batches', async () => {
    const { cluster, wafka } = await setup({ partitions: 1, brokers: 1 });
    const producer = wafka.producer({ lingerMs: 10_000 });
    await producer.connect();
    const pending = producer.send({ topic: 't', messages: [{ value: 'a' }], acks: 0 });
    await producer.disconnect();
    expect((await pending)[0].baseOffset).toBe('-1');
    expect(cluster.batchesOf('t', 0)).toHaveLength(1);
    await expect(producer.send({ topic: 't', messages: [{ value: 'x' }] })).rejects.toMatchObject({ type: 'NETWORK_EXCEPTION' });
  });

  it('emits CONNECT, REQUEST and DISCONNECT events', async () => {
    const { wafka } = await setup();
    const producer = wafka.producer();
    const seen: string[] = [];
    producer.on(producer.events.CONNECT, (e) => seen.push(e.type));
    producer.on(producer.events.REQUEST, (e) => { if (e.payload.apiName === 'Produce') seen.push(`${e.type}:${e.payload.apiName}`); });
    producer.on(producer.events.DISCONNECT, (e) => seen.push(e.type));
    expect(() => producer.on('producer.nope', () => {})).toThrow(TypeError);
    await producer.connect();
    await producer.send({ topic: 't', messages: [{ value: 'a' }] });
    await producer.disconnect();
    expect(seen).toEqual(['producer.connect', 'producer.network.request:Produce', 'producer.disconnect']);
  });
});
