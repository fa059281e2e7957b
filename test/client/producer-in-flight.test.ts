// An idempotent producer keeps up to 5 requests of one partition in flight (Kafka's
// max.in.flight.requests.per.connection ≤ 5 with enable.idempotence), each batch with consecutive sequences; the
// leader appends them in sequence order only. Faults between the producer and a real in-process broker (answers
// lost, requests lost, requests delayed past later ones, retriable errors) leave each message stored once, in
// order, at the offset its send was told.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.ts';
import { Wafka, logLevel } from '../../src/client/index.ts';
import { readBatchHeader } from '../../src/core/index.ts';
import { WafkaError } from '../../src/errors.ts';
import type { BrokerApi, ProduceRequest, ProduceResponse } from '../../src/protocol/types.ts';
import { valuesAt } from '../broker/helpers.ts';
import { replicatedCluster, type ReplicatedCluster } from '../broker/replicated-cluster.ts';

let cluster: ReplicatedCluster;
let broker: Broker;
let topics = 0;
beforeAll(async () => {
  cluster = await replicatedCluster(1);
  broker = cluster.brokers[0]!;
});
afterAll(async () => { await cluster.close(); });

/** What happens to one produce request on its way: answered; carried out but its answer lost; lost before the broker; held back; answered with a retriable error. */
type Fault = 'ok' | 'lose-answer' | 'lose-request' | { delayMs: number } | 'retriable-error';

interface Call { partition: number; baseSequence: number; fault: Fault }

/**
 * `api` with every produce request going through `faultOf`; `calls` records each request's partitions and base
 * sequences as sent. The first `held` requests wait until all of them have been made, then go on in order.
 */
function faulty(api: BrokerApi, faultOf: (call: number) => Fault, held = 0) {
  const calls: Call[] = [];
  let open = 0;
  let openMax = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  const wrapped = new Proxy(api, {
    get(target, name) {
      const method = (target as unknown as Record<string | symbol, unknown>)[name];
      if (name !== 'produce') return method;
      return async (request: ProduceRequest): Promise<ProduceResponse> => {
        const call = calls.length;
        const fault = faultOf(call);
        for (const t of request.topics) for (const p of t.partitions) calls.push({ partition: p.partition, baseSequence: readBatchHeader(p.records, 0).baseSequence, fault });
        open++;
        openMax = Math.max(openMax, open);
        try {
          if (call < held) {
            if (calls.length === held) release();
            await gate;
          }
          if (fault === 'lose-request') throw new WafkaError('REQUEST_TIMED_OUT', 'the request was lost on the way');
          if (fault === 'retriable-error') {
            const error = new WafkaError('NOT_ENOUGH_REPLICAS', 'fewer in-sync replicas than minInsyncReplicas').toJSON();
            return { topics: request.topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, error })) })) };
          }
          if (typeof fault === 'object') await new Promise((r) => setTimeout(r, fault.delayMs));
          const answer = await (method as (r: ProduceRequest) => Promise<ProduceResponse>).call(target, request);
          if (fault === 'lose-answer') throw new WafkaError('REQUEST_TIMED_OUT', 'the answer was lost on the way back');
          return answer;
        } finally {
          open--;
        }
      };
    },
  });
  return { api: wrapped, calls, openMax: () => openMax };
}

async function newTopic(partitions: number): Promise<string> {
  const topic = `t${topics++}`;
  await broker.createTopics({ topics: [{ topic, replicaAssignment: Array.from({ length: partitions }, (_, partition) => ({ partition, replicas: [0] })) }] });
  return topic;
}

/**
 * Sends `count` one-message sends at once (each its own batch: the values are larger than batchSizeBytes) over
 * `partitions` partitions through `api`; returns each send's value, partition and acknowledged offset.
 */
async function sendAll(api: BrokerApi, topic: string, count: number, partitions: number, config: { idempotent?: boolean; maxInFlightRequests?: number } = {}) {
  const wafka = new Wafka({ clientId: 'in-flight', cluster: [api], logLevel: logLevel.NOTHING, retry: { initialRetryTime: 1, maxRetryTime: 20, retries: 40 } });
  const producer = wafka.producer({ idempotent: true, lingerMs: 0, batchSizeBytes: 64, allowAutoTopicCreation: false, ...config });
  await producer.connect();
  const sends = Array.from({ length: count }, (_, i) => {
    const partition = i % partitions;
    const value = `${String(i).padStart(4, '0')}-${'x'.repeat(80)}`;
    return producer.send({ topic, messages: [{ value, partition }] }).then(([meta]) => ({ value, partition, offset: BigInt(meta.baseOffset) }));
  });
  const acknowledged = await Promise.all(sends);
  await producer.disconnect();
  return acknowledged;
}

/** Each partition holds its sends' values once each, in send order, each at the offset its send was told. */
async function expectExactlyOnceInOrder(topic: string, partitions: number, acknowledged: { value: string; partition: number; offset: bigint }[]) {
  for (let p = 0; p < partitions; p++) {
    const stored = await valuesAt(broker, topic, p);
    const sent = acknowledged.filter((a) => a.partition === p);
    expect(stored).toEqual(sent.map((a) => a.value));
    for (const a of sent) expect(stored[Number(a.offset)]).toBe(a.value);
  }
}

describe('idempotent producer: up to 5 requests in flight per partition', () => {
  it('keeps 5 requests of one partition in flight, with consecutive sequences, and stores them in order', async () => {
    const topic = await newTopic(1);
    const { api, calls, openMax } = faulty(cluster.apis[0], () => ({ delayMs: 5 }));
    const acknowledged = await sendAll(api, topic, 20, 1);
    expect(openMax()).toBe(5);
    expect(calls.map((c) => c.baseSequence)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    await expectExactlyOnceInOrder(topic, 1, acknowledged);
  });

  it('keeps one request per partition with maxInFlightRequests 1, and without idempotence', async () => {
    for (const config of [{ maxInFlightRequests: 1 }, { idempotent: false }]) {
      const topic = await newTopic(1);
      const { api, openMax } = faulty(cluster.apis[0], () => ({ delayMs: 2 }));
      await expectExactlyOnceInOrder(topic, 1, await sendAll(api, topic, 8, 1, config));
      expect(openMax()).toBe(1);
    }
  });

  it('refuses more than 5 in flight with idempotence (INVALID_CONFIG), as Kafka does', () => {
    const wafka = new Wafka({ clientId: 'i', cluster: [] as unknown as BrokerApi[] });
    expect(() => wafka.producer({ idempotent: true, maxInFlightRequests: 6 })).toThrow(expect.objectContaining({ type: 'INVALID_CONFIG' }));
    expect(() => wafka.producer({ transactionalId: 'x', maxInFlightRequests: 6 })).toThrow(expect.objectContaining({ type: 'INVALID_CONFIG' }));
    expect(() => wafka.producer({ maxInFlightRequests: 6 })).not.toThrow();
  });

  it('a request failing mid-window: the later ones come back OUT_OF_ORDER_SEQUENCE_NUMBER and are sent again after it, in order, keeping their sequences', async () => {
    const topic = await newTopic(1);
    // Five requests out at once; the second (sequence 1) is lost before the broker, so the leader refuses 2..4 (a gap).
    const { api, calls } = faulty(cluster.apis[0], (call) => (call === 1 ? 'lose-request' : 'ok'), 5);
    const acknowledged = await sendAll(api, topic, 8, 1);
    await expectExactlyOnceInOrder(topic, 1, acknowledged);
    const sequences = calls.map((c) => c.baseSequence);
    // The first window of five, then sequence 1 again and the refused ones after it, one at a time, then the rest.
    expect(sequences.slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
    expect(sequences.slice(5)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('a retriable error answered mid-window: the same', async () => {
    const topic = await newTopic(1);
    const { api, calls } = faulty(cluster.apis[0], (call) => (call === 2 ? 'retriable-error' : 'ok'), 5);
    const acknowledged = await sendAll(api, topic, 8, 1);
    await expectExactlyOnceInOrder(topic, 1, acknowledged);
    expect(calls.map((c) => c.baseSequence)).toEqual([0, 1, 2, 3, 4, 2, 3, 4, 5, 6, 7]);
  });

  it('a transactional producer takes the same path: 5 in flight, a lost request mid-window, then commit', async () => {
    const topic = await newTopic(1);
    const { api, calls, openMax } = faulty(cluster.apis[0], (call) => (call === 3 ? 'lose-request' : 'ok'), 5);
    const wafka = new Wafka({ clientId: 'in-flight-txn', cluster: [api], logLevel: logLevel.NOTHING, retry: { initialRetryTime: 1, maxRetryTime: 20, retries: 40 } });
    const producer = wafka.producer({ transactionalId: 'in-flight', lingerMs: 0, batchSizeBytes: 64, allowAutoTopicCreation: false });
    await producer.connect();
    const transaction = await producer.transaction();
    const values = Array.from({ length: 12 }, (_, i) => `${String(i).padStart(4, '0')}-${'x'.repeat(80)}`);
    const offsets = await Promise.all(values.map((value) => transaction.send({ topic, messages: [{ value, partition: 0 }] }).then(([m]) => BigInt(m.baseOffset))));
    await transaction.commit();
    await producer.disconnect();
    expect(openMax()).toBe(5);
    expect(calls.map((c) => c.baseSequence).slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
    const stored = (await valuesAt(broker, topic, 0)).filter((v) => /^\d{4}-/.test(v));
    expect(stored).toEqual(values);
    expect(offsets).toEqual(values.map((_, i) => BigInt(i)));
  });

  it('under lost answers, lost and delayed requests and retriable errors: 0 duplicates, order kept, every acknowledged offset right', async () => {
    const fault: fc.Arbitrary<Fault> = fc.oneof(
      { weight: 4, arbitrary: fc.constant('ok' as const) },
      { weight: 1, arbitrary: fc.constant('lose-answer' as const) },
      { weight: 1, arbitrary: fc.constant('lose-request' as const) },
      { weight: 1, arbitrary: fc.constant('retriable-error' as const) },
      { weight: 2, arbitrary: fc.integer({ min: 0, max: 8 }).map((delayMs) => ({ delayMs })) },
    );
    await fc.assert(fc.asyncProperty(
      fc.array(fault, { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 5, max: 30 }),
      async (faults, partitions, count) => {
        const topic = await newTopic(partitions);
        const { api } = faulty(cluster.apis[0], (call) => faults[call] ?? 'ok');
        await expectExactlyOnceInOrder(topic, partitions, await sendAll(api, topic, count, partitions));
      },
    ), { numRuns: 60 });
  }, 120_000);
});
