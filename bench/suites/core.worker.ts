/**
 * The core suite in a Chromium dedicated worker: the cases of core-cases.ts
 * with the peers that run in a browser (hash-wasm, lz4-wasm's browser build
 * through vite-plugin-wasm, lz4js, snappyjs). KafkaJS (Node-only) is measured
 * in the Node suite only.
 */
import { createCRC32 } from 'hash-wasm';
import lz4js from 'lz4js';
import snappyjs from 'snappyjs';
import * as lz4wasm from 'lz4-wasm';
import { runCase, type Case, type CaseResult } from '../lib/measure.ts';
import { caseTable } from '../lib/report.ts';
import type { BrowserSuiteContext } from '../browser/protocol.ts';
import { codecCases, coreData, crcCases, decodeCases, encodeCases, RECORDS, type Crc, type Impl } from './core-cases.ts';
import { loadWafkaCore } from './wafka-core.ts';

export async function run({ opts, log }: BrowserSuiteContext): Promise<CaseResult[]> {
  const d = coreData();
  const w = await loadWafkaCore(log);
  const h = await createCRC32(0x82f63b78);
  const hashWasm: Impl<Crc> = {
    name: 'hash-wasm',
    role: 'peer',
    note: 'hash-wasm createCRC32(0x82F63B78), one hasher reused',
    fn: (b) => {
      h.init();
      h.update(b);
      const x = h.digest('binary') as Uint8Array;
      return ((x[0] << 24) | (x[1] << 16) | (x[2] << 8) | x[3]) >>> 0;
    },
  };
  const lz4jsPeer = {
    name: 'lz4js',
    role: 'peer' as const,
    note: 'lz4js (pure JS), LZ4 frame',
    fn: { compress: (b: Uint8Array) => lz4js.compress(b), decompress: (c: Uint8Array, n: number) => lz4js.decompress(c, n) },
  };
  const snappyPeer = {
    name: 'snappyjs',
    role: 'peer' as const,
    note: 'snappyjs (pure JS), raw snappy',
    fn: { compress: (b: Uint8Array) => snappyjs.compress(b), decompress: (c: Uint8Array) => snappyjs.uncompress(c) },
  };
  const cases: Case[] = [...crcCases([...(w?.crc32c ? [w.crc32c] : []), hashWasm], d)];
  if (w?.encode && w.decode) {
    // No KafkaJS here: wafka's encode/decode alone, for the browser-vs-Node comparison.
    const batch = await w.encode.fn(d.records);
    cases.push(...encodeCases([w.encode], d));
    cases.push(
      ...decodeCases([w.decode(batch)], (_n, out) => {
        if (w.strings(out).length !== RECORDS) throw new Error('wafka decode: wrong record count');
      }),
    );
    for (const c of cases) if (c.goal && 'peer' in c.goal && c.goal.peer === 'kafkajs') c.goal = undefined;
  }
  const lz4WasmPeer = {
    name: 'lz4-wasm',
    role: 'peer' as const,
    note: 'lz4-wasm 0.9 browser build (Rust lz4_flex in Wasm): compress/decompress, raw block with a size prefix',
    fn: { compress: (b: Uint8Array) => lz4wasm.compress(b), decompress: (c: Uint8Array) => lz4wasm.decompress(c) },
  };
  cases.push(...codecCases('lz4', [...(w?.lz4 ? [w.lz4] : []), lz4WasmPeer, lz4jsPeer], d, 'lz4-wasm', 1.0));
  cases.push(...codecCases('snappy', [...(w?.snappy ? [w.snappy] : []), snappyPeer], d, 'snappyjs', 3));
  const results: CaseResult[] = [];
  for (const c of cases) {
    const r = await runCase(c, opts);
    log(caseTable(r));
    results.push(r);
  }
  return results;
}
