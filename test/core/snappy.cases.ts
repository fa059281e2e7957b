/**
 * The snappy suite (xerial framing and raw), run in Node (snappy.test.ts) and in
 * real Chromium (snappy.browser.test.ts): nothing here may import a Node-only module.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import fc from 'fast-check';
import snappyjs from 'snappyjs';
import { coreSync, loadCore } from '../../src/core/wasm.ts';
import { snappyCompress, snappyDecompress } from '../../src/core/snappy.ts';
import { callGuarded, dataArb, equalBytes, events, expectWafkaError, makeData, mutate, mutationArb, resultOrWafkaError } from './lz4.data.ts';

/** org.xerial.snappy.SnappyCodec's header: magic, version 1, compatible version 1. */
export const XERIAL_HEADER = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1];

/** Splits a xerial stream into its chunks (raw snappy streams). */
export function xerialChunks(b: Uint8Array): Uint8Array[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const chunks: Uint8Array[] = [];
  for (let p = 16; p < b.length; ) {
    const n = dv.getInt32(p);
    chunks.push(b.subarray(p + 4, p + 4 + n));
    p += 4 + n;
  }
  return chunks;
}

/** The xerial framing around snappyjs's raw blocks, as SnappyOutputStream lays it out. */
export function xerialFromSnappyjs(data: Uint8Array, chunkSize = 32 * 1024): Uint8Array {
  const out: number[] = [...XERIAL_HEADER];
  for (let off = 0; off < data.length; off += chunkSize) {
    const c = snappyjs.compress(data.slice(off, off + chunkSize));
    out.push((c.length >>> 24) & 0xff, (c.length >>> 16) & 0xff, (c.length >>> 8) & 0xff, c.length & 0xff, ...c);
  }
  return Uint8Array.from(out);
}

const decompressOrWafkaError = (b: Uint8Array, maxBytes?: number) => resultOrWafkaError(() => snappyDecompress(b, maxBytes));

export function defineSnappyTests(): void {
  beforeAll(async () => {
    await loadCore();
  });

  describe('snappy: round trips', () => {
    test('random and compressible data, 0..300 KiB', () => {
      fc.assert(
        fc.property(dataArb, ({ kind, size, seed }) => {
          const data = makeData(kind, size, seed);
          const framed = snappyCompress(data);
          expect(framed.length).toBeLessThanOrEqual(coreSync().exports.snappyXerialBound(size));
          expect(equalBytes(snappyDecompress(framed), data)).toBe(true);
        }),
        { numRuns: 200 },
      );
    });

    test('compresses JSON events (> 3x)', () => {
      const data = events(1 << 20);
      const framed = snappyCompress(data);
      expect(data.length / framed.length).toBeGreaterThan(3);
      expect(equalBytes(snappyDecompress(framed), data)).toBe(true);
    });

    test("writes the xerial framing Kafka's Java client writes: header, then 32 KiB chunks", () => {
      const data = makeData('mixed', 100_000, 3);
      const framed = snappyCompress(data);
      expect([...framed.subarray(0, 16)]).toEqual(XERIAL_HEADER);
      const chunks = xerialChunks(framed);
      expect(chunks.length).toBe(Math.ceil(data.length / 32768));
      expect(16 + chunks.reduce((a, c) => a + 4 + c.length, 0)).toBe(framed.length);
      expect([...snappyCompress(new Uint8Array(0))]).toEqual(XERIAL_HEADER);
      expect(snappyDecompress(Uint8Array.from(XERIAL_HEADER)).length).toBe(0);
      expect(coreSync().exports.snappyXerialBound(0x7fffffff)).toBe(-5); // ERR_TOO_LARGE, not an overflowed i32
    });
  });

  describe('snappy: interop with snappyjs', () => {
    test('every xerial chunk wafka writes is a raw snappy stream snappyjs decodes', () => {
      fc.assert(
        fc.property(dataArb, ({ kind, size, seed }) => {
          const data = makeData(kind, size, seed);
          const chunks = xerialChunks(snappyCompress(data));
          let off = 0;
          for (const c of chunks) {
            const part = snappyjs.uncompress(Uint8Array.from(c));
            expect(part.length).toBeLessThanOrEqual(32768);
            expect(equalBytes(part, data.subarray(off, off + part.length))).toBe(true);
            off += part.length;
          }
          expect(off).toBe(data.length);
        }),
        { numRuns: 100 },
      );
    });

    test('wafka decompresses raw snappy from snappyjs', () => {
      fc.assert(
        fc.property(dataArb, ({ kind, size, seed }) => {
          const data = makeData(kind, size, seed);
          expect(equalBytes(snappyDecompress(snappyjs.compress(Uint8Array.from(data))), data)).toBe(true);
        }),
        { numRuns: 100 },
      );
    });

    test('wafka decompresses xerial framing around snappyjs blocks, any chunk size', () => {
      fc.assert(
        fc.property(dataArb, fc.constantFrom(32768, 32768, 1000, 8192, 65536), ({ kind, size, seed }, chunk) => {
          const data = makeData(kind, size % 150_000, seed);
          expect(equalBytes(snappyDecompress(xerialFromSnappyjs(data, chunk)), data)).toBe(true);
        }),
        { numRuns: 60 },
      );
    });
  });

  describe('snappy: malformed input', () => {
    test('truncation at every length, bad tags, offsets and lengths', () => {
      const data = makeData('events', 3000, 2);
      const framed = snappyCompress(data);
      for (let n = 17; n < framed.length; n++) expectWafkaError(() => snappyDecompress(framed.subarray(0, n)));
      const raw = xerialChunks(framed)[0]!;
      for (let n = 0; n < raw.length; n++) expectWafkaError(() => snappyDecompress(raw.subarray(0, n)));
      expectWafkaError(() => snappyDecompress(Uint8Array.from([...raw, 0]))); // a literal past the declared length
      expectWafkaError(() => snappyDecompress(Uint8Array.from([5, 0x01 | (1 << 2), 1]))); // a copy before any output
      expectWafkaError(() => snappyDecompress(Uint8Array.from([8, 0x00, 0x61, 0x01, 2]))); // offset 2 > 1 byte written
      expectWafkaError(() => snappyDecompress(Uint8Array.from([3, 0x00, 0x61]))); // shorter than declared
      expectWafkaError(() => snappyDecompress(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))); // varint too long
      expectWafkaError(() => snappyDecompress(Uint8Array.from([100, 0xfc, 0xff, 0xff, 0xff, 0xff, 0x61]))); // 4-byte literal length overflowing
      expect([...snappyDecompress(Uint8Array.from([0]))]).toEqual([]);
    });

    test('over maxBytes: MESSAGE_TOO_LARGE before any output is allocated', () => {
      const zeros = new Uint8Array(300_000);
      expectWafkaError(() => snappyDecompress(snappyCompress(zeros), 100_000), 'MESSAGE_TOO_LARGE');
      expect(snappyDecompress(snappyCompress(zeros), 300_000).length).toBe(300_000);
      // A raw preamble claiming 4 GiB - 1 in 6 bytes: more than snappy can expand them to, so corrupt.
      expectWafkaError(() => snappyDecompress(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0])), 'CORRUPT_MESSAGE');
    });

    test('random and mutated input: a result or a WafkaError, never a trap or a stray write', () => {
      const arena = coreSync();
      const x = arena.exports;
      const inputArb = fc.oneof(
        fc.tuple(dataArb, mutationArb).map(([{ kind, size, seed }, m]) => mutate(snappyCompress(makeData(kind, size % 5000, seed)), m)),
        // damaged raw streams, past the xerial header: exercises the tag decoder
        fc.tuple(dataArb, mutationArb).map(([{ kind, size, seed }, m]) => mutate(snappyjs.compress(makeData(kind, size % 3000, seed)), m)),
        // a declared length, then random tags
        fc.tuple(fc.nat({ max: 3000 }), fc.uint8Array({ maxLength: 400 })).map(([n, tags]) =>
          Uint8Array.from([(n & 0x7f) | 0x80, n >> 7, ...tags]),
        ),
        fc.uint8Array({ maxLength: 200 }).map((b) => Uint8Array.from([...XERIAL_HEADER, ...b])),
        fc.uint8Array({ maxLength: 200 }),
      );
      fc.assert(
        fc.property(inputArb, fc.nat({ max: 70_000 }), (input, cap) => {
          decompressOrWafkaError(input, 1 << 20);
          callGuarded(arena, x.snappyDecompress, input, cap);
          callGuarded(arena, x.snappyDecompress, input, cap % 64);
        }),
        { numRuns: 3000 },
      );
      const data = makeData('events', 70_000, 4);
      expect(equalBytes(snappyDecompress(snappyCompress(data)), data)).toBe(true);
    });

    test('compression never reads past srcLen or writes past dstCap, and fails cleanly when dstCap is short', () => {
      const arena = coreSync();
      const x = arena.exports;
      fc.assert(
        fc.property(dataArb, fc.double({ min: 0, max: 1, noNaN: true }), ({ kind, size, seed }, f) => {
          const data = makeData(kind, size % 140_000, seed);
          const full = callGuarded(arena, x.snappyXerialCompress, data, x.snappyXerialBound(data.length));
          expect(full.code).toBeGreaterThanOrEqual(16);
          expect(equalBytes(snappyDecompress(full.out), data)).toBe(true);
          const short = callGuarded(arena, x.snappyXerialCompress, data, Math.floor(full.code * f));
          if (short.code >= 0) expect(equalBytes(snappyDecompress(short.out), data)).toBe(true);
          else expect(short.code).toBe(-4);
        }),
        { numRuns: 60 },
      );
    });
  });
}
