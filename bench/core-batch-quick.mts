// Quick sanity numbers for the core batch path (not the benchmark suite):
//   npx tsx bench/core-batch-quick.mts
import { createRequire } from 'node:module';
import * as core from '../src/core/index.ts';

const require = createRequire(import.meta.url);
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0');
const Record = require('kafkajs/src/protocol/recordBatch/record/v0');
const Decoder = require('kafkajs/src/protocol/decoder');
const decodeKafkaJS = require('kafkajs/src/protocol/recordBatch/v0/decoder');

await core.loadCore();
const N = 1000;
const now = Date.now();
const rnd = (n: number) => Array.from({ length: n }, (_, i) => String.fromCharCode(97 + ((i * 7 + n) % 26))).join('');
const records = Array.from({ length: N }, (_, i) => ({ key: rnd(12) + String(i).padStart(4, '0'), value: rnd(100), timestamp: now + i }));

async function time(label: string, rounds: number, fn: () => unknown) {
  for (let i = 0; i < Math.max(3, rounds / 10); i++) await fn();
  const t = performance.now();
  for (let i = 0; i < rounds; i++) await fn();
  const dt = performance.now() - t;
  const rate = (rounds * N) / (dt / 1000);
  console.log(`${label.padEnd(34)} ${(rate / 1e6).toFixed(2)} M rec/s`);
  return rate;
}

const wEnc = await time('wafka encode (none)', 2000, () => core.encodeBatchSync(records, { baseTimestamp: now }));
const kEnc = await time('kafkajs encode (none)', 100, () =>
  RecordBatch({ firstTimestamp: now, maxTimestamp: now + N - 1, lastOffsetDelta: N - 1,
    records: records.map((r, i) => Record({ offsetDelta: i, timestampDelta: r.timestamp - now, key: Buffer.from(r.key), value: Buffer.from(r.value) })) }));
console.log(`encode ratio ${(wEnc / kEnc).toFixed(1)}x`);
const batch = core.encodeBatchSync(records, { baseTimestamp: now });
const wDec = await time('wafka decode+crc (read key,value)', 2000, () => {
  const b = core.decodeBatchSync(batch);
  let s = 0;
  for (const r of b.records) s += r.key!.length + r.value!.length;
  return s;
});
const buf = Buffer.from(batch);
const kDec = await time('kafkajs decode (no crc)', 200, () => decodeKafkaJS(new Decoder(buf)));
console.log(`decode ratio ${(wDec / kDec).toFixed(1)}x`);
for (const c of [core.CompressionTypes.LZ4, core.CompressionTypes.Snappy]) {
  await time(`wafka encode (${c === 3 ? 'lz4' : 'snappy'})`, 500, () => core.encodeBatchSync(records, { baseTimestamp: now, compression: c }));
  const cb = core.encodeBatchSync(records, { baseTimestamp: now, compression: c });
  await time(`wafka decode (${c === 3 ? 'lz4' : 'snappy'})`, 500, () => core.decodeBatchSync(cb).records.length);
}
const big = new Uint8Array(1 << 20).map((_, i) => i * 31);
let t = performance.now();
for (let i = 0; i < 300; i++) core.crc32c(big);
console.log(`crc32c 1 MiB (incl. copy in)          ${((300 * big.length) / ((performance.now() - t) / 1000) / 1e9).toFixed(2)} GB/s`);
const binRecords = records.map((r) => ({ key: new TextEncoder().encode(r.key), value: new TextEncoder().encode(r.value), timestamp: r.timestamp }));
await time('wafka encode (none, Uint8Array)', 2000, () => core.encodeBatchSync(binRecords, { baseTimestamp: now }));
await time('wafka decode+crc (no field access)', 2000, () => core.decodeBatchSync(batch).records.length);
