// What decoding may cost and what it may throw: declared sizes are checked
// against limits and against what the input can produce before memory grows,
// outsized decodes give their memory back, every failure is a WafkaError,
// header building is linear, and timestamps stay exact.
import { beforeAll, describe, expect, test } from 'vitest';
import {
  ARENA_RETAINED_BYTES, CompressionTypes, coreSync, decodeBatch, decodeBatchSync, encodeBatch, encodeBatchSync, loadCore,
} from '../../src/core/index.ts';
import { loadBatchCodec } from '../../src/client/core-codec.ts';
import { appendMessages } from '../../src/client/consumer.ts';
import type { KafkaMessage } from '../../src/client/types.ts';
import { WafkaError } from '../../src/errors.ts';
import { MemoryBackend, openPartitionLog } from '../../src/storage/index.ts';
import { batchBytes, recordBytes, varlong } from './batch-bytes.ts';

beforeAll(() => loadCore());

const MiB = 1 << 20;

/** Runs fn and returns what it threw and the core memory's high-water mark during it. */
async function measured(fn: () => unknown): Promise<{ error: unknown; highWaterBytes: number }> {
  const arena = coreSync();
  arena.highWaterBytes = arena.memoryBytes;
  let error: unknown;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  return { error, highWaterBytes: arena.highWaterBytes };
}

/** A batch of `size` bytes whose records are raw snappy declaring `declared` bytes, with `recordCount`. */
function snappyClaim(declared: number, recordCount: number, size: number): Uint8Array {
  const records = [...varlong(declared).map((b, i, a) => i === 0 ? b : b)];
  // The raw snappy preamble is an unsigned varint, not zig-zag.
  records.length = 0;
  let v = declared;
  while (v >= 0x80) { records.push((v & 0x7f) | 0x80); v = Math.floor(v / 128); }
  records.push(v);
  while (records.length < size - 61) records.push(0);
  return batchBytes({ records, recordCount, attributes: CompressionTypes.Snappy });
}

describe('declared sizes are checked before memory grows', () => {
  test('a 67-byte snappy batch declaring 60 MiB and 28 M records: CORRUPT_MESSAGE, memory stays small', async () => {
    const batch = snappyClaim(60 * MiB, 28_000_000, 67);
    expect(batch.byteLength).toBe(67);
    const { error, highWaterBytes } = await measured(() => decodeBatch(batch));
    expect(error).toBeInstanceOf(WafkaError);
    expect((error as WafkaError).type).toBe('CORRUPT_MESSAGE');
    expect((error as WafkaError).message).toMatch(/declared decompressed size is more than the compressed records can hold \(62914560 bytes declared, at most \d+\)/);
    expect(highWaterBytes).toBeLessThan(4 * MiB);
  });

  test('a 66-byte snappy batch claiming 2^31-1 records: a WafkaError, not a RangeError', async () => {
    const batch = snappyClaim(5, 0x7fffffff, 66);
    expect(batch.byteLength).toBe(66);
    for (const decode of [() => decodeBatch(batch), async () => decodeBatchSync(batch)]) {
      const { error, highWaterBytes } = await measured(decode);
      expect(error).toBeInstanceOf(WafkaError);
      expect((error as WafkaError).type).toBe('CORRUPT_MESSAGE');
      expect((error as WafkaError).message).toMatch(/RecordCount 2147483647 is impossible for 5 bytes/);
      expect(highWaterBytes).toBeLessThan(4 * MiB);
    }
  });

  test('an lz4 frame declaring a content size its bytes cannot hold: CORRUPT_MESSAGE before memory grows', async () => {
    const real = encodeBatchSync([{ value: 'x'.repeat(100) }], { compression: CompressionTypes.LZ4 });
    const frame = real.slice(61);
    // Frame descriptor: set the content-size flag and write 50 MiB; the header checksum is not reached first.
    const withSize = new Uint8Array(frame.byteLength + 8);
    withSize.set(frame.subarray(0, 6));
    withSize[4] |= 0x08;
    new DataView(withSize.buffer).setBigUint64(6, BigInt(50 * MiB), true);
    withSize.set(frame.subarray(6), 14);
    const batch = batchBytes({ records: withSize, recordCount: 1, attributes: CompressionTypes.LZ4 });
    const { error, highWaterBytes } = await measured(() => decodeBatch(batch));
    expect((error as WafkaError).type).toBe('CORRUPT_MESSAGE');
    expect(highWaterBytes).toBeLessThan(4 * MiB);
  });

  test('ListOffsets by timestamp over a stored outsized batch does not grow memory either', async () => {
    const log = await openPartitionLog({ backend: new MemoryBackend(), dir: 'p' });
    // Stored as a follower would copy it (no record checks there): the leader's append refuses it.
    await log.appendAsFollower(snappyClaim(60 * MiB, 28_000_000, 67));
    const { error, highWaterBytes } = await measured(() => log.offsetForTimestamp(0));
    expect(error).toBeUndefined();
    expect(highWaterBytes).toBeLessThan(4 * MiB);
    await log.close();
  });

  test('memory grown past ARENA_RETAINED_BYTES by a legitimate decode is given back', async () => {
    const arena = coreSync();
    const big = encodeBatchSync([{ value: 'a'.repeat(ARENA_RETAINED_BYTES + MiB) }], { compression: CompressionTypes.Snappy });
    expect(big.byteLength).toBeLessThan(4 * MiB);
    const releases = arena.releases;
    const batch = decodeBatchSync(big);
    expect(batch.records[0].value!.byteLength).toBe(ARENA_RETAINED_BYTES + MiB);
    expect(batch.records[0].value![12345]).toBe(97);
    expect(arena.releases).toBe(releases + 1);
    expect(arena.memoryBytes).toBeLessThanOrEqual(ARENA_RETAINED_BYTES);
    // The fresh instance works.
    expect(decodeBatchSync(encodeBatchSync([{ value: 'after' }], { compression: CompressionTypes.LZ4 })).records[0].value).toEqual(new TextEncoder().encode('after'));
  });
});

describe('headers', () => {
  test('a header key repeated 100,000 times builds in linear time, values in order', async () => {
    const n = 100_000;
    const headers = Array.from({ length: n }, (_, i) => ({ key: 'k', value: String(i % 10) }));
    const bytes = await encodeBatch([{ value: 'v', headers: [{ key: 'first', value: 'f' }, ...headers] }]);
    const codec = await loadBatchCodec();
    const { batches } = await codec.decodeBatches(bytes);
    const out: KafkaMessage[] = [];
    appendMessages(batches[0], 0n, out);
    const values = out[0].headers.k as unknown as Uint8Array[];
    expect(Array.isArray(values)).toBe(true);
    expect(values.length).toBe(n);
    expect(values.slice(0, 12).map((v) => v[0] - 48)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    expect(Object.keys(out[0].headers)).toEqual(['first', 'k']);
  }, 20_000);
});

describe('timestamps stay exact', () => {
  const huge = 2n ** 53n + 1n;

  test('a timestamp delta of 2^53+1 decodes exactly (record and consumer message)', async () => {
    const batch = batchBytes({ records: recordBytes({ offsetDelta: 0, timestampDelta: huge }), recordCount: 1, baseTimestamp: 0n });
    const decoded = await decodeBatch(batch);
    expect(decoded.records[0].timestamp).toBe(huge);
    const codec = await loadBatchCodec();
    const out: KafkaMessage[] = [];
    appendMessages((await codec.decodeBatches(batch)).batches[0], 0n, out);
    expect(out[0].timestamp).toBe('9007199254740993');
    // The number-typed delta refuses rather than rounds.
    expect(() => decoded.records[0].timestampDelta).toThrow(/INVALID_TIMESTAMP/);
  });

  test('two deltas that round to the same number give two timestamps', async () => {
    const records = [...recordBytes({ offsetDelta: 0, timestampDelta: 2n ** 53n }), ...recordBytes({ offsetDelta: 1, timestampDelta: huge })];
    const batch = batchBytes({ records, recordCount: 2, baseTimestamp: 5n });
    const codec = await loadBatchCodec();
    const out: KafkaMessage[] = [];
    appendMessages((await codec.decodeBatches(batch)).batches[0], 0n, out);
    expect(out.map((m) => m.timestamp)).toEqual([String(2n ** 53n + 5n), String(huge + 5n)]);
  });

  test('bigint and string timestamps encode exactly; beyond int64 or inexact numbers are INVALID_TIMESTAMP', async () => {
    const decoded = decodeBatchSync(encodeBatchSync([{ value: 'a', timestamp: 1n }, { value: 'b', timestamp: huge.toString() }, { value: 'c', timestamp: 2n ** 62n }]));
    expect(decoded.records.map((r) => r.timestamp)).toEqual([1n, huge, 2n ** 62n]);
    expect(() => encodeBatchSync([{ value: 'a', timestamp: 2n ** 63n }])).toThrow(/INVALID_TIMESTAMP/);
    expect(() => encodeBatchSync([{ value: 'a', timestamp: -(2n ** 62n) }, { value: 'b', timestamp: 2n ** 62n }])).toThrow(/INVALID_TIMESTAMP.*beyond an int64/);
    expect(() => encodeBatchSync([{ value: 'a', timestamp: 2 ** 60 }])).toThrow(/INVALID_TIMESTAMP/);
  });
});
