/**
 * The LZ4 frame suite, run in Node (lz4.test.ts) and in real Chromium
 * (lz4.browser.test.ts): nothing here may import a Node-only module.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import fc from 'fast-check';
import lz4js from 'lz4js';
import { xxhash32 } from 'hash-wasm';
import { coreSync, loadCore } from '../../src/core/wasm.ts';
import { lz4Compress, lz4Decompress } from '../../src/core/lz4.ts';
import { WafkaError } from '../../src/errors.ts';
import { callGuarded, dataArb, equalBytes, events, makeData, mutate, mutationArb, expectWafkaError, resultOrWafkaError,
} from './lz4.data.ts';

const xxh32 = async (b: Uint8Array) => parseInt(await xxhash32(b, 0), 16) >>> 0;
const u32le = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];

export interface FrameOptions {
  blockSizeId: 4 | 5 | 6 | 7;
  independent: boolean;
  blockChecksum: boolean;
  contentChecksum: boolean;
  contentSize: boolean;
  /** Store every n-th block uncompressed (0: only when incompressible). */
  rawEvery: number;
}

/** Builds a frame from lz4js's block compressor and hash-wasm's xxHash32, independently of the core. */
export async function buildFrame(data: Uint8Array, o: FrameOptions): Promise<Uint8Array> {
  const blockMax = 1 << (8 + 2 * o.blockSizeId);
  const flg = 0x40 | (o.independent ? 0x20 : 0) | (o.blockChecksum ? 0x10 : 0) | (o.contentSize ? 0x08 : 0) | (o.contentChecksum ? 0x04 : 0);
  const descriptor = [flg, o.blockSizeId << 4];
  if (o.contentSize) descriptor.push(...u32le(data.length), 0, 0, 0, 0);
  const out: number[] = [0x04, 0x22, 0x4d, 0x18, ...descriptor, (((await xxh32(Uint8Array.from(descriptor))) >>> 8) & 0xff)];
  let table = new Uint32Array(1 << 16);
  for (let off = 0, i = 1; off < data.length; off += blockMax, i++) {
    const len = Math.min(blockMax, data.length - off);
    if (o.independent) table = new Uint32Array(1 << 16);
    const buf = new Uint8Array(lz4js.compressBound(len));
    const n = lz4js.compressBlock(data, buf, off, len, table);
    const raw = n === 0 || n >= len || (o.rawEvery > 0 && i % o.rawEvery === 0);
    const block = raw ? data.subarray(off, off + len) : buf.subarray(0, n);
    out.push(...u32le(raw ? (len | 0x80000000) >>> 0 : n));
    for (const b of block) out.push(b);
    if (o.blockChecksum) out.push(...u32le(await xxh32(block)));
  }
  out.push(0, 0, 0, 0);
  if (o.contentChecksum) out.push(...u32le(await xxh32(data)));
  return Uint8Array.from(out);
}

const frameOptionsArb = fc.record({
  blockSizeId: fc.constantFrom(4 as const, 5 as const, 6 as const, 7 as const),
  independent: fc.boolean(),
  blockChecksum: fc.boolean(),
  contentChecksum: fc.boolean(),
  contentSize: fc.boolean(),
  rawEvery: fc.constantFrom(0, 0, 2, 3),
});

const decompressOrWafkaError = (b: Uint8Array, maxBytes?: number) => resultOrWafkaError(() => lz4Decompress(b, maxBytes));

export function defineLz4Tests(): void {
  beforeAll(async () => {
    await loadCore();
  });

  describe('lz4 frame: round trips', () => {
    test('random and compressible data, 0..300 KiB', () => {
      fc.assert(
        fc.property(dataArb, ({ kind, size, seed }) => {
          const data = makeData(kind, size, seed);
          const frame = lz4Compress(data);
          expect(frame.length).toBeLessThanOrEqual(coreSync().exports.lz4FrameBound(size));
          expect(equalBytes(lz4Decompress(frame), data)).toBe(true);
        }),
        { numRuns: 200 },
      );
    });

    test('compresses JSON events about as well as LZ4 does (> 3x)', () => {
      const data = events(1 << 20);
      const frame = lz4Compress(data);
      expect(data.length / frame.length).toBeGreaterThan(3);
      expect(equalBytes(lz4Decompress(frame), data)).toBe(true);
    });

    test('writes the frame Kafka writes: FLG 0x60, BD 0x40, header checksum, 64 KiB independent blocks', async () => {
      const data = makeData('mixed', 200_000, 7);
      const frame = lz4Compress(data);
      expect([...frame.subarray(0, 6)]).toEqual([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40]);
      expect(frame[6]).toBe(((await xxh32(frame.subarray(4, 6))) >>> 8) & 0xff);
      const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
      let p = 7;
      let blocks = 0;
      for (;;) {
        const size = dv.getUint32(p, true);
        p += 4;
        if (size === 0) break;
        expect(size & 0x7fffffff).toBeLessThanOrEqual(65536);
        p += size & 0x7fffffff;
        blocks++;
      }
      expect(blocks).toBe(Math.ceil(data.length / 65536));
      expect(p).toBe(frame.length);
    });

    test('stores incompressible blocks uncompressed, within lz4FrameBound', () => {
      const data = makeData('random', 150_000, 3);
      const frame = lz4Compress(data);
      expect(frame.length).toBe(coreSync().exports.lz4FrameBound(data.length));
      expect(coreSync().exports.lz4FrameBound(0x7fffffff)).toBe(-5); // ERR_TOO_LARGE, not an overflowed i32
      expect(new DataView(frame.buffer, frame.byteOffset).getUint32(7, true)).toBe((0x80000000 | 65536) >>> 0);
      expect(equalBytes(lz4Decompress(frame), data)).toBe(true);
    });

    test('compression is deterministic (same input, same frame)', () => {
      const a = makeData('events', 100_000, 1);
      const b = makeData('mixed', 50_000, 2);
      const first = lz4Compress(a);
      lz4Compress(b);
      expect(equalBytes(lz4Compress(a), first)).toBe(true);
    });
  });

  describe('lz4 frame: interop with lz4js', () => {
    test('lz4js decompresses what wafka compresses', () => {
      fc.assert(
        fc.property(dataArb, ({ kind, size, seed }) => {
          const data = makeData(kind, size, seed);
          expect(equalBytes(new Uint8Array(lz4js.decompress(lz4Compress(data))), data)).toBe(true);
        }),
        { numRuns: 100 },
      );
    });

    test('wafka decompresses what lz4js compresses (4 MiB linked blocks)', () => {
      fc.assert(
        fc.property(dataArb, ({ kind, size, seed }) => {
          const data = makeData(kind, size, seed);
          expect(equalBytes(lz4Decompress(new Uint8Array(lz4js.compress(data))), data)).toBe(true);
        }),
        { numRuns: 100 },
      );
    });

    test('wafka decompresses every frame variant: block sizes, linked/independent, block and content checksums, content size, stored blocks', async () => {
      await fc.assert(
        fc.asyncProperty(dataArb, frameOptionsArb, async ({ kind, size, seed }, o) => {
          const data = makeData(kind, size, seed);
          const frame = await buildFrame(data, o);
          expect(equalBytes(lz4Decompress(frame), data)).toBe(true);
          const x = coreSync().exports;
          const arena = coreSync();
          arena.reserve(frame.length);
          arena.u8.set(frame, arena.base);
          expect(x.lz4FrameContentSize(arena.base, frame.length)).toBe(o.contentSize ? BigInt(data.length) : -1n);
        }),
        { numRuns: 60 },
      );
    });
  });

  describe('lz4 frame: malformed input', () => {
    test('checksums are verified: header, block, content', async () => {
      const data = makeData('events', 100_000, 5);
      const frame = await buildFrame(data, { blockSizeId: 4, independent: true, blockChecksum: true, contentChecksum: true, contentSize: false, rawEvery: 0 });
      const hc = Uint8Array.from(frame);
      hc[6]! ^= 1;
      expect(expectWafkaError(() => lz4Decompress(hc)).message).toMatch(/checksum/);
      const firstBlockSize = new DataView(frame.buffer).getUint32(7, true);
      const bc = Uint8Array.from(frame);
      bc[11 + firstBlockSize]! ^= 0x80; // the first block's checksum
      expect(expectWafkaError(() => lz4Decompress(bc)).message).toMatch(/checksum/);
      const cc = Uint8Array.from(frame);
      cc[cc.length - 1]! ^= 0x10; // the content checksum
      expect(expectWafkaError(() => lz4Decompress(cc)).message).toMatch(/checksum/);
    });

    test('with checksums, damage gives an error, never wrong data', async () => {
      const data = makeData('mixed', 20_000, 11);
      const frame = await buildFrame(data, { blockSizeId: 4, independent: true, blockChecksum: false, contentChecksum: true, contentSize: true, rawEvery: 0 });
      fc.assert(
        fc.property(mutationArb, (m) => {
          const r = decompressOrWafkaError(mutate(frame, m));
          if (!(r instanceof WafkaError)) expect(equalBytes(r, data)).toBe(true);
        }),
        { numRuns: 500 },
      );
    });

    test('a match reaching into the previous block is corrupt when blocks are independent', async () => {
      const unit = makeData('random', 1000, 9);
      const data = new Uint8Array(150_000).map((_, i) => unit[i % 1000]!);
      const linked = await buildFrame(data, { blockSizeId: 4, independent: false, blockChecksum: false, contentChecksum: false, contentSize: false, rawEvery: 0 });
      expect(equalBytes(lz4Decompress(linked), data)).toBe(true);
      const forged = Uint8Array.from(linked);
      forged[4] = 0x60;
      forged[6] = ((await xxh32(forged.subarray(4, 6))) >>> 8) & 0xff;
      expectWafkaError(() => lz4Decompress(forged));
    });

    test('bad magic, version, reserved bits, truncation at every length, trailing bytes', async () => {
      const data = makeData('events', 3000, 1);
      const frame = lz4Compress(data);
      expectWafkaError(() => lz4Decompress(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])));
      expectWafkaError(() => lz4Decompress(new Uint8Array(0)));
      for (let n = 0; n < frame.length; n++) expectWafkaError(() => lz4Decompress(frame.subarray(0, n)));
      expectWafkaError(() => lz4Decompress(Uint8Array.from([...frame, 0])));
      for (const [flg, bd] of [[0x80, 0x40], [0x62, 0x40], [0x60, 0x41], [0x60, 0xc0], [0x60, 0x30]]) {
        const f = Uint8Array.from(frame);
        f[4] = flg!;
        f[5] = bd!;
        f[6] = ((await xxh32(f.subarray(4, 6))) >>> 8) & 0xff;
        expectWafkaError(() => lz4Decompress(f));
      }
      const dict = Uint8Array.from([0x04, 0x22, 0x4d, 0x18, 0x61, 0x40, 1, 2, 3, 4, 0, 0, 0, 0, 0]);
      dict[10] = ((await xxh32(dict.subarray(4, 10))) >>> 8) & 0xff;
      expect(() => lz4Decompress(dict)).toThrow(WafkaError);
    });

    test('over maxBytes: MESSAGE_TOO_LARGE, from the content size or while decoding', async () => {
      const zeros = new Uint8Array(300_000);
      expectWafkaError(() => lz4Decompress(lz4Compress(zeros), 100_000), 'MESSAGE_TOO_LARGE');
      expect(lz4Decompress(lz4Compress(zeros), 300_000).length).toBe(300_000);
      const sized = await buildFrame(zeros, { blockSizeId: 4, independent: true, blockChecksum: false, contentChecksum: false, contentSize: true, rawEvery: 0 });
      expectWafkaError(() => lz4Decompress(sized, 299_999), 'MESSAGE_TOO_LARGE');
      // A content size that lies is corrupt.
      const lying = Uint8Array.from(sized);
      lying[6] = 1;
      lying[14] = ((await xxh32(lying.subarray(4, 14))) >>> 8) & 0xff;
      expectWafkaError(() => lz4Decompress(lying));
    });

    test('random and mutated input: a result or a WafkaError, never a trap or a stray write', () => {
      const arena = coreSync();
      const x = arena.exports;
      const header = lz4Compress(new Uint8Array(0)).subarray(0, 7);
      const inputArb = fc.oneof(
        // damaged real frames
        fc.tuple(dataArb, mutationArb).map(([{ kind, size, seed }, m]) => mutate(lz4Compress(makeData(kind, size % 5000, seed)), m)),
        // a valid header, then random blocks: exercises the block decoder
        fc.tuple(fc.uint8Array({ maxLength: 600 }), fc.boolean()).map(([block, end]) =>
          Uint8Array.from([...header, ...u32le(block.length), ...block, ...(end ? [0, 0, 0, 0] : [])]),
        ),
        fc.uint8Array({ maxLength: 200 }),
      );
      fc.assert(
        fc.property(inputArb, fc.nat({ max: 70_000 }), (input, cap) => {
          decompressOrWafkaError(input, 1 << 20);
          callGuarded(arena, x.lz4FrameDecompress, input, cap);
          callGuarded(arena, x.lz4FrameDecompress, input, cap % 64);
        }),
        { numRuns: 3000 },
      );
      const data = makeData('events', 70_000, 4);
      expect(equalBytes(lz4Decompress(lz4Compress(data)), data)).toBe(true);
    });

    test('compression never reads past srcLen or writes past dstCap, and fails cleanly when dstCap is short', () => {
      const arena = coreSync();
      const x = arena.exports;
      fc.assert(
        fc.property(dataArb, fc.double({ min: 0, max: 1, noNaN: true }), ({ kind, size, seed }, f) => {
          const data = makeData(kind, size % 140_000, seed);
          const bound = x.lz4FrameBound(data.length);
          const full = callGuarded(arena, x.lz4FrameCompress, data, bound);
          expect(full.code).toBeGreaterThan(0);
          expect(equalBytes(lz4Decompress(full.out), data)).toBe(true);
          const short = callGuarded(arena, x.lz4FrameCompress, data, Math.floor(full.code * f));
          if (short.code >= 0) expect(equalBytes(lz4Decompress(short.out), data)).toBe(true);
          else expect(short.code).toBe(-4);
        }),
        { numRuns: 60 },
      );
    });
  });
}

