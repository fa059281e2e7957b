/** The `core` suite on Node: crc32c, batch encode/decode, LZ4, Snappy. */
import { runCase, type Case, type CaseResult, type MeasureOptions } from '../lib/measure.ts';
import { caseTable } from '../lib/report.ts';
import { codecCases, coreData, crcCases, decodeCases, encodeCases, RECORDS, type Impl, type Crc } from './core-cases.ts';
import {
  buf,
  hashWasmCrc32c,
  kafkajsCrc32c,
  kafkajsDecode,
  kafkajsDecodeBatch,
  kafkajsEncode,
  kafkajsEncodeBatch,
  lz4jsPeer,
  lz4WasmPeer,
  nativeCrc32c,
  snappyjsPeer,
} from './peers-node.ts';
import { loadWafkaCore } from './wafka-core.ts';

export async function runCore(opts: Partial<MeasureOptions>, log: (s: string) => void): Promise<CaseResult[]> {
  const d = coreData();
  const w = await loadWafkaCore(log);
  const native = await nativeCrc32c();
  if (!native) log('native SSE4.2 crc32c (@node-rs/crc32) not installed: limit not measured');

  const crcImpls: Impl<Crc>[] = [...(w?.crc32c ? [w.crc32c] : []), await hashWasmCrc32c(), kafkajsCrc32c, ...(native ? [native] : [])];

  // Both decoders read the same bytes: the batch KafkaJS's producer path wrote.
  const kjsBatch = new Uint8Array(await kafkajsEncodeBatch(d.records));

  const cases: Case[] = [
    ...crcCases(crcImpls, d),
    ...encodeCases([...(w?.encode ? [w.encode] : []), kafkajsEncode], d, async (name, b) => {
      // Every encoder's output must be a batch KafkaJS's own decoder reads back, CRC included.
      const recs = await kafkajsDecodeBatch(buf(b));
      if (recs.length !== RECORDS) throw new Error(`${name}: encoded ${recs.length} records`);
    }),
    ...decodeCases([...(w?.decode ? [w.decode(kjsBatch)] : []), kafkajsDecode(kjsBatch)], (name, out) => {
      if (name === 'wafka' && w) {
        const recs = w.strings(out);
        if (recs.length !== RECORDS || recs[7].value !== d.records[7].value || recs[999].key !== d.records[999].key)
          throw new Error('wafka decode: records differ from the input');
      }
    }),
    ...codecCases('lz4', [...(w?.lz4 ? [w.lz4] : []), lz4WasmPeer, lz4jsPeer], d, 'lz4-wasm', 1.0),
    ...codecCases('snappy', [...(w?.snappy ? [w.snappy] : []), snappyjsPeer], d, 'snappyjs', 3),
  ];

  const results: CaseResult[] = [];
  for (const c of cases) {
    const r = await runCase(c, opts);
    log(caseTable(r) + '\n');
    results.push(r);
  }
  return results;
}
