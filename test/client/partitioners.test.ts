import { describe, expect, it, beforeAll } from 'vitest';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { Partitioners, murmur2, murmur2String, partitionForKey } from '../../src/client/partitioners.ts';
import { loadCore, murmur2 as coreMurmur2 } from '../../src/core/index.ts';
import type { PartitionMetadata } from '../../src/protocol/types.ts';

const require = createRequire(import.meta.url);
const { Partitioners: KafkaJSPartitioners } = require('kafkajs');

const meta = (n: number): PartitionMetadata[] =>
  Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: partitionId % 3, leaderEpoch: 0, replicas: [0], isr: [0] }));

beforeAll(async () => { await loadCore(); });

describe('DefaultPartitioner', () => {
  it('gives every key the partition KafkaJS DefaultPartitioner gives it (strings, bytes, non-ASCII)', () => {
    const ours = Partitioners.DefaultPartitioner();
    const theirs = KafkaJSPartitioners.DefaultPartitioner();
    fc.assert(fc.property(
      fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.uint8Array({ maxLength: 64 })),
      fc.integer({ min: 1, max: 100 }),
      (key, n) => {
        const partitionMetadata = meta(n);
        const message = { key, value: 'v' };
        const kafkaJSMessage = { key: typeof key === 'string' ? key : Buffer.from(key), value: 'v' };
        expect(ours({ topic: 't', partitionMetadata, message })).toBe(theirs({ topic: 't', partitionMetadata, message: kafkaJSMessage }));
      },
    ), { numRuns: 2000 });
  });

  it('matches fixed values of Kafka\'s Java murmur2 and the Wasm core', () => {
    // Values from org.apache.kafka.common.utils.UtilsTest.testMurmur2.
    const cases: [string, number][] = [
      ['21', -973932308], ['foobar', -790332482], ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829], ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    const utf8 = new TextEncoder();
    for (const [key, hash] of cases) {
      expect(murmur2(utf8.encode(key))).toBe(hash);
      expect(coreMurmur2(key)).toBe(hash);
    }
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => { expect(murmur2(bytes)).toBe(coreMurmur2(bytes)); }));
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (key) => { expect(murmur2String(key)).toBe(coreMurmur2(key)); }));
  });

  it('murmur2String hashes a string as murmur2 of its UTF-8 bytes, non-ASCII anywhere (body or tail)', () => {
    const utf8 = new TextEncoder();
    for (const key of ['', 'a', 'ab', 'abc', 'abcd', 'abcde', 'é', 'abcé', 'abcdé', 'éabcd', 'ab\u{1F600}cd', 'abcdefg\u00ff']) {
      expect(murmur2String(key)).toBe(murmur2(utf8.encode(key)));
    }
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ maxLength: 40 }), (a, b) => {
      expect(murmur2String(a + b)).toBe(murmur2(utf8.encode(a + b)));
      expect(murmur2String(b + a)).toBe(murmur2(utf8.encode(b + a)));
    }), { numRuns: 500 });
  });

  it('keeps an explicit partition', () => {
    const p = Partitioners.DefaultPartitioner();
    expect(p({ topic: 't', partitionMetadata: meta(5), message: { key: 'x', partition: 4 } })).toBe(4);
    expect(partitionForKey('x', 5)).toBe(p({ topic: 't', partitionMetadata: meta(5), message: { key: 'x' } }));
  });

  it('sticks to one partition for null keys until a batch of it is sealed, then switches', () => {
    const p = Partitioners.DefaultPartitioner();
    const partitionMetadata = meta(4);
    const first = p({ topic: 't', partitionMetadata, message: { key: null } });
    for (let i = 0; i < 100; i++) expect(p({ topic: 't', partitionMetadata, message: { key: null } })).toBe(first);
    p.onNewBatch!({ topic: 't', partition: (first + 1) % 4, partitionMetadata }); // another partition's batch: no switch
    expect(p({ topic: 't', partitionMetadata, message: {} })).toBe(first);
    p.onNewBatch!({ topic: 't', partition: first, partitionMetadata });
    const second = p({ topic: 't', partitionMetadata, message: { key: null } });
    expect(second).not.toBe(first);
    expect(second).toBeGreaterThanOrEqual(0);
    expect(second).toBeLessThan(4);
  });

  it('RoundRobinPartitioner cycles over all partitions, ignoring keys', () => {
    const p = Partitioners.RoundRobinPartitioner();
    const seen = Array.from({ length: 6 }, () => p({ topic: 't', partitionMetadata: meta(3), message: { key: 'same' } }));
    expect(new Set(seen.slice(0, 3)).size).toBe(3);
    expect(seen.slice(3)).toEqual(seen.slice(0, 3));
  });
});
