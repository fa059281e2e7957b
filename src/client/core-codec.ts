/**
 * BatchCodec over the Wasm core (src/core): one core call per batch each way.
 * Batches without compression, or with snappy or LZ4 (in the core), are
 * encoded and decoded synchronously; gzip and zstd go through their async
 * codecs.
 */
import {
  CompressionTypes, ControlRecordTypes, batchSizeAt, decodeBatchTable, decodeBatchTableSync, loadCore, type DecodedBatchTable, type RecordTable,
} from '../core/index.ts';
import { encodeStaged, encodeStagedSync, type StagedRecords } from '../core/staged-batch.ts';
import type { BatchCodec, DecodedBatch, DecodedBatches } from './codec.ts';
import { toWafkaError } from './connection.ts';
import type { CompressionType } from './types.ts';

const ASYNC_CODECS = new Set<number>([CompressionTypes.GZIP, CompressionTypes.ZSTD]);
/** Attributes bits 0-2: the compression codec. */
const COMPRESSION_MASK = 0x07;
/** The low byte of the big-endian Attributes field (offset 21). */
const ATTRIBUTES_LOW_BYTE = 22;

const codec: BatchCodec = {
  encodeStaged(batches: readonly StagedRecords[], { compression }: { compression: CompressionType }) {
    return ASYNC_CODECS.has(compression) ? encodeStaged(batches, compression) : encodeStagedSync(batches, compression);
  },

  async decodeBatches(bytes: Uint8Array): Promise<DecodedBatches> {
    const batches: DecodedBatch[] = [];
    let position = 0;
    while (position < bytes.byteLength) {
      const size = batchSizeAt(bytes, position);
      if (size < 0 || position + size > bytes.byteLength) break; // a truncated trailing batch: fetched again next time
      const compression = bytes[position + ATTRIBUTES_LOW_BYTE] & COMPRESSION_MASK;
      let decoded: DecodedBatchTable;
      try {
        decoded = ASYNC_CODECS.has(compression)
          ? await decodeBatchTable(bytes, { position })
          : decodeBatchTableSync(bytes, { position });
      } catch (error) {
        const baseOffset = new DataView(bytes.buffer, bytes.byteOffset + position, 8).getBigInt64(0);
        return { batches, failure: { baseOffset, error: toWafkaError(error) } };
      }
      const { header, records } = decoded;
      batches.push({
        baseOffset: header.baseOffset,
        lastOffset: header.lastOffset,
        partitionLeaderEpoch: header.partitionLeaderEpoch,
        attributes: header.attributes,
        isControl: header.isControlBatch,
        isTransactional: header.isTransactional,
        producerId: header.producerId,
        isAbortMarker: header.isControlBatch && isAbortRecord(records),
        sizeBytes: size,
        records,
      });
      position += size;
    }
    return { batches };
  },
};

/** Whether a control batch's first record is an ABORT marker (key: version int16, type int16 = 0). */
function isAbortRecord(records: RecordTable): boolean {
  if (records.count === 0 || records.keyLength(0) < 4) return false;
  const key = records.key(0);
  if (!key) return false;
  return new DataView(key.buffer, key.byteOffset, key.byteLength).getInt16(2) === ControlRecordTypes.ABORT;
}

let loading: Promise<BatchCodec> | undefined;

/** Loads the Wasm core once per realm and returns the codec over it. */
export function loadBatchCodec(): Promise<BatchCodec> {
  loading ??= loadCore().then(() => codec);
  return loading;
}
