// Property: any CRC-valid mutation of a valid batch, produced to a broker, is
// either refused with a typed error (and nothing moves) or stored and fully
// decodable with the offsets it was given; and the partition stays readable
// end to end, every offset from 0 to the log end offset once.
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Broker } from '../../src/broker/broker.ts';
import { batchSizeAt, decodeBatch } from '../../src/core/index.ts';
import { KAFKA_ERRORS } from '../../src/errors.ts';
import { mutateBatch, replay, validBatch } from '../fuzz/batch-mutations.ts';
import { produceTo, startTestCluster, type TestCluster } from './helpers.ts';

let cluster: TestCluster;
let broker: Broker;
beforeAll(async () => {
  cluster = await startTestCluster(1);
  broker = cluster.brokers[0];
  await broker.createTopics({ topics: [{ topic: 'm', numPartitions: 1 }] });
});
afterAll(() => cluster.close());

async function logEndOffset(): Promise<bigint> {
  const r = await broker.listOffsets({ isolationLevel: 'read_uncommitted', topics: [{ topic: 'm', partitions: [{ partition: 0, timestamp: -1n }] }] });
  return r.topics[0].partitions[0].offset;
}

/** The stored batches from `offset`, decoded whole (every field of every record read). */
async function decodedFrom(offset: bigint, maxBytes = 1 << 20) {
  const r = await broker.fetch({
    maxWaitMs: 0, minBytes: 0, maxBytes, isolationLevel: 'read_uncommitted',
    topics: [{ topic: 'm', partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: maxBytes }] }],
  });
  const p = r.topics[0].partitions[0];
  expect(p.error).toBeUndefined();
  const bytes = p.records ?? new Uint8Array(0);
  const batches = [];
  for (let position = 0; position < bytes.byteLength; position += batchSizeAt(bytes, position)) {
    const batch = await decodeBatch(bytes, { position });
    for (const record of batch.records) void [record.key, record.value, record.timestamp, record.headers];
    batches.push(batch);
  }
  return batches;
}

test('a mutated batch is refused with a typed error or stored whole and decodable', async () => {
  let accepted = 0;
  let refused = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(fc.nat(), { minLength: 8, maxLength: 96 }), async (values) => {
      const rnd = replay(values);
      let batch = validBatch(rnd);
      for (let k = 1 + (rnd() % 2); k > 0; k--) batch = mutateBatch(batch, rnd);
      const before = await logEndOffset();
      const r = (await broker.produce(produceTo('m', 0, batch))).topics[0].partitions[0];
      if (r.error) {
        refused++;
        expect(Object.keys(KAFKA_ERRORS)).toContain(r.error.type);
        expect(r.error.code).toBe(KAFKA_ERRORS[r.error.type].code);
        expect(await logEndOffset()).toBe(before);
        return;
      }
      accepted++;
      expect(r.baseOffset).toBe(before);
      const [stored] = await decodedFrom(before);
      expect(stored.baseOffset).toBe(before);
      expect(stored.records.map((x) => x.offset)).toEqual(Array.from({ length: stored.recordCount }, (_, i) => before + BigInt(i)));
      expect(await logEndOffset()).toBe(before + BigInt(stored.recordCount));
    }),
    { numRuns: 300 },
  );
  expect(accepted).toBeGreaterThan(0);
  expect(refused).toBeGreaterThan(0);

  // End to end: every offset from 0 to the log end offset, once, in order.
  const end = await logEndOffset();
  const offsets: bigint[] = [];
  while (offsets.length < Number(end)) {
    const batches = await decodedFrom(BigInt(offsets.length));
    expect(batches.length).toBeGreaterThan(0);
    for (const b of batches) for (const r of b.records) offsets.push(r.offset);
  }
  expect(offsets).toEqual(Array.from({ length: Number(end) }, (_, i) => BigInt(i)));
}, 60_000);
