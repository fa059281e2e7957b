/**
 * One member of the groups suite's Chromium half (groups.page.ts), in a
 * dedicated worker of its own: it reaches the brokers through the ports of its
 * init message, connects and subscribes, and starts consuming when the page
 * says 'run'. It keeps the times of its deliveries per partition (a clock
 * shared by every worker of the page: performance.timeOrigin + now()) and
 * answers the page's queries about them, so that nothing per message
 * crosses to the page.
 */
import { PartitionAssigners, Wafka, logLevel } from '../../src/client/index.ts';
import { connectCluster } from '../../src/cluster/connect-cluster.ts';
import { loadBenchCore } from '../lib/core-load.ts';
import type { MemberInit, MemberReport, MemberRequest, MemberTrace } from './groups-member-protocol.ts';

const nowMs = (): number => performance.timeOrigin + performance.now();
/** Deliveries kept per partition (the oldest half is dropped past this). */
const DELIVERIES_MAX = 8192;
const TRACE_MAX = 4096;

const post = (report: MemberReport): void => self.postMessage(report);

async function start(init: MemberInit): Promise<void> {
  await loadBenchCore();
  const cluster = connectCluster({ clusterId: init.clusterId, ports: init.ports });
  const trace: MemberTrace[] = [];
  const note = (what: string): void => {
    trace.push({ atMs: nowMs(), what });
    if (trace.length > TRACE_MAX) trace.splice(0, TRACE_MAX / 2);
  };
  // Warnings (a failed commit, a failed join) go to the trace.
  const wafka = new Wafka({
    clientId: init.name, cluster, logLevel: logLevel.WARN,
    logCreator: () => ({ label, log }) => note(`${label} ${log.message}${log.error ? `: ${String(log.error)}` : ''}`),
  });
  const deliveries = new Map<number, number[]>();
  /** Since when each partition is owned without a break (assigned, not revoked since). */
  const ownedSinceMs = new Map<number, number>();
  const consumer = wafka.consumer({
    groupId: init.groupId, sessionTimeout: 10_000, rebalanceTimeout: 10_000,
    heartbeatInterval: init.heartbeatIntervalMs, maxWaitTimeInMs: init.maxWaitTimeInMs,
    partitionAssigners: [init.assigner === 'eager' ? PartitionAssigners.roundRobin : PartitionAssigners.cooperativeSticky],
    rebalanceListener: {
      onPartitionsAssigned: (lists) => {
        const at = nowMs();
        for (const l of lists) for (const p of l.partitions) ownedSinceMs.set(p, at);
        note(`assigned ${lists.flatMap((l) => l.partitions).join(',')}`);
      },
      onPartitionsRevoked: (lists) => {
        for (const l of lists) for (const p of l.partitions) ownedSinceMs.delete(p);
        note(`revoked ${lists.flatMap((l) => l.partitions).join(',')}`);
      },
      onPartitionsLost: (lists) => {
        for (const l of lists) for (const p of l.partitions) ownedSinceMs.delete(p);
        note(`lost ${lists.flatMap((l) => l.partitions).join(',')}`);
      },
    },
  });
  consumer.on(consumer.events.GROUP_JOIN, (e: { payload: { memberAssignment: Record<string, number[]>; duration: number } }) => {
    const partitions = e.payload.memberAssignment[init.topic] ?? [];
    note(`group join (${e.payload.duration} ms): ${partitions.length} partitions`);
    post({ type: 'assigned', partitions, atMs: nowMs() });
  });
  consumer.on(consumer.events.REBALANCING, () => note('rebalancing'));
  consumer.on(consumer.events.FETCH_START, (e: { payload: { nodeId: number } }) => note(`fetch start ${e.payload.nodeId}`));
  consumer.on(consumer.events.FETCH, (e: { payload: { nodeId: number; numberOfBatches: number; duration: number } }) => note(`fetch ${e.payload.nodeId}: ${e.payload.numberOfBatches} batches in ${e.payload.duration} ms`));
  consumer.on(consumer.events.COMMIT_OFFSETS, () => note('commit'));
  await consumer.connect();
  await consumer.subscribe({ topics: [init.topic] });
  let running = false;

  self.onmessage = (event: MessageEvent<MemberRequest>) => {
    const m = event.data;
    if (m.type === 'run') {
      if (running) return;
      running = true;
      const atMs = nowMs();
      note('run');
      post({ type: 'started', atMs });
      void consumer.run({
        eachMessage: async ({ partition }) => {
          let list = deliveries.get(partition);
          if (!list) deliveries.set(partition, (list = []));
          list.push(nowMs());
          if (list.length > DELIVERIES_MAX) list.splice(0, DELIVERIES_MAX / 2);
        },
      });
    } else if (m.type === 'stop') {
      void (async () => {
        await consumer.disconnect();
        cluster.close();
        post({ type: 'stopped' });
      })();
    } else if (m.type === 'first') {
      // Per owned partition: its first delivery at or after max(fromMs, the start of its ownership).
      const first: Record<number, number | null> = {};
      for (const [p, since] of ownedSinceMs) {
        const from = Math.max(m.fromMs, since);
        first[p] = deliveries.get(p)?.find((t) => t >= from) ?? null;
      }
      post({ type: 'first', id: m.id, first });
    } else if (m.type === 'gaps') {
      // Per partition delivered here: the longest time without a delivery within [fromMs, toMs], the window's edges included.
      const gaps: Record<number, { gapMs: number; startMs: number }> = {};
      for (const p of m.partitions) {
        const times = [m.fromMs, ...(deliveries.get(p) ?? []).filter((t) => t > m.fromMs && t < m.toMs), m.toMs];
        let gapMs = 0;
        let startMs = m.fromMs;
        for (let i = 1; i < times.length; i++) if (times[i] - times[i - 1] > gapMs) { gapMs = times[i] - times[i - 1]; startMs = times[i - 1]; }
        gaps[p] = { gapMs, startMs };
      }
      post({ type: 'gaps', id: m.id, gaps });
    } else if (m.type === 'trace') {
      post({ type: 'trace', id: m.id, trace: trace.filter((t) => t.atMs >= m.fromMs && t.atMs <= m.toMs) });
    }
  };
  post({ type: 'ready' });
}

self.onmessage = (event: MessageEvent<MemberInit>) => {
  if (event.data.type === 'init') void start(event.data).catch((e) => post({ type: 'error', error: e instanceof Error ? `${e.message}\n${e.stack}` : String(e) }));
};
