/**
 * Consumer-group cases with every member in a worker of its own, shared by the
 * Node test (worker threads, brokers on files) and the Chromium test
 * (dedicated workers, brokers on OPFS / IndexedDB). Each member reports what
 * it handled (./group-member-protocol.ts); the cases check Kafka's consumer
 * properties on those reports.
 */
import { expect } from 'vitest';
import { Wafka, logLevel, type Cluster } from '../../src/index.ts';
import type { GroupMemberControl, GroupMemberInit, GroupMemberReport } from './group-member-protocol.ts';

export interface MemberWorker {
  post(message: unknown, transfer?: Transferable[]): void;
  onReport(listener: (report: GroupMemberReport) => void): void;
  terminate(): Promise<void>;
}

export interface GroupEnv {
  cluster: Cluster;
  spawnWorker(name: string): MemberWorker;
}

export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000, state?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not reached in time: ${what}${state ? ` (${state()})` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export class Member {
  readonly name: string;
  readonly worker: MemberWorker;
  readonly messages: { seq: number; partition: number; offset: string; value: string; atMs: number }[] = [];
  readonly assignments: { partitions: number[]; atMs: number }[] = [];
  rebalances: number[] = [];
  stopped = false;
  held = false;

  constructor(env: GroupEnv, name: string, init: Omit<GroupMemberInit, 'type' | 'name' | 'clusterId' | 'ports'>) {
    this.name = name;
    this.worker = env.spawnWorker(name);
    this.worker.onReport((r) => {
      if (r.type === 'message') {
        this.messages.push(r);
        this.worker.post({ type: 'ack', seq: r.seq } satisfies GroupMemberControl);
      }
      else if (r.type === 'assigned') this.assignments.push({ partitions: r.partitions, atMs: Date.now() });
      else if (r.type === 'rebalancing') this.rebalances.push(Date.now());
      else if (r.type === 'stopped') this.stopped = true;
      else if (r.type === 'held') this.held = true;
    });
    const ports = env.cluster.bootstrap.nodeIds.map((id) => env.cluster.connectPort(id));
    const message: GroupMemberInit = { type: 'init', name, clusterId: env.cluster.clusterId, ports, ...init };
    this.worker.post(message, ports);
  }

  get assigned(): number[] { return this.assignments.at(-1)?.partitions ?? []; }

  /** From now on its eachMessage waits before handling anything (until release). */
  async hold(): Promise<void> {
    this.held = false;
    this.worker.post({ type: 'hold' } satisfies GroupMemberControl);
    await until(() => this.held, `${this.name} holds`);
  }

  release(): void { this.worker.post({ type: 'release' } satisfies GroupMemberControl); }

  /** A clean stop: the member commits and leaves the group. */
  async stop(): Promise<void> {
    this.worker.post({ type: 'stop' } satisfies GroupMemberControl);
    await until(() => this.stopped, `${this.name} stops`);
    await this.worker.terminate();
  }
}

export const PARTITIONS = 12;

export async function createTopic(cluster: Cluster, topic: string): Promise<Wafka> {
  const wafka = new Wafka({ clientId: 'group-cases', cluster, logLevel: logLevel.NOTHING });
  const admin = wafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: Math.min(3, cluster.bootstrap.nodeIds.length) }] });
  await admin.disconnect();
  return wafka;
}

/** The members' current assignments cover every partition exactly once. */
export function settled(members: Member[]): boolean {
  const all = members.flatMap((m) => m.assigned);
  return all.length === PARTITIONS && new Set(all).size === PARTITIONS && members.every((m) => m.assigned.length > 0);
}

export async function produce(wafka: Wafka, topic: string, from: number, count: number): Promise<void> {
  const producer = wafka.producer({ lingerMs: 2 });
  await producer.connect();
  for (let i = 0; i < count; i += 50) {
    await producer.send({ topic, acks: -1, messages: Array.from({ length: Math.min(50, count - i) }, (_, j) => ({ key: `k${from + i + j}`, value: `v${from + i + j}` })) });
  }
  await producer.disconnect();
}

const handled = (members: Member[]) => {
  const count = new Map<string, number>();
  for (const m of members) for (const x of m.messages) count.set(x.value, (count.get(x.value) ?? 0) + 1);
  return count;
};

/** n members share 12 partitions: each message is handled by exactly one; a member of another group gets them all. */
export async function shareTwelvePartitions(env: GroupEnv, n: number): Promise<void> {
  const topic = `share-${n}`;
  const wafka = await createTopic(env.cluster, topic);
  const members = Array.from({ length: n }, (_, i) => new Member(env, `m${i}`, { groupId: `workers-${n}`, topic, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 100, assigner: 'round-robin' }));
  const auditor = new Member(env, 'auditor', { groupId: `auditors-${n}`, topic, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 100, assigner: 'round-robin' });
  try {
    await until(() => settled(members) && auditor.assigned.length === PARTITIONS, `${n} members settle`);
    await produce(wafka, topic, 0, 240);
    await until(() => handled(members).size === 240 && auditor.messages.length >= 240, 'all handled');
    const count = handled(members);
    expect([...count.values()].every((c) => c === 1)).toBe(true);
    expect(members.every((m) => m.messages.length > 0)).toBe(true);
    expect(new Set(auditor.messages.map((x) => x.value)).size).toBe(240);
    // Each member handled only partitions it was assigned.
    for (const m of members) expect(m.messages.every((x) => m.assigned.includes(x.partition))).toBe(true);
  } finally {
    await Promise.all([...members, auditor].map((m) => m.worker.terminate()));
  }
}

/**
 * Kafka's consumer system test, clean bounce: a member stops cleanly (commit,
 * leave) and another takes its place while messages flow: no message is
 * handled twice and none is skipped.
 */
export async function cleanBounce(env: GroupEnv): Promise<void> {
  const topic = 'clean-bounce';
  const wafka = await createTopic(env.cluster, topic);
  const init = { groupId: 'bounce', topic, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 100, assigner: 'round-robin' as const };
  const members = [0, 1, 2].map((i) => new Member(env, `m${i}`, init));
  const all = [...members];
  try {
    await until(() => settled(members), 'three members settle');
    await produce(wafka, topic, 0, 150);
    await members[0].stop();
    const next = new Member(env, 'm3', init);
    all.push(next);
    await produce(wafka, topic, 150, 150);
    await until(() => handled(all).size === 300, 'all 300 handled');
    await until(() => settled([members[1], members[2], next]), 'settled again');
    const count = handled(all);
    expect([...count.entries()].filter(([, c]) => c !== 1)).toEqual([]);
  } finally {
    await Promise.all(all.map((m) => m.worker.terminate()));
  }
}

/** Offsets handled per partition, and the holes below each partition's highest: what a failed wait says. */
function handledOffsets(members: Member[]): string {
  const byPartition = new Map<number, Set<number>>();
  for (const m of members) for (const x of m.messages) {
    if (!byPartition.has(x.partition)) byPartition.set(x.partition, new Set());
    byPartition.get(x.partition)!.add(Number(x.offset));
  }
  return [...byPartition].sort(([a], [b]) => a - b).map(([p, offsets]) => {
    const max = Math.max(...offsets);
    const holes = Array.from({ length: max + 1 }, (_, o) => o).filter((o) => !offsets.has(o));
    return `p${p}: ${offsets.size} up to ${max}${holes.length ? `, holes [${holes.slice(0, 20).join(',')}${holes.length > 20 ? ',…' : ''}]` : ''} (${members.filter((m) => m.messages.some((x) => x.partition === p)).map((m) => m.name).join('+')})`;
  }).join('; ');
}

/** Spends `ms` of the test's own thread without yielding, as a loaded page does. */
function busyFor(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* the thread that receives the members' reports is busy */ }
}

/**
 * Hard bounce: a member's worker is terminated; after its session expires the others take over: at least once,
 * nothing skipped. The member is terminated while it handles messages and the thread that hears its reports is
 * busy (as in a loaded page): what it handled and committed meanwhile must still count as handled.
 */
export async function hardBounce(env: GroupEnv): Promise<void> {
  const topic = 'hard-bounce';
  const wafka = await createTopic(env.cluster, topic);
  const init = { groupId: 'hard', topic, sessionTimeoutMs: 2_000, heartbeatIntervalMs: 100, assigner: 'round-robin' as const };
  const members = [0, 1, 2].map((i) => new Member(env, `m${i}`, init));
  const all = [...members];
  try {
    await until(() => settled(members), 'three members settle');
    await members[0].hold();
    await produce(wafka, topic, 0, 150);
    members[0].release();
    busyFor(500);
    await members[0].worker.terminate();
    await produce(wafka, topic, 150, 150);
    const next = new Member(env, 'm3', init);
    all.push(next);
    await until(() => handled(all).size === 300, 'all 300 handled at least once', 60_000, () => handledOffsets(all));
    await until(() => settled([members[1], members[2], next]), 'settled without the dead member');
    // Per partition, what the survivors handled has no gap.
    const byPartition = new Map<number, Set<number>>();
    for (const m of all) for (const x of m.messages) {
      if (!byPartition.has(x.partition)) byPartition.set(x.partition, new Set());
      byPartition.get(x.partition)!.add(Number(x.offset));
    }
    for (const offsets of byPartition.values()) expect(offsets.size).toBe(Math.max(...offsets) + 1);
  } finally {
    await Promise.all(all.map((m) => m.worker.terminate()));
  }
}

/** Static members: one restarts (worker ended, no leave) within its session timeout: it gets its partitions back, nobody is revoked. */
export async function staticRestart(env: GroupEnv): Promise<void> {
  const topic = 'static';
  const wafka = await createTopic(env.cluster, topic);
  const init = (i: number) => ({ groupId: 'static', topic, groupInstanceId: `instance-${i}`, sessionTimeoutMs: 20_000, heartbeatIntervalMs: 100, assigner: 'round-robin' as const });
  const a = new Member(env, 'a', init(0));
  const b = new Member(env, 'b', init(1));
  const all = [a, b];
  try {
    await until(() => settled([a, b]), 'two static members settle');
    const before = { rebalances: b.rebalances.length, assignments: b.assignments.length, partitions: a.assigned };
    await a.worker.terminate();
    const again = new Member(env, 'a-again', init(0));
    all.push(again);
    await until(() => again.assigned.length > 0, 'the restarted instance gets its partitions');
    expect(again.assigned).toEqual(before.partitions);
    await produce(wafka, topic, 0, 120);
    await until(() => handled([b, again]).size === 120, 'all handled');
    expect(b.rebalances.length).toBe(before.rebalances);
    expect(b.assignments.length).toBe(before.assignments);
  } finally {
    await Promise.all(all.map((m) => m.worker.terminate()));
  }
}

/**
 * Cooperative-sticky: while a third member joins, the partitions that stay
 * with their owners keep being delivered. Member b heartbeats slowly, so the
 * rebalance waits for it a while; member a keeps delivering meanwhile.
 */
export async function cooperativeJoin(env: GroupEnv): Promise<void> {
  const topic = 'cooperative';
  const wafka = await createTopic(env.cluster, topic);
  const init = (heartbeatIntervalMs: number) => ({ groupId: 'coop', topic, sessionTimeoutMs: 10_000, heartbeatIntervalMs, assigner: 'cooperative-sticky' as const });
  const a = new Member(env, 'a', init(100));
  const b = new Member(env, 'b', init(1_500));
  const all = [a, b];
  let producing = true;
  const producer = wafka.producer({ lingerMs: 0 });
  await producer.connect();
  let seq = 0;
  const flow = (async () => {
    while (producing) {
      await producer.send({ topic, acks: 1, messages: Array.from({ length: PARTITIONS }, (_, p) => ({ partition: p, value: `c${seq++}` })) });
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    await until(() => settled([a, b]) && a.messages.length > 0 && b.messages.length > 0, 'two members settle and consume');
    const aBefore = a.assigned;
    const rebalancesBefore = a.rebalances.length;
    const c = new Member(env, 'c', init(100));
    all.push(c);
    await until(() => settled([a, b, c]), 'three members settle');
    const unmoved = aBefore.filter((p) => a.assigned.includes(p));
    expect(unmoved.length).toBeGreaterThan(0);
    // From a's first rebalance after c started to a's last assignment: what a delivered on partitions it kept.
    const windowStart = a.rebalances[rebalancesBefore];
    const windowEnd = a.assignments.at(-1)!.atMs;
    const during = a.messages.filter((x) => x.atMs >= windowStart && x.atMs <= windowEnd && unmoved.includes(x.partition));
    expect(during.length).toBeGreaterThan(0);
  } finally {
    producing = false;
    await flow;
    await producer.disconnect();
    await Promise.all(all.map((m) => m.worker.terminate()));
  }
  // No partition was consumed by two members at once: every message handled once.
  const count = handled(all);
  expect([...count.values()].filter((n) => n > 1)).toEqual([]);
}

/**
 * A rolling restart of every broker (each worker killed in turn, restarted,
 * back in the ISR) while a member consumes and commits: no acknowledged
 * commit is lost, and the group's committed offsets never go back.
 */
export async function rollingRestart(env: GroupEnv, partitionState: (topic: string, partition: number) => Promise<{ leader: number; isr: number[] }>): Promise<void> {
  const topic = 'rolling';
  const wafka = await createTopic(env.cluster, topic);
  const consumer = wafka.consumer({ groupId: 'rolling', sessionTimeout: 10_000, heartbeatInterval: 100, maxWaitTimeInMs: 100, retry: { retries: 30, initialRetryTime: 50, maxRetryTime: 1_000 } });
  const acknowledged = new Map<number, bigint>();
  consumer.on(consumer.events.COMMIT_OFFSETS, (e: { payload: { topics: { topic: string; partitions: { partition: number; offset: string }[] }[] } }) => {
    for (const t of e.payload.topics) for (const p of t.partitions) {
      const o = BigInt(p.offset);
      if (o > (acknowledged.get(p.partition) ?? -1n)) acknowledged.set(p.partition, o);
    }
  });
  const seen = new Set<string>();
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => { seen.add(new TextDecoder().decode(message.value!)); } });
  const admin = wafka.admin({ retry: { retries: 30, initialRetryTime: 50, maxRetryTime: 1_000 } });
  await admin.connect();
  const committedNow = async () => new Map((await admin.fetchOffsets({ groupId: 'rolling', topics: [topic] }))[0].partitions.map((p) => [p.partition, BigInt(p.offset)]));
  let lastSeen = new Map<number, bigint>();
  const neverBack = async () => {
    const now = await committedNow();
    for (const [p, o] of lastSeen) expect(now.get(p)!, `partition ${p}`).toBeGreaterThanOrEqual(o);
    lastSeen = now;
  };
  let sent = 0;
  try {
    for (const nodeId of env.cluster.bootstrap.nodeIds) {
      await produce(wafka, topic, sent, 60);
      sent += 60;
      await until(() => seen.size === sent, `${sent} consumed before broker ${nodeId} restarts`);
      await until(async () => [...acknowledged.values()].reduce((s, o) => s + Number(o), 0) === sent, 'commits acknowledged');
      await neverBack();
      await env.cluster.killBroker(nodeId);
      await until(async () => {
        for (let p = 0; p < 3; p++) if ((await partitionState('__consumer_offsets', p).catch(() => ({ isr: [] as number[] }))).isr.length < 3) return false;
        return true;
      }, `broker ${nodeId} back in the ISR`);
      await neverBack();
    }
    const committed = await committedNow();
    for (const [p, o] of acknowledged) expect(committed.get(p)!, `partition ${p}`).toBeGreaterThanOrEqual(o);
    expect([...committed.values()].reduce((s, o) => s + Number(o), 0)).toBe(sent);
  } finally {
    await consumer.disconnect();
    await admin.disconnect();
  }
}
