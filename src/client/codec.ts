/**
 * The client's side of the Wasm core: encode a batch of buffered records once
 * per batch, and decode fetched bytes (one or more whole RecordBatch v2
 * batches) once per batch into a record table whose keys and values are views.
 */
import type { PendingRecord } from './accumulator.ts';
import type { CompressionType } from './types.ts';
import type { RecordTable } from '../core/batch.ts';

/** A decoded batch's records, read by index (see RecordTable in src/core/batch.ts). */
export type { RecordTable } from '../core/batch.ts';

export interface DecodedBatch {
  baseOffset: bigint;
  lastOffset: bigint;
  attributes: number;
  isControl: boolean;
  isTransactional: boolean;
  sizeBytes: number;
  records: RecordTable;
}

export interface BatchCodec {
  encode(records: PendingRecord[], options: { compression: CompressionType }): Promise<Uint8Array>;
  /** Whole batches in `bytes`, decoded in order; a truncated trailing batch is ignored. */
  decodeBatches(bytes: Uint8Array): Promise<DecodedBatch[]>;
}
