// The fuzz loops, briefly (npm run fuzz runs them longer): mutated batches
// decode or fail with a WafkaError within a bounded core memory, and what the
// append check accepts decodes fully.
import { beforeAll, expect, test } from 'vitest';
import { loadCore } from '../../src/core/index.ts';
import { HIGH_WATER_BYTES_MAX, fuzzAppendCheck, fuzzDecoder } from './loops.ts';

beforeAll(() => loadCore());

const ITERATIONS = 3000;

test('decoder: a result or a WafkaError, core memory bounded', async () => {
  const counts = await fuzzDecoder(ITERATIONS, 7);
  expect(counts.accepted + Object.values(counts.refused).reduce((a, b) => a + b, 0)).toBe(ITERATIONS);
  expect(counts.accepted).toBeGreaterThan(0);
  expect(counts.refused.CORRUPT_MESSAGE).toBeGreaterThan(0);
  expect(counts.highWaterBytesMax).toBeLessThanOrEqual(HIGH_WATER_BYTES_MAX);
});

test('append check: accepted means fully decodable, refused means a WafkaError', async () => {
  const counts = await fuzzAppendCheck(ITERATIONS, 11);
  expect(counts.accepted).toBeGreaterThan(0);
  expect(counts.refused.CORRUPT_MESSAGE).toBeGreaterThan(0);
  expect(counts.refused.INVALID_RECORD).toBeGreaterThan(0);
});
