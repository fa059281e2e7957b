/**
 * The core suite (CRC32C, varints, murmur2, RecordBatch v2, segment scan and
 * index lookups), run in Node (core.test.ts) and in real Chromium
 * (core.browser.test.ts): nothing here may import a Node-only module.
 * KafkaJS interop and golden bytes are in kafkajs-interop.test.ts (Node only).
 */
import { beforeAll, describe, expect, test } from 'vitest';
import fc from 'fast-check';
import * as core from '../../src/core/index.ts';
import { WafkaError } from '../../src/errors.ts';

const { CompressionTypes } = core;
const enc = new TextEncoder();
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const fromHex = (s: string) => new Uint8Array(s.match(/../g)!.map((h) => parseInt(h, 16)));

export type Bytesish = Uint8Array | string | null | undefined;
export const toBytes = (v: Bytesish): Uint8Array | null => (v === null || v === undefined ? null : typeof v === 'string' ? enc.encode(v) : v);

/** Plain view of a decoded record, for deep equality. */
export const plain = (r: core.DecodedRecord) => ({
  offset: r.offset,
  timestamp: r.timestamp,
  key: r.key ? Array.from(r.key) : null,
  value: r.value ? Array.from(r.value) : null,
  headers: r.headers.map((h) => ({ key: h.key, value: h.value ? Array.from(h.value) : null })),
});

export const bytesOrString = fc.oneof(
  fc.constant(null),
  fc.uint8Array({ maxLength: 48 }),
  fc.string({ maxLength: 24 }),
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.uint8Array({ minLength: 100, maxLength: 600 }),
);

export const recordArb = fc.record(
  {
    key: bytesOrString,
    value: bytesOrString,
    headers: fc.array(fc.record({ key: fc.string({ unit: 'binary', maxLength: 12 }), value: bytesOrString }), { maxLength: 4 }),
    timestamp: fc.oneof(fc.integer({ min: -100_000, max: 100_000 }), fc.integer({ min: -(2 ** 40), max: 2 ** 40 })),
  },
  { requiredKeys: ['value', 'timestamp'] },
);

/** One generated record: what `recordArb` produces. */
export type RecordCase = typeof recordArb extends fc.Arbitrary<infer T> ? T : never;

export const BASE_TS = 1_700_000_000_000;

export function toInput(rs: RecordCase[]): core.RecordInput[] {
  return rs.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: BASE_TS + r.timestamp }));
}

export function expected(rs: RecordCase[], baseOffset: bigint) {
  return rs.map((r, i) => ({
    offset: baseOffset + BigInt(i),
    timestamp: BigInt(BASE_TS + r.timestamp),
    key: r.key === undefined || r.key === null ? null : Array.from(toBytes(r.key)!),
    value: r.value === null ? null : Array.from(toBytes(r.value)!),
    headers: (r.headers ?? []).map((h) => ({ key: enc.encode(h.key) && new TextDecoder().decode(enc.encode(h.key)), value: h.value === null ? null : Array.from(toBytes(h.value)!) })),
  }));
}

/** Recomputes a batch's CRC after a test edits it. */
export function reseal(batch: Uint8Array): Uint8Array {
  new DataView(batch.buffer, batch.byteOffset).setUint32(17, core.crc32c(batch.subarray(21)));
  return batch;
}

async function expectError(p: Promise<unknown> | (() => unknown), type: string, message?: RegExp) {
  let error: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    error = e;
  }
  expect(error, 'expected an error').toBeInstanceOf(WafkaError);
  expect((error as WafkaError).type).toBe(type);
  if (message) expect((error as WafkaError).message).toMatch(message);
  return error as WafkaError;
}

const CODECS = [CompressionTypes.None, CompressionTypes.GZIP, CompressionTypes.Snappy, CompressionTypes.LZ4] as const;

export function defineCoreTests(): void {
  beforeAll(async () => {
    await core.loadCore();
  });

  describe('crc32c', () => {
    test('check values', () => {
      expect(core.crc32c(enc.encode('123456789'))).toBe(0xe3069283);
      expect(core.crc32c(new Uint8Array(0))).toBe(0);
      expect(core.crc32c(new Uint8Array(32))).toBe(0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
      expect(core.crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43); // 32 bytes of ones
      expect(core.crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e); // incrementing
      expect(core.crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c); // decrementing
    });

    test('equals a bitwise reference for every length and alignment, and continues from a seed', () => {
      const ref = (b: Uint8Array, seed = 0) => {
        let c = ~seed >>> 0;
        for (const x of b) {
          c ^= x;
          for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
        }
        return ~c >>> 0;
      };
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 5000 }), fc.nat(7), fc.nat(), (b, skip, cut) => {
          const v = b.subarray(Math.min(skip, b.length));
          expect(core.crc32c(v)).toBe(ref(v));
          const k = cut % (v.length + 1);
          expect(core.crc32c(v.subarray(k), core.crc32c(v.subarray(0, k)))).toBe(ref(v));
        }),
        { numRuns: 150 },
      );
    });

    test('multi-stream path of large inputs', () => {
      const big = Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 2654435761) >>> 24);
      const whole = core.crc32c(big);
      let c = 0;
      for (let i = 0; i < big.length; i += 1000) c = core.crc32c(big.subarray(i, i + 1000), c);
      expect(whole).toBe(c);
    });

    test('four-stream path: lengths around every split point, every start alignment in Wasm memory, seeded', () => {
      // assembly/crc32c.ts: four streams in chunks of 4 × 2048 bytes, then 4 × 256, then one stream (16-byte steps, then bytes).
      const table = Uint32Array.from({ length: 256 }, (_, n) => {
        let c = n;
        for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
        return c >>> 0;
      });
      const ref = (b: Uint8Array, seed: number) => {
        let c = ~seed >>> 0;
        for (let i = 0; i < b.length; i++) c = table[(c ^ b[i]) & 0xff] ^ (c >>> 8);
        return ~c >>> 0;
      };
      const lengths = new Set<number>();
      for (let long = 0; long <= 2; long++) {
        for (let short = 0; short <= 7; short++) {
          for (const d of [-17, -16, -9, -8, -7, -1, 0, 1, 7, 8, 9, 15, 16, 17]) {
            const n = long * 8192 + short * 1024 + d;
            if (n >= 0) lengths.add(n);
          }
        }
      }
      const max = Math.max(...lengths);
      const data = Uint8Array.from({ length: max + 8 }, (_, i) => (Math.imul(i + 1, 2654435761) >>> 23) & 0xff);
      const arena = core.coreSync();
      arena.reserve(max + 16);
      const base = arena.base;
      arena.u8.set(data, base);
      for (const n of lengths) {
        for (const at of [0, 1, 3, 4, 7]) {
          const seed = (n * 0x9e3779b1 + at) >>> 0;
          const got = arena.exports.crc32cUpdate(seed | 0, base + at, n) >>> 0;
          expect(got, `length ${n} at +${at}`).toBe(ref(data.subarray(at, at + n), seed));
        }
      }
    });
  });

  describe('crc32c from 8 KiB: the table-free sweep (assembly/crc32c.ts, Chorba)', () => {
    const table = Uint32Array.from({ length: 256 }, (_, n) => {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
      return c >>> 0;
    });
    const ref = (b: Uint8Array, seed: number) => {
      let c = ~seed >>> 0;
      for (let i = 0; i < b.length; i++) c = table[(c ^ b[i]) & 0xff] ^ (c >>> 8);
      return ~c >>> 0;
    };
    const SPAN_BYTES = 209 * 8;
    const CHUNK_BYTES = 2048 * 8;

    test('random data, lengths and start alignments, seeded, against a table reference', () => {
      const arena = core.coreSync();
      fc.assert(
        fc.property(
          fc.oneof(
            fc.integer({ min: 8180, max: 70_000 }),
            // Around where the sweep slides its window (every 2048 words) and ends (209 words before the end).
            fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: -20, max: 20 })).map(([k, d]) => k * CHUNK_BYTES + SPAN_BYTES + d),
            fc.integer({ min: 70_000, max: 300_000 }),
          ),
          fc.nat(15),
          fc.nat(),
          fc.integer(),
          (n, at, seed, salt) => {
            arena.reserve(n + 16);
            const base = arena.base;
            const view = arena.u8.subarray(base + at, base + at + n);
            for (let i = 0; i < n; i++) view[i] = Math.imul(i + salt, 2654435761) >>> 24;
            const got = arena.exports.crc32cUpdate(seed | 0, base + at, n) >>> 0;
            expect(got, `length ${n} at +${at}`).toBe(ref(view, seed));
          },
        ),
        { numRuns: 60 },
      );
    });

    test('all-zero and all-one inputs (no carried word may be lost) and a split continued from a seed', () => {
      for (const fill of [0, 0xff]) {
        const b = new Uint8Array(3 * CHUNK_BYTES + 77).fill(fill);
        expect(core.crc32c(b)).toBe(ref(b, 0));
        expect(core.crc32c(b.subarray(9000), core.crc32c(b.subarray(0, 9000)))).toBe(ref(b, 0));
      }
    });
  });

  describe('varint', () => {
    // Kafka's ByteUtilsTest
    const ints: [number, string][] = [
      [0, '00'], [-1, '01'], [1, '02'], [63, '7e'], [-64, '7f'], [64, '8001'], [-65, '8101'],
      [8191, 'fe7f'], [-8192, 'ff7f'], [8192, '808001'], [-8193, '818001'],
      [1048575, 'feff7f'], [-1048576, 'ffff7f'], [1048576, '80808001'], [-1048577, '81808001'],
      [134217727, 'feffff7f'], [-134217728, 'ffffff7f'], [134217728, '8080808001'], [-134217729, '8180808001'],
      [2147483647, 'feffffff0f'], [-2147483648, 'ffffffff0f'],
    ];
    test('varints as Kafka writes them', () => {
      for (const [v, h] of ints) {
        expect(hex(core.encodeVarint(v)), `${v}`).toBe(h);
        expect(core.decodeVarint(fromHex(h))).toEqual({ value: v, size: h.length / 2 });
        expect(core.sizeOfVarint(v)).toBe(h.length / 2);
      }
    });
    const longs: [bigint, string][] = [
      ...ints.map(([v, h]) => [BigInt(v), h] as [bigint, string]).filter(([v]) => v !== 2147483647n && v !== -2147483648n),
      [2147483647n, 'feffffff0f'], [-2147483648n, 'ffffffff0f'],
      [36028797018963967n, 'feffffffffffff7f'], [-36028797018963968n, 'ffffffffffffff7f'],
      [36028797018963968n, '808080808080808001'], [-36028797018963969n, '818080808080808001'],
      [9223372036854775807n, 'feffffffffffffffff01'], [-9223372036854775808n, 'ffffffffffffffffff01'],
    ];
    test('varlongs as Kafka writes them', () => {
      for (const [v, h] of longs) {
        expect(hex(core.encodeVarlong(v)), `${v}`).toBe(h);
        expect(core.decodeVarlong(fromHex(h))).toEqual({ value: v, size: h.length / 2 });
        expect(core.sizeOfVarlong(v)).toBe(h.length / 2);
      }
    });
    test('overflow and truncation are CORRUPT_MESSAGE', async () => {
      await expectError(() => core.decodeVarint(fromHex('ffffffffff01')), 'CORRUPT_MESSAGE', /longer than 5/);
      await expectError(() => core.decodeVarlong(fromHex('ffffffffffffffffffff01')), 'CORRUPT_MESSAGE', /longer than 10/);
      await expectError(() => core.decodeVarint(fromHex('8080')), 'CORRUPT_MESSAGE', /truncated/);
      await expectError(() => core.decodeVarlong(new Uint8Array(0)), 'CORRUPT_MESSAGE', /truncated/);
    });
    test('round trip (property)', () => {
      fc.assert(fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (v) => {
        const b = core.encodeVarint(v);
        expect(b.length).toBe(core.sizeOfVarint(v));
        expect(core.decodeVarint(b).value).toBe(v);
      }));
      fc.assert(fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (v) => {
        const b = core.encodeVarlong(v);
        expect(b.length).toBe(core.sizeOfVarlong(v));
        expect(core.decodeVarlong(b).value).toBe(v);
      }));
    });
  });

  describe('murmur2', () => {
    // Generated with Kafka's Utils.murmur2 (KafkaJS's default partitioner tests)
    const vectors: Record<string, number> = {
      '0': 971027396, '1': -1993445489, '128': -326012175, '2187': -1508407203, '16384': -325739742,
      '78125': -1654490814, '279936': 1462227128, '823543': -2014198330, '2097152': 607668903,
      '4782969': -1182699775, '10000000': -1830336757, '19487171': -1603849305, '35831808': -857013643,
      '62748517': -1167431028, '105413504': -381294639, '170859375': -1658323481, '100:48069': 1009543857,
    };
    test("Kafka's values", () => {
      for (const [k, v] of Object.entries(vectors)) {
        expect(core.murmur2(k), k).toBe(v);
        expect(core.murmur2(enc.encode(k))).toBe(v);
      }
    });
    test('default partition', () => {
      for (const [k, v] of Object.entries(vectors)) expect(core.defaultPartition(k, 7)).toBe((v & 0x7fffffff) % 7);
      expect(core.toPositive(-1)).toBe(0x7fffffff);
      expect(core.toPositive(-2147483648)).toBe(0);
    });
  });

  describe('RecordBatch v2', () => {
    test('header fields, offsets and timestamps', async () => {
      const batch = await core.encodeBatch(
        [
          { key: 'a', value: 'x', timestamp: 1000 },
          { key: null, value: null, timestamp: 900 },
          { value: 'z', timestamp: 1500 },
        ],
        { baseOffset: 42n, producerId: 7n, producerEpoch: 3, baseSequence: 11, partitionLeaderEpoch: 5, isTransactional: true },
      );
      const h = core.readBatchHeader(batch);
      expect(h).toMatchObject({
        baseOffset: 42n, batchLength: batch.length - 12, sizeInBytes: batch.length, partitionLeaderEpoch: 5, magic: 2,
        compression: 0, isTransactional: true, isControlBatch: false, lastOffsetDelta: 2, lastOffset: 44n,
        baseTimestamp: 1000n, maxTimestamp: 1500n, producerId: 7n, producerEpoch: 3, baseSequence: 11, recordCount: 3,
      });
      expect(core.validateBatch(batch)).toBe(batch.length);
      const d = core.decodeBatchSync(batch);
      expect(d.records.map(plain)).toEqual([
        { offset: 42n, timestamp: 1000n, key: [97], value: [120], headers: [] },
        { offset: 43n, timestamp: 900n, key: null, value: null, headers: [] },
        { offset: 44n, timestamp: 1500n, key: null, value: [122], headers: [] },
      ]);
      expect(d.records[1]!.timestampDelta).toBe(-100);
    });

    test('string keys and values encoded together: all ASCII, one non-ASCII among them, mixed with bytes, nulls and headers', () => {
      const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));
      for (const odd of ['plain', 'é', '\u{1F600}', '\ud800']) {
        const rs = [
          { key: 'k0', value: 'v0-' + 'x'.repeat(100) },
          { key: enc.encode('k1'), value: 'v1', headers: { h: 'hv' } },
          { key: null, value: odd },
          { key: 'k3', value: enc.encode('v3') },
          { key: odd, value: null },
          { key: '', value: '' },
        ];
        const d = core.decodeBatchSync(core.encodeBatchSync(rs));
        expect(d.records.map((r) => [text(r.key), text(r.value)])).toEqual(rs.map((r) => [
          r.key === null ? null : typeof r.key === 'string' ? text(enc.encode(r.key)) : text(r.key),
          r.value === null ? null : typeof r.value === 'string' ? text(enc.encode(r.value)) : text(r.value),
        ]));
        expect(text(d.records[1]!.headers[0]!.value)).toBe('hv');
      }
    });

    test('defaults as Kafka writes a non-idempotent batch', () => {
      const h = core.readBatchHeader(core.encodeBatchSync([{ value: 'v' }]));
      expect(h).toMatchObject({ baseOffset: 0n, producerId: -1n, producerEpoch: -1, baseSequence: -1, partitionLeaderEpoch: -1, recordCount: 1 });
    });

    test('KafkaJS-style headers: repeated keys, arrays, order kept', () => {
      const batch = core.encodeBatchSync([{ value: 'v', headers: { a: 'x', b: ['y', enc.encode('z')], c: null, d: undefined } }]);
      const r = core.decodeBatchSync(batch).records[0]!;
      expect(r.headers.map((h) => [h.key, h.value && new TextDecoder().decode(h.value)])).toEqual([['a', 'x'], ['b', 'y'], ['b', 'z'], ['c', null]]);
    });

    test('LogAppendTime batches report the max timestamp for every record', () => {
      const batch = core.encodeBatchSync([{ value: 'a', timestamp: 5 }, { value: 'b', timestamp: 9 }], { timestampType: core.TimestampTypes.LOG_APPEND_TIME });
      const d = core.decodeBatchSync(batch);
      expect(d.timestampType).toBe(1);
      expect(d.records.map((r) => r.timestamp)).toEqual([9n, 9n]);
    });

    test('empty batches are refused; bad values are INVALID_RECORD', async () => {
      await expectError(core.encodeBatch([]), 'INVALID_RECORD');
      await expectError(() => core.encodeBatchSync([{ value: 12 as unknown as string }]), 'INVALID_RECORD');
    });

    for (const codec of CODECS) {
      test(`round trip, compression ${codec} (property)`, async () => {
        await fc.assert(
          fc.asyncProperty(fc.array(recordArb, { minLength: 1, maxLength: 30 }), fc.bigInt({ min: 0n, max: 2n ** 62n }), async (rs, baseOffset) => {
            const batch = await core.encodeBatch(toInput(rs), { compression: codec, baseOffset });
            const d = await core.decodeBatch(batch);
            expect(d.compression).toBe(codec);
            expect(d.recordCount).toBe(rs.length);
            expect(d.records.map(plain)).toEqual(expected(rs, baseOffset));
            if (codec !== CompressionTypes.GZIP) expect(core.decodeBatchSync(batch).records.map(plain)).toEqual(expected(rs, baseOffset));
          }),
          { numRuns: codec === CompressionTypes.GZIP ? 25 : 60 },
        );
      });
    }

    test('large batches grow the arena (all codecs)', async () => {
      const value = new Uint8Array(300_000).map((_, i) => (i % 251) ^ (i >> 9));
      const records = Array.from({ length: 8 }, (_, i) => ({ key: `k${i}`, value, headers: { i: String(i) } }));
      for (const codec of CODECS) {
        const batch = await core.encodeBatch(records, { compression: codec });
        const d = await core.decodeBatch(batch);
        expect(d.records.length).toBe(8);
        expect(d.records[7]!.value!.every((x, i) => x === value[i])).toBe(true);
      }
      const many = Array.from({ length: 20000 }, (_, i) => ({ value: `v${i}`, headers: [{ key: 'h', value: null }] }));
      for (const codec of CODECS) {
        const d = await core.decodeBatch(await core.encodeBatch(many, { compression: codec }));
        expect(d.records.length).toBe(20000);
        expect(new TextDecoder().decode(d.records[19999]!.value!)).toBe('v19999');
        expect(d.records[19999]!.headers).toEqual([{ key: 'h', value: null }]);
      }
    });

    test('decodes at a position inside a larger buffer; views point into it', () => {
      const b1 = core.encodeBatchSync([{ value: 'one' }], { baseOffset: 0n });
      const b2 = core.encodeBatchSync([{ value: 'two' }, { value: 'three' }], { baseOffset: 1n });
      const buf = new Uint8Array(b1.length + b2.length + 5);
      buf.set(b1, 0);
      buf.set(b2, b1.length);
      const d = core.decodeBatchSync(buf, { position: b1.length });
      expect(d.records.map((r) => new TextDecoder().decode(r.value!))).toEqual(['two', 'three']);
      expect(d.records[0]!.value!.buffer).toBe(buf.buffer);
    });

    test('setBaseOffset and setPartitionLeaderEpoch stay outside the CRC', () => {
      const batch = core.encodeBatchSync([{ value: 'a' }, { value: 'b' }]);
      const buf = new Uint8Array(batch.length + 3);
      buf.set(batch, 3);
      core.setBaseOffset(buf, 3, 1234567890123n);
      core.setPartitionLeaderEpoch(buf, 3, 77);
      expect(core.validateBatch(buf, 3)).toBe(batch.length);
      const d = core.decodeBatchSync(buf, { position: 3 });
      expect(d.partitionLeaderEpoch).toBe(77);
      expect(d.records.map((r) => r.offset)).toEqual([1234567890123n, 1234567890124n]);
    });

    test('control batches: commit and abort markers', () => {
      for (const type of [core.ControlRecordTypes.COMMIT, core.ControlRecordTypes.ABORT]) {
        const batch = core.encodeEndTransactionMarker({ type, coordinatorEpoch: 12 }, { producerId: 99n, producerEpoch: 4, baseOffset: 10n, timestamp: 5000 });
        const d = core.decodeBatchSync(batch);
        expect(d).toMatchObject({ isControlBatch: true, isTransactional: true, producerId: 99n, producerEpoch: 4, baseSequence: -1, recordCount: 1 });
        expect(hex(d.records[0]!.key!)).toBe(`0000000${type}`);
        expect(hex(d.records[0]!.value!)).toBe('00000000000c');
        expect(core.parseControlRecord(d.records[0]!)).toEqual({ version: 0, type, coordinatorEpoch: 12 });
      }
    });
  });

  describe('RecordBatch v2: bad input', () => {
    const sample = (codec: number) =>
      core.encodeBatch(
        [
          { key: 'k', value: 'hello world hello world', headers: { h: 'v' }, timestamp: BASE_TS },
          { key: null, value: enc.encode('x'.repeat(40)), timestamp: BASE_TS + 1 },
        ],
        { compression: codec as core.CompressionType, baseOffset: 100n },
      );

    for (const codec of CODECS) {
      test(`every flipped byte: CRC error inside the CRC, only that field outside (compression ${codec})`, async () => {
        const batch = await sample(codec);
        const good = (await core.decodeBatch(batch)).records.map(plain);
        for (let i = 0; i < batch.length; i++) {
          for (const mask of [0x01, 0x80, 0xff]) {
            const bad = batch.slice();
            bad[i]! ^= mask;
            if (i < 8) {
              const d = await core.decodeBatch(bad);
              expect(d.baseOffset).not.toBe(100n);
              expect(d.records.map((r) => plain(r).value)).toEqual(good.map((r) => r.value));
            } else if (i >= 12 && i < 16) {
              const d = await core.decodeBatch(bad);
              expect(d.partitionLeaderEpoch).not.toBe(-1);
              expect(d.records.map(plain)).toEqual(good);
            } else {
              const e = await expectError(core.decodeBatch(bad), 'CORRUPT_MESSAGE');
              if (i >= 17) expect(e.message).toMatch(/CRC mismatch: stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}/);
              if (i >= 17) expect(() => core.validateBatch(bad)).toThrow(/CRC mismatch/);
            }
          }
        }
      });
    }

    test('every truncation is CORRUPT_MESSAGE', async () => {
      const batch = await sample(CompressionTypes.LZ4);
      for (let n = 0; n < batch.length; n++) {
        await expectError(core.decodeBatch(batch.subarray(0, n)), 'CORRUPT_MESSAGE');
        expect(() => core.validateBatch(batch.subarray(0, n))).toThrow(WafkaError);
      }
      expect(() => core.readBatchHeader(batch.subarray(0, 60))).toThrow(/truncated/);
    });

    test('bad magic', async () => {
      const batch = await sample(0);
      batch[16] = 1;
      await expectError(core.decodeBatch(batch), 'CORRUPT_MESSAGE', /magic 1/);
    });

    test('record count mismatch, varint overflow and bad record lengths (CRC re-sealed)', async () => {
      const batch = await sample(0);
      const dv = new DataView(batch.buffer);
      const more = reseal(batch.slice());
      new DataView(more.buffer).setInt32(57, 3);
      await expectError(core.decodeBatch(reseal(more)), 'CORRUPT_MESSAGE', /fewer records than RecordCount/);
      const fewer = batch.slice();
      new DataView(fewer.buffer).setInt32(57, 1);
      await expectError(core.decodeBatch(reseal(fewer)), 'CORRUPT_MESSAGE', /bytes left after RecordCount/);
      const huge = batch.slice();
      new DataView(huge.buffer).setInt32(57, 0x7fffffff);
      await expectError(core.decodeBatch(reseal(huge)), 'CORRUPT_MESSAGE', /RecordCount 2147483647/);
      const negative = batch.slice();
      new DataView(negative.buffer).setInt32(57, -1);
      await expectError(core.decodeBatch(reseal(negative)), 'CORRUPT_MESSAGE', /RecordCount -1/);
      // First record's length varint -> 5 bytes of continuation
      const overflow = new Uint8Array(batch.length + 5);
      overflow.set(batch.subarray(0, 61));
      overflow.set([0xff, 0xff, 0xff, 0xff, 0xff, 0x01], 61);
      overflow.set(batch.subarray(62), 67);
      new DataView(overflow.buffer).setInt32(8, overflow.length - 12);
      await expectError(core.decodeBatch(reseal(overflow)), 'CORRUPT_MESSAGE', /record 0 at byte 0.*varint overflow/);
      // Record length one byte too long / too short
      for (const delta of [1, -1]) {
        const bad = batch.slice();
        const len = bad[61]! >> 1;
        bad[61] = (len + delta) << 1;
        await expectError(core.decodeBatch(reseal(bad)), 'CORRUPT_MESSAGE', /record 0/);
      }
      expect(dv.getInt32(57)).toBe(2);
    });

    test('decompressed size over the limit is MESSAGE_TOO_LARGE', async () => {
      const records = [{ value: new Uint8Array(200_000) }];
      for (const codec of [CompressionTypes.GZIP, CompressionTypes.Snappy, CompressionTypes.LZ4]) {
        const batch = await core.encodeBatch(records, { compression: codec });
        await expectError(core.decodeBatch(batch, { maxDecompressedBytes: 100_000 }), 'MESSAGE_TOO_LARGE', /limit of 100000 bytes/);
        expect((await core.decodeBatch(batch, { maxDecompressedBytes: 300_000 })).records[0]!.value!.length).toBe(200_000);
      }
    });

    test('corrupt compressed records are CORRUPT_MESSAGE (CRC re-sealed)', async () => {
      for (const codec of [CompressionTypes.GZIP, CompressionTypes.Snappy, CompressionTypes.LZ4]) {
        const batch = await sample(codec);
        for (let i = 61; i < batch.length; i += 3) {
          const bad = batch.slice();
          bad[i]! ^= 0x5a;
          reseal(bad);
          try {
            const d = await core.decodeBatch(bad);
            // A flip the codec cannot see (e.g. inside a literal) may decode: then the records parse.
            expect(d.records.length).toBe(2);
          } catch (e) {
            expect(e).toBeInstanceOf(WafkaError);
            expect(['CORRUPT_MESSAGE', 'MESSAGE_TOO_LARGE']).toContain((e as WafkaError).type);
          }
        }
      }
    });

    test('zstd: UNSUPPORTED_COMPRESSION_TYPE until a codec is registered', async () => {
      await expectError(core.encodeBatch([{ value: 'v' }], { compression: CompressionTypes.ZSTD }), 'UNSUPPORTED_COMPRESSION_TYPE');
      const plainBatch = await sample(0);
      const zstd = plainBatch.slice();
      zstd[22] = (zstd[22]! & ~7) | 4;
      await expectError(core.decodeBatch(reseal(zstd)), 'UNSUPPORTED_COMPRESSION_TYPE');
      const seven = plainBatch.slice();
      seven[22] = (seven[22]! & ~7) | 7;
      // Types 5-7 do not exist: corrupt bytes, not a codec to register.
      await expectError(core.decodeBatch(reseal(seven)), 'CORRUPT_MESSAGE', /compression type 7 does not exist/);
      // A toy codec (byte-reversal) through the registry, sync and async.
      const reverse = (b: Uint8Array) => b.slice().reverse();
      core.registerCodec(CompressionTypes.ZSTD, { compress: reverse, decompress: reverse });
      try {
        const batch = core.encodeBatchSync([{ key: 'k', value: 'zstd?' }], { compression: CompressionTypes.ZSTD });
        expect(core.readBatchHeader(batch).compression).toBe(4);
        expect(new TextDecoder().decode(core.decodeBatchSync(batch).records[0]!.value!)).toBe('zstd?');
        core.registerCodec(CompressionTypes.ZSTD, { compress: async (b) => reverse(b), decompress: async (b) => reverse(b) });
        const b2 = await core.encodeBatch([{ value: 'async' }], { compression: CompressionTypes.ZSTD });
        expect(new TextDecoder().decode((await core.decodeBatch(b2)).records[0]!.value!)).toBe('async');
        await expectError(() => core.decodeBatchSync(b2), 'UNSUPPORTED_COMPRESSION_TYPE', /async/);
      } finally {
        core.unregisterCodec(CompressionTypes.ZSTD);
      }
    });

    test('random garbage never traps the core (CRC off)', () => {
      const batch = core.encodeBatchSync(
        Array.from({ length: 8 }, (_, i) => ({ key: `k${i}`, value: `value ${i}`, headers: { a: 'b' } })),
      );
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.nat(batch.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 }), (flips) => {
          const bad = batch.slice();
          for (const [i, m] of flips) bad[i]! ^= m;
          try {
            const d = core.decodeBatchSync(bad, { verifyCrc: false });
            for (const r of d.records) void [r.key, r.value, r.headers, r.offset, r.timestamp];
          } catch (e) {
            expect(e).toBeInstanceOf(WafkaError);
          }
        }),
        { numRuns: 400 },
      );
      expect(core.decodeBatchSync(batch).records.length).toBe(8);
    });
  });

  describe('segment scan and index lookups', () => {
    /** A segment of batches with consecutive offsets, and Kafka's recover() rule as the oracle. */
    async function segment(sizes: number[], tsJitter: number[], baseOffset: bigint, codec = 0) {
      const parts: Uint8Array[] = [];
      let next = baseOffset;
      for (let b = 0; b < sizes.length; b++) {
        const n = sizes[b]!;
        const records = Array.from({ length: n }, (_, i) => ({ value: `v${b}-${i}`.repeat(1 + (i % 5)), timestamp: 1_000_000 + b * 10 + tsJitter[b]! + i }));
        const batch = await core.encodeBatch(records, { compression: codec as core.CompressionType, baseOffset: next });
        parts.push(batch);
        next += BigInt(n);
      }
      const bytes = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
      let at = 0;
      for (const p of parts) {
        bytes.set(p, at);
        at += p.length;
      }
      return { bytes, parts };
    }

    function oracle(parts: Uint8Array[], baseOffset: bigint, interval: number) {
      const offsetIndex: number[] = [];
      const ts: bigint[] = [];
      const rel: number[] = [];
      let pos = 0;
      let since = 0;
      let maxTs = -1n;
      let maxTsOffset = -1n;
      for (const p of parts) {
        const h = core.readBatchHeader(p);
        if (h.maxTimestamp > maxTs) {
          maxTs = h.maxTimestamp;
          maxTsOffset = h.lastOffset;
        }
        if (since > interval) {
          offsetIndex.push(Number(h.lastOffset - baseOffset), pos);
          if (ts.length === 0 || maxTs > ts[ts.length - 1]!) {
            ts.push(maxTs);
            rel.push(Number(maxTsOffset - baseOffset));
          }
          since = 0;
        }
        since += p.length;
        pos += p.length;
      }
      return { offsetIndex, ts, rel, maxTs, maxTsOffset, since };
    }

    test('indexes follow LogSegment.recover (property)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: -30, max: 30 })), { minLength: 1, maxLength: 25 }),
          fc.constantFrom(0, 100, 400, 2000),
          fc.constantFrom(0, 3),
          async (spec, interval, codec) => {
            const baseOffset = 1000n;
            const { bytes, parts } = await segment(spec.map((s) => s[0]), spec.map((s) => s[1]), baseOffset, codec);
            const r = core.scanSegment(bytes, { baseOffset, indexIntervalBytes: interval });
            const o = oracle(parts, baseOffset, interval);
            expect(r.stop).toBeNull();
            expect(r.validBytes).toBe(bytes.length);
            expect(r.batchCount).toBe(parts.length);
            expect(r.lastOffset).toBe(baseOffset + BigInt(spec.reduce((s, x) => s + x[0], 0)) - 1n);
            expect(Array.from(r.offsetIndex)).toEqual(o.offsetIndex);
            expect(Array.from(r.timeIndex.timestamps)).toEqual(o.ts);
            expect(Array.from(r.timeIndex.relativeOffsets)).toEqual(o.rel);
            expect(r.maxTimestamp).toBe(o.maxTs);
            expect(r.offsetOfMaxTimestamp).toBe(o.maxTsOffset);
            expect(r.bytesSinceLastEntry).toBe(o.since);
          },
        ),
        { numRuns: 40 },
      );
    });

    test('stops at a torn tail or a corrupt batch; resumes across chunks', async () => {
      const { bytes, parts } = await segment([3, 4, 5, 6], [0, 0, 0, 0], 0n);
      const starts = parts.map((_, i) => parts.slice(0, i).reduce((s, p) => s + p.length, 0));
      const torn = core.scanSegment(bytes.subarray(0, bytes.length - 7), { baseOffset: 0n, indexIntervalBytes: 0 });
      expect(torn.validBytes).toBe(starts[3]);
      expect(torn.batchCount).toBe(3);
      expect(torn.stop?.reason).toBe('truncated');
      expect(torn.stop?.error.type).toBe('CORRUPT_MESSAGE');
      const bad = bytes.slice();
      bad[starts[2]! + 40]! ^= 1;
      const corrupt = core.scanSegment(bad, { baseOffset: 0n });
      expect(corrupt.validBytes).toBe(starts[2]);
      expect(corrupt.lastOffset).toBe(6n);
      expect(corrupt.stop?.reason).toBe('corrupt');
      expect(corrupt.stop?.error.message).toMatch(/CRC mismatch/);
      expect(core.scanSegment(bad, { baseOffset: 0n, verifyCrc: false }).validBytes).toBe(bytes.length);
      // Chunked: scan the first two batches, then continue from where it stopped.
      const first = core.scanSegment(bytes.subarray(0, starts[2]! + 10), { baseOffset: 0n, indexIntervalBytes: 0 });
      expect(first.validBytes).toBe(starts[2]);
      const rest = core.scanSegment(bytes.subarray(first.validBytes), {
        baseOffset: 0n, indexIntervalBytes: 0, bytesPosition: first.validBytes, bytesSinceLastEntry: first.bytesSinceLastEntry,
        maxTimestampSoFar: first.maxTimestamp, offsetOfMaxTimestampSoFar: first.offsetOfMaxTimestamp, lastTimeIndexTimestamp: first.lastTimeIndexTimestamp,
      });
      const whole = core.scanSegment(bytes, { baseOffset: 0n, indexIntervalBytes: 0 });
      expect([...first.offsetIndex, ...rest.offsetIndex]).toEqual([...whole.offsetIndex]);
      expect([...first.timeIndex.timestamps, ...rest.timeIndex.timestamps]).toEqual([...whole.timeIndex.timestamps]);
      expect(rest.validBytes).toBe(bytes.length);
      // Offsets below the segment's base offset are corrupt for this segment.
      expect(core.scanSegment(bytes, { baseOffset: 5n }).stop?.reason).toBe('corrupt');
      expect(core.scanSegment(new Uint8Array(0), { baseOffset: 0n })).toMatchObject({ validBytes: 0, batchCount: 0, lastOffset: -1n, stop: null });
    });

    test('lookups equal a linear scan, in TS and in the core (property)', () => {
      const arena = core.coreSync();
      fc.assert(
        fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 10_000 }), { maxLength: 60 }), fc.integer({ min: -5, max: 10_005 }), (offs, target) => {
          offs.sort((a, b) => a - b);
          const idx = new Int32Array(offs.flatMap((o, i) => [o, i * 100]));
          let want = { relativeOffset: 0, position: 0, slot: -1 };
          offs.forEach((o, i) => {
            if (o <= target) want = { relativeOffset: o, position: i * 100, slot: i };
          });
          expect(core.lookupOffset(idx, target)).toEqual(want);
          arena.reserve(idx.byteLength + 16);
          arena.u8.set(new Uint8Array(idx.buffer), arena.base);
          expect(arena.exports.offsetIndexLookup(arena.base, offs.length, target)).toBe(want.slot);

          const timestamps = new BigInt64Array(offs.map((o) => BigInt(o) * 3n));
          const t = { timestamps, relativeOffsets: new Int32Array(offs) };
          const tt = BigInt(target) * 3n + 1n;
          const first = offs.findIndex((_, i) => timestamps[i]! >= tt);
          expect(core.lookupTimestamp(t, tt)).toEqual(first < 0 ? null : { timestamp: timestamps[first], relativeOffset: offs[first], slot: first });
          let floor = -1;
          offs.forEach((_, i) => {
            if (timestamps[i]! <= tt) floor = i;
          });
          expect(core.timeIndexFloor(t, tt).slot).toBe(floor);
          arena.u8.set(new Uint8Array(timestamps.buffer), arena.base);
          expect(arena.exports.timeIndexLookup(arena.base, offs.length, tt)).toBe(first < 0 ? offs.length : first);
          expect(arena.exports.timeIndexFloor(arena.base, offs.length, tt)).toBe(floor);
        }),
        { numRuns: 300 },
      );
    });
  });
}
