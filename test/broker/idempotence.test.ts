// Idempotent producers (Kafka's enable.idempotence): the broker keeps one copy of a batch however often it is
// retried, across a leader change and a restart; the client keeps its sequences through retries of lost answers.
import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.ts';
import { Wafka } from '../../src/client/index.ts';
import { encodeBatch } from '../../src/core/index.ts';
import { WafkaError } from '../../src/errors.ts';
import type { BrokerApi } from '../../src/protocol/types.ts';
import { concat } from './helpers.ts';
import { replicatedCluster, until, type ReplicatedCluster } from './replicated-cluster.ts';

let cluster: ReplicatedCluster | undefined;
afterEach(async () => { await cluster?.close(); cluster = undefined; });

const idempotentBatch = (values: string[], producerId: bigint, baseSequence: number, producerEpoch = 0) =>
  encodeBatch(values.map((value) => ({ key: null, value })), { producerId, producerEpoch, baseSequence });

async function produce(broker: Broker, records: Uint8Array) {
  return (await broker.produce({ acks: -1, timeoutMs: 5_000, topics: [{ topic: 't', partitions: [{ partition: 0, records }] }] })).topics[0].partitions[0];
}

const logEnd = (broker: Broker) => broker.describeReplicas().find((r) => r.topic === 't')!.logEndOffset;

describe('idempotent produce', () => {
  it('stores a retried batch once, across a leader change and a restart; refuses gaps, unknown producers and several batches at once', async () => {
    cluster = await replicatedCluster(2);
    const [b0, b1] = cluster.brokers as Broker[];
    await b0.createTopics({ topics: [{ topic: 't', replicaAssignment: [{ partition: 0, replicas: [0, 1] }] }] });
    const { producerId, producerEpoch } = await b0.initProducerId({ transactionalId: null });
    expect(producerEpoch).toBe(0);
    expect((await b1.initProducerId({})).producerId).not.toBe(producerId);

    const first = await idempotentBatch(['a', 'b'], producerId, 0);
    const second = await idempotentBatch(['c', 'd'], producerId, 2);
    expect(await produce(b0, first)).toMatchObject({ baseOffset: 0n });
    expect(await produce(b0, first)).toMatchObject({ baseOffset: 0n });
    expect(await produce(b0, second)).toMatchObject({ baseOffset: 2n });
    expect(logEnd(b0)).toBe(4n);
    expect((await produce(b0, await idempotentBatch(['x'], producerId, 9))).error).toMatchObject({ type: 'OUT_OF_ORDER_SEQUENCE_NUMBER' });
    expect((await produce(b0, await idempotentBatch(['x'], producerId + 100n, 3))).error).toMatchObject({ type: 'UNKNOWN_PRODUCER_ID' });
    expect((await produce(b0, concat(await idempotentBatch(['e'], producerId, 4), await idempotentBatch(['f'], producerId, 5)))).error).toMatchObject({ type: 'INVALID_RECORD' });
    expect(logEnd(b0)).toBe(4n);

    // The follower copied the batches and their producer state with them: as leader it knows the retry.
    await until(() => logEnd(b1) === 4n);
    await cluster.stop(0);
    await until(async () => (await cluster!.store.read())!.topics.t.partitions[0].leader === 1);
    expect(await produce(b1, second)).toMatchObject({ baseOffset: 2n });
    expect(logEnd(b1)).toBe(4n);

    // Restarted, it rebuilds the state from its log.
    await cluster.stop(1);
    const again = await cluster.start(1);
    await until(async () => (await cluster!.store.read())!.topics.t.partitions[0].leader === 1 && again.describeReplicas().length === 1);
    expect(await produce(again, second)).toMatchObject({ baseOffset: 2n });
    expect(await produce(again, await idempotentBatch(['e'], producerId, 4))).toMatchObject({ baseOffset: 4n });
    expect(logEnd(again)).toBe(5n);
  }, 30_000);

  /** Every other produce is carried out by the broker but its answer is lost: the client sees a retriable timeout. */
  function losingAnswers(apis: BrokerApi[]): BrokerApi[] {
    let calls = 0;
    return apis.map((api) => new Proxy(api, {
      get(target, name) {
        const method = (target as unknown as Record<string | symbol, unknown>)[name];
        if (name !== 'produce') return method;
        return async (...args: unknown[]) => {
          const answer = await (method as (...a: unknown[]) => Promise<unknown>)(...args);
          if (calls++ % 2 === 0) throw new WafkaError('REQUEST_TIMED_OUT', 'the answer was lost on the way back');
          return answer;
        };
      },
    }));
  }

  for (const idempotent of [true, false]) {
    it(`${idempotent ? 'an idempotent producer stores each message once' : 'a plain producer duplicates'} when answers are lost and it retries`, async () => {
      cluster = await replicatedCluster(2);
      await cluster.brokers[0]!.createTopics({ topics: [{ topic: 't', replicaAssignment: [{ partition: 0, replicas: [0, 1] }] }] });
      const wafka = new Wafka({ clientId: 'i', cluster: losingAnswers(cluster.apis), retry: { initialRetryTime: 5, retries: 10 } });
      const producer = wafka.producer({ idempotent, lingerMs: 0 });
      await producer.connect();
      expect(producer.isIdempotent()).toBe(idempotent);
      for (let i = 0; i < 20; i++) await producer.send({ topic: 't', messages: [{ value: `m${i}` }] });
      await producer.disconnect();
      const end = logEnd(cluster.brokers[0]!);
      if (idempotent) expect(end).toBe(20n);
      else expect(end).toBeGreaterThan(20n);
    }, 30_000);
  }

  it('an idempotent producer needs acks -1 (INVALID_REQUIRED_ACKS), as Kafka’s', () => {
    const wafka = new Wafka({ clientId: 'i', cluster: [] as unknown as BrokerApi[] });
    expect(() => wafka.producer({ idempotent: true, acks: 1 })).toThrow(/INVALID_REQUIRED_ACKS/);
  });
});
