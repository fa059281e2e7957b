import { describe, expect, it } from 'vitest';
import { Wafka, logLevel } from '../../src/index.ts';
import { FakeCluster } from './fake-broker.ts';
import { decodeBatchSync, loadCore } from '../../src/core/index.ts';

const quiet = { logLevel: logLevel.NOTHING };

function setup(partitions = 1, brokers = 1) {
  const cluster = new FakeCluster(brokers);
  cluster.createTopic('t', partitions);
  const wafka = new Wafka({ clientId: 'test', cluster: cluster.brokers, ...quiet, retry: { initialRetryTime: 5, retries: 3 } });
  return { cluster, wafka };
}
const records = (cluster: FakeCluster, partitions = 1) => {
  let n = 0;
  for (let p = 0; p < partitions; p++) for (const b of cluster.batchesOf('t', p)) n += Number(b.lastOffset - b.baseOffset + 1n);
  return n;
};

describe('producer (review)', () => {
  it('a send that fails while partitioning releases the buffer memory it reserved', async () => {
    const { wafka } = setup(2);
    const producer = wafka.producer({ lingerMs: 10_000 });
    await producer.connect();
    await expect(producer.send({ topic: 't', messages: [{ value: 'a', partition: 9 }] })).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect(producer.stats.bufferedBytes).toBe(0);
    await producer.disconnect();
  });

  it('a send rejected for a too-large record buffers none of its records', async () => {
    const { cluster, wafka } = setup(1);
    const producer = wafka.producer({ maxRequestSizeBytes: 10_000 });
    await producer.connect();
    const error = await producer.send({ topic: 't', messages: [{ value: 'small' }, { value: 'x'.repeat(20_000) }] }).catch((e) => e);
    expect(error.type).toBe('MESSAGE_TOO_LARGE');
    await producer.flush();
    expect(records(cluster)).toBe(0);
    expect(producer.stats.bufferedBytes).toBe(0);
    await producer.disconnect();
  });

  // As Kafka's Java client (Sender.completeBatch → RecordAccumulator.splitAndReenqueue): a batch of several
  // records that the broker finds too large is split, and only a batch of one record that is too large fails.
  it('MESSAGE_TOO_LARGE for a batch shared by two sends fails only the send whose record is too large', async () => {
    const { cluster, wafka } = setup(1);
    cluster.topics.get('t')!.configs.maxMessageBytes = '2000';
    const producer = wafka.producer({ lingerMs: 30, batchSizeBytes: 16_384 });
    await producer.connect();
    const a = producer.send({ topic: 't', messages: [{ value: 'a'.repeat(1200) }], acks: 1 });
    const b = producer.send({ topic: 't', messages: [{ value: 'b'.repeat(1200) }], acks: 1 });
    const c = producer.send({ topic: 't', messages: [{ value: 'c'.repeat(3000) }], acks: 1 }).catch((e) => e);
    const [ra, rb] = await Promise.all([a, b]);
    expect((await c).type).toBe('MESSAGE_TOO_LARGE');
    expect(ra[0].baseOffset).toBe('0');
    expect(rb[0].baseOffset).toBe('1');
    expect(records(cluster)).toBe(2);
    expect(producer.stats.bufferedBytes).toBe(0);
    expect(producer.stats.incompleteBatches).toBe(0);
    await producer.disconnect();
  });

  it('a split batch keeps the order of its records, across sends and within a send, headers and keys included', async () => {
    const { cluster, wafka } = setup(1);
    cluster.topics.get('t')!.configs.maxMessageBytes = '1000';
    const producer = wafka.producer({ lingerMs: 30 });
    await producer.connect();
    const big = 'x'.repeat(2000);
    const sends = [
      producer.send({ topic: 't', messages: [{ key: 'k0', value: 'v0'.repeat(100), headers: { h: 'one', g: ['1', '2'] } }, { value: 'v1'.repeat(100) }], acks: 1 }),
      producer.send({ topic: 't', messages: [{ value: 'v2'.repeat(100), timestamp: '1700000000000' }, { value: big }, { value: 'v3'.repeat(100) }], acks: 1 }).catch((e) => e),
      producer.send({ topic: 't', messages: [{ key: 'k4', value: 'v4'.repeat(100) }, { value: null }], acks: 1 }),
      producer.send({ topic: 't', messages: Array.from({ length: 20 }, (_, i) => ({ value: `w${i}`.repeat(40) })), acks: 1 }),
    ];
    const [r0, r1, r2, r3] = await Promise.all(sends);
    expect(r1.type).toBe('MESSAGE_TOO_LARGE');
    expect(r0[0].baseOffset).toBe('0');
    // The records of the failed send that fit are written (as Kafka's client does: batches, not sends, fail).
    await loadCore();
    const decoder = new TextDecoder();
    const text = (b: Uint8Array | null) => (b == null ? null : decoder.decode(b));
    const written = cluster.batchesOf('t', 0).flatMap((b) => decodeBatchSync(b.bytes).records);
    expect(written.map((r) => Number(r.offset))).toEqual(written.map((_, i) => i));
    const values = written.map((r) => text(r.value));
    const keys = written.map((r) => text(r.key));
    const expected = ['v0'.repeat(100), 'v1'.repeat(100), 'v2'.repeat(100), 'v3'.repeat(100), 'v4'.repeat(100), null, ...Array.from({ length: 20 }, (_, i) => `w${i}`.repeat(40))];
    expect(values).toEqual(expected);
    expect(keys.slice(0, 6)).toEqual(['k0', null, null, null, 'k4', null]);
    expect(written[0].headers.map((h) => [h.key, text(h.value)])).toEqual([['h', 'one'], ['g', '1'], ['g', '2']]);
    expect(written[2].timestamp).toBe(1700000000000n);
    expect(Number(r2[0].baseOffset)).toBe(4);
    expect(Number(r3[0].baseOffset)).toBe(6);
    expect(producer.stats.bufferedBytes).toBe(0);
    await producer.disconnect();
  });

  it('an invalid header value is a TypeError of its send and does not poison the buffer accounting', async () => {
    const { cluster, wafka } = setup(1);
    const producer = wafka.producer({ lingerMs: 5 });
    await producer.connect();
    const ok = producer.send({ topic: 't', messages: [{ value: 'ok' }], acks: 1 });
    await expect(producer.send({ topic: 't', messages: [{ value: 'x', headers: { h: 42 as any } }] })).rejects.toThrow(TypeError);
    await ok;
    expect(producer.stats.bufferedBytes).toBe(0);
    expect((await producer.send({ topic: 't', messages: [{ value: 'next', headers: { n: null as any, a: ['1', new Uint8Array([2])] } }], acks: 1 }))[0].baseOffset).toBe('1');
    expect(records(cluster)).toBe(2);
    await producer.disconnect();
  });

  it('a message with a fractional timestamp fails its own send, not the request it would share', async () => {
    const { cluster, wafka } = setup(2);
    const producer = wafka.producer({ lingerMs: 20 });
    await producer.connect();
    const good = producer.send({ topic: 't', messages: [{ value: 'good', partition: 0 }], acks: 1 });
    const bad = producer.send({ topic: 't', messages: [{ value: 'bad', partition: 1, timestamp: '1700000000000.5' }], acks: 1 }).catch((e) => e);
    expect((await bad).type).toBe('INVALID_TIMESTAMP');
    expect((await good)[0].baseOffset).toBe('0');
    expect(records(cluster, 2)).toBe(1);
    await producer.disconnect();
  });

  it('a send\'s timeout applies to its own requests only', async () => {
    const { cluster, wafka } = setup(1);
    const seen: number[] = [];
    const broker = cluster.brokers[0];
    const produce = broker.produce.bind(broker);
    broker.produce = async (request) => { seen.push(request.timeoutMs); return produce(request); };
    const producer = wafka.producer();
    await producer.connect();
    await producer.send({ topic: 't', messages: [{ value: 'a' }], timeout: 1234, acks: 1 });
    await producer.send({ topic: 't', messages: [{ value: 'b' }], acks: 1 });
    expect(seen).toEqual([1234, 30_000]);
    await producer.disconnect();
  });
});
