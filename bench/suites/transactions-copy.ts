/**
 * The transactional copy, runtime-agnostic (Node with broker worker threads on
 * files, a Chromium page with OPFS broker workers): one pre-produced input
 * topic is copied to a fresh output topic per round by one consumer and one
 * producer in this thread, three ways, rounds interleaved (A B C, C B A, ...):
 *
 * - txn-100 / txn-1000: Kafka's consume-transform-produce. Records are taken
 *   from eachBatch into transactions of exactly 100 (or 1,000) records (a
 *   transaction may span batches and partitions); per transaction: send()
 *   each slice (not awaited), sendOffsets (AddOffsetsToTxn, TxnOffsetCommit
 *   with the consumer's group metadata), await the sends, then
 *   `await transaction.commit()` — that call alone is the commit latency:
 *   the records are acknowledged already, so it is the flush (nothing left)
 *   and EndTxn: PrepareCommit written to __transaction_state (replicated),
 *   COMMIT markers written to every partition in the transaction (the output
 *   partitions and the group's offsets partition), CompleteCommit written.
 * - plain: the same copy without transactions, at-least-once: eachBatch sends
 *   the batch's records (acks=-1), awaits them, then commits the batch's
 *   next offset with commitOffsets (what autoCommit does after every batch).
 *
 * Throughput is timed from the first batch handed to eachBatch until the
 * last record is copied and committed (group join and connect are outside).
 */
import type { Consumer, Producer, Transaction } from '../../src/index.ts';
import { median, percentile, round, summarize, type Case, type CaseResult } from '../lib/measure.ts';
import { caseTable } from '../lib/report.ts';
import type { E2eContext } from './e2e-wafka.ts';
import { e2eValues } from './e2e-data.ts';

export const COPY_PARTITIONS = 3;
/** The producers of every contender (a transactional producer is idempotent, hence acks=-1). */
const PRODUCER = { lingerMs: 0, batchSizeBytes: 256 * 1024, allowAutoTopicCreation: false };
const CONSUMER = { maxWaitTimeInMs: 50, heartbeatInterval: 500, sessionTimeout: 30_000 };

type Mode = 'txn-100' | 'txn-1000' | 'plain';
const SIZE: Record<Mode, number> = { 'txn-100': 100, 'txn-1000': 1000, plain: 0 };

export interface CopyRun {
  ms: number;
  /** Each commit's ms: transaction.commit(), or the plain copy's commitOffsets. */
  commitMs: number[];
  /** Per transaction: ms in transaction() + the sends' calls, in sendOffsets, and awaiting the sends after it. */
  phases: { open: number[]; offsets: number[]; sends: number[] };
}

let seq = 0;

async function topic(ctx: E2eContext, prefix: string): Promise<string> {
  const name = `${prefix}-${Date.now().toString(36)}-${++seq}`;
  await ctx.admin.createTopics({
    topics: [{ topic: name, numPartitions: COPY_PARTITIONS, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }],
    waitForLeaders: true,
  });
  return name;
}

/** The transform: the value's ASCII letters upper-cased, into a new buffer (the same in every contender). */
function transform(value: Uint8Array | null): Uint8Array | null {
  if (!value) return value;
  const out = new Uint8Array(value.byteLength);
  for (let i = 0; i < value.byteLength; i++) {
    const b = value[i];
    out[i] = b >= 97 && b <= 122 ? b - 32 : b;
  }
  return out;
}

/** Pre-produces `n` 100-byte JSON values to a new input topic (acks=-1, replication factor 3). */
export async function produceInput(ctx: E2eContext, n: number): Promise<string> {
  const input = await topic(ctx, 'copy-in');
  const values = e2eValues(n);
  const producer = ctx.wafka.producer({ ...PRODUCER, lingerMs: 2, acks: -1 });
  await producer.connect();
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < n; i += 1000) {
    sends.push(producer.send({ topic: input, messages: values.slice(i, i + 1000).map((value) => ({ value })) }));
    if (sends.length >= 16) await sends.shift();
  }
  await Promise.all(sends);
  await producer.disconnect();
  return input;
}

/** Copies the first `n` records of `input` one way; returns ms and each commit's ms. */
export async function copy(ctx: E2eContext, input: string, mode: Mode, n: number, timeoutMs = 300_000): Promise<CopyRun> {
  const output = await topic(ctx, `copy-out-${mode}`);
  const groupId = `copy-${output}`;
  const consumer: Consumer = ctx.wafka.consumer({ groupId, ...CONSUMER });
  const producer: Producer = mode === 'plain'
    ? ctx.wafka.producer({ ...PRODUCER, acks: -1 })
    : ctx.wafka.producer({ ...PRODUCER, transactionalId: `copy-${output}` });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: [input], fromBeginning: true });
  const size = SIZE[mode];
  const commitMs: number[] = [];
  const phases: CopyRun['phases'] = { open: [], offsets: [], sends: [] };
  let opened = 0;
  let copied = 0;
  let t0 = 0;
  let t1 = 0;
  let finish!: () => void;
  let fail!: (e: unknown) => void;
  const finished = new Promise<void>((resolve, reject) => { finish = resolve; fail = reject; });
  consumer.on(consumer.events.CRASH, (e: unknown) => fail(new Error(`consumer crashed: ${JSON.stringify((e as { payload?: unknown }).payload ?? e)}`)));
  const done = (): void => { t1 = performance.now(); finish(); };

  // The open transaction: its slices in flight, the next offset per input partition, records in it.
  let txn: Transaction | null = null;
  let sends: Promise<unknown>[] = [];
  const offsets = new Map<number, bigint>();
  let inTxn = 0;
  const commit = async (): Promise<void> => {
    const to = performance.now();
    await txn!.sendOffsets({
      consumerGroupId: groupId, consumerGroupMetadata: consumer.groupMetadata(),
      topics: [{ topic: input, partitions: [...offsets].map(([partition, offset]) => ({ partition, offset: offset.toString() })) }],
    });
    const ts = performance.now();
    await Promise.all(sends);
    const tc = performance.now();
    phases.open.push(to - opened);
    phases.offsets.push(ts - to);
    phases.sends.push(tc - ts);
    await txn!.commit();
    commitMs.push(performance.now() - tc);
    copied += inTxn;
    txn = null;
    sends = [];
    offsets.clear();
    inTxn = 0;
  };

  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      if (copied >= n) return;
      if (t0 === 0) t0 = performance.now();
      const messages = batch.messages;
      try {
        if (mode === 'plain') {
          const take = Math.min(messages.length, n - copied);
          await producer.send({ topic: output, acks: -1, messages: messages.slice(0, take).map((m) => ({ value: transform(m.value), partition: batch.partition })) });
          const tc = performance.now();
          await consumer.commitOffsets([{ topic: input, partition: batch.partition, offset: (BigInt(messages[take - 1].offset) + 1n).toString() }]);
          commitMs.push(performance.now() - tc);
          copied += take;
        } else {
          for (let i = 0; i < messages.length && copied + inTxn < n;) {
            if (!txn) {
              opened = performance.now();
              txn = await producer.transaction();
            }
            const take = Math.min(size - inTxn, messages.length - i, n - copied - inTxn);
            const slice = messages.slice(i, i + take);
            const sent = txn.send({ topic: output, messages: slice.map((m) => ({ value: transform(m.value), partition: batch.partition })) });
            sent.catch(() => {}); // its failure fails the commit
            sends.push(sent);
            offsets.set(batch.partition, BigInt(slice[take - 1].offset) + 1n);
            inTxn += take;
            i += take;
            if (inTxn === size || copied + inTxn === n) await commit();
          }
        }
      } catch (error) {
        fail(error);
        throw error;
      }
      if (copied >= n) done();
    },
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${mode}: copied ${copied} of ${n} after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([finished, timeout]);
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
    await producer.disconnect();
  }
  // What the output holds: every record copied (a transactional copy adds one marker per partition per transaction).
  const stored = (await ctx.admin.fetchTopicOffsets(output)).reduce((s, p) => s + Number(p.high), 0);
  if (stored < n) throw new Error(`${mode}: the output holds ${stored} offsets for ${n} records copied`);
  return { ms: t1 - t0, commitMs, phases };
}

export interface TransactionCasesOptions { quick: boolean; rounds?: number; runtime: 'node' | 'chromium'; where: string }

/** Runs the interleaved rounds on a started cluster; returns txn-copy-100, txn-copy-1000 and txn-commit-latency. */
export async function runTransactionCases(ctx: E2eContext, o: TransactionCasesOptions, log: (s: string) => void): Promise<CaseResult[]> {
  const n = o.quick ? 10_000 : 30_000;
  const rounds = o.rounds ?? (o.quick ? 3 : 5);
  const t = performance.now();
  const input = await produceInput(ctx, n);
  log(`input: ${n} records of 100-byte JSON values in ${COPY_PARTITIONS} partitions (replication factor 3) in ${(performance.now() - t).toFixed(0)} ms`);
  // Warm-up (untimed): each way once over the first quarter.
  for (const mode of ['txn-100', 'txn-1000', 'plain'] as const) await copy(ctx, input, mode, n / 4);
  const modes: Mode[] = ['txn-100', 'txn-1000', 'plain'];
  const rate = new Map<string, number[]>(modes.map((m) => [m, []]));
  const p50 = new Map<string, number[]>(modes.map((m) => [m, []]));
  const p99 = new Map<string, number[]>(modes.map((m) => [m, []]));
  const commits = new Map<string, number>(modes.map((m) => [m, 0]));
  for (let r = 0; r < rounds; r++) {
    const line: string[] = [];
    for (const mode of r % 2 ? [...modes].reverse() : modes) {
      const run = await copy(ctx, input, mode, n);
      rate.get(mode)!.push(n / (run.ms / 1000));
      p50.get(mode)!.push(percentile(run.commitMs, 50));
      p99.get(mode)!.push(percentile(run.commitMs, 99));
      commits.set(mode, run.commitMs.length);
      line.push(`${mode} ${(n / (run.ms / 1000)).toFixed(0)} rec/s (${run.commitMs.length} commits, p50 ${percentile(run.commitMs, 50).toFixed(1)} ms, p99 ${percentile(run.commitMs, 99).toFixed(1)} ms${run.phases.open.length ? `; per transaction p50: open+send calls ${percentile(run.phases.open, 50).toFixed(1)} ms, sendOffsets ${percentile(run.phases.offsets, 50).toFixed(1)} ms, sends after it ${percentile(run.phases.sends, 50).toFixed(1)} ms` : ''})`);
    }
    log(`round ${r + 1}/${rounds}: ${line.join('; ')}`);
  }
  const anchors = "anchors: Kafka's transactional processing has a median latency of 6.3x naive streaming, Redpanda's 4.6x (end-to-end latency, not throughput)";
  const base = `${n} pre-produced records (100-byte JSON values, ${COPY_PARTITIONS} partitions, replication factor 3, minInsyncReplicas 2) copied to a new topic per round by one consumer and one producer; ${o.where}; ${rounds} rounds interleaved; timed from the first batch in eachBatch until the last record is copied and committed`;
  const plain = { name: 'plain', role: 'peer' as const, note: `the same copy without transactions: eachBatch sends the batch's records (acks=-1), awaits them, then commitOffsets of the batch's next offset, awaited (what autoCommit does after each batch); ${commits.get('plain')} batches per round` };
  const results: CaseResult[] = [];
  for (const [mode, ratio] of [['txn-100', 0.5], ['txn-1000', 0.8]] as const) {
    const c: Case = {
      metric: `txn-copy-${SIZE[mode]}-${o.runtime}`,
      unit: 'records/s',
      higherIsBetter: true,
      goal: { peer: 'plain', ratio },
      note: `${base}; ${anchors}`,
      contenders: [
        { name: mode, role: 'wafka', note: `consume (read_committed) → upper-case the value → produce, in transactions of exactly ${SIZE[mode]} records (one may span batches and partitions): send each slice, sendOffsets with the consumer's group metadata, await the sends, commit; ${commits.get(mode)} transactions per round` },
        plain,
      ],
    };
    const res = summarize(c, new Map([[mode, rate.get(mode)!], ['plain', rate.get('plain')!]]));
    log(caseTable(res));
    results.push(res);
  }
  const ms = (xs: number[]) => round(median(xs));
  const extra = {
    'txn-100': { p50Ms: ms(p50.get('txn-100')!), p99Ms: ms(p99.get('txn-100')!) },
    'txn-1000': { p50Ms: ms(p50.get('txn-1000')!), p99Ms: ms(p99.get('txn-1000')!) },
    'plain-commitOffsets': { p50Ms: ms(p50.get('plain')!), p99Ms: ms(p99.get('plain')!) },
  };
  const latency: Case = {
    metric: `txn-commit-latency-${o.runtime}`,
    unit: 'ms',
    higherIsBetter: false,
    goal: { value: 10 },
    note: `the p99 of each round's \`await transaction.commit()\` times in the txn-100 copy, median over ${rounds} rounds (p50s and the 1,000-record transactions in extra). commit() is called after the transaction's sends are acknowledged and its offsets sent, so what it times is producer.flush() (nothing left) and EndTxn, which the coordinator answers once PrepareCommit is stored by the __transaction_state partition's ISR (as Kafka): one replicated write; the COMMIT markers (its output partitions and the group's offsets partition) and CompleteCommit are written after, and the next transaction's first request waits for them (in sendOffsets' time); ${anchors}`,
    extra,
    contenders: [
      { name: 'txn-100', role: 'wafka', note: 'transaction.commit() of a 100-record transaction (at most 3 output partitions, plus the offsets partition)' },
      { name: 'plain', role: 'peer', note: "the plain copy's awaited commitOffsets after each batch: one replicated write to the offsets partition (its p99 over a few commits per round)" },
    ],
  };
  const res = summarize(latency, new Map([['txn-100', p99.get('txn-100')!], ['plain', p99.get('plain')!]]));
  log(caseTable(res));
  results.push(res);
  return results;
}
