// Replication with real brokers, controller and the KafkaJS-shaped client, in-process on memory storage
// and the platform's timers: failover on a clean shutdown, catch-up on a restart, minInsyncReplicas.
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../src/broker/broker.ts';
import { StorageReplicaLogs } from '../../src/broker/storage-logs.ts';
import { Wafka } from '../../src/client/index.ts';
import { MemoryMetadataStore } from '../../src/metadata/memory-metadata-store.ts';
import { LocalMetadataHub } from '../../src/metadata/metadata-watch.ts';
import { systemClock } from '../../src/clock.ts';
import { Controller } from '../../src/controller/controller.ts';
import { loadCore } from '../../src/core/index.ts';
import type { BrokerApi } from '../../src/protocol/types.ts';
import { WafkaError } from '../../src/errors.ts';
import { MemoryBackend } from '../../src/storage/index.ts';
import { batchOf, readRecords } from './helpers.ts';

async function replicatedCluster(count: number) {
  await loadCore();
  const store = new MemoryMetadataStore();
  const hub = new LocalMetadataHub();
  const shared = { read: () => store.read(), compareAndSet: store.compareAndSet.bind(store), close: async () => {} };
  const controller = await Controller.activate({ nodeId: 1000, clusterId: 'r', store: shared, watch: hub.handle(), clock: systemClock, brokerSessionTimeoutMs: 1_000 });
  const backends = Array.from({ length: count }, () => new MemoryBackend());
  const brokers: (Broker | null)[] = [];
  const start = async (nodeId: number) => {
    brokers[nodeId] = await Broker.start({
      nodeId, clusterId: 'r', metadataStore: shared, metadataWatch: hub.handle(), storage: new StorageReplicaLogs(backends[nodeId], 'memory'),
      config: { replicaLagTimeMaxMs: 500, allowAutoTopicCreation: false },
      controller: () => controller, peer: (id) => brokers[id] ?? null,
    });
    return brokers[nodeId]!;
  };
  for (let id = 0; id < count; id++) await start(id);
  // What a client reaches: the broker running now under each id (a stopped one refuses).
  const methods = ['metadata', 'produce', 'fetch', 'listOffsets', 'createTopics', 'deleteTopics', 'createPartitions', 'describeConfigs', 'alterConfigs', 'deleteRecords', 'metrics'];
  const apis = Array.from({ length: count }, (_, id) => Object.fromEntries(methods.map((method) => [method, (...args: unknown[]) => {
    const b = brokers[id];
    if (!b) return Promise.reject(new WafkaError('BROKER_NOT_AVAILABLE', `broker ${id} is down`));
    if (method === 'metrics') return Promise.resolve({ nodeId: id, produceRequests: 0, batchesAppended: 0, recordsAppended: 0, bytesAppended: 0, fetchRequests: 0, bytesFetched: 0, errors: {} });
    return (b as unknown as Record<string, (...a: unknown[]) => unknown>)[method](...args);
  }])) as unknown as BrokerApi);
  return {
    brokers, store, controller, apis,
    async stop(id: number) { const b = brokers[id]; brokers[id] = null; await b?.close(); },
    start,
    async close() {
      await Promise.all(brokers.map((b) => b?.close()));
      controller.close();
    },
  };
}

let cluster: Awaited<ReturnType<typeof replicatedCluster>> | undefined;
afterEach(async () => { await cluster?.close(); cluster = undefined; });

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

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
});
