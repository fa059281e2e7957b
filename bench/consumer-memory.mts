// What a consumer's process holds while it reads a whole topic (not a benchmark suite: one run, printed):
//   node --expose-gc --import tsx bench/consumer-memory.mts [MiB=256] [files|memory] [workers|in-process] [dir=bench-data/consumer-memory]
// Produces a topic of MiB (1 kB values, one partition), then consumes it from the beginning and prints
// RSS, heap and ArrayBuffer bytes (after a full GC when --expose-gc is given) after producing, at the
// consumer's peak (sampled every 50,000 records), after it caught up, after disconnect and after stop.
import { rmSync } from 'node:fs';
import { Wafka, logLevel, startCluster } from '../src/index.ts';

const mib = Number(process.argv[2] ?? 256);
const storage = (process.argv[3] ?? 'files') as 'files' | 'memory';
const inProcess = process.argv[4] === 'in-process';
const dir = process.argv[5] ?? 'bench-data/consumer-memory';
const gc = (globalThis as { gc?: () => void }).gc;
const MiB = 1024 * 1024;
const show = (label: string) => {
  gc?.();
  const m = process.memoryUsage();
  console.log(`${label.padEnd(18)} rss ${(m.rss / MiB).toFixed(0).padStart(5)} MiB   heap ${(m.heapUsed / MiB).toFixed(0).padStart(4)} MiB   arrayBuffers ${(m.arrayBuffers / MiB).toFixed(0).padStart(5)} MiB`);
};

if (storage === 'files') rmSync(dir, { recursive: true, force: true });
const cluster = await startCluster({ brokers: 1, storage, dir, inProcess, clusterId: 'consumer-memory' });
const wafka = new Wafka({ clientId: 'consumer-memory', cluster, logLevel: logLevel.WARN });
const admin = wafka.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic: 'big', numPartitions: 1 }] });
const producer = wafka.producer({ lingerMs: 5, batchSizeBytes: 256 * 1024 });
await producer.connect();
const value = 'x'.repeat(1000);
const records = Math.ceil((mib * MiB) / 1024);
for (let i = 0; i < records; i += 4000) {
  await producer.send({ topic: 'big', acks: 1, messages: Array.from({ length: Math.min(4000, records - i) }, (_, j) => ({ value: `${i + j}${value}` })) });
}
await producer.disconnect();
console.log(`${mib} MiB topic, ${records} records, storage ${storage}, brokers ${inProcess || storage === 'memory' ? 'in-process' : 'in worker threads'}`);
show('after produce');

const consumer = wafka.consumer({ groupId: 'consumer-memory', maxWaitTimeInMs: 100 });
await consumer.connect();
await consumer.subscribe({ topics: ['big'], fromBeginning: true });
let consumed = 0;
let peakRss = 0;
let caughtUp!: () => void;
const done = new Promise<void>((resolve) => { caughtUp = resolve; });
const startedMs = Date.now();
await consumer.run({
  eachMessage: async () => {
    if (++consumed % 50_000 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (consumed === records) caughtUp();
  },
});
await done;
console.log(`consumed ${consumed} records in ${Date.now() - startedMs} ms; peak rss sampled ${(peakRss / MiB).toFixed(0)} MiB`);
show('after catch-up');
await consumer.disconnect();
show('after disconnect');
await admin.disconnect();
await cluster.stop();
show('after stop');
if (storage === 'files') rmSync(dir, { recursive: true, force: true });
