// A produced batch whose CRC is right but whose records are not is refused on
// append, as Kafka's LogValidator refuses it: CORRUPT_MESSAGE for broken
// bytes, INVALID_RECORD for a broken rule; nothing is stored, the log end
// offset does not move, and the partition stays readable.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { Broker } from '../../src/broker/broker.ts';
import { CompressionTypes, batchSizeAt, decodeBatch, encodeBatch } from '../../src/core/index.ts';
import { batchBytes, goodRecords, recordBytes, varlong } from '../core/batch-bytes.ts';
import { batchOf, produceTo, startTestCluster, type TestCluster } from './helpers.ts';

let cluster: TestCluster;
let broker: Broker;
beforeEach(async () => {
  cluster = await startTestCluster(1);
  broker = cluster.brokers[0];
  await broker.createTopics({ topics: [{ topic: 't', numPartitions: 1 }, { topic: 'compacted', numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] });
  await broker.produce(produceTo('t', 0, await batchOf(['kept-1', 'kept-2'])));
});
afterEach(() => cluster.close());

async function produce(bytes: Uint8Array, topic = 't') {
  return (await broker.produce(produceTo(topic, 0, bytes))).topics[0].partitions[0];
}

async function logEndOffset(topic = 't'): Promise<bigint> {
  const r = await broker.listOffsets({ isolationLevel: 'read_uncommitted', topics: [{ topic, partitions: [{ partition: 0, timestamp: -1n }] }] });
  return r.topics[0].partitions[0].offset;
}

async function storedValues(topic = 't'): Promise<string[]> {
  const r = await broker.fetch({
    maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 'read_uncommitted',
    topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
  });
  const bytes = r.topics[0].partitions[0].records ?? new Uint8Array(0);
  const values: string[] = [];
  for (let position = 0; position < bytes.byteLength; position += batchSizeAt(bytes, position)) {
    for (const record of (await decodeBatch(bytes, { position })).records) values.push(new TextDecoder().decode(record.value!));
  }
  return values;
}

const twoRecords = (a: number[], b: number[]) => [...a, ...b];
const rec = (offsetDelta: number, extra: Parameters<typeof recordBytes>[0] extends infer T ? Partial<T> : never = {}) => recordBytes({ offsetDelta, key: 'k', value: `v${offsetDelta}`, ...extra });

/** [name, batch, expected type, message pattern] */
const CASES: [string, () => Uint8Array, string, RegExp][] = [
  ['RecordCount above the records', () => batchBytes({ records: goodRecords(2), recordCount: 3 }), 'CORRUPT_MESSAGE', /fewer records than RecordCount|impossible/],
  ['RecordCount below the records', () => batchBytes({ records: goodRecords(3), recordCount: 2 }), 'CORRUPT_MESSAGE', /bytes left after RecordCount records/],
  ['a varint overflow in a record length', () => batchBytes({ records: [0xff, 0xff, 0xff, 0xff, 0xff, 0x01, ...goodRecords(1).slice(1)], recordCount: 1 }), 'CORRUPT_MESSAGE', /varint overflow/],
  ['a negative record length', () => batchBytes({ records: [...goodRecords(1), ...rec(1, { lengthBytes: varlong(-5) })], recordCount: 2 }), 'CORRUPT_MESSAGE', /record length/],
  ['a record length past the records', () => batchBytes({ records: rec(0, { lengthBytes: varlong(200) }), recordCount: 1 }), 'CORRUPT_MESSAGE', /record length/],
  ['a record length short of its fields', () => batchBytes({ records: rec(0, { lengthBytes: varlong(3) }), recordCount: 1 }), 'CORRUPT_MESSAGE', /record (field|fields)/],
  ['a negative header count', () => batchBytes({ records: rec(0, { headerCountBytes: varlong(-1) }), recordCount: 1 }), 'CORRUPT_MESSAGE', /negative header count/],
  ['a null header key', () => batchBytes({ records: rec(0, { headers: [{ key: null as unknown as string, value: 'x' }] }), recordCount: 1 }), 'CORRUPT_MESSAGE', /header key/],
  ['offset deltas 0, 2', () => batchBytes({ records: twoRecords(rec(0), rec(2)), recordCount: 2 }), 'INVALID_RECORD', /record 1 has offset delta 2/],
  ['offset deltas 1, 0', () => batchBytes({ records: twoRecords(rec(1), rec(0)), recordCount: 2 }), 'INVALID_RECORD', /record 0 has offset delta 1/],
  ['compression type 5', () => batchBytes({ records: goodRecords(1), recordCount: 1, attributes: 5 }), 'CORRUPT_MESSAGE', /compression type 5 does not exist/],
  ['compression type 6', () => batchBytes({ records: goodRecords(1), recordCount: 1, attributes: 6 }), 'CORRUPT_MESSAGE', /compression type 6 does not exist/],
  ['compression type 7', () => batchBytes({ records: goodRecords(1), recordCount: 1, attributes: 7 }), 'CORRUPT_MESSAGE', /compression type 7 does not exist/],
  ['an unknown attribute bit', () => batchBytes({ records: goodRecords(1), recordCount: 1, attributes: 0x100 }), 'CORRUPT_MESSAGE', /attributes 0x100/],
  ['a control batch', () => batchBytes({ records: goodRecords(1), recordCount: 1, attributes: 0x30, producerId: 7n, producerEpoch: 0 }), 'INVALID_RECORD', /control batches/],
  ['the delete horizon flag', () => batchBytes({ records: goodRecords(1), recordCount: 1, attributes: 0x40 }), 'INVALID_RECORD', /delete horizon/],
  ['a producer id without a base sequence', () => batchBytes({ records: goodRecords(1), recordCount: 1, producerId: 5n, producerEpoch: 0, baseSequence: -1 }), 'INVALID_RECORD', /base sequence -1/],
  ['a timestamp past int64', () => batchBytes({ records: rec(0, { timestampDelta: 100 }), recordCount: 1, baseTimestamp: 0x7fffffffffffffc0n }), 'INVALID_TIMESTAMP', /overflows an int64/],
  ['snappy records with a wrong offset delta', () => batchBytes({ records: twoRecords(rec(0), rec(5)), recordCount: 2, compress: 'snappy' }), 'INVALID_RECORD', /offset delta 5/],
  ['lz4 records with a record length past the records', () => batchBytes({ records: [...goodRecords(1), ...rec(1, { lengthBytes: varlong(90) })], recordCount: 2, compress: 'lz4' }), 'CORRUPT_MESSAGE', /record length/],
  ['snappy records claiming more records than they hold', () => batchBytes({ records: goodRecords(4), recordCount: 50, compress: 'snappy' }), 'CORRUPT_MESSAGE', /RecordCount 50 is impossible/],
];

describe('a CRC-valid batch with malformed records is refused on append', () => {
  for (const [name, make, type, message] of CASES) {
    test(`${name}: ${type}`, async () => {
      const before = await logEndOffset();
      const r = await produce(make());
      expect(r.error?.type, r.error?.message).toBe(type);
      expect(r.error!.message).toMatch(message);
      expect(await logEndOffset()).toBe(before);
      expect(await storedValues()).toEqual(['kept-1', 'kept-2']);
    });
  }

  test('a 124-byte batch claiming 2^31-1 records does not move the log end offset', async () => {
    const bad = batchBytes({ records: goodRecords(1).concat(new Array(124 - 61 - goodRecords(1).length).fill(0)), recordCount: 0x7fffffff });
    expect(bad.byteLength).toBe(124);
    const r = await produce(bad);
    expect(r.error?.type).toBe('CORRUPT_MESSAGE');
    expect(r.error!.message).toMatch(/RecordCount 2147483647 is impossible/);
    expect(await logEndOffset()).toBe(2n);
    // The next good batch gets the next offsets.
    const ok = await produce(await batchOf(['after']));
    expect(ok.error).toBeUndefined();
    expect(ok.baseOffset).toBe(2n);
    expect(await storedValues()).toEqual(['kept-1', 'kept-2', 'after']);
  });

  test('one bad batch among good ones in a record set: nothing of the set is stored', async () => {
    const good = await batchOf(['g1']);
    const bad = batchBytes({ records: twoRecords(rec(0), rec(3)), recordCount: 2 });
    const set = new Uint8Array(good.byteLength + bad.byteLength);
    set.set(good);
    set.set(bad, good.byteLength);
    const r = await produce(set);
    expect(r.error?.type).toBe('INVALID_RECORD');
    expect(r.error!.message).toMatch(/batch 1 at byte/);
    expect(await storedValues()).toEqual(['kept-1', 'kept-2']);
  });

  test('a compacted topic refuses a record without a key (INVALID_RECORD) and takes keyed ones', async () => {
    const r = await produce(batchBytes({ records: twoRecords(rec(0), rec(1, { key: null })), recordCount: 2 }), 'compacted');
    expect(r.error?.type).toBe('INVALID_RECORD');
    expect(r.error!.message).toMatch(/record 1: a compacted topic takes only records with a key/);
    expect((await produce(batchBytes({ records: goodRecords(2), recordCount: 2 }), 'compacted')).error).toBeUndefined();
    expect(await storedValues('compacted')).toEqual(['v0', 'v1']);
  });

  test('well-formed batches of every built-in codec are taken', async () => {
    for (const compression of [CompressionTypes.None, CompressionTypes.GZIP, CompressionTypes.Snappy, CompressionTypes.LZ4]) {
      const batch = await encodeBatch([{ key: 'a', value: `c${compression}-0`, headers: { h: ['1', '2'] } }, { key: null, value: `c${compression}-1` }], { compression });
      expect((await produce(batch)).error, `compression ${compression}`).toBeUndefined();
    }
    expect(await storedValues()).toEqual(['kept-1', 'kept-2', 'c0-0', 'c0-1', 'c1-0', 'c1-1', 'c2-0', 'c2-1', 'c3-0', 'c3-1']);
  });

  test('gzip records are checked too (after the platform codec)', async () => {
    const plain = batchBytes({ records: twoRecords(rec(0), rec(4)), recordCount: 2 });
    const gz = new Uint8Array(await new Response(new Blob([plain.subarray(61) as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer());
    const r = await produce(batchBytes({ records: gz, recordCount: 2, attributes: 1 }));
    expect(r.error?.type).toBe('INVALID_RECORD');
    expect(r.error!.message).toMatch(/offset delta 4/);
    expect(await storedValues()).toEqual(['kept-1', 'kept-2']);
  });
});
