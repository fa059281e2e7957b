/**
 * The groups suite's Chromium half, in one tab of an on-disk profile: three
 * broker workers on OPFS, every group member in a dedicated worker of its own
 * (groups-member.ts), a producer on the page.
 *
 * rebalance: four members of a stable group consume 60 partitions; the
 * producer writes to each of them every ~10 ms; a fifth member joins.
 * Measured from the members' own delivery times (one clock for the page and
 * its workers):
 * - until every partition is consumed again: from the fifth member's run()
 *   to the last partition's first delivery by its final owner since that
 *   owner has held it without a break (so a partition an eager member gave
 *   up counts only once it is delivered again after its reassignment);
 * - the pause of the partitions that did not move (same owner before and
 *   after): the longest time between their deliveries within that window,
 *   its edges included;
 * - the same longest gap over a window as long right after, with no
 *   rebalance, over every partition: what the producer and the loaded
 *   machine give; the pause beyond it is what the rebalance added.
 * Cooperative-sticky against eager round robin, in interleaved rounds (one
 * join, and the clean leave that follows it, per round). The producer writes
 * only to the topic of the group being measured; the other group idles.
 */
import { opfsBrokerDir, startCluster, type Cluster } from '../../src/cluster/index.ts';
import { Wafka, logLevel } from '../../src/index.ts';
import { percentile, summarize, type Case, type CaseResult } from '../lib/measure.ts';
import { caseTable } from '../lib/report.ts';
import { loadBenchCore } from '../lib/core-load.ts';
import type { BrowserSuiteContext } from '../browser/protocol.ts';
import type { MemberInit, MemberReport, MemberRequest, MemberTrace } from './groups-member-protocol.ts';

type Protocol = 'cooperative-sticky' | 'eager';
const PARTITIONS = 60;
const HEARTBEAT_INTERVAL_MS = 100;
const MAX_WAIT_TIME_MS = 50;
const nowMs = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(done: () => boolean | Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`bench: not reached in time: ${what}`);
    await sleep(10);
  }
}

class Member {
  readonly worker: Worker;
  assigned: number[] = [];
  assignedAtMs = 0;
  ready = false;
  startedMs = 0;
  stopped = false;
  #seq = 0;
  readonly #pending = new Map<number, (r: MemberReport) => void>();

  constructor(readonly name: string, cluster: Cluster, init: Omit<MemberInit, 'type' | 'name' | 'clusterId' | 'ports'>, onError: (e: string) => void) {
    this.worker = new Worker(new URL('./groups-member.ts', import.meta.url), { type: 'module', name });
    this.worker.onerror = (e) => onError(`member ${name}: ${e.message}`);
    this.worker.onmessage = (e: MessageEvent<MemberReport>) => {
      const r = e.data;
      if (r.type === 'ready') this.ready = true;
      else if (r.type === 'started') this.startedMs = r.atMs;
      else if (r.type === 'assigned') { this.assigned = r.partitions; this.assignedAtMs = r.atMs; }
      else if (r.type === 'stopped') this.stopped = true;
      else if (r.type === 'error') onError(`member ${name}: ${r.error}`);
      else { this.#pending.get(r.id)?.(r); this.#pending.delete(r.id); }
    };
    const ports = cluster.bootstrap.nodeIds.map((id) => cluster.connectPort(id));
    this.worker.postMessage({ type: 'init', name, clusterId: cluster.clusterId, ports, ...init } satisfies MemberInit, ports);
  }

  #ask<T extends MemberReport>(request: MemberRequest & { id: number }): Promise<T> {
    return new Promise((resolve) => {
      this.#pending.set(request.id, resolve as (r: MemberReport) => void);
      this.worker.postMessage(request);
    });
  }

  run(): void { this.worker.postMessage({ type: 'run' } satisfies MemberRequest); }

  first(fromMs: number) { return this.#ask<Extract<MemberReport, { type: 'first' }>>({ type: 'first', id: ++this.#seq, fromMs }).then((r) => r.first); }
  gaps(fromMs: number, toMs: number, partitions: number[]) {
    return this.#ask<Extract<MemberReport, { type: 'gaps' }>>({ type: 'gaps', id: ++this.#seq, fromMs, toMs, partitions }).then((r) => r.gaps);
  }
  trace(fromMs: number, toMs: number) { return this.#ask<Extract<MemberReport, { type: 'trace' }>>({ type: 'trace', id: ++this.#seq, fromMs, toMs }).then((r) => r.trace); }

  async stop(): Promise<void> {
    this.worker.postMessage({ type: 'stop' } satisfies MemberRequest);
    await until(() => this.stopped, `${this.name} stops`, 30_000);
    this.worker.terminate();
  }
}

const settled = (members: Member[]) => {
  const all = members.flatMap((m) => m.assigned);
  return all.length === PARTITIONS && new Set(all).size === PARTITIONS && members.every((m) => m.assigned.length > 0);
};

async function cleanup(clusterId: string, brokers: number): Promise<void> {
  const root = await navigator.storage.getDirectory();
  for (let id = 0; id < brokers; id++) {
    const dir = opfsBrokerDir(clusterId, id).split('/').filter(Boolean);
    await root.removeEntry(dir[0], { recursive: true }).catch(() => {});
  }
}

/** Longest gap of `partitions` of each member over [fromMs, toMs]: the worst one, and where it was. */
async function longestGap(members: Member[], partitionsOf: (m: Member) => number[], fromMs: number, toMs: number) {
  let worst = { gapMs: 0, startMs: fromMs, member: null as Member | null, partition: -1 };
  for (const m of members) {
    const partitions = partitionsOf(m);
    if (partitions.length === 0) continue;
    const gaps = await m.gaps(fromMs, toMs, partitions);
    for (const p of partitions) if (gaps[p].gapMs > worst.gapMs) worst = { ...gaps[p], member: m, partition: p };
  }
  return worst;
}

/** When each step of the join happened, in ms after the fifth member's run(), from the members' traces. */
function phaseText(old: MemberTrace[][], fifth: MemberTrace[], t0: number): string {
  const at = (t: MemberTrace | undefined) => (t ? (t.atMs - t0).toFixed(0) : '—');
  const span = (xs: (MemberTrace | undefined)[]) => {
    const ms = xs.filter((x): x is MemberTrace => !!x).map((x) => x.atMs - t0);
    return ms.length ? `${Math.min(...ms).toFixed(0)}..${Math.max(...ms).toFixed(0)}` : '—';
  };
  const joins = old.map((t) => t.filter((x) => x.what === 'rebalancing').length);
  const warnings = [...old, fifth].flat().filter((x) => x.what.startsWith('WARN') || x.what.startsWith('ERROR'));
  return `fifth's join starts ${at(fifth.find((x) => x.what === 'rebalancing'))}, first assignment ${at(fifth.find((x) => x.what.startsWith('group join')))}`
    + `; the 4 rejoin ${span(old.map((t) => t.find((x) => x.what === 'rebalancing')))}`
    + `, revoke ${span(old.map((t) => t.find((x) => x.what.startsWith('revoked'))))}`
    + `, last assignment ${span(old.map((t) => t.filter((x) => x.what.startsWith('group join')).at(-1)))}`
    + `, joins each ${joins.join('/')}`
    + (warnings.length ? `; warnings: ${[...new Set(warnings.map((w) => w.what))].slice(0, 3).join(' | ')} (${warnings.length})` : '');
}

const fmtTrace = (trace: MemberTrace[], zeroMs: number) => trace.map((t) => `${(t.atMs - zeroMs).toFixed(0)}: ${t.what}`).join('; ');

export async function run({ opts, log }: BrowserSuiteContext): Promise<CaseResult[]> {
  log(`wafka core: ${await loadBenchCore()}`);
  const quick = !!opts.quick;
  const rounds = Number(opts.rounds ?? (quick ? 4 : 20));
  const brokers = 3;
  const clusterId = `bench-groups-${Date.now().toString(36)}`;
  const t0Start = performance.now();
  const cluster = await startCluster({ brokers, storage: 'opfs', clusterId, brokerConfig: { offsetsTopicNumPartitions: 3 } });
  log(`cluster of ${brokers} OPFS broker workers started in ${(performance.now() - t0Start).toFixed(0)} ms`);
  const wafka = new Wafka({ clientId: 'bench', cluster, logLevel: logLevel.NOTHING });
  const admin = wafka.admin();
  await admin.connect();
  let failure: string | null = null;
  const onError = (e: string) => { failure ??= e; log(e); };
  const check = () => { if (failure) throw new Error(failure); };
  const members: Member[] = [];
  let producing = true;
  let flow: Promise<void> = Promise.resolve();
  try {
    const topics: Record<Protocol, string> = { 'cooperative-sticky': 'rebalance-cooperative', eager: 'rebalance-eager' };
    for (const topic of Object.values(topics)) {
      await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }], waitForLeaders: true });
    }
    const producer = wafka.producer({ lingerMs: 5 });
    await producer.connect();
    let active: Protocol = 'cooperative-sticky';
    flow = (async () => {
      let seq = 0;
      while (producing) {
        await producer.send({ topic: topics[active], acks: 1, messages: Array.from({ length: PARTITIONS }, (_, p) => ({ partition: p, value: `r${seq++}` })) });
        await sleep(10);
      }
    })();
    const spawn = async (protocol: Protocol, name: string) => {
      const m = new Member(name, cluster, {
        groupId: `rebalance-${protocol}`, topic: topics[protocol], assigner: protocol,
        heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS, maxWaitTimeInMs: MAX_WAIT_TIME_MS,
      }, onError);
      members.push(m);
      await until(() => (check(), m.ready), `${name} connects`, 60_000);
      return m;
    };
    const groups = new Map<Protocol, Member[]>();
    for (const protocol of ['cooperative-sticky', 'eager'] as const) {
      active = protocol;
      const group: Member[] = [];
      for (let i = 0; i < 4; i++) {
        const m = await spawn(protocol, `${protocol}-${i}`);
        m.run();
        group.push(m);
      }
      await until(() => (check(), settled(group)), `4 ${protocol} members settle`);
      groups.set(protocol, group);
    }
    log(`two groups of 4 members settled (${((performance.now() - t0Start) / 1000).toFixed(1)} s in)`);

    const joinMs = new Map<string, number[]>([['cooperative-sticky', []], ['eager', []]]);
    const pauseMs = new Map<string, number[]>([['cooperative-sticky', []], ['eager', []], ['no-rebalance', []]]);
    const baselineMs = new Map<Protocol, number[]>([['cooperative-sticky', []], ['eager', []]]);
    const beyondMs = new Map<string, number[]>([['cooperative-sticky', []], ['eager', []]]);
    const worst: Record<Protocol, { beyondMs: number; text: string }> = { 'cooperative-sticky': { beyondMs: -Infinity, text: '' }, eager: { beyondMs: -Infinity, text: '' } };
    const phaseLines = new Map<Protocol, string[]>([['cooperative-sticky', []], ['eager', []]]);
    let fifthSeq = 0;
    // Round 0 is a warm-up (the first join of each group pays for the page's first worker and module loads); not recorded.
    for (let r = 0; r <= rounds; r++) {
      for (const protocol of (r % 2 ? ['eager', 'cooperative-sticky'] : ['cooperative-sticky', 'eager']) as Protocol[]) {
        const group = groups.get(protocol)!;
        active = protocol;
        const fifth = await spawn(protocol, `${protocol}-fifth-${++fifthSeq}`);
        // A stable group first: settled, and no member's assignment changed in the last 500 ms.
        await until(() => (check(), settled(group) && group.every((m) => nowMs() - m.assignedAtMs > 500)), `${protocol} group settles`);
        const before = new Map(group.map((m) => [m, [...m.assigned]]));
        fifth.run();
        await until(() => fifth.startedMs > 0, 'the fifth member starts');
        const t0 = fifth.startedMs;
        const all = [...group, fifth];
        let tAll = 0;
        await until(async () => {
          check();
          if (!settled(all)) return false;
          const firsts = await Promise.all(all.map((m) => m.first(t0)));
          const times: number[] = [];
          for (const [i, m] of all.entries()) for (const p of m.assigned) { const t = firsts[i][p]; if (t == null) return false; times.push(t); }
          if (times.length !== PARTITIONS) return false;
          tAll = Math.max(...times);
          return true;
        }, `${protocol}: every partition consumed again`);
        const unmoved = (m: Member) => (before.get(m) ?? []).filter((p) => m.assigned.includes(p));
        const pause = await longestGap(group, unmoved, t0, tAll);
        // The same measure, as long a window, with no rebalance: right after, over every partition.
        const s0 = nowMs();
        await sleep(tAll - t0);
        const s1 = nowMs();
        const steady = await longestGap(all, (m) => m.assigned, s0, s1);
        if (r > 0) {
          joinMs.get(protocol)!.push(tAll - t0);
          pauseMs.get(protocol)!.push(pause.gapMs);
          if (protocol === 'cooperative-sticky') pauseMs.get('no-rebalance')!.push(steady.gapMs);
          baselineMs.get(protocol)!.push(steady.gapMs);
          beyondMs.get(protocol)!.push(Math.max(0, pause.gapMs - steady.gapMs));
        }
        const traces = await Promise.all(all.map((m) => m.trace(t0, tAll)));
        const phases = phaseText(traces.slice(0, -1), traces.at(-1)!, t0);
        if (r > 0) phaseLines.get(protocol)!.push(phases);
        let where = '';
        if (pause.member && pause.gapMs - steady.gapMs > worst[protocol].beyondMs) {
          const trace = await pause.member.trace(pause.startMs - 300, pause.startMs + pause.gapMs + 100);
          where = `partition ${pause.partition} of ${pause.member.name}, ${(pause.startMs - t0).toFixed(0)}..${(pause.startMs + pause.gapMs - t0).toFixed(0)} ms after the join; its member then (ms after the join): ${fmtTrace(trace, t0)}`;
          if (r > 0) worst[protocol] = { beyondMs: pause.gapMs - steady.gapMs, text: where };
        }
        log(`${r === 0 ? 'warm-up' : `round ${r}/${rounds}`} ${protocol}: every partition consumed again after ${(tAll - t0).toFixed(0)} ms; `
          + `unmoved partitions' longest pause ${pause.gapMs.toFixed(0)} ms, with no rebalance ${steady.gapMs.toFixed(0)} ms (beyond it: ${Math.max(0, pause.gapMs - steady.gapMs).toFixed(0)} ms); ${phases}`);
        await fifth.stop();
        members.splice(members.indexOf(fifth), 1);
      }
    }
    log(`worst pause beyond the baseline, cooperative-sticky: ${worst['cooperative-sticky'].beyondMs.toFixed(0)} ms at ${worst['cooperative-sticky'].text}`);
    log(`worst pause beyond the baseline, eager: ${worst.eager.beyondMs.toFixed(0)} ms at ${worst.eager.text}`);
    producing = false;
    await flow;
    await producer.disconnect();

    const p = (xs: number[], q: number) => Math.round(percentile(xs, q));
    const pcts = (m: Map<string, number[]>) => Object.fromEntries([...m].map(([k, xs]) => [k, { p50: p(xs, 50), p99: p(xs, 99) }]));
    const contenders = [
      { name: 'cooperative-sticky', role: 'wafka' as const, note: 'PartitionAssigners.cooperativeSticky: only moved partitions are revoked, and handed over in a second round' },
      { name: 'eager', role: 'peer' as const, note: 'PartitionAssigners.roundRobin (eager): every member stops and commits before rejoining' },
    ];
    const floor = { name: 'no-rebalance', role: 'limit' as const, note: 'the longest gap of any partition over a window as long as the join took, right after it, with no rebalance: what the producer and the loaded machine give' };
    const where = `3 broker workers on OPFS, each member in a dedicated worker, the producer on the page; heartbeatInterval ${HEARTBEAT_INTERVAL_MS} ms, maxWaitTimeInMs ${MAX_WAIT_TIME_MS} ms`;
    const note = `4 members consume 60 partitions (replication factor 3; a producer writes to each every ~10 ms); a 5th joins: from its run() until every partition is delivered by its final owner since that owner holds it; ${rounds} joins each (interleaved rounds, after one warm-up join); ${where}`;
    const results: CaseResult[] = [];
    const join = summarize({ metric: 'rebalance-cooperative-chromium', unit: 'ms', higherIsBetter: false, note, contenders, extra: { percentiles: pcts(joinMs), phasesLastRound: { 'cooperative-sticky': phaseLines.get('cooperative-sticky')!.at(-1), eager: phaseLines.get('eager')!.at(-1) } } } as Case, joinMs);
    const pauseNote = 'the same joins: the longest gap between deliveries of a partition that kept its owner, from the join until every partition is consumed again (raw: machine and producer noise included)';
    const pauseRes = summarize({
      // The goal, a pause of 0 ms: no longer than the same window with no rebalance gives (the median of the per-round ratios).
      metric: 'rebalance-pause-unmoved-chromium', unit: 'ms', higherIsBetter: false, note: pauseNote, contenders: [...contenders, floor], goal: { peer: 'no-rebalance', ratio: 1 },
      extra: { percentiles: pcts(pauseMs), noRebalanceAfterEager: { p50: p(baselineMs.get('eager')!, 50), p99: p(baselineMs.get('eager')!, 99) } },
    } as Case, pauseMs);
    const beyondNote = 'the same joins: the unmoved partitions\' longest pause minus the longest gap of a window as long with no rebalance right after the same join (clamped at 0): what the rebalance added';
    const beyondRes = summarize({
      metric: 'rebalance-pause-beyond-baseline-chromium', unit: 'ms', higherIsBetter: false, note: beyondNote, contenders,
      extra: { percentiles: pcts(beyondMs), worst: { 'cooperative-sticky': worst['cooperative-sticky'].text, eager: worst.eager.text } },
    } as Case, beyondMs);
    // Per-round ratios of a difference that is 0 in most rounds say nothing.
    delete beyondRes.ratios;
    const eagerRes = summarize({
      metric: 'rebalance-eager-chromium', unit: 'ms', higherIsBetter: false, goal: { value: 200 },
      note: `eager's unmoved partitions' longest pause (raw), ${note}`,
      contenders: [{ name: 'eager', role: 'wafka', note: contenders[1].note }],
      extra: { percentiles: { raw: pcts(pauseMs).eager, beyondBaseline: pcts(beyondMs).eager } },
    } as Case, new Map([['eager', pauseMs.get('eager')!]]));
    for (const res of [join, pauseRes, beyondRes, eagerRes]) { log(caseTable(res)); results.push(res); }
    return results;
  } finally {
    producing = false;
    await flow.catch(() => {});
    await Promise.allSettled(members.map((m) => m.stop()));
    await admin.disconnect().catch(() => {});
    await cluster.stop();
    await cleanup(clusterId, brokers);
  }
}
