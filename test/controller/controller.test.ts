import { describe, expect, it } from 'vitest';
import { emptyMetadata, type ClusterMetadata, type PartitionState } from '../../src/metadata/metadata.ts';
import { MemoryMetadataStore } from '../../src/metadata/memory-metadata-store.ts';
import { LocalMetadataHub } from '../../src/metadata/metadata-watch.ts';
import { Controller } from '../../src/controller/controller.ts';
import { SimScheduler } from '../../src/sim/scheduler.ts';

const SESSION_MS = 1_000;

async function setUp(seed = 1) {
  const clock = new SimScheduler(seed, { startMs: 0 });
  const store = new MemoryMetadataStore();
  const hub = new LocalMetadataHub();
  const m: ClusterMetadata = emptyMetadata('c');
  m.version = 1;
  // Three partitions, replication factor 3, leaders 0, 1, 2.
  m.topics.t = {
    name: 't', topicId: 'id-t', configs: {},
    partitions: [0, 1, 2].map((p): PartitionState => {
      const replicas = [0, 1, 2].map((i) => (p + i) % 3);
      return { partition: p, leader: replicas[0], leaderEpoch: 0, replicas, isr: [...replicas], partitionEpoch: 0 };
    }),
  };
  await store.compareAndSet(0, m);
  const activate = (nodeId: number) => Controller.activate({
    nodeId, clusterId: 'c', store, watch: hub.handle(), clock, brokerSessionTimeoutMs: SESSION_MS,
  });
  const partitions = async () => (await store.read())!.topics.t.partitions;
  return { clock, store, activate, partitions };
}

describe('Controller', () => {
  it('claims a new controller epoch, and a superseded controller can no longer write', async () => {
    const { clock, store, activate } = await setUp();
    const first = await clock.settle(activate(0), 1_000);
    expect(first.epoch).toBe(1);
    const second = await clock.settle(activate(1), 1_000);
    expect(second.epoch).toBe(2);
    expect((await store.read())!.controllerId).toBe(1);
    await expect(clock.settle(first.registerBroker({ nodeId: 2, host: 'x' }), 1_000)).rejects.toMatchObject({ type: 'NOT_CONTROLLER' });
    expect(first.closed).toBe(true);
    await expect(clock.settle(second.registerBroker({ nodeId: 2, host: 'x' }), 1_000)).resolves.toEqual({ brokerEpoch: 1 });
    first.close();
    second.close();
  });

  it('fences a broker whose heartbeats stop: it leaves the ISRs, its partitions get new leaders and leader epochs', async () => {
    const { clock, activate, partitions } = await setUp(2);
    const controller = await clock.settle(activate(0), 1_000);
    const epochs = new Map<number, number>();
    for (const id of [0, 1, 2]) epochs.set(id, (await clock.settle(controller.registerBroker({ nodeId: id, host: `b${id}` }), 1_000)).brokerEpoch);
    // Brokers 0 and 2 keep heartbeating; broker 1 goes quiet.
    let beating = true;
    const beat = (id: number) => {
      if (!beating) return;
      void controller.heartbeat(id, epochs.get(id)!);
      clock.setTimeout(() => beat(id), SESSION_MS / 5);
    };
    beat(0);
    beat(2);
    await clock.runFor(SESSION_MS * 0.9);
    expect((await partitions()).map((p) => p.leader)).toEqual([0, 1, 2]);
    await clock.runFor(SESSION_MS);
    const after = await partitions();
    expect(after.map((p) => p.leader)).toEqual([0, 2, 2]);
    expect(after[1].leaderEpoch).toBe(1);
    expect(after[0].leaderEpoch).toBe(0);
    for (const p of after) expect(p.isr).not.toContain(1);
    // A fenced broker's heartbeat is told so, until it registers again; then it gets a new broker epoch.
    await expect(controller.heartbeat(1, epochs.get(1)!)).resolves.toEqual({ fenced: true });
    const again = await clock.settle(controller.registerBroker({ nodeId: 1, host: 'b1' }), 1_000);
    expect(again.brokerEpoch).toBe(epochs.get(1)! + 1);
    await expect(controller.heartbeat(1, epochs.get(1)!)).resolves.toEqual({ fenced: true });
    await expect(controller.heartbeat(1, again.brokerEpoch)).resolves.toEqual({ fenced: false });
    beating = false;
    controller.close();
  });

  it('fences at once a broker whose lock was freed, and gives leadership back when the last ISR member returns', async () => {
    const { clock, activate, partitions, store } = await setUp(3);
    const controller = await clock.settle(activate(0), 1_000);
    for (const id of [0, 1, 2]) await clock.settle(controller.registerBroker({ nodeId: id, host: `b${id}` }), 1_000);
    await clock.settle(controller.brokerGone(1), 1_000);
    await clock.settle(controller.brokerGone(2), 1_000);
    let now = await partitions();
    expect(now.map((p) => p.leader)).toEqual([0, 0, 0]);
    for (const p of now) expect(p.isr).toEqual([0]);
    expect((await store.read())!.brokers.filter((b) => b.fenced).map((b) => b.nodeId)).toEqual([1, 2]);
    // The last ISR member goes too: no leader, but the ISR still names it.
    await clock.settle(controller.brokerGone(0), 1_000);
    now = await partitions();
    expect(now.map((p) => p.leader)).toEqual([-1, -1, -1]);
    for (const p of now) expect(p.isr).toEqual([0]);
    // A replica that is not in the ISR coming back does not lead (unclean election is off).
    await clock.settle(controller.registerBroker({ nodeId: 1, host: 'b1' }), 1_000);
    expect((await partitions()).map((p) => p.leader)).toEqual([-1, -1, -1]);
    await clock.settle(controller.registerBroker({ nodeId: 0, host: 'b0' }), 1_000);
    expect((await partitions()).map((p) => p.leader)).toEqual([0, 0, 0]);
    controller.close();
  });

  it('moves leadership off a broker shutting down cleanly, and applies leader ISR changes with epoch checks', async () => {
    const { clock, activate, partitions } = await setUp(4);
    const controller = await clock.settle(activate(0), 1_000);
    for (const id of [0, 1, 2]) await clock.settle(controller.registerBroker({ nodeId: id, host: `b${id}` }), 1_000);
    await clock.settle(controller.controlledShutdown(2), 1_000);
    const now = await partitions();
    expect(now.map((p) => p.leader)).toEqual([0, 1, 0]);
    for (const p of now) expect(p.isr).not.toContain(2);
    const p0 = now[0];
    const shrunk = await clock.settle(controller.alterPartition({
      topic: 't', partition: 0, brokerId: 0, leaderEpoch: p0.leaderEpoch, partitionEpoch: p0.partitionEpoch!, newIsr: [0],
    }), 1_000);
    expect(shrunk).toMatchObject({ isr: [0], partitionEpoch: p0.partitionEpoch! + 1 });
    await expect(clock.settle(controller.alterPartition({
      topic: 't', partition: 0, brokerId: 0, leaderEpoch: p0.leaderEpoch, partitionEpoch: p0.partitionEpoch!, newIsr: [0, 1],
    }), 1_000)).rejects.toMatchObject({ type: 'INVALID_UPDATE_VERSION' });
    // Broker 2 is shutting down: it may not rejoin an ISR until it registers again.
    await expect(clock.settle(controller.alterPartition({
      topic: 't', partition: 0, brokerId: 0, leaderEpoch: p0.leaderEpoch, partitionEpoch: shrunk.partitionEpoch!, newIsr: [0, 2],
    }), 1_000)).rejects.toMatchObject({ type: 'INELIGIBLE_REPLICA' });
    await expect(clock.settle(controller.alterPartition({
      topic: 'nope', partition: 0, brokerId: 0, leaderEpoch: 0, partitionEpoch: 0, newIsr: [0],
    }), 1_000)).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    controller.close();
  });
  it("does not fence brokers whose heartbeats were queued while the controller's own thread was blocked", async () => {
    const sim = new SimScheduler(5, { startMs: 0 });
    const store = new MemoryMetadataStore();
    await store.compareAndSet(0, { ...emptyMetadata('c'), version: 1 });
    // The controller's clock jumps by `offsetMs` (its thread was blocked), and messages that arrived
    // meanwhile (`queued`) are handled after the next timer of its thread has run, as an event loop does.
    let offsetMs = 0;
    let queued: (() => void)[] = [];
    const clock = {
      nowMs: () => sim.nowMs() + offsetMs,
      random: () => sim.random(),
      clearTimeout: (h: Parameters<SimScheduler['clearTimeout']>[0]) => sim.clearTimeout(h),
      setTimeout: (callback: () => void, delayMs: number) => sim.setTimeout(() => {
        callback();
        const late = queued;
        queued = [];
        for (const f of late) f();
      }, delayMs),
    };
    const controller = await sim.settle(Controller.activate({ nodeId: 0, clusterId: 'c', store, watch: new LocalMetadataHub().handle(), clock, brokerSessionTimeoutMs: SESSION_MS }), 1_000);
    const epochs = new Map<number, number>();
    for (const id of [0, 1, 2]) epochs.set(id, (await sim.settle(controller.registerBroker({ nodeId: id, host: `b${id}` }), 1_000)).brokerEpoch);
    await sim.runFor(SESSION_MS / 2);
    for (const id of [0, 1, 2]) await controller.heartbeat(id, epochs.get(id)!);
    // Blocked for three session timeouts; brokers 0 and 1 heartbeated meanwhile, broker 2 did not.
    offsetMs += 3 * SESSION_MS;
    const answers: Promise<{ fenced: boolean }>[] = [];
    queued.push(() => answers.push(controller.heartbeat(0, epochs.get(0)!)), () => answers.push(controller.heartbeat(1, epochs.get(1)!)));
    await sim.runFor(SESSION_MS / 2);
    expect(await Promise.all(answers)).toEqual([{ fenced: false }, { fenced: false }]);
    // Broker 2, silent all along, is still fenced once the controller runs normally.
    const beat = (id: number) => {
      void controller.heartbeat(id, epochs.get(id)!);
      sim.setTimeout(() => beat(id), SESSION_MS / 5);
    };
    beat(0);
    beat(1);
    await sim.runFor(SESSION_MS);
    expect((await store.read())!.brokers.filter((b) => b.fenced).map((b) => b.nodeId)).toEqual([2]);
    controller.close();
  });
});
