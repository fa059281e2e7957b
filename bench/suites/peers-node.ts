/**
 * The core suite's peers as their users call them on Node, each on its
 * fastest documented path.
 */
import { createRequire } from 'node:module';
import { createCRC32 } from 'hash-wasm';
import * as lz4wasm from 'lz4-wasm-nodejs';
import lz4js from 'lz4js';
import snappyjs from 'snappyjs';
import type { BenchRecord } from '../lib/data.ts';
import type { Compress, Crc, Decode, Decompress, Encode, Impl } from './core-cases.ts';

const require = createRequire(import.meta.url);

// KafkaJS internals, exactly the modules its producer and consumer use
// (kafkajs 2.x: RecordBatch v2 lives in protocol/recordBatch/v0).
const KJS = 'kafkajs/src/protocol';
const kjsCrc32C: (b: Buffer) => number = require(`${KJS}/recordBatch/crc32C`);
const { RecordBatch: kjsRecordBatch } = require(`${KJS}/recordBatch/v0`) as {
  RecordBatch: (o: Record<string, unknown>) => Promise<{ buffer: Buffer }>;
};
const kjsRecord: (o: Record<string, unknown>) => unknown = require(`${KJS}/recordBatch/record/v0`);
const kjsBatchDecoder: (d: unknown) => Promise<{ records: unknown[] }> = require(`${KJS}/recordBatch/v0/decoder`);
const KjsDecoder: new (b: Buffer) => unknown = require(`${KJS}/decoder`);

export const buf = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** hash-wasm's CRC32 with the Castagnoli polynomial, one reused hasher (faster than the one-shot crc32()). */
export async function hashWasmCrc32c(): Promise<Impl<Crc>> {
  const h = await createCRC32(0x82f63b78);
  return {
    name: 'hash-wasm',
    role: 'peer',
    note: 'hash-wasm createCRC32(0x82F63B78), one hasher reused: init().update(buf).digest("binary")',
    fn: (b) => {
      h.init();
      h.update(b);
      const d = h.digest('binary') as Uint8Array;
      return ((d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3]) >>> 0;
    },
  };
}

export const kafkajsCrc32c: Impl<Crc> = {
  name: 'kafkajs',
  role: 'peer',
  note: "KafkaJS's JS crc32C (kafkajs/src/protocol/recordBatch/crc32C, byte-at-a-time table)",
  fn: (b) => kjsCrc32C(b as Buffer),
};

export async function nativeCrc32c(): Promise<Impl<Crc> | null> {
  try {
    const m = require('@node-rs/crc32') as { crc32c: (b: Buffer, init?: number) => number };
    return {
      name: 'native-sse4.2',
      role: 'limit',
      note: '@node-rs/crc32 crc32c (Rust crc32c crate, SSE4.2 crc32 instruction, N-API)',
      fn: (b) => m.crc32c(b as Buffer),
    };
  } catch {
    return null;
  }
}

/** KafkaJS's producer path: Record v0 per message, then RecordBatch (magic 2) with its crc32C. */
export async function kafkajsEncodeBatch(messages: BenchRecord[]): Promise<Buffer> {
  const now = Date.now();
  const records = messages.map((m, i) => kjsRecord({ key: m.key, value: m.value, offsetDelta: i, timestampDelta: 0 }));
  const batch = await kjsRecordBatch({
    records,
    firstTimestamp: now,
    maxTimestamp: now,
    lastOffsetDelta: records.length - 1,
  });
  return batch.buffer;
}

export const kafkajsEncode: Impl<Encode> = {
  name: 'kafkajs',
  role: 'peer',
  note: "KafkaJS's producer path: record/v0 per message + recordBatch/v0 (RecordBatch v2) with its JS crc32C, as produce/v3 calls them",
  fn: kafkajsEncodeBatch,
};

/** Offset of the CRC'd region in a batch: baseOffset 8, length 4, epoch 4, magic 1, crc 4. */
const CRC_FROM = 21;

export async function kafkajsDecodeBatch(b: Buffer): Promise<unknown[]> {
  const crc = b.readUInt32BE(17);
  if (kjsCrc32C(b.subarray(CRC_FROM)) !== crc) throw new Error('kafkajs: CRC mismatch');
  const out = await kjsBatchDecoder(new KjsDecoder(b));
  return out.records;
}

export function kafkajsDecode(batch: Uint8Array): Impl<Decode> & { batch: Uint8Array } {
  const b = buf(batch);
  return {
    name: 'kafkajs',
    role: 'peer',
    note: "KafkaJS's recordBatch/v0 decoder (as its consumer uses it) plus its crc32C over the batch: KafkaJS skips the CRC check by default, added here so both sides do the same work",
    batch: b,
    fn: (x) => kafkajsDecodeBatch(x as Buffer),
  };
}

export const lz4WasmPeer: Impl<{ compress: Compress; decompress: Decompress }> = {
  name: 'lz4-wasm',
  role: 'peer',
  note: 'lz4-wasm-nodejs 0.9 (Rust lz4_flex in Wasm): compress/decompress, raw block with a size prefix (no frame)',
  fn: { compress: (b) => lz4wasm.compress(b), decompress: (c) => lz4wasm.decompress(c) },
};

export const lz4jsPeer: Impl<{ compress: Compress; decompress: Decompress }> = {
  name: 'lz4js',
  role: 'peer',
  note: 'lz4js 0.2 (pure JS): compress/decompress, LZ4 frame; decompress given the known size',
  fn: {
    compress: (b) => lz4js.compress(b) as Uint8Array,
    decompress: (c, n) => lz4js.decompress(c, n) as Uint8Array,
  },
};

export const snappyjsPeer: Impl<{ compress: Compress; decompress: Decompress }> = {
  name: 'snappyjs',
  role: 'peer',
  note: 'snappyjs 0.7 (pure JS): compress/uncompress, raw snappy (no xerial framing)',
  fn: {
    compress: (b) => snappyjs.compress(b) as Uint8Array,
    decompress: (c) => snappyjs.uncompress(c) as Uint8Array,
  },
};
