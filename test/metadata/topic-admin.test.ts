import fc from 'fast-check';
import { describe, expect, test, vi } from 'vitest';
import { emptyMetadata, getTopic, type ClusterMetadata } from '../../src/metadata/metadata.ts';
import { createPartitionsIn, createTopicsIn, deleteTopicsIn, type TopicLimits } from '../../src/metadata/topic-admin.ts';
import { KAFKA_ERRORS } from '../../src/errors.ts';
import type { CreateTopicSpec } from '../../src/protocol/types.ts';

// Counts what the assignment allocates, to show that a refused count allocates nothing.
const allocated = vi.hoisted(() => ({ partitionsMax: 0 }));
vi.mock('../../src/metadata/assignment.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/metadata/assignment.ts')>();
  return {
    assignPartitions: (ids: readonly number[], first: number, count: number, start: number, replicationFactor?: number) => {
      allocated.partitionsMax = Math.max(allocated.partitionsMax, count);
      return original.assignPartitions(ids, first, count, start, replicationFactor);
    },
  };
});

const limits: TopicLimits = { topicsMax: 50, partitionsPerTopicMax: 100, partitionsTotalMax: 300, replicationFactorMax: 1 };
const defaults = { numPartitions: 1, replicationFactor: 1 };

function cluster(brokers = 3): ClusterMetadata {
  const m = emptyMetadata('c');
  m.brokers = Array.from({ length: brokers }, (_, nodeId) => ({ nodeId, host: 'h', registeredAtMs: 0 }));
  return m;
}

/** The stored form: what a file or IndexedDB store gives back. */
const stored = (m: ClusterMetadata): ClusterMetadata => structuredClone(JSON.parse(JSON.stringify(m)));

describe('topic admin', () => {
  test('a partition count over the limit is refused before anything is allocated (2^31-1, 10^7)', () => {
    for (const numPartitions of [2 ** 31 - 1, 10 ** 7, 101]) {
      allocated.partitionsMax = 0;
      const m = cluster();
      const { results, changed } = createTopicsIn(m, [{ topic: 'big', numPartitions }], { limits, defaults });
      expect(results[0].error).toMatchObject({ type: 'INVALID_PARTITIONS' });
      expect(changed).toBe(false);
      expect(allocated.partitionsMax).toBe(0);
    }
    const m = cluster();
    createTopicsIn(m, [{ topic: 'a', numPartitions: 100 }], { limits, defaults });
    allocated.partitionsMax = 0;
    const grown = createPartitionsIn(m, { topicPartitions: [{ topic: 'a', count: 2 ** 31 - 1 }] }, limits);
    expect(grown.results[0].error).toMatchObject({ type: 'INVALID_PARTITIONS' });
    expect(allocated.partitionsMax).toBe(0);
  });

  test('counts that are objects with a throwing or non-callable toString are typed errors, not UNKNOWN_SERVER_ERROR', () => {
    const hostile = [{ toString: 0 }, { toString() { throw new Error('boom'); } }, Object.create(null)];
    for (const value of hostile) {
      const m = cluster();
      const byRf = createTopicsIn(m, [{ topic: 'A.', replicationFactor: value as never }], { limits, defaults });
      expect(byRf.results[0].error).toMatchObject({ type: 'INVALID_REPLICATION_FACTOR' });
      const byCount = createTopicsIn(m, [{ topic: 'B', numPartitions: value as never }], { limits, defaults });
      expect(byCount.results[0].error).toMatchObject({ type: 'INVALID_PARTITIONS' });
      expect(byRf.changed || byCount.changed).toBe(false);
    }
  });

  test("topic names that are Object.prototype members ('__proto__', 'constructor', ...) are ordinary topics, also once stored", () => {
    const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];
    let m = cluster();
    const created = createTopicsIn(m, names.map((topic) => ({ topic, numPartitions: 2 })), { limits, defaults });
    expect(created.results.map((r) => r.error)).toEqual(names.map(() => undefined));
    m = stored(m);
    for (const name of names) expect(getTopic(m, name)).toMatchObject({ name, partitions: [{ partition: 0 }, { partition: 1 }] });
    expect(Object.keys(m.topics).sort()).toEqual([...names].sort());
    expect(Object.getPrototypeOf(m.topics)).toBe(Object.prototype);
    // A second create is TOPIC_ALREADY_EXISTS; partitions can be added; delete removes it.
    expect(createTopicsIn(m, [{ topic: '__proto__' }], { limits, defaults }).results[0].error).toMatchObject({ type: 'TOPIC_ALREADY_EXISTS' });
    expect(createPartitionsIn(m, { topicPartitions: [{ topic: '__proto__', count: 3 }] }, limits).results[0].error).toBeUndefined();
    m = stored(m);
    expect(getTopic(m, '__proto__')?.partitions).toHaveLength(3);
    expect(deleteTopicsIn(m, ['__proto__']).results[0].error).toBeUndefined();
    expect(getTopic(stored(m), '__proto__')).toBeUndefined();
    // Names that are not topics are unknown, not Object.prototype's members.
    expect(deleteTopicsIn(stored(m), ['__proto__', 'isPrototypeOf']).results.map((r) => r.error?.type)).toEqual(['UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_OR_PARTITION']);
  });

  test('property: any create request is answered per topic with a typed error or a topic of exactly the asked shape, within every limit', () => {
    const expectedTypes = new Set(['INVALID_REQUEST', 'INVALID_PARTITIONS', 'INVALID_REPLICATION_FACTOR', 'INVALID_CONFIG', 'INVALID_TOPIC_EXCEPTION', 'POLICY_VIOLATION', 'TOPIC_ALREADY_EXISTS']);
    const name = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'a', 'b', '.', '..', '', 'x'.repeat(250), 'bad name', 'ok.name-1'), fc.stringMatching(/^[a-zA-Z0-9._-]{1,20}$/), fc.anything());
    const count = fc.oneof(fc.integer({ min: -3, max: 400 }), fc.constantFrom(2 ** 31 - 1, 10 ** 7, 1.5, NaN, Infinity, -1, 0), fc.anything());
    const entry = fc.record({
      name: fc.oneof(fc.constantFrom('retention.ms', 'segmentBytes', 'cleanup.policy', 'nope', '__proto__', 'x'.repeat(300)), fc.anything()),
      value: fc.oneof(fc.constantFrom('1000', '0x10', '1e3', '', ' 7 ', 'compact', null, '-1', '99999999999999999999'), fc.anything()),
    });
    const spec = fc.record({
      topic: name,
      numPartitions: fc.option(count, { nil: undefined }),
      replicationFactor: fc.option(fc.oneof(fc.integer({ min: -2, max: 4 }), fc.anything()), { nil: undefined }),
      replicaAssignment: fc.option(fc.oneof(
        fc.array(fc.record({ partition: fc.integer({ min: -1, max: 5 }), replicas: fc.array(fc.integer({ min: -1, max: 4 }), { maxLength: 3 }) }), { maxLength: 6 }),
        fc.anything()), { nil: undefined }),
      configEntries: fc.option(fc.oneof(fc.array(entry, { maxLength: 4 }), fc.anything()), { nil: undefined }),
    }, { requiredKeys: ['topic'] });
    fc.assert(fc.property(fc.array(spec, { maxLength: 8 }), fc.boolean(), (specs, validateOnly) => {
      const m = cluster();
      createTopicsIn(m, [{ topic: 'existing', numPartitions: 250 }], { limits, defaults });
      allocated.partitionsMax = 0;
      const before = JSON.stringify(m);
      const { results, changed } = createTopicsIn(m, specs as CreateTopicSpec[], { limits, defaults, validateOnly });
      expect(results).toHaveLength(specs.length);
      expect(allocated.partitionsMax).toBeLessThanOrEqual(limits.partitionsPerTopicMax);
      const after = stored(m);
      let total = 0;
      for (const t of Object.values(after.topics)) total += t.partitions.length;
      expect(total).toBeLessThanOrEqual(limits.partitionsTotalMax);
      for (const [i, result] of results.entries()) {
        if (result.error) {
          expect(expectedTypes.has(result.error.type), `${result.error.type}: ${result.error.message}`).toBe(true);
          expect(result.error.code).toBe(KAFKA_ERRORS[result.error.type].code);
          continue;
        }
        const s = specs[i] as CreateTopicSpec;
        if (validateOnly) continue;
        const topic = getTopic(after, s.topic)!;
        expect(topic).toBeDefined();
        const asked = Array.isArray(s.replicaAssignment) && s.replicaAssignment.length > 0 ? s.replicaAssignment.length
          : s.numPartitions === undefined || s.numPartitions === -1 ? 1 : s.numPartitions;
        expect(topic.partitions.map((p) => p.partition)).toEqual(Array.from({ length: asked }, (_, p) => p));
      }
      if (validateOnly || !changed) expect(JSON.stringify(m)).toBe(before);
    }), { numRuns: 400 });
  });
});
