/**
 * wafka's side of the core suite: the public API of src/core, called as a
 * user calls it.
 */
import * as core from '../../src/core/index.ts';
import type { BenchRecord } from '../lib/data.ts';
import { loadBenchCore } from '../lib/core-load.ts';
import type { Compress, Crc, Decode, Decompress, Encode, Impl } from './core-cases.ts';

export interface WafkaCore {
  crc32c?: Impl<Crc>;
  encode?: Impl<Encode>;
  decode?: (batch: Uint8Array) => Impl<Decode> & { batch: Uint8Array };
  lz4?: Impl<{ compress: Compress; decompress: Decompress }>;
  snappy?: Impl<{ compress: Compress; decompress: Decompress }>;
  /** Reads records' key/value back as strings (for cross-checks). */
  strings: (decoded: unknown) => { key: string; value: string }[];
}

/** Loads the core and wraps its public API (the sync variants: the fastest documented path). */
export async function loadWafkaCore(log: (s: string) => void = () => {}): Promise<WafkaCore> {
  log(`wafka core: ${await loadBenchCore()}`);
  const td = new TextDecoder();
  return {
    strings: (decoded) =>
      (decoded as core.DecodedBatch).records.map((r) => ({
        key: r.key ? td.decode(r.key) : '',
        value: r.value ? td.decode(r.value) : '',
      })),
    crc32c: { name: 'wafka', role: 'wafka', note: 'wafka crc32c(bytes) (Wasm core, slicing-by-16)', fn: (b) => core.crc32c(b) },
    encode: {
      name: 'wafka',
      role: 'wafka',
      note: 'wafka encodeBatchSync(records) (Wasm core: keys/values written into Wasm memory, varints, batch, CRC in one call)',
      fn: (msgs: BenchRecord[]) => core.encodeBatchSync(msgs),
    },
    decode: (batch) => ({
      name: 'wafka',
      role: 'wafka',
      note: 'wafka decodeBatchSync(bytes) (Wasm core: CRC check and record table in one call; keys/values are views)',
      batch,
      fn: (b) => core.decodeBatchSync(b),
    }),
    lz4: {
      name: 'wafka',
      role: 'wafka',
      note: 'wafka lz4Compress/lz4Decompress (Wasm core, LZ4 frame as Kafka writes it, 64 KiB independent blocks)',
      fn: { compress: (b) => core.lz4Compress(b), decompress: (c) => core.lz4Decompress(c) },
    },
    snappy: {
      name: 'wafka',
      role: 'wafka',
      note: 'wafka snappyCompress/snappyDecompress (Wasm core, xerial framing as Kafka writes it)',
      fn: { compress: (b) => core.snappyCompress(b), decompress: (c) => core.snappyDecompress(c) },
    },
  };
}
