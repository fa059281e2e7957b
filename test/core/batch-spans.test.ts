import fc from 'fast-check';
import { beforeAll, expect, test } from 'vitest';
import { batchSpans, loadCore, spanIsWhole } from '../../src/core/index.ts';
import { viewOf } from '../../src/storage/record-batch.ts';
import { concat, sizedBatch } from '../storage/helpers.ts';

beforeAll(async () => {
  await loadCore();
});

const batchesArb = fc.array(fc.record({ count: fc.integer({ min: 1, max: 20 }), valueBytes: fc.integer({ min: 0, max: 300 }), gap: fc.integer({ min: 0, max: 5 }) }), { minLength: 1, maxLength: 12 });

function build(specs: { count: number; valueBytes: number; gap: number }[]) {
  let next = 0n;
  const parts = specs.map(({ count, valueBytes, gap }) => {
    const bytes = sizedBatch(count, valueBytes);
    const base = next + BigInt(gap);
    viewOf(bytes).setBigInt64(0, base);
    next = base + BigInt(count);
    return { bytes, base, last: base + BigInt(count - 1) };
  });
  return { parts, bytes: concat(...parts.map((p) => p.bytes)) };
}

test('property: the walk yields each stored batch with its position, size and offsets', () => {
  fc.assert(fc.property(batchesArb, (specs) => {
    const { parts, bytes } = build(specs);
    const spans = [...batchSpans(viewOf(bytes))];
    expect(spans.length).toBe(parts.length);
    let at = 0;
    parts.forEach((part, i) => {
      expect(spans[i]).toEqual({ at, sizeBytes: part.bytes.length, baseOffset: part.base, lastOffset: part.last });
      expect(spanIsWhole(spans[i], bytes.length)).toBe(true);
      at += part.bytes.length;
    });
  }));
});

test('property: in a buffer cut anywhere, the walk ends at the first batch that is not whole, and yields it only if its header is', () => {
  fc.assert(fc.property(batchesArb, fc.nat(), (specs, cutSeed) => {
    const { parts, bytes } = build(specs);
    const cut = cutSeed % (bytes.length + 1);
    const spans = [...batchSpans(viewOf(bytes.subarray(0, cut)))];
    const whole = spans.filter((s) => spanIsWhole(s, cut));
    let end = 0;
    let wholeCount = 0;
    for (const part of parts) {
      if (end + part.bytes.length > cut) break;
      end += part.bytes.length;
      wholeCount++;
    }
    expect(whole.length).toBe(wholeCount);
    const headerOfNext = wholeCount < parts.length && end + 61 <= cut;
    expect(spans.length).toBe(wholeCount + (headerOfNext ? 1 : 0));
  }));
});

test('a size below a header ends the walk after that batch (it cannot be stepped over)', () => {
  const bytes = concat(sizedBatch(1, 10), sizedBatch(1, 10));
  viewOf(bytes).setInt32(8, 3); // length field: 15 B in all, below the 61 B header
  const spans = [...batchSpans(viewOf(bytes))];
  expect(spans).toHaveLength(1);
  expect(spanIsWhole(spans[0], bytes.length)).toBe(false);
});
