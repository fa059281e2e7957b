// What an application passes to the client API: bad arguments get typed errors, never TypeError or a silent other meaning.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { INT64_MAX, offsetArgument } from '../../src/client/arguments.ts';
import { Wafka, logLevel, type Admin } from '../../src/index.ts';
import { WafkaError } from '../../src/errors.ts';
import { startTestCluster, type TestCluster } from '../broker/helpers.ts';

let cluster: TestCluster;
let wafka: Wafka;
let admin: Admin;
beforeAll(async () => {
  cluster = await startTestCluster(1);
  wafka = new Wafka({ clientId: 'args', cluster: cluster.brokers, logLevel: logLevel.NOTHING, retry: { initialRetryTime: 5, retries: 0 } });
  admin = wafka.admin();
  await admin.connect();
});
afterAll(async () => {
  await admin.disconnect();
  await cluster.close();
});

describe('offsets given to seek and deleteTopicRecords', () => {
  test("seek refuses '', '0x2', ' 3 ', '99999999999999999999', 1.5 and objects with a typed error; takes canonical decimals, bigints, numbers, -1 and -2", () => {
    const consumer = wafka.consumer({ groupId: 'g' });
    for (const offset of ['', '0x2', ' 3 ', '99999999999999999999', '9223372036854775808', '1e3', '+1', '01', '-0', '-3', 1.5, NaN, {}, null, undefined, -3n, 1n << 63n]) {
      expect(() => consumer.seek({ topic: 't', partition: 0, offset: offset as string }), String(offset)).toThrow(WafkaError);
    }
    for (const offset of ['0', '2', '9223372036854775807', '-1', '-2', 3, 4n]) consumer.seek({ topic: 't', partition: 0, offset: offset as string });
    for (const [topic, partition] of [[5, 0], ['', 0], ['t', -1], ['t', 1.5], ['t', '0']]) {
      expect(() => consumer.seek({ topic: topic as string, partition: partition as number, offset: '0' })).toThrow(WafkaError);
    }
    expect(() => consumer.seek(null as never)).toThrow(WafkaError);
  });

  test('property: an offset is accepted exactly when it is a canonical decimal, bigint or safe integer in [0, 2^63-1] or a sentinel, and means that number', () => {
    const sentinels = [-1n, -2n];
    const value = fc.oneof(
      fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }).map(String),
      fc.bigInt({ min: -3n, max: 3n }).map(String),
      fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }),
      fc.integer(), fc.double(),
      fc.string(), fc.constantFrom('0x2', ' 3 ', '', '00', '-0', '1e2', '+5', '٣', '1_000', '9223372036854775807', '9223372036854775808'),
      fc.anything(),
    );
    fc.assert(fc.property(value, (v) => {
      let expected: bigint | undefined;
      if (typeof v === 'bigint') expected = v;
      else if (typeof v === 'number' && Number.isSafeInteger(v)) expected = BigInt(v);
      else if (typeof v === 'string' && /^(0|-?[1-9]\d*)$/.test(v)) expected = BigInt(v);
      if (expected !== undefined && !sentinels.includes(expected) && (expected < 0n || expected > INT64_MAX)) expected = undefined;
      let got: bigint | WafkaError;
      try {
        got = offsetArgument(v, 'offset', sentinels);
      } catch (error) {
        expect(error).toBeInstanceOf(WafkaError);
        got = error as WafkaError;
      }
      if (expected === undefined) expect(got).toBeInstanceOf(WafkaError);
      else expect(got).toBe(expected);
    }), { numRuns: 2000 });
  });
});

describe('subscribe', () => {
  test('a topic that is not a string or RegExp is INVALID_TOPIC_EXCEPTION and nothing is subscribed', async () => {
    const consumer = wafka.consumer({ groupId: 'g' });
    for (const topics of [[5], [null], [{}], [''], ['ok', 7]]) {
      await expect(consumer.subscribe({ topics: topics as string[] })).rejects.toMatchObject({ type: 'INVALID_TOPIC_EXCEPTION' });
    }
    for (const bad of [null, 5, { topics: 'x' }, { topics: [] }]) {
      await expect(consumer.subscribe(bad as never)).rejects.toBeInstanceOf(WafkaError);
    }
    await consumer.connect();
    // Nothing was subscribed by the refused calls.
    await expect(consumer.run({ eachMessage: async () => {} })).rejects.toBeInstanceOf(Error);
    await consumer.disconnect();
  });
});

describe('pause and resume', () => {
  test('bad [{ topic, partitions }] are typed errors; good ones are taken', () => {
    const consumer = wafka.consumer({ groupId: 'g' });
    for (const bad of [null, 5, [5], [{ topic: 5 }], [{ topic: 't', partitions: [-1] }], [{ topic: 't', partitions: 'x' }], [{}]]) {
      expect(() => consumer.pause(bad as never)).toThrow(WafkaError);
      expect(() => consumer.resume(bad as never)).toThrow(WafkaError);
    }
    consumer.pause([{ topic: 't' }, { topic: 'u', partitions: [0, 1] }]);
    expect(consumer.paused()).toEqual(expect.arrayContaining([{ topic: 'u', partitions: [0, 1] }]));
    consumer.resume([{ topic: 't' }, { topic: 'u', partitions: [0, 1] }]);
    expect(consumer.paused()).toEqual([]);
  });
});

describe('admin arguments', () => {
  test('property: any arguments to the admin calls resolve or reject with a WafkaError, never a TypeError or RangeError', async () => {
    const junk = fc.oneof(fc.anything(), fc.constantFrom(2 ** 31 - 1, -1, 1.5, '3', 1n, '__proto__', [], [{}], { topic: 5 }));
    const topicSpec = fc.record({ topic: fc.oneof(fc.stringMatching(/^[a-z_]{1,8}$/), junk), numPartitions: junk, replicationFactor: junk, replicaAssignment: junk, configEntries: junk }, { requiredKeys: [] });
    const call = fc.oneof(
      fc.record({ name: fc.constant('createTopics'), arg: fc.oneof(junk, fc.record({ topics: fc.oneof(junk, fc.array(topicSpec, { maxLength: 4 })), validateOnly: fc.constant(true) })) }),
      fc.record({ name: fc.constant('deleteTopics'), arg: fc.oneof(junk, fc.record({ topics: fc.oneof(junk, fc.array(junk, { maxLength: 3 })) })) }),
      fc.record({ name: fc.constant('createPartitions'), arg: fc.oneof(junk, fc.record({ topicPartitions: fc.oneof(junk, fc.array(fc.record({ topic: junk, count: junk, assignments: junk }), { maxLength: 3 })), validateOnly: fc.constant(true) })) }),
      fc.record({ name: fc.constant('deleteTopicRecords'), arg: fc.oneof(junk, fc.record({ topic: junk, partitions: fc.oneof(junk, fc.array(fc.record({ partition: junk, offset: junk }), { maxLength: 3 })) })) }),
      fc.record({ name: fc.constant('fetchTopicOffsetsByTimestamp'), arg: junk, extra: junk }),
      fc.record({ name: fc.constant('fetchTopicOffsets'), arg: junk }),
      fc.record({ name: fc.constant('describeConfigs'), arg: fc.oneof(junk, fc.record({ resources: fc.oneof(junk, fc.array(fc.record({ type: junk, name: junk, configNames: junk }), { maxLength: 3 })) })) }),
      fc.record({ name: fc.constant('alterConfigs'), arg: fc.oneof(junk, fc.record({ resources: fc.oneof(junk, fc.array(fc.record({ type: junk, name: junk, configEntries: junk }), { maxLength: 3 })), validateOnly: fc.constant(true) })) }),
    );
    await fc.assert(fc.asyncProperty(call, async ({ name, arg, extra }: { name: string; arg: unknown; extra?: unknown }) => {
      const method = (admin as unknown as Record<string, (a: unknown, b?: unknown) => Promise<unknown>>)[name].bind(admin);
      const outcome = await method(arg, extra).then(() => 'ok', (error: unknown) => error);
      if (outcome !== 'ok') {
        expect(outcome, `${name}(${fc.stringify(arg)}): ${fc.stringify(outcome)}`).toBeInstanceOf(WafkaError);
        expect((outcome as WafkaError).type).not.toBe('UNKNOWN_SERVER_ERROR');
      }
    }), { numRuns: 300 });
  });
});
