// Kafka's transactions system test (tests/kafkatest/tests/core/transactions_test.py), scaled to these machines:
// 100,000 input records in 3 partitions; 3 transactional copiers in one group copy them to an output topic in
// transactions of 500 with sendOffsets. In the first run each copier's worker thread is terminated 3 times once
// the copy is past 20% (a new worker takes its transactional id and fences the old one); in the second the
// leader brokers' workers are terminated. Then the output is the input as a set, with no duplicate and each
// partition in input order, and a read_committed consumer running all along saw no aborted or duplicate record.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TransferListItem, Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { logLevel, Wafka } from '../../src/client/index.ts';
import { startCluster, type Cluster } from '../../src/cluster/index.ts';
import { startNodeWorker } from '../../src/transport/node-worker.ts';
import { INPUT, OUTPUT, startCopier, type Copier } from './fixtures/copier.ts';
import { partitionState, until } from './kill-the-leader.ts';

const RECORDS = Number(process.env.WAFKA_EOS_RECORDS ?? 100_000);
const PARTITIONS = 3;
const COPIERS = ['a', 'b', 'c'];

let cluster: Cluster | undefined;
let dir: string | undefined;
const closers: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await Promise.resolve(close()).catch(() => {});
  await cluster?.stop();
  cluster = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A cluster with the input produced; a read_committed consumer on the output records what it sees, from the start. */
async function setUp(clusterId: string) {
  dir = mkdtempSync(join(tmpdir(), 'wafka-eos-'));
  cluster = await startCluster({ brokers: 3, storage: 'files', dir, clusterId });
  const c = cluster;
  const wafka = new Wafka({ clientId: 'eos', cluster: c, logLevel: logLevel.NOTHING, retry: { initialRetryTime: 20, retries: 1_000 } });
  const admin = wafka.admin();
  await admin.connect();
  closers.push(() => admin.disconnect());
  const minIsr = [{ name: 'min.insync.replicas', value: '2' }];
  await admin.createTopics({ topics: [INPUT, OUTPUT].map((topic) => ({ topic, numPartitions: PARTITIONS, replicationFactor: 3, configEntries: minIsr })), waitForLeaders: true });
  const input = wafka.producer({ idempotent: true, lingerMs: 2 });
  await input.connect();
  const sends: Promise<unknown>[] = [];
  for (let from = 0; from < RECORDS; from += 1_000) {
    sends.push(input.send({ topic: INPUT, messages: Array.from({ length: Math.min(1_000, RECORDS - from) }, (_, i) => ({ value: String(from + i), partition: (from + i) % PARTITIONS })) }));
    if (sends.length >= 8) await sends.shift();
  }
  await Promise.all(sends);
  await input.disconnect();

  // By partition and offset: a record delivered again (after a rebalance, a retried fetch) is one record of the log.
  const byOffset = new Map<string, { partition: number; offset: bigint; value: number }>();
  const seen: { partition: number; value: number }[] = [];
  const verifier = wafka.consumer({ groupId: 'verifier', isolationLevel: 'read_committed', maxWaitTimeInMs: 50, retry: { initialRetryTime: 20, retries: 1_000 } });
  await verifier.connect();
  closers.push(() => verifier.disconnect());
  await verifier.subscribe({ topics: [OUTPUT], fromBeginning: true });
  await verifier.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const key = `${batch.partition}:${m.offset}`;
        if (byOffset.has(key)) continue;
        const record = { partition: batch.partition, offset: BigInt(m.offset), value: Number(new TextDecoder().decode(m.value!)) };
        byOffset.set(key, record);
        seen.push(record);
      }
    },
  });
  return { c, wafka, seen };
}

/** The output as the read_committed consumer saw it: every input record once, each partition in input order. */
function expectExactlyOnce(seen: { partition: number; value: number }[]): void {
  const values = seen.map((s) => s.value);
  const distinct = new Set(values);
  expect(values.length - distinct.size).toBe(0); // duplicates, or aborted records copied again
  expect(distinct.size).toBe(RECORDS);
  for (let i = 0; i < RECORDS; i++) if (!distinct.has(i)) throw new Error(`record ${i} was never copied`);
  for (let p = 0; p < PARTITIONS; p++) {
    const inPartition = seen.filter((s) => s.partition === p).map((s) => s.value);
    for (const v of inPartition) expect(v % PARTITIONS).toBe(p);
    expect(inPartition).toEqual([...inPartition].sort((a, b) => a - b));
  }
}

describe("Kafka's transactions system test, scaled", () => {
  it(`copiers in worker threads, each terminated 3 times past 20%: ${RECORDS} records copied exactly once`, async () => {
    const { c, seen } = await setUp('eos-clients');
    const workers = new Map<string, Worker>();
    const spawn = async (name: string) => {
      const worker = startNodeWorker(new URL('./fixtures/copier.node-worker.ts', import.meta.url), { clusterId: c.clusterId, name }, { name: `copier-${name}` });
      workers.set(name, worker);
      const started = new Promise<void>((resolve, reject) => {
        worker.once('message', (m: { started?: boolean }) => { if (m.started) resolve(); });
        worker.once('error', reject);
      });
      const ports = c.bootstrap.nodeIds.map((id) => c.connectPort(id));
      worker.postMessage({ ports }, ports as unknown as TransferListItem[]); // the cluster's ports are worker_threads ports on Node
      await started;
    };
    closers.push(() => Promise.all([...workers.values()].map((w) => w.terminate())));
    for (const name of COPIERS) await spawn(name);

    let kills = 0;
    for (let round = 0; round < 3; round++) {
      for (const name of COPIERS) {
        await until(async () => seen.length >= RECORDS * (0.2 + kills * 0.06), 240_000);
        await workers.get(name)!.terminate(); // mid-transaction, most likely: a zombie's transaction is left open
        kills++;
        await spawn(name);
      }
    }
    await until(async () => seen.length >= RECORDS, 240_000);
    await new Promise((r) => setTimeout(r, 500)); // anything extra would show now
    expectExactlyOnce(seen);
  }, 600_000);

  it(`leader brokers' workers terminated 3 times past 20%: ${RECORDS} records copied exactly once`, async () => {
    const { c, wafka, seen } = await setUp('eos-brokers');
    const copiers: Copier[] = [];
    for (const name of COPIERS) copiers.push(await startCopier(wafka, name));
    closers.push(() => Promise.all(copiers.map((copier) => copier.stop())));

    for (let k = 0; k < 3; k++) {
      await until(async () => seen.length >= RECORDS * (0.2 + k * 0.2), 240_000);
      const { leader } = await partitionState(c, OUTPUT, k % PARTITIONS);
      await c.killBroker(leader);
      // The cluster starts it again; the next kill waits until it is back in every in-sync replica set.
      await until(async () => (await Promise.all([INPUT, OUTPUT].flatMap((t) => Array.from({ length: PARTITIONS }, (_, p) => partitionState(c, t, p)))))
        .every((s) => s.isr.length === 3), 60_000);
    }
    await until(async () => seen.length >= RECORDS, 240_000);
    await new Promise((r) => setTimeout(r, 500));
    expectExactlyOnce(seen);
  }, 600_000);
});
