/**
 * wafka's side of the core suite: the public API of src/core, called as a
 * user calls it. Returns null while the core is not there (the suite then
 * reports wafka as not measured rather than failing).
 */
import type { BenchRecord } from '../lib/data.ts';
import type { Compress, Crc, Decode, Decompress, Encode, Impl } from './core-cases.ts';

export interface WafkaCore {
  crc32c: Impl<Crc>;
  encode: Impl<Encode>;
  decode: (batch: Uint8Array) => Impl<Decode> & { batch: Uint8Array };
  lz4: Impl<{ compress: Compress; decompress: Decompress }>;
  snappy: Impl<{ compress: Compress; decompress: Decompress }>;
  /** Reads records' key/value back as strings (for cross-checks). */
  strings: (decoded: unknown) => { key: string; value: string }[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

const CORE_MODULE: string = '../../src/core/index.ts';

export async function loadWafkaCore(log: (s: string) => void = () => {}): Promise<WafkaCore | null> {
  let core: Any;
  try {
    core = await import(/* @vite-ignore */ CORE_MODULE);
  } catch (e) {
    log(`wafka core not available yet (${(e as Error).message.split('\n')[0]}): wafka not measured`);
    return null;
  }
  await core.loadCore();
  const encodeSync = core.encodeBatchSync ?? null;
  const td = new TextDecoder();
  return {
    crc32c: { name: 'wafka', role: 'wafka', note: 'wafka crc32c() (Wasm core)', fn: (b) => core.crc32c(b) },
    encode: {
      name: 'wafka',
      role: 'wafka',
      note: encodeSync ? 'wafka encodeBatchSync(records) (Wasm core: varints, batch, CRC)' : 'wafka encodeBatch(records) (Wasm core)',
      fn: encodeSync
        ? (msgs: BenchRecord[]) => encodeSync(msgs)
        : (msgs: BenchRecord[]) => core.encodeBatch(msgs),
    },
    decode: (batch) => ({
      name: 'wafka',
      role: 'wafka',
      note: 'wafka decodeBatch(bytes) (Wasm core: CRC check, record table; keys/values are views)',
      batch,
      fn: (b) => core.decodeBatch(b),
    }),
    lz4: {
      name: 'wafka',
      role: 'wafka',
      note: 'wafka lz4Compress/lz4Decompress (Wasm core, LZ4 frame as Kafka writes it)',
      fn: { compress: (b) => core.lz4Compress(b), decompress: (c) => core.lz4Decompress(c) },
    },
    snappy: {
      name: 'wafka',
      role: 'wafka',
      note: 'wafka snappyCompress/snappyDecompress (Wasm core, xerial framing as Kafka writes it)',
      fn: { compress: (b) => core.snappyCompress(b), decompress: (c) => core.snappyDecompress(c) },
    },
    strings: (decoded: Any) => {
      const recs = Array.isArray(decoded) ? decoded : decoded.records;
      return recs.map((r: Any) => ({
        key: typeof r.key === 'string' ? r.key : td.decode(r.key),
        value: typeof r.value === 'string' ? r.value : td.decode(r.value),
      }));
    },
  };
}
