/**
 * The replication suite (Node): three brokers in worker threads on files.
 * Throughput with acks=-1 and replication factor 3 (minInsyncReplicas 2)
 * against acks=1 and replication factor 1 on the same cluster and values,
 * rounds interleaved; produce latency of single sends at a low rate, both
 * ways; failover: from terminating or hanging the leader's worker to the
 * first send acknowledged by the new leader.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster } from '../../src/cluster/index.ts';
import { loadBenchCore } from '../lib/core-load.ts';
import { summarize, type Case, type CaseResult, type MeasureOptions } from '../lib/measure.ts';
import { caseTable } from '../lib/report.ts';
import { e2eValues } from './e2e-data.ts';
import { latencyStats, newTopic, openClient, produce, sendLatencies } from './e2e-wafka.ts';

export async function runReplication(opts: Partial<MeasureOptions> & Record<string, unknown>, log: (s: string) => void): Promise<CaseResult[]> {
  const quick = !!opts.quick;
  log(`wafka core: ${await loadBenchCore()}`);
  const dir = mkdtempSync(join(tmpdir(), 'wafka-bench-repl-'));
  const cluster = await startCluster({ brokers: 3, storage: 'files', dir, clusterId: 'bench-repl' });
  const results: CaseResult[] = [];
  const report = (c: Case, samples: Map<string, number[]>): void => {
    const res = summarize(c, samples);
    log(caseTable(res));
    results.push(res);
  };
  try {
    const ctx = await openClient(cluster);
    const n = quick ? 30_000 : 150_000;
    const rounds = Number(opts.rounds ?? (quick ? 2 : 4));
    const values = e2eValues(n);
    // Warm-up, untimed: every contender's path once (the idempotent producer's too, or its first round runs cold).
    await produce(ctx, await newTopic(ctx, 3, 3), values.slice(0, n / 4), -1);
    await produce(ctx, await newTopic(ctx, 3, 1), values.slice(0, n / 4), 1);
    await produce(ctx, await newTopic(ctx, 3, 3), values.slice(0, n / 4), -1, { idempotent: true });
    await produce(ctx, await newTopic(ctx, 3, 3), values.slice(0, n / 4), -1, { idempotent: true, maxInFlightRequests: 1 });
    const samples = new Map<string, number[]>([['wafka', []], ['acks1-rf1', []]]);
    // Idempotent against plain, both acks=-1 RF=3: with the defaults (an idempotent producer keeps up to 5
    // requests of a partition in flight, a plain one 1) and with maxInFlightRequests 1 for both.
    const idempotentSamples = new Map<string, number[]>([['wafka', []], ['plain', []]]);
    const oneInFlightSamples = new Map<string, number[]>([['wafka', []], ['plain', []]]);
    const rateOf = async (acks: 1 | -1, rf: number, options: { idempotent?: boolean; maxInFlightRequests?: number } = {}) =>
      n / ((await produce(ctx, await newTopic(ctx, 3, rf), values, acks, options)) / 1000);
    for (let r = 0; r < rounds; r++) {
      const steps = [
        async () => {
          const rate = await rateOf(-1, 3);
          samples.get('wafka')!.push(rate);
          idempotentSamples.get('plain')!.push(rate);
        },
        async () => samples.get('acks1-rf1')!.push(await rateOf(1, 1)),
        async () => idempotentSamples.get('wafka')!.push(await rateOf(-1, 3, { idempotent: true })),
        async () => oneInFlightSamples.get('plain')!.push(await rateOf(-1, 3, { maxInFlightRequests: 1 })),
        async () => oneInFlightSamples.get('wafka')!.push(await rateOf(-1, 3, { idempotent: true, maxInFlightRequests: 1 })),
      ];
      for (const i of r % 2 ? [4, 3, 2, 1, 0] : [0, 1, 2, 3, 4]) await steps[i]();
      log(`round ${r + 1}/${rounds}: acks=-1 RF=3 ${samples.get('wafka')!.at(-1)!.toFixed(0)} rec/s, acks=1 RF=1 ${samples.get('acks1-rf1')!.at(-1)!.toFixed(0)} rec/s, ` +
        `idempotent acks=-1 RF=3 ${idempotentSamples.get('wafka')!.at(-1)!.toFixed(0)} rec/s; 1 in flight: plain ${oneInFlightSamples.get('plain')!.at(-1)!.toFixed(0)}, idempotent ${oneInFlightSamples.get('wafka')!.at(-1)!.toFixed(0)} rec/s`);
    }
    const throughput: Case = {
      metric: 'e2e-produce-acks-all-rf3-node',
      unit: 'records/s',
      higherIsBetter: true,
      note: `${n} records of 100-byte JSON values per round, ${rounds} rounds, 3 partitions; 3 brokers in worker threads on files`,
      goal: { peer: 'acks1-rf1', ratio: 0.6 },
      contenders: [
        { name: 'wafka', role: 'wafka', note: 'acks=-1, replication factor 3, minInsyncReplicas 2: acknowledged once both followers fetched the records' },
        { name: 'acks1-rf1', role: 'peer', note: 'the same producer and cluster with acks=1 and replication factor 1 (Kafka\'s 2014 benchmark: 3x synchronous replication ran at 0.51x of this)' },
      ],
    };
    report(throughput, samples);
    // Idempotent against plain, both acks=-1 RF=3, the same records, the same rounds.
    const idempotentCase = (metric: string, setting: string, ratio: number, wafkaNote: string, plainNote: string): Case => ({
      metric,
      unit: 'records/s',
      higherIsBetter: true,
      note: `the same ${n} records per round, acks=-1, replication factor 3, minInsyncReplicas 2; ${rounds} rounds; ${setting}`,
      goal: { peer: 'plain', ratio },
      contenders: [{ name: 'wafka', role: 'wafka', note: wafkaNote }, { name: 'plain', role: 'peer', note: plainNote }],
    });
    report(idempotentCase('produce-idempotent-node', "the producers' defaults (maxInFlightRequests 5)", 1.0,
      'idempotent: true (a producer id, a sequence per partition checked by the leader): up to 5 requests of a partition in flight, one batch each',
      'the same producer without idempotence: one request of a partition in flight (several of its batches in it)'), idempotentSamples);
    report(idempotentCase('produce-idempotent-1-in-flight-node', 'maxInFlightRequests 1 for both', 0.95,
      'idempotent: true, maxInFlightRequests 1: one request per broker in flight, one batch per partition in it',
      'the same producer without idempotence, maxInFlightRequests 1'), oneInFlightSamples);

    const count = quick ? 100 : 300;
    const latency = new Map<string, { p50: number[]; p99: number[] }>([['wafka', { p50: [], p99: [] }], ['acks1-rf1', { p50: [], p99: [] }]]);
    for (let r = 0; r < 2; r++) {
      for (const [name, rf, acks] of [['wafka', 3, -1], ['acks1-rf1', 1, 1]] as const) {
        const s = latencyStats(await sendLatencies(ctx, await newTopic(ctx, 1, rf), values[0], count, 2, acks));
        latency.get(name)!.p50.push(s.p50);
        latency.get(name)!.p99.push(s.p99);
      }
    }
    for (const q of ['p50', 'p99'] as const) {
      const c: Case = {
        metric: `produce-latency-acks-all-rf3-${q}-node`,
        unit: 'ms',
        higherIsBetter: false,
        note: `${count} single-record sends per run, each awaited, 2 ms apart, 2 runs; the ${q} of each run`,
        ...(q === 'p99' ? { goal: { value: 3 } } : {}),
        contenders: [
          { name: 'wafka', role: 'wafka', note: 'lingerMs 0, acks=-1, replication factor 3' },
          { name: 'acks1-rf1', role: 'peer', note: 'lingerMs 0, acks=1, replication factor 1' },
        ],
      };
      report(c, new Map([...latency].map(([k, v]) => [k, v[q]])));
    }

    // Failover: end or hang the leader's worker; time until a send is acknowledged by the new leader.
    const faults = quick ? 5 : 20;
    const sessionTimeoutMs = 1_500; // startCluster's default brokerSessionTimeoutMs
    const topic = await newTopic(ctx, 1, 3);
    const producer = ctx.wafka.producer({ lingerMs: 0, acks: -1, allowAutoTopicCreation: false, retry: { retries: 1_000, initialRetryTime: 5, maxRetryTime: 50 } });
    await producer.connect();
    const leaderOf = async () => {
      for (const id of cluster.bootstrap.nodeIds) {
        try { return (await cluster.broker(id).metadata({ topics: [topic] })).topics[0].partitions[0]; } catch { /* down or hung */ }
      }
      throw new Error('no broker answers');
    };
    const failover = async (fault: (leader: number) => Promise<void> | void): Promise<number[]> => {
      const times: number[] = [];
      for (let k = 0; k < faults; k++) {
        await producer.send({ topic, messages: [{ value: 'before' }] });
        const before = await leaderOf();
        const t0 = performance.now();
        await fault(before.leader);
        await producer.send({ topic, messages: [{ value: 'after' }] });
        times.push(performance.now() - t0);
        // Let the broker come back (restarted, or awake again) and rejoin the ISR before the next fault.
        for (let i = 0; i < 600 && (await leaderOf()).isr.length < 3; i++) await new Promise((r) => setTimeout(r, 50));
      }
      return times;
    };
    const cases = [
      {
        kind: 'terminated', goalMs: 500, times: await failover((leader) => cluster.killBroker(leader)),
        what: "kills of the leader's worker thread (Worker.terminate)",
        how: 'the cluster sees the worker die, the controller fences it and elects a new leader from the ISR, the producer refreshes its metadata and retries',
      },
      {
        kind: 'hung', goalMs: sessionTimeoutMs + 500, times: await failover((leader) => cluster.hangBroker(leader, sessionTimeoutMs + 2_000)),
        what: `hangs of the leader's worker thread (a busy loop of ${sessionTimeoutMs + 2_000} ms: alive, holding its lock, answering nothing)`,
        how: `the controller fences it when its heartbeats stop for brokerSessionTimeoutMs (${sessionTimeoutMs} ms) and elects a new leader from the ISR; when the hung broker wakes it is a follower and what it took meanwhile is refused`,
      },
    ];
    await producer.disconnect();
    for (const { kind, goalMs, times, what, how } of cases) {
      const sorted = [...times].sort((a, b) => a - b);
      for (const [q, value] of [['p50', sorted[Math.floor(sorted.length / 2)]], ['p99', sorted[sorted.length - 1]]] as const) {
        const c: Case = {
          metric: `failover-${kind}-${q}-node`,
          unit: 'ms',
          higherIsBetter: false,
          note: `${faults} ${what}, each timed from the fault to the first acks=-1 send the new leader acknowledges; ${q === 'p99' ? 'the worst of them' : 'the median'}. Kafka needs about its broker session timeout (9 s) for a broker that dies without a clean shutdown`,
          ...(q === 'p99' ? { goal: { value: goalMs } } : {}),
          contenders: [{ name: 'wafka', role: 'wafka', note: how }],
        };
        report(c, new Map([['wafka', [value]]]));
      }
    }
    await ctx.admin.disconnect();
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
