// Bad input at the broker: each a typed per-partition error (or a rejected
// request when the request itself is malformed), the broker keeps serving,
// and nothing already stored changes.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { Broker } from '../../src/broker/broker.ts';
import type { ProduceRequest } from '../../src/protocol/types.ts';
import { batchOf, concat, produceTo, readRecords, startTestCluster, type TestCluster } from './helpers.ts';

let cluster: TestCluster;
let broker: Broker;
beforeEach(async () => {
  cluster = await startTestCluster(1);
  broker = cluster.brokers[0];
  await broker.createTopics({ topics: [{ topic: 't', numPartitions: 2, configEntries: [{ name: 'max.message.bytes', value: '2000' }] }] });
  await broker.produce(produceTo('t', 0, await batchOf(['kept-1', 'kept-2'])));
});
afterEach(() => cluster.close());

async function errorOf(request: ProduceRequest) {
  return (await broker.produce(request)).topics[0].partitions[0].error;
}

async function storedValues(): Promise<string[]> {
  const r = await broker.fetch({
    maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 'read_uncommitted',
    topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
  });
  return (await readRecords(r.topics[0].partitions[0].records)).map((x) => x.value);
}

async function stillServes(): Promise<void> {
  const ok = await broker.produce(produceTo('t', 1, await batchOf(['fine'])));
  expect(ok.topics[0].partitions[0].error).toBeUndefined();
}

describe('per-partition errors', () => {
  test('unknown topic', async () => {
    expect(await errorOf(produceTo('nope', 0, await batchOf(['x'])))).toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION', code: 3, retriable: true });
    await stillServes();
  });

  test('partition out of range', async () => {
    const error = await errorOf(produceTo('t', 7, await batchOf(['x'])));
    expect(error).toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION', code: 3 });
    expect(error!.message).toContain('2 partitions');
    await stillServes();
    expect(await storedValues()).toEqual(['kept-1', 'kept-2']);
  });

  test('a batch over maxMessageBytes: MESSAGE_TOO_LARGE, nothing of the record set stored', async () => {
    const records = concat(await batchOf(['small']), await batchOf(['y'.repeat(3000)]));
    const error = await errorOf(produceTo('t', 0, records));
    expect(error).toMatchObject({ type: 'MESSAGE_TOO_LARGE', code: 10, retriable: false });
    expect(error!.message).toMatch(/2000/);
    expect(await storedValues()).toEqual(['kept-1', 'kept-2']);
    await stillServes();
  });

  test('a flipped byte anywhere under the CRC: CORRUPT_MESSAGE, nothing stored', async () => {
    const good = await batchOf(['a', 'b', 'c'], { key: 'k' });
    // Every byte from magic to the end (offset and leader epoch are outside the CRC: the broker overwrites them).
    for (let position = 16; position < good.byteLength; position++) {
      const bad = good.slice();
      bad[position] ^= 0x40;
      const error = await errorOf(produceTo('t', 0, bad));
      expect(error?.type, `flip at ${position}`).toMatch(/^(CORRUPT_MESSAGE|MESSAGE_TOO_LARGE)$/);
    }
    expect(await storedValues()).toEqual(['kept-1', 'kept-2']);
    const metrics = await broker.metrics();
    expect(metrics.errors.CORRUPT_MESSAGE).toBeGreaterThan(0);
    await stillServes();
  });

  test('a truncated record set and an empty one', async () => {
    const good = await batchOf(['whole']);
    expect(await errorOf(produceTo('t', 0, good.subarray(0, good.byteLength - 3)))).toMatchObject({ type: 'CORRUPT_MESSAGE' });
    expect(await errorOf(produceTo('t', 0, concat(good, good.subarray(0, 20))))).toMatchObject({ type: 'CORRUPT_MESSAGE' });
    expect(await errorOf(produceTo('t', 0, new Uint8Array(0)))).toMatchObject({ type: 'CORRUPT_MESSAGE' });
    expect(await storedValues()).toEqual(['kept-1', 'kept-2']);
  });

  test('one bad partition does not fail the others in the same request', async () => {
    const corrupt = await batchOf(['bad']);
    corrupt[corrupt.byteLength - 1] ^= 1;
    const response = await broker.produce({
      acks: 1, timeoutMs: 1000,
      topics: [
        { topic: 't', partitions: [{ partition: 0, records: corrupt }, { partition: 1, records: await batchOf(['good']) }] },
        { topic: 'missing', partitions: [{ partition: 0, records: await batchOf(['x']) }] },
      ],
    });
    expect(response.topics[0].partitions[0].error).toMatchObject({ type: 'CORRUPT_MESSAGE' });
    expect(response.topics[0].partitions[1]).toMatchObject({ baseOffset: 0n });
    expect(response.topics[0].partitions[1].error).toBeUndefined();
    expect(response.topics[1].partitions[0].error).toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
  });

  test('fetch: unknown topic, partition out of range, offset out of range', async () => {
    const r = await broker.fetch({
      maxWaitMs: 5000, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 'read_uncommitted',
      topics: [
        { topic: 't', partitions: [{ partition: 0, fetchOffset: 99n, partitionMaxBytes: 100 }, { partition: 9, fetchOffset: 0n, partitionMaxBytes: 100 }] },
        { topic: 'nope', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 100 }] },
      ],
    });
    expect(r.topics[0].partitions[0].error).toMatchObject({ type: 'OFFSET_OUT_OF_RANGE', code: 1 });
    expect(r.topics[0].partitions[0].error!.message).toContain('[0, 2]');
    expect(r.topics[0].partitions[1].error).toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect(r.topics[1].partitions[0].error).toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
  });
});

describe('malformed requests are rejected whole, and the broker keeps serving', () => {
  test.each([
    ['records not bytes', { acks: 1, timeoutMs: 0, topics: [{ topic: 't', partitions: [{ partition: 0, records: 'abc' }] }] }],
    ['topics not a list', { acks: 1, timeoutMs: 0, topics: 'abc' }],
    ['partition not an integer', { acks: 1, timeoutMs: 0, topics: [{ topic: 't', partitions: [{ partition: 0.5, records: new Uint8Array(1) }] }] }],
    ['no request at all', null],
  ])('%s', async (_what, request) => {
    await expect(broker.produce(request as unknown as ProduceRequest)).rejects.toMatchObject({ type: 'INVALID_REQUEST', code: 42 });
    await stillServes();
  });

  test('a produce request over requestBytesMax', async () => {
    await cluster.close();
    cluster = await startTestCluster(1, { requestBytesMax: 1000 });
    broker = cluster.brokers[0];
    await broker.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    await expect(broker.produce(produceTo('t', 0, await batchOf(['z'.repeat(2000)])))).rejects.toMatchObject({ type: 'INVALID_REQUEST' });
    await stillServes();
  });

  test('fetch offsets must be bigint', async () => {
    await expect(broker.fetch({
      maxWaitMs: 0, minBytes: 0, maxBytes: 100, isolationLevel: 'read_uncommitted',
      topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: 0 as unknown as bigint, partitionMaxBytes: 100 }] }],
    })).rejects.toMatchObject({ type: 'INVALID_REQUEST' });
  });

  test('metadata topic names must be strings', async () => {
    await expect(broker.metadata({ topics: ['t', 7 as unknown as string] })).rejects.toMatchObject({ type: 'INVALID_REQUEST' });
    expect((await broker.metadata({ topics: ['t'] })).topics[0].name).toBe('t');
  });
});
