/**
 * BatchCodec over the Wasm core (src/core): one core call per batch each way.
 * Batches without compression, or with snappy or LZ4 (in the core), are
 * encoded and decoded synchronously; gzip and zstd go through their async
 * codecs.
 */
import {
  CompressionTypes, batchSizeAt, decodeBatch, decodeBatchSync, encodeBatch, encodeBatchSync, loadCore, readBatchHeader,
} from '../core/index.ts';
import type { PendingRecord } from './accumulator.ts';
import type { BatchCodec, DecodedBatch } from './codec.ts';
import type { CompressionType } from './types.ts';

const ASYNC_CODECS = new Set<number>([CompressionTypes.GZIP, CompressionTypes.ZSTD]);
/** Attributes bits 0-2: the compression codec. */
const COMPRESSION_MASK = 0x07;

const codec: BatchCodec = {
  async encode(records: PendingRecord[], { compression }: { compression: CompressionType }): Promise<Uint8Array> {
    return ASYNC_CODECS.has(compression) ? encodeBatch(records, { compression }) : encodeBatchSync(records, { compression });
  },

  async decodeBatches(bytes: Uint8Array): Promise<DecodedBatch[]> {
    const out: DecodedBatch[] = [];
    let position = 0;
    while (position < bytes.byteLength) {
      const size = batchSizeAt(bytes, position);
      if (size < 0 || position + size > bytes.byteLength) break; // a truncated trailing batch: fetched again next time
      const header = readBatchHeader(bytes, position);
      const decoded = ASYNC_CODECS.has(header.attributes & COMPRESSION_MASK)
        ? await decodeBatch(bytes, { position })
        : decodeBatchSync(bytes, { position });
      out.push({
        baseOffset: decoded.baseOffset,
        lastOffset: decoded.lastOffset,
        attributes: decoded.attributes,
        isControl: decoded.isControlBatch,
        isTransactional: decoded.isTransactional,
        sizeBytes: size,
        records: decoded.records,
      });
      position += size;
    }
    return out;
  },
};

let loading: Promise<BatchCodec> | undefined;

/** Loads the Wasm core once per realm and returns the codec over it. */
export function loadBatchCodec(): Promise<BatchCodec> {
  loading ??= loadCore().then(() => codec);
  return loading;
}
