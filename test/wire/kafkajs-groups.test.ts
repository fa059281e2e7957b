// KafkaJS 2.2.4 consumer groups through the wire-protocol listeners: 3 members, a rebalance, offsets committed and resumed.
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../client/wait.ts';
import { startWireCluster, testMessages, type WireCluster } from './wire-cluster.ts';

let wire: WireCluster;
let kafka: Kafka;
beforeAll(async () => {
  wire = await startWireCluster({ clusterId: 'wire-groups' });
  kafka = new Kafka({ clientId: 'wire-groups', brokers: wire.brokers, logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 100 } });
}, 60_000);
afterAll(async () => { await wire?.stop(); });

interface Seen { member: number; partition: number; offset: bigint; value: string; key: string; header: string }

async function waitFor(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('KafkaJS consumer groups through the wire-protocol listener', () => {
  it('3 members share 6 partitions; one leaves, the group rebalances; every message is consumed once, in order per partition, intact', async () => {
    const topic = 'groups-orders';
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 6, replicationFactor: 3 }], waitForLeaders: true });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();

    const seen: Seen[] = [];
    const assignments = new Map<number, number[]>();
    const consumers: Consumer[] = [];
    for (let member = 0; member < 3; member++) {
      const consumer = kafka.consumer({ groupId: 'billing', sessionTimeout: 10_000, heartbeatInterval: 500, rebalanceTimeout: 10_000, maxWaitTimeInMs: 100 });
      consumer.on(consumer.events.GROUP_JOIN, (e) => { assignments.set(member, e.payload.memberAssignment[topic] ?? []); });
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          seen.push({ member, partition, offset: BigInt(message.offset), value: String(message.value), key: String(message.key), header: String(message.headers!.i) });
        },
      });
      consumers.push(consumer);
    }
    await waitFor(() => assignments.size === 3 && [...assignments.values()].flat().length === 6, 'three members sharing six partitions');
    expect([...assignments.values()].flat().sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect([...assignments.values()].every((p) => p.length === 2)).toBe(true);

    for (let round = 0; round < 3; round++) await producer.send({ topic, acks: -1, messages: testMessages('g', round * 100, 100) });
    await waitFor(() => seen.length >= 300, '300 messages');

    // Member 2 leaves: the others take its partitions, from the offsets it committed.
    assignments.clear();
    await consumers[2].disconnect();
    await waitFor(() => assignments.size === 2 && [...assignments.values()].flat().length === 6, 'two members sharing six partitions');
    for (let round = 3; round < 6; round++) await producer.send({ topic, acks: -1, messages: testMessages('g', round * 100, 100) });
    await waitFor(() => seen.length >= 600, '600 messages');
    await sleep(500); // nothing more (no duplicates) arrives

    await Promise.all(consumers.slice(0, 2).map((c) => c.disconnect()));
    await producer.disconnect();

    expect(seen.map((s) => s.value).sort()).toEqual(Array.from({ length: 600 }, (_, i) => `g:${i}`).sort());
    for (const s of seen) {
      const i = Number(s.value.split(':')[1]);
      expect([s.key, s.header]).toEqual([`k${i % 7}`, String(i)]);
    }
    for (let p = 0; p < 6; p++) {
      const offsets = seen.filter((s) => s.partition === p).map((s) => s.offset);
      expect(offsets).toEqual([...offsets].sort((a, b) => (a < b ? -1 : 1)));
    }
    expect(seen.filter((s) => Number(s.value.split(':')[1]) >= 300 && s.member === 2)).toEqual([]);

    const described = await admin.describeGroups(['billing']);
    expect(described.groups[0]).toMatchObject({ groupId: 'billing', state: 'Empty' });
    // KafkaJS commits what it processed as it goes and on leaving; a member may leave with its last message uncommitted
    // (at least once: the next member would read it again), so each partition's commit is at most one behind its end.
    const committed = await admin.fetchOffsets({ groupId: 'billing', topics: [topic] });
    const ends = await admin.fetchTopicOffsets(topic);
    for (const p of committed[0].partitions) {
      const end = Number(ends.find((e) => e.partition === p.partition)!.high);
      expect(Number(p.offset)).toBeGreaterThanOrEqual(end - 1);
      expect(Number(p.offset)).toBeLessThanOrEqual(end);
    }
    expect((await admin.listGroups()).groups.map((g) => g.groupId)).toContain('billing');
    await admin.deleteGroups(['billing']);
    expect((await admin.listGroups()).groups.map((g) => g.groupId)).not.toContain('billing');
    await admin.disconnect();
  }, 120_000);
});
