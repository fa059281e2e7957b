import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import SnappyCodec from 'kafkajs-snappy';
import { snappyCompress, snappyDecompress } from '../../src/core/snappy.ts';
import { dataArb, equalBytes, makeData } from './lz4.data.ts';
import { defineSnappyTests } from './snappy.cases.ts';

defineSnappyTests();

// kafkajs-snappy (Node only: it uses Buffer) decompresses xerial framing the way
// Kafka's clients do, and compresses raw snappy.
describe('snappy: interop with kafkajs-snappy', () => {
  const codec = SnappyCodec();

  test('kafkajs-snappy decompresses what wafka compresses', async () => {
    await fc.assert(
      fc.asyncProperty(dataArb, async ({ kind, size, seed }) => {
        const data = makeData(kind, size, seed);
        const out = await codec.decompress(Buffer.from(snappyCompress(data)));
        expect(equalBytes(new Uint8Array(out), data)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  test('wafka decompresses what kafkajs-snappy compresses', async () => {
    await fc.assert(
      fc.asyncProperty(dataArb, async ({ kind, size, seed }) => {
        const data = makeData(kind, size, seed);
        const compressed = await codec.compress({ buffer: Buffer.from(data) });
        expect(equalBytes(snappyDecompress(new Uint8Array(compressed)), data)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});
