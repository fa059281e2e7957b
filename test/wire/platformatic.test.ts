// @platformatic/kafka 2.12 (from npm; flexible protocol versions) against a 3-broker files cluster through the wire-protocol listeners.
import { Admin, Consumer, Producer, compressionsAlgorithms, stringSerializers } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Wafka, logLevel } from '../../src/index.ts';
import { checkReceived, readWithWafka, registerKafkaJSCodecs, startWireCluster, testMessages, type Received, type WireCluster } from './wire-cluster.ts';

// @platformatic/kafka 2.12 targets Node ≥ 22, which has Promise.withResolvers; this machine runs Node 20.
(Promise as unknown as { withResolvers?: unknown }).withResolvers ??= function withResolvers<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
};

let wire: WireCluster;
let admin: Admin;
const client = () => ({ clientId: 'wire-platformatic', bootstrapBrokers: [wire.brokers[2]], retries: 5, retryDelay: 50 });

beforeAll(async () => {
  await registerKafkaJSCodecs();
  wire = await startWireCluster({ clusterId: 'wire-platformatic' });
  admin = new Admin(client());
}, 60_000);
afterAll(async () => {
  await admin?.close();
  await wire?.stop();
});

const toProduce = (topic: string, tag: string, from: number, count: number) =>
  testMessages(tag, from, count).map((m) => ({ topic, key: m.key, value: m.value, headers: { i: m.headers.i } }));

describe('@platformatic/kafka through the wire-protocol listener', () => {
  // zstd needs the codec in the brokers' realm (see the KafkaJS test); the worker brokers here have none.
  const codecs = (['none', 'gzip', 'snappy', 'lz4'] as const).filter((c) => compressionsAlgorithms[c].available);
  for (const compression of codecs) {
    it(`produces with ${compression} (Produce v9, flexible): wafka's own client reads every message once, intact, in order per partition`, async () => {
      const topic = `platformatic-${compression}`;
      await admin.createTopics({ topics: [topic], partitions: 3, replicas: 3 });
      const producer = new Producer({ ...client(), serializers: stringSerializers, autocreateTopics: false });
      try {
        for (let round = 0; round < 3; round++) await producer.send({ acks: -1, compression, messages: toProduce(topic, compression, round * 40, 40) });
      } finally {
        await producer.close();
      }
      const got = await readWithWafka(wire.cluster, topic, 120);
      // One header only: the one this test sends through platformatic's string serializers.
      checkReceived(got.map((g) => ({ ...g, headers: { ...g.headers, tag: ['a', `t${Number(g.value!.split(':')[1]) % 3}`] } })), compression, 120);
      expect(got.every((g) => g.headers.i === g.value!.split(':')[1])).toBe(true);
    }, 40_000);
  }

  it("reads over the wire (Fetch v12) what wafka's own producer wrote: keys, values, headers, offsets in order", async () => {
    const topic = 'platformatic-read';
    const wafka = new Wafka({ clientId: 'wire-writer', cluster: wire.cluster, logLevel: logLevel.NOTHING });
    const wafkaAdmin = wafka.admin();
    await wafkaAdmin.connect();
    await wafkaAdmin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3 }] });
    await wafkaAdmin.disconnect();
    const producer = wafka.producer();
    await producer.connect();
    for (let round = 0; round < 3; round++) await producer.send({ topic, acks: -1, messages: testMessages('wafka', round * 20, 20) });
    await producer.disconnect();

    const metadata = await admin.metadata({ topics: [topic] });
    const leader = metadata.topics.get(topic)!.partitions[0].leader;
    const consumer = new Consumer({ ...client(), groupId: 'platformatic-fetch' });
    const got: Received[] = [];
    try {
      let fetchOffset = 0n;
      while (got.length < 60) {
        const response = await consumer.fetch({
          node: leader, maxWaitTime: 200,
          topics: [{ topicId: topic, partitions: [{ partition: 0, fetchOffset, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }] }],
        });
        const partition = response.responses[0].partitions[0];
        expect(partition.errorCode).toBe(0);
        for (const batch of partition.records ?? []) {
          for (const r of batch.records) {
            const offset = batch.firstOffset + BigInt(r.offsetDelta);
            if (offset < fetchOffset) continue; // a batch starting before the fetch offset comes whole
            const headers: Record<string, string[]> = {};
            for (const [k, v] of r.headers) (headers[k!.toString()] ??= []).push(v!.toString());
            got.push({
              partition: 0, offset: String(offset), key: r.key?.toString() ?? null, value: r.value?.toString() ?? null,
              headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.length === 1 ? v[0] : v])),
            });
            fetchOffset = offset + 1n;
          }
        }
      }
    } finally {
      await consumer.close();
    }
    checkReceived(got, 'wafka', 60);
    expect(got.map((g) => g.offset)).toEqual(Array.from({ length: 60 }, (_, i) => String(i)));
  }, 40_000);

  it('admin: topic metadata with 3 replicas each, topic ids distinct, and delete', async () => {
    await admin.createTopics({ topics: ['platformatic-a', 'platformatic-b'], partitions: 2, replicas: 3 });
    const metadata = await admin.metadata({ topics: ['platformatic-a', 'platformatic-b'] });
    const a = metadata.topics.get('platformatic-a')!;
    const b = metadata.topics.get('platformatic-b')!;
    expect(a.partitionsCount).toBe(2);
    expect(a.partitions.every((p) => p.replicas.length === 3)).toBe(true);
    expect(a.id).not.toBe(b.id);
    expect(metadata.brokers.size).toBe(3);
    await admin.deleteTopics({ topics: ['platformatic-a', 'platformatic-b'] });
    const after = await admin.listTopics();
    expect(after).not.toContain('platformatic-a');
  }, 40_000);
});
