// Consumer groups end to end on an in-process cluster (memory storage): sharing, resuming, rebalancing, committing.
import { afterEach, describe, expect, it } from 'vitest';
import { Wafka, PartitionAssigners, type Consumer, type PartitionAssigner } from '../../src/client/index.ts';
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

  it('a handler slower than the session timeout does not cost the member its place: heartbeats run on their own', async () => {
    const { wafka, producer } = await setUp(2);
    await produce(producer, 0, 3);
    const c = wafka.consumer({ groupId: 'slow', sessionTimeout: 1_500, rebalanceTimeout: 10_000, heartbeatInterval: 100, maxWaitTimeInMs: 100 });
    consumers.push(c);
    let joins = 0;
    let heartbeats = 0;
    c.on(c.events.GROUP_JOIN, () => { joins++; });
    c.on(c.events.HEARTBEAT, () => { heartbeats++; });
    const handled: string[] = [];
    await c.connect();
    await c.subscribe({ topic: 'jobs', fromBeginning: true });
    await c.run({
      eachMessage: async ({ message }) => {
        if (handled.length === 0) {
          // Three session timeouts inside one handler.
          const heartbeatsBefore = heartbeats;
          await until(async () => heartbeats >= heartbeatsBefore + 30, 60_000);
        }
        handled.push(new TextDecoder().decode(message.value!));
      },
    });
    await until(async () => handled.length === 3, 60_000);
    expect(joins).toBe(1);
    await c.commitOffsets();
    const { groups: [group] } = await (async () => { const a = wafka.admin(); await a.connect(); try { return await a.describeGroups(['slow']); } finally { await a.disconnect(); } })();
    expect(group.state).toBe('Stable');
    expect(group.members).toHaveLength(1);
  });

  it('resetOffsets and setOffsets take effect on the next join; refused with NON_EMPTY_GROUP while members run', async () => {
    const { wafka, producer, admin } = await setUp(1);
    await produce(producer, 0, 10);
    const consumeOnce = async (expected: number) => {
      const got: string[] = [];
      const c = wafka.consumer({ groupId: 'reset', ...FAST });
      await c.connect();
      await c.subscribe({ topic: 'jobs', fromBeginning: true });
      await c.run({ eachMessage: async ({ message }) => { got.push(new TextDecoder().decode(message.value!)); } });
      await until(async () => got.length >= expected);
      return { c, got };
    };
    const first = await consumeOnce(10);
    await expect(admin.setOffsets({ groupId: 'reset', topic: 'jobs', partitions: [{ partition: 0, offset: '0' }] })).rejects.toMatchObject({ type: 'NON_EMPTY_GROUP' });
    await first.c.disconnect();
    expect((await admin.fetchOffsets({ groupId: 'reset', topics: ['jobs'] }))[0].partitions[0].offset).toBe('10');
    await admin.resetOffsets({ groupId: 'reset', topic: 'jobs', earliest: true });
    const again = await consumeOnce(10);
    expect(again.got).toEqual(first.got);
    await again.c.disconnect();
    await admin.setOffsets({ groupId: 'reset', topic: 'jobs', partitions: [{ partition: 0, offset: '7' }] });
    const fromSeven = await consumeOnce(3);
    await new Promise((r) => setTimeout(r, 200));
    expect(fromSeven.got).toEqual(['m7', 'm8', 'm9']);
    consumers.push(fromSeven.c);
    const lag = await admin.fetchGroupLag({ groupId: 'reset', topics: ['jobs'] });
    expect(lag[0].partitions[0].high).toBe('10');
    expect((await admin.listGroups()).groups.map((g) => g.groupId)).toContain('reset');
    await expect(admin.deleteGroups(['reset'])).rejects.toMatchObject({ type: 'NON_EMPTY_GROUP' });
    await fromSeven.c.disconnect();
    await admin.deleteGroups(['reset']);
    expect((await admin.fetchOffsets({ groupId: 'reset', topics: ['jobs'] }))[0].partitions[0].offset).toBe('-1');
  });

  it('a subscribed topic that gains partitions: the leader sees it in its next metadata refresh, the group rebalances, the new partitions are consumed', async () => {
    const { wafka, admin, producer } = await setUp(4);
    const handled = new Map<string, string[]>();
    const assigned = new Map<number, number[]>();
    for (let i = 0; i < 2; i++) {
      const c = wafka.consumer({ groupId: 'growing', metadataMaxAge: 200, ...FAST });
      consumers.push(c);
      c.on(c.events.GROUP_JOIN, (e: any) => { assigned.set(i, e.payload.memberAssignment.jobs ?? []); });
      await c.connect();
      await c.subscribe({ topics: ['jobs'], fromBeginning: true });
      await c.run({ eachMessage: async ({ partition, message }) => { const v = new TextDecoder().decode(message.value!); handled.set(v, [...(handled.get(v) ?? []), `w${i}p${partition}`]); } });
    }
    const covered = (n: number) => { const all = [...assigned.values()].flat(); return all.length === n && new Set(all).size === n && assigned.size === 2; };
    await until(async () => covered(4));
    await admin.createPartitions({ topicPartitions: [{ topic: 'jobs', count: 8 }] });
    await until(async () => covered(8), 30_000);
    await producer.send({ topic: 'jobs', acks: -1, messages: Array.from({ length: 8 }, (_, p) => ({ partition: p, value: `p${p}` })) });
    await until(async () => handled.size === 8, 30_000);
    expect([...handled.values()].every((who) => who.length === 1)).toBe(true);
    expect(new Set([...handled.values()].map((w) => w[0].slice(0, 2))).size).toBe(2);
  });

  it('a new topic that matches a pattern subscription is assigned and consumed by the group', async () => {
    const { wafka, admin, producer } = await setUp(2);
    await admin.createTopics({ topics: [{ topic: 'events-a', numPartitions: 2, replicationFactor: 3 }] });
    const handled = new Map<string, string[]>();
    const assigned = new Map<number, string[]>();
    for (let i = 0; i < 2; i++) {
      const c = wafka.consumer({ groupId: 'pattern', metadataMaxAge: 200, ...FAST });
      consumers.push(c);
      c.on(c.events.GROUP_JOIN, (e: any) => { assigned.set(i, Object.entries(e.payload.memberAssignment as Record<string, number[]>).flatMap(([t, ps]) => ps.map((p) => `${t}-${p}`))); });
      await c.connect();
      await c.subscribe({ topics: [/^events-/], fromBeginning: true });
      await c.run({ eachMessage: async ({ topic, message }) => { const v = `${topic}:${new TextDecoder().decode(message.value!)}`; handled.set(v, [...(handled.get(v) ?? []), `w${i}`]); } });
    }
    const covered = (n: number) => { const all = [...assigned.values()].flat(); return all.length === n && new Set(all).size === n && assigned.size === 2; };
    await until(async () => covered(2));
    await admin.createTopics({ topics: [{ topic: 'events-b', numPartitions: 4, replicationFactor: 3 }] });
    await until(async () => covered(6), 30_000);
    await producer.send({ topic: 'events-b', acks: -1, messages: Array.from({ length: 4 }, (_, p) => ({ partition: p, value: `b${p}` })) });
    await producer.send({ topic: 'events-a', acks: -1, messages: Array.from({ length: 2 }, (_, p) => ({ partition: p, value: `a${p}` })) });
    await until(async () => handled.size === 6, 30_000);
    expect([...handled.values()].every((who) => who.length === 1)).toBe(true);
  });
  it('cooperative-sticky: while the group completes a rebalance, members keep consuming and send no commit the coordinator would refuse; a join takes two rounds', async () => {
    // The leader's assignment of every round waits while both members deliver more messages (the group is in
    // CompletingRebalance meanwhile, where the coordinator refuses commits with REBALANCE_IN_PROGRESS). Auto
    // commits sent then were refused, held up the fetch loops waiting for them, and each asked for one more
    // join: a member joining took round after round here instead of two (the join, then the moved partitions
    // to their new owner).
    const { producer } = await setUp();
    let refused = 0;
    let refusedWhileSyncing = 0;
    const members: Consumer[] = [];
    let assignments = 0;
    const wafka = new Wafka({
      clientId: 'test', cluster: cluster!, logLevel: 2 as never,
      logCreator: () => ({ log }) => { if (String(log.error ?? '').includes('REBALANCE_IN_PROGRESS')) refused++; },
    });
    let gated = false;
    const delivered = [0, 0, 0];
    const gatedSticky: PartitionAssigner = (config) => {
      const inner = PartitionAssigners.cooperativeSticky(config);
      return {
        name: inner.name, version: inner.version, rebalanceProtocol: inner.rebalanceProtocol,
        protocol: (subscription) => inner.protocol(subscription),
        async assign(group) {
          assignments++;
          if (gated) {
            // Once both have their JoinGroup answer (the generation the leader assigns) and consumed on, so that
            // commits sent before it are answered: what is refused from then on was sent while awaiting SyncGroup.
            const generationId = members[0].groupMetadata().generationId;
            await until(async () => members[1].groupMetadata().generationId === generationId);
            const settle = [...delivered];
            await until(async () => delivered[0] > settle[0] + 12 && delivered[1] > settle[1] + 12);
            const before = [...delivered];
            const refusedBefore = refused;
            await until(async () => delivered[0] > before[0] + 24 && delivered[1] > before[1] + 24);
            refusedWhileSyncing += refused - refusedBefore;
          }
          return inner.assign(group);
        },
      };
    };
    const rounds: number[] = [0, 0, 0];
    const assigned = new Map<number, number[]>();
    const start = async (i: number) => {
      const c = wafka.consumer({ groupId: 'sticky', ...FAST, partitionAssigners: [gatedSticky] });
      consumers.push(c);
      members.push(c);
      c.on(c.events.REBALANCING, () => { rounds[i]++; });
      c.on(c.events.GROUP_JOIN, (e: any) => { assigned.set(i, e.payload.memberAssignment.jobs ?? []); });
      await c.connect();
      await c.subscribe({ topics: ['jobs'] });
      await c.run({ eachMessage: async () => { delivered[i]++; } });
    };
    let producing = true;
    const flow = (async () => {
      for (let seq = 0; producing; seq++) {
        await producer.send({ topic: 'jobs', acks: 1, messages: Array.from({ length: 12 }, (_, p) => ({ partition: p, value: `f${seq}` })) });
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    try {
      const covered = (n: number) => { const all = [...assigned.values()].flat(); return all.length === 12 && new Set(all).size === 12 && assigned.size === n && [...assigned.values()].every((ps) => ps.length === 12 / n); };
      await start(0);
      await start(1);
      await until(async () => covered(2) && delivered[0] > 0 && delivered[1] > 0);
      const roundsBefore = [...rounds];
      const assignmentsBefore = assignments;
      gated = true;
      await start(2);
      await until(async () => covered(3));
      // Every member consumes on after the last assignment: a further round, were one started, has begun by now.
      const after = [...delivered];
      await until(async () => delivered.every((n, i) => n > after[i] + 24));
      expect(refusedWhileSyncing).toBe(0);
      expect(assignments - assignmentsBefore).toBe(2);
      expect([rounds[0] - roundsBefore[0], rounds[1] - roundsBefore[1]]).toEqual([2, 2]);
    } finally {
      producing = false;
      await flow;
    }
  });
});
