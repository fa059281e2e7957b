/**
 * The start suite (Chromium, on the page of an on-disk profile): how long a
 * cluster of three OPFS broker workers takes from startCluster() until a
 * partition whose every replica holds 10,000 segments takes an acks=-1
 * produce, against the same for a partition with one empty segment
 * (start-empty), rounds interleaved. After a clean stop (the clean-close
 * record in each log's manifest) and after a crash (the record removed, as
 * a crash leaves the manifest: the active segment is scanned).
 */
import { opfsBrokerDir } from '../../src/cluster/index.ts';
import { SEGMENT_MANIFEST } from '../../src/storage/index.ts';
import { summarize, type Case, type CaseResult } from '../lib/measure.ts';
import { caseTable } from '../lib/report.ts';
import { loadBenchCore } from '../lib/core-load.ts';
import type { BrowserSuiteContext } from '../browser/protocol.ts';

type Package = Pick<typeof import('../../src/index.ts'), 'startCluster' | 'Wafka'>;
/** The built package (dist/index.js), served beside the bench page. */
const wafka: Package = await import(/* @vite-ignore */ `${location.origin}/dist/index.js`);
const { startCluster } = wafka;

async function openClient(cluster: Awaited<ReturnType<Package['startCluster']>>) {
  const client = new wafka.Wafka({ clientId: 'bench', cluster, logLevel: 1 });
  const admin = client.admin();
  await admin.connect();
  return { wafka: client, admin };
}

const BROKERS = 3;
const TOPIC = 'big';
/** Bytes of the clean-close record at the end of a manifest (segment-manifest.ts ENTRY_BYTES). */
const CLEAN_RECORD_BYTES = 52;

async function createTopic(clusterId: string): Promise<void> {
  const cluster = await startCluster({ brokers: BROKERS, storage: 'opfs', clusterId });
  try {
    const ctx = await openClient(cluster);
    await ctx.admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1, replicationFactor: BROKERS, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }], waitForLeaders: true });
    await ctx.admin.disconnect();
  } finally {
    await cluster.stop();
  }
}

/** ms from startCluster() until one acks=-1 record is in every in-sync replica of the partition. */
async function startAndProduce(clusterId: string, log?: (s: string) => void): Promise<number> {
  const t0 = performance.now();
  const cluster = await startCluster({ brokers: BROKERS, storage: 'opfs', clusterId, startTimeoutMs: 120_000 });
  const startedMs = performance.now() - t0;
  try {
    const ctx = await openClient(cluster);
    const producer = ctx.wafka.producer({ acks: -1, lingerMs: 0, allowAutoTopicCreation: false });
    await producer.connect();
    const connectedMs = performance.now() - t0;
    await producer.send({ topic: TOPIC, messages: [{ value: 'started' }] });
    const ms = performance.now() - t0;
    log?.(`  startCluster ${startedMs.toFixed(0)} ms, clients connected ${connectedMs.toFixed(0)} ms, first send acknowledged ${ms.toFixed(0)} ms`);
    await producer.disconnect();
    await ctx.admin.disconnect();
    return ms;
  } finally {
    await cluster.stop();
  }
}

function fill(clusterId: string, nodeId: number, segments: number, log: (s: string) => void): Promise<{ files: number; ms: number }> {
  const worker = new Worker(new URL('./start-fill.ts', import.meta.url), { type: 'module' });
  return new Promise((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<{ type: string; files: number; ms: number; line?: string; error?: string }>) => {
      if (e.data.type === 'log') {
        log(e.data.line!);
        return;
      }
      worker.terminate();
      if (e.data.type === 'done') resolve(e.data);
      else reject(new Error(e.data.error));
    };
    worker.onerror = (e) => reject(new Error(`fill worker: ${e.message}`));
    worker.postMessage({ brokerDir: opfsBrokerDir(clusterId, nodeId), logDir: `${TOPIC}-0`, segments });
  });
}

async function dir(path: string): Promise<FileSystemDirectoryHandle> {
  let d = await navigator.storage.getDirectory();
  for (const part of path.split('/').filter(Boolean)) d = await d.getDirectoryHandle(part);
  return d;
}

/** What a crash leaves in each replica's manifest: no clean-close record (the page's async file API, no sync handle). */
async function dropCleanRecords(clusterId: string): Promise<void> {
  for (let id = 0; id < BROKERS; id++) {
    const fh = await (await dir(`${opfsBrokerDir(clusterId, id)}/${TOPIC}-0`)).getFileHandle(SEGMENT_MANIFEST);
    const size = (await fh.getFile()).size;
    const w = await fh.createWritable({ keepExistingData: true });
    await w.truncate(size - CLEAN_RECORD_BYTES);
    await w.close();
  }
}

async function cleanup(clusterIds: string[]): Promise<void> {
  const root = await navigator.storage.getDirectory();
  await root.removeEntry('wafka', { recursive: true }).catch(() => {});
  for (const db of await indexedDB.databases()) {
    if (db.name && clusterIds.some((c) => db.name!.includes(c))) {
      await new Promise<void>((r) => {
        const req = indexedDB.deleteDatabase(db.name!);
        req.onsuccess = req.onerror = req.onblocked = () => r();
      });
    }
  }
}

export async function run({ opts, log }: BrowserSuiteContext): Promise<CaseResult[]> {
  const quick = !!opts.quick;
  log(`wafka core: ${await loadBenchCore()}`);
  const segments = Number(opts.segments ?? 10_000);
  const rounds = Number(opts.rounds ?? (quick ? 2 : 4));
  const stamp = Date.now().toString(36);
  const big = `bench-start-big-${stamp}`;
  const empty = `bench-start-empty-${stamp}`;
  const results: CaseResult[] = [];
  try {
    await createTopic(big);
    await createTopic(empty);
    const t0 = performance.now();
    const filled = await Promise.all(Array.from({ length: BROKERS }, (_, id) => fill(big, id, segments, log)));
    log(`setup: ${segments} segments in each of ${BROKERS} replicas (${filled.map((f) => f.files).join('/')} files) in ${(performance.now() - t0).toFixed(0)} ms`);
    // Warm-up: module loading, Wasm compilation, the first OPFS directory walks.
    log(`warm-up: big ${(await startAndProduce(big)).toFixed(0)} ms, empty ${(await startAndProduce(empty)).toFixed(0)} ms`);
    const clean = new Map<string, number[]>([['wafka', []], ['start-empty', []]]);
    const crash = new Map<string, number[]>([['wafka', []], ['start-empty', []]]);
    for (let r = 0; r < rounds; r++) {
      const steps: [Map<string, number[]>, string, () => Promise<number>][] = [
        [clean, 'wafka', () => startAndProduce(big, log)],
        [clean, 'start-empty', () => startAndProduce(empty, log)],
        [crash, 'wafka', async () => {
          await dropCleanRecords(big);
          return startAndProduce(big, log);
        }],
        [crash, 'start-empty', async () => {
          await dropCleanRecords(empty);
          return startAndProduce(empty, log);
        }],
      ];
      const order = r % 2 === 0 ? [0, 1, 2, 3] : [1, 0, 3, 2];
      for (const i of order) steps[i][0].get(steps[i][1])!.push(await steps[i][2]());
      log(`round ${r + 1}/${rounds}: clean ${clean.get('wafka')!.at(-1)!.toFixed(0)} vs ${clean.get('start-empty')!.at(-1)!.toFixed(0)} ms, crash ${crash.get('wafka')!.at(-1)!.toFixed(0)} vs ${crash.get('start-empty')!.at(-1)!.toFixed(0)} ms`);
    }
    const note = `${BROKERS} broker workers on OPFS, one partition with replication factor ${BROKERS}; timed from startCluster() until one producer.send (acks=-1, lingerMs 0) is acknowledged; ${rounds} rounds, interleaved`;
    for (const [metric, samples, how] of [
      ['start-opfs-10k-segments', clean, 'after a clean stop'],
      ['start-opfs-10k-segments-crash', crash, 'after a crash (no clean-close record in the manifests: each replica scans its active segment)'],
    ] as const) {
      const c: Case = {
        metric,
        unit: 'ms',
        higherIsBetter: false,
        goals: [{ value: 1000 }],
        note: `${note}; ${how}`,
        contenders: [
          { name: 'wafka', role: 'wafka', note: `every replica holds ${segments} segments (one small batch each, built by PartitionLog and copied into OPFS)` },
          { name: 'start-empty', role: 'peer', note: 'the same cluster start with the partition holding one empty segment' },
        ],
      };
      const res = summarize(c, samples);
      log(caseTable(res));
      results.push(res);
    }
  } finally {
    await cleanup([big, empty]);
  }
  return results;
}
