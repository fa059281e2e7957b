/**
 * KafkaJS as the oracle (Node only): byte-identical RecordBatch v2 against
 * KafkaJS's own encoder, decoding in both directions for none, gzip, snappy
 * and lz4, and murmur2 against KafkaJS's Java-compatible partitioner hash.
 */
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, test } from 'vitest';
import fc from 'fast-check';
import lz4js from 'lz4js';
import * as core from '../../src/core/index.ts';
import { BASE_TS, expected, plain, recordArb, toBytes, type RecordCase } from './core.cases.ts';

const require = createRequire(import.meta.url);
const Long = require('kafkajs/src/utils/long');
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0');
const KRecord = require('kafkajs/src/protocol/recordBatch/record/v0');
const KDecoder = require('kafkajs/src/protocol/decoder');
const decodeKafkaJS = require('kafkajs/src/protocol/recordBatch/v0/decoder');
const { Codecs, Types } = require('kafkajs/src/protocol/message/compression');
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2');
const SnappyCodec = require('kafkajs-snappy');

// KafkaJS ships no snappy or lz4: kafkajs-snappy, and an lz4js-backed codec (LZ4 frame, as kafkajs-lz4 does).
Codecs[Types.Snappy] = SnappyCodec;
Codecs[Types.LZ4] = () => ({
  compress: async (encoder: { buffer: Buffer }) => Buffer.from(lz4js.compress(encoder.buffer)),
  decompress: async (buffer: Buffer) => Buffer.from(lz4js.decompress(buffer)),
});

const CODECS = [core.CompressionTypes.None, core.CompressionTypes.GZIP, core.CompressionTypes.Snappy, core.CompressionTypes.LZ4] as const;
const asBuffer = (v: Uint8Array | string | null | undefined) => (v === null || v === undefined ? null : typeof v === 'string' ? v : Buffer.from(v));

type Rec = RecordCase;

/** KafkaJS's encoder for the same records and header fields. */
async function kafkajsBatch(rs: Rec[], o: { compression: number; baseOffset: bigint; producerId?: bigint; producerEpoch?: number; baseSequence?: number; partitionLeaderEpoch?: number; transactional?: boolean }) {
  const maxDelta = Math.max(...rs.map((r) => r.timestamp));
  const encoded = await RecordBatch({
    compression: o.compression,
    firstOffset: Long.fromString(String(o.baseOffset)),
    firstTimestamp: BASE_TS + rs[0]!.timestamp,
    maxTimestamp: BASE_TS + maxDelta,
    partitionLeaderEpoch: o.partitionLeaderEpoch ?? 0,
    lastOffsetDelta: rs.length - 1,
    transactional: o.transactional ?? false,
    producerId: Long.fromString(String(o.producerId ?? -1n)),
    producerEpoch: o.producerEpoch ?? 0,
    firstSequence: o.baseSequence ?? 0,
    records: rs.map((r, i) =>
      KRecord({
        offsetDelta: i,
        timestampDelta: r.timestamp - rs[0]!.timestamp,
        key: asBuffer(r.key),
        value: asBuffer(r.value),
        headers: Object.fromEntries(groupHeaders(r)),
      }),
    ),
  });
  return new Uint8Array(encoded.buffer);
}

/** KafkaJS takes headers as an object: group repeated keys into arrays (keeping first-seen key order). */
function groupHeaders(r: Rec): [string, (string | Buffer)[] | string | Buffer][] {
  const m = new Map<string, (string | Buffer)[]>();
  for (const h of r.headers ?? []) {
    if (!m.has(h.key)) m.set(h.key, []);
    m.get(h.key)!.push(asBuffer(h.value)!);
  }
  return [...m].map(([k, v]) => [k, v.length === 1 ? v[0]! : v]);
}

/**
 * Records KafkaJS can encode and decode: no null header values, header keys that
 * are neither integer-like (object key order) nor Object.prototype names (its
 * decoder folds headers into a plain object), in the order KafkaJS emits them.
 */
const kafkajsRecordArb = recordArb.map((r) => {
  const headers = (r.headers ?? []).filter((h) => h.value !== null && !/^\d+$/.test(h.key) && !(h.key in Object.prototype));
  const order = new Map<string, number>();
  headers.forEach((h) => order.has(h.key) || order.set(h.key, order.size));
  headers.sort((a, b) => order.get(a.key)! - order.get(b.key)!);
  return { ...r, headers };
});

beforeAll(async () => {
  await core.loadCore();
});

describe('KafkaJS interop', () => {
  test('golden: byte-identical to KafkaJS for the same records (uncompressed)', async () => {
    const rs: Rec[] = [
      { key: 'key-1', value: 'value-1', headers: [{ key: 'a', value: 'x' }, { key: 'b', value: 'y' }, { key: 'b', value: 'z' }], timestamp: 0 },
      { key: null, value: '', headers: [], timestamp: 17 },
      { key: new Uint8Array([0, 1, 2, 255]), value: null, headers: [{ key: 'ünï', value: new Uint8Array([9]) }], timestamp: -3 },
      { key: '日本語', value: 'x'.repeat(300), headers: [], timestamp: 2 ** 33 },
    ];
    const options = { baseOffset: 123456789012n, producerId: 4242n, producerEpoch: 7, baseSequence: 99, partitionLeaderEpoch: 3 };
    const theirs = await kafkajsBatch(rs, { compression: 0, ...options, transactional: true });
    const ours = await core.encodeBatch(
      rs.map((r) => ({ key: r.key, value: r.value, headers: Object.fromEntries(groupHeaders(r)) as core.RecordHeaders, timestamp: BASE_TS + r.timestamp })),
      { ...options, isTransactional: true },
    );
    expect(Buffer.from(ours).toString('hex')).toBe(Buffer.from(theirs).toString('hex'));
  });

  test('golden (property): byte-identical for random records', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(kafkajsRecordArb, { minLength: 1, maxLength: 20 }), fc.bigInt({ min: 0n, max: 2n ** 60n }), async (rs, baseOffset) => {
        const theirs = await kafkajsBatch(rs, { compression: 0, baseOffset });
        const ours = await core.encodeBatch(
          rs.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: BASE_TS + r.timestamp })),
          { baseOffset, producerEpoch: 0, baseSequence: 0, partitionLeaderEpoch: 0 },
        );
        expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true);
      }),
      { numRuns: 80 },
    );
  });

  for (const codec of CODECS) {
    test(`wafka-encoded batches decode in KafkaJS, compression ${codec}`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(kafkajsRecordArb, { minLength: 1, maxLength: 15 }), async (rs) => {
          const batch = await core.encodeBatch(
            rs.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: BASE_TS + r.timestamp })),
            { compression: codec, baseOffset: 500n },
          );
          const decoded = await decodeKafkaJS(new KDecoder(Buffer.from(batch)));
          expect(decoded.records.length).toBe(rs.length);
          decoded.records.forEach((r: { offset: string; timestamp: string; key: Buffer | null; value: Buffer | null; headers: Record<string, Buffer | Buffer[]> }, i: number) => {
            const want = rs[i]!;
            expect(r.offset).toBe(String(500 + i));
            expect(r.timestamp).toBe(String(BASE_TS + want.timestamp));
            expect(r.key === null ? null : [...r.key]).toEqual(want.key === null || want.key === undefined ? null : [...toBytes(want.key)!]);
            expect(r.value === null ? null : [...r.value]).toEqual(want.value === null ? null : [...toBytes(want.value)!]);
            const flat = Object.entries(r.headers).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => [k, [...x]]));
            expect(flat).toEqual(want.headers!.map((h) => [h.key, [...toBytes(h.value)!]]));
          });
        }),
        { numRuns: codec === 0 ? 60 : 25 },
      );
    });

    test(`KafkaJS-encoded batches decode in wafka, compression ${codec}`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(kafkajsRecordArb, { minLength: 1, maxLength: 15 }), fc.bigInt({ min: 0n, max: 2n ** 60n }), async (rs, baseOffset) => {
          const theirs = await kafkajsBatch(rs, { compression: codec, baseOffset });
          expect(core.validateBatch(theirs)).toBe(theirs.length);
          const d = await core.decodeBatch(theirs);
          expect(d.compression).toBe(codec);
          expect(d.records.map(plain)).toEqual(expected(rs, baseOffset));
        }),
        { numRuns: codec === 0 ? 60 : 25 },
      );
    });
  }

  test('murmur2 equals KafkaJS default partitioner hash (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.string({ unit: 'binary', maxLength: 40 })), (key) => {
        const theirs = kafkajsMurmur2(typeof key === 'string' ? key : Buffer.from(key));
        expect(core.murmur2(key)).toBe(theirs);
      }),
      { numRuns: 1000 },
    );
  });
});
