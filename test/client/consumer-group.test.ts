// Consumer groups end to end on an in-process cluster (memory storage): sharing, resuming, rebalancing, committing.
import { afterEach, describe, expect, it } from 'vitest';
import { Wafka, PartitionAssigners, type Consumer } from '../../src/client/index.ts';
import { startCluster, type Cluster } from '../../src/cluster/start-cluster.ts';
import { until } from '../cluster/kill-the-leader.ts';

let cluster: Cluster | undefined;
const consumers: Consumer[] = [];
afterEach(async () => {
  await Promise.allSettled(consumers.splice(0).map((c) => c.disconnect()));
  await cluster?.stop();
  cluster = undefined;
});

const FAST = { sessionTimeout: 3_000, rebalanceTimeout: 5_000, heartbeatInterval: 100, maxWaitTimeInMs: 100 };

async function setUp(partitions = 12) {
  cluster = await startCluster({ storage: 'memory', brokers: 3, brokerConfig: { offsetsTopicNumPartitions: 3 } });
  const wafka = new Wafka({ clientId: 'test', cluster, logLevel: 0 as never });
  const admin = wafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'jobs', numPartitions: partitions, replicationFactor: 3 }] });
  const producer = wafka.producer({ lingerMs: 0 });
  await producer.connect();
  return { wafka, admin, producer };
}

async function produce(producer: Awaited<ReturnType<typeof setUp>>['producer'], from: number, count: number) {
  const messages = Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: `m${from + i}` }));
  await producer.send({ topic: 'jobs', messages, acks: -1 });
}

describe('consumer groups', () => {
  it('members of one group share 12 partitions: every message handled by exactly one; another group gets all', async () => {
    const { wafka, producer } = await setUp();
    const handled = new Map<string, string[]>();
    const other: string[] = [];
    const assignedCount = new Map<number, number>();
    for (let i = 0; i < 3; i++) {
      const c = wafka.consumer({ groupId: 'workers', ...FAST });
      consumers.push(c);
      await c.connect();
      await c.subscribe({ topics: ['jobs'], fromBeginning: true });
      c.on(c.events.GROUP_JOIN, (e: any) => { assignedCount.set(i, (e.payload.memberAssignment.jobs ?? []).length); });
      await c.run({ eachMessage: async ({ message }) => { const v = String(new TextDecoder().decode(message.value!)); handled.set(v, [...(handled.get(v) ?? []), `w${i}`]); } });
    }
    const o = wafka.consumer({ groupId: 'auditors', ...FAST });
    consumers.push(o);
    await o.connect();
    await o.subscribe({ topics: ['jobs'], fromBeginning: true });
    await o.run({ eachMessage: async ({ message }) => { other.push(new TextDecoder().decode(message.value!)); } });
    await until(async () => [...assignedCount.values()].reduce((a, b) => a + b, 0) === 12 && assignedCount.size === 3 && [...assignedCount.values()].every((n) => n === 4));
    await produce(producer, 0, 300);
    await until(async () => handled.size === 300 && other.length === 300);
    expect([...handled.values()].every((who) => who.length === 1)).toBe(true);
    expect(new Set([...handled.values()].map((w) => w[0])).size).toBe(3);
    expect(other.sort()).toEqual([...handled.keys()].sort());
  });

  it('a consumer that comes back with the same group resumes at the committed offset (fromBeginning only without one)', async () => {
    const { wafka, producer } = await setUp(2);
    await produce(producer, 0, 50);
    const seen: string[] = [];
    const first = wafka.consumer({ groupId: 'resume', ...FAST });
    await first.connect();
    await first.subscribe({ topic: 'jobs', fromBeginning: true });
    await first.run({ eachMessage: async ({ message }) => { seen.push(new TextDecoder().decode(message.value!)); } });
    await until(async () => seen.length === 50);
    await first.disconnect();
    await produce(producer, 50, 20);
    const again: string[] = [];
    const second = wafka.consumer({ groupId: 'resume', ...FAST });
    consumers.push(second);
    await second.connect();
    await second.subscribe({ topic: 'jobs', fromBeginning: true });
    await second.run({ eachMessage: async ({ message }) => { again.push(new TextDecoder().decode(message.value!)); } });
    await until(async () => again.length >= 20);
    await new Promise((r) => setTimeout(r, 300));
    expect(again.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `m${50 + i}`).sort());
  });
});
