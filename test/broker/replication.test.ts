// Replication with real brokers, controller and the KafkaJS-shaped client, in-process on memory storage
// and the platform's timers: failover on a clean shutdown, catch-up on a restart, minInsyncReplicas.
import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.ts';
import { Wafka } from '../../src/client/index.ts';
import { batchOf, readRecords } from './helpers.ts';
import { replicatedCluster, until, type ReplicatedCluster } from './replicated-cluster.ts';

let cluster: ReplicatedCluster | undefined;
afterEach(async () => { await cluster?.close(); cluster = undefined; });

const partitionsOf = async (topic: string) => (await cluster!.store.read())!.topics[topic].partitions;

describe('replication', () => {
  it('keeps every acknowledged record through a leader shutdown and a restart; replicas end byte-identical', async () => {
    cluster = await replicatedCluster(3);
    const wafka = new Wafka({ clientId: 'r', cluster: cluster.apis });
    const admin = wafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] });
    const before = await partitionsOf('orders');
    expect(before.map((p) => p.replicas.length)).toEqual([3, 3, 3]);
    expect(new Set(before.map((p) => p.leader)).size).toBe(3);

    const producer = wafka.producer({ lingerMs: 0 });
    await producer.connect();
    const sent: string[] = [];
    const send = async (n: number) => {
      const messages = Array.from({ length: 50 }, (_, i) => ({ key: `k${(n * 50 + i) % 7}`, value: `m${n * 50 + i}` }));
      await producer.send({ topic: 'orders', acks: -1, messages });
      sent.push(...messages.map((m) => m.value));
    };
    for (let n = 0; n < 5; n++) await send(n);
    const leader0 = before[0].leader;
    await cluster.stop(leader0);
    const moved = await partitionsOf('orders');
    expect(moved[0].leader).not.toBe(leader0);
    expect(moved[0].leaderEpoch).toBeGreaterThan(before[0].leaderEpoch);
    for (const p of moved) expect(p.isr).not.toContain(leader0);
    for (let n = 5; n < 10; n++) await send(n);
    await cluster.start(leader0);
    // The restarted broker catches up and the leaders take it back into their ISRs.
    await until(async () => (await partitionsOf('orders')).every((p) => p.isr.length === 3));
    for (let n = 10; n < 15; n++) await send(n);
    await producer.disconnect();

    // Every acknowledged value is there, once per offset, and every replica holds the same bytes.
    const got: string[] = [];
    for (let p = 0; p < 3; p++) {
      const leader = (await partitionsOf('orders'))[p].leader;
      await until(() => cluster!.brokers.every((b) => {
        const r = b!.describeReplicas().find((x) => x.topic === 'orders' && x.partition === p)!;
        const l = cluster!.brokers[leader]!.describeReplicas().find((x) => x.topic === 'orders' && x.partition === p)!;
        return r.logEndOffset === l.logEndOffset && r.highWatermark === l.logEndOffset;
      }));
      const copies = await Promise.all(cluster.brokers.map(async (b) => {
        const out: Uint8Array[] = [];
        const end = b!.describeReplicas().find((x) => x.topic === 'orders' && x.partition === p)!.logEndOffset;
        for (let offset = 0n; offset < end;) {
          const bytes = (await b!.readReplica('orders', p, offset, 1 << 20))!;
          out.push(bytes);
          const records = await readRecords(bytes);
          offset = records[records.length - 1].offset + 1n;
        }
        return Buffer.concat(out);
      }));
      expect(copies[1].equals(copies[0])).toBe(true);
      expect(copies[2].equals(copies[0])).toBe(true);
      const records = await readRecords(new Uint8Array(copies[0]));
      expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => BigInt(i)));
      got.push(...records.map((r) => r.value));
    }
    for (const value of sent) expect(got).toContain(value);
  }, 60_000);

  it('refuses acks=-1 with NOT_ENOUGH_REPLICAS while the ISR is below minInsyncReplicas, and appends nothing', async () => {
    cluster = await replicatedCluster(3);
    const leader = cluster.brokers[0]!;
    await leader.createTopics({ topics: [{ topic: 't', replicaAssignment: [{ partition: 0, replicas: [0, 1, 2] }], configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] });
    const produce = async (acks: -1 | 1) => (await leader.produce({ acks, timeoutMs: 2_000, topics: [{ topic: 't', partitions: [{ partition: 0, records: await batchOf(['x']) }] }] })).topics[0].partitions[0];
    expect((await produce(-1)).error).toBeUndefined();
    await cluster.stop(1);
    await cluster.stop(2);
    await until(async () => (await partitionsOf('t'))[0].isr.length === 1);
    const end = leader.describeReplicas()[0].logEndOffset;
    expect((await produce(-1)).error).toMatchObject({ type: 'NOT_ENOUGH_REPLICAS' });
    expect(leader.describeReplicas()[0].logEndOffset).toBe(end);
    // acks=1 does not ask for the ISR.
    expect((await produce(1)).error).toBeUndefined();
  }, 30_000);

  it('holds an acks=-1 produce while a restarted follower regrows the ISR, instead of refusing it with NOT_ENOUGH_REPLICAS', async () => {
    cluster = await replicatedCluster(3);
    const leader = cluster.brokers[0]!;
    await leader.createTopics({ topics: [{ topic: 't', replicaAssignment: [{ partition: 0, replicas: [0, 1, 2] }], configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] });
    const produce = async () => (await leader.produce({ acks: -1, timeoutMs: 2_000, topics: [{ topic: 't', partitions: [{ partition: 0, records: await batchOf(['x']) }] }] })).topics[0].partitions[0];
    expect((await produce()).error).toBeUndefined();
    await cluster.stop(1);
    await cluster.stop(2);
    await until(async () => (await partitionsOf('t'))[0].isr.length === 1);
    await cluster.start(1);
    // Sent while the ISR is still the leader alone: the restarted follower has not fetched yet.
    const pending = produce();
    expect(leader.describeReplicas()[0].isr).toEqual([0]);
    const answer = await pending;
    expect(answer.error).toBeUndefined();
    expect(answer.baseOffset).toBe(1n);
    expect((await partitionsOf('t'))[0].isr.sort()).toEqual([0, 1]);
  }, 30_000);

  it("rejoins the ISR after the leader deleted records past the follower's log end: it starts over at the leader's log start (Kafka's truncateFullyAndStartAt)", async () => {
    cluster = await replicatedCluster(2);
    const [leader, follower] = cluster.brokers as Broker[];
    await leader.createTopics({ topics: [{ topic: 't', replicaAssignment: [{ partition: 0, replicas: [0, 1] }] }] });
    await until(() => follower.describeReplicas().length === 1);
    await cluster.stop(1);
    await until(async () => (await partitionsOf('t'))[0].isr.join() === '0');
    for (let i = 0; i < 5; i++) {
      const answer = (await leader.produce({ acks: -1, timeoutMs: 2_000, topics: [{ topic: 't', partitions: [{ partition: 0, records: await batchOf([`a${i}`, `b${i}`]) }] }] })).topics[0].partitions[0];
      expect(answer.error).toBeUndefined();
    }
    const deleted = await leader.deleteRecords({ topics: [{ topic: 't', partitions: [{ partition: 0, offset: 8n }] }] });
    expect(deleted.topics[0].partitions[0]).toMatchObject({ lowWatermark: 8n });
    const back = await cluster.start(1);
    await until(async () => (await partitionsOf('t'))[0].isr.length === 2);
    const replica = back.describeReplicas().find((r) => r.topic === 't')!;
    expect(replica.logStartOffset).toBe(8n);
    expect(replica.logEndOffset).toBe(10n);
    expect(await back.readReplica('t', 0, 8n, 1 << 20)).toEqual(await leader.readReplica('t', 0, 8n, 1 << 20));
  }, 30_000);

  it('elects outside the ISR only when the topic allows it (unclean.leader.election.enable), and a consumer detects the truncation (KIP-320) instead of skipping to an offset reset', async () => {
    cluster = await replicatedCluster(2);
    const admin0 = cluster.brokers[0]!;
    await admin0.createTopics({ topics: [
      { topic: 'clean', replicaAssignment: [{ partition: 0, replicas: [0, 1] }] },
      { topic: 'unclean', replicaAssignment: [{ partition: 0, replicas: [0, 1] }], configEntries: [{ name: 'unclean.leader.election.enable', value: 'true' }] },
    ] });
    const produce = async (broker: Broker, topic: string, values: string[]) => {
      const answer = (await broker.produce({ acks: -1, timeoutMs: 5_000, topics: [{ topic, partitions: [{ partition: 0, records: await batchOf(values) }] }] })).topics[0].partitions[0];
      expect(answer.error).toBeUndefined();
    };
    for (const topic of ['clean', 'unclean']) await produce(admin0, topic, ['old-0', 'old-1', 'old-2', 'old-3']);
    await until(() => cluster!.brokers[1]!.describeReplicas().every((r) => r.logEndOffset === 4n));
    await cluster.stop(1);
    await until(async () => (await partitionsOf('unclean'))[0].isr.join() === '0' && (await partitionsOf('clean'))[0].isr.join() === '0');
    for (const topic of ['clean', 'unclean']) await produce(admin0, topic, ['old-4', 'old-5', 'old-6', 'old-7', 'old-8', 'old-9']);

    const warnings: string[] = [];
    const wafka = new Wafka({ clientId: 'c', cluster: cluster.apis, logCreator: () => ({ level, log }) => { if (level === 2) warnings.push(log.message); } });
    const consumer = wafka.consumer({ groupId: 'g', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topics: ['unclean'], fromBeginning: true });
    const seen: { offset: string; value: string }[] = [];
    void consumer.run({ eachMessage: async ({ message }) => { seen.push({ offset: message.offset, value: new TextDecoder().decode(message.value!) }); } });
    // The group's first join waits for the offsets topic to be created and led, with broker 1 down: slow on a loaded machine.
    await until(() => seen.length === 10, 25_000);

    await cluster.stop(0);
    const back = await cluster.start(1);
    // 'clean' stays offline: its only ISR member is down. 'unclean' elects broker 1, which lacks offsets 4..9.
    await until(async () => (await partitionsOf('unclean'))[0].leader === 1);
    expect((await partitionsOf('clean'))[0].leader).toBe(-1);
    await produce(back, 'unclean', ['new-4', 'new-5', 'new-6', 'new-7']);
    await until(() => seen.length === 14);
    expect(seen.slice(10)).toEqual(['new-4', 'new-5', 'new-6', 'new-7'].map((value, i) => ({ offset: String(4 + i), value })));
    expect(warnings.some((w) => w.includes('log truncation detected on unclean-0'))).toBe(true);
    await consumer.disconnect();
  }, 60_000);

  it('times out an acks=-1 produce whose followers do not fetch, with REQUEST_TIMED_OUT, and shrinks the ISR', async () => {
    cluster = await replicatedCluster(2);
    const [leader, follower] = cluster.brokers as Broker[];
    await leader.createTopics({ topics: [{ topic: 't', replicaAssignment: [{ partition: 0, replicas: [0, 1] }] }] });
    await until(() => follower.describeReplicas().length === 1);
    // The follower's fetches stop reaching the leader (its peer link is cut), while it keeps heartbeating.
    cluster.brokers[0] = null;
    const answer = (await leader.produce({ acks: -1, timeoutMs: 200, topics: [{ topic: 't', partitions: [{ partition: 0, records: await batchOf(['x']) }] }] })).topics[0].partitions[0];
    expect(answer.error).toMatchObject({ type: 'REQUEST_TIMED_OUT' });
    await until(async () => (await partitionsOf('t'))[0].isr.join() === '0');
    cluster.brokers[0] = leader;
  }, 30_000);

  it("replicates a topic created while the follower's fetch is parked on the leader at once, not after that long-poll", async () => {
    // Long-polls of 20 s: without a new fetch for the new topic, its acks=-1 write would wait for the parked one.
    cluster = await replicatedCluster(2, { replicaFetchWaitMaxMs: 20_000 });
    const [leader, follower] = cluster.brokers as Broker[];
    const create = (topic: string) => leader.createTopics({ topics: [{ topic, replicaAssignment: [{ partition: 0, replicas: [0, 1] }], configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] });
    const produce = async (topic: string) => (await leader.produce({ acks: -1, timeoutMs: 5_000, topics: [{ topic, partitions: [{ partition: 0, records: await batchOf(['x']) }] }] })).topics[0].partitions[0];
    await create('a');
    expect((await produce('a')).error).toBeUndefined();
    await new Promise((r) => setTimeout(r, 100)); // the follower's next fetch is parked on the leader now
    await create('b');
    await until(() => follower.describeReplicas().length === 2);
    const answer = await produce('b');
    expect(answer.error).toBeUndefined();
    expect(answer.baseOffset).toBe(0n);
  }, 30_000);

  it("a follower's newer fetch answers its parked one, so topics created one after another are each replicated at once", async () => {
    cluster = await replicatedCluster(2, { replicaFetchWaitMaxMs: 20_000 });
    const [leader, follower] = cluster.brokers as Broker[];
    const create = (topic: string) => leader.createTopics({ topics: [{ topic, replicaAssignment: [{ partition: 0, replicas: [0, 1] }], configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] });
    const produce = async (topic: string) => (await leader.produce({ acks: -1, timeoutMs: 5_000, topics: [{ topic, partitions: [{ partition: 0, records: await batchOf(['x']) }] }] })).topics[0].partitions[0];
    const topics = ['t0', 't1', 't2', 't3', 't4', 't5'];
    for (const [i, topic] of topics.entries()) {
      await create(topic);
      await until(() => follower.describeReplicas().length === i + 1);
      await new Promise((r) => setTimeout(r, 50)); // the fetch with it is parked on the leader now
    }
    // The newest topic first: a write to an older one would ring the parked fetch that holds it.
    for (const topic of [...topics].reverse()) expect((await produce(topic)).error).toBeUndefined();
  }, 60_000);
});
