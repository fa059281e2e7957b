/**
 * The client's side of the Wasm core: encode a batch of buffered records once
 * per batch, and decode fetched bytes (one or more whole RecordBatch v2
 * batches) once per batch into records whose key and value are views.
 */
import type { PendingRecord } from './accumulator.ts';
import type { CompressionType } from './types.ts';

export interface DecodedHeader { key: string; value: Uint8Array | null }
/** A record of a decoded batch; key and value are views into the fetched (or decompressed) bytes. */
export interface DecodedRecord {
  readonly offset: bigint;
  readonly timestamp: bigint;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: readonly DecodedHeader[];
}
export interface DecodedBatch {
  baseOffset: bigint;
  lastOffset: bigint;
  attributes: number;
  isControl: boolean;
  isTransactional: boolean;
  sizeBytes: number;
  records: DecodedRecord[];
}

export interface BatchCodec {
  encode(records: PendingRecord[], options: { compression: CompressionType }): Promise<Uint8Array>;
  /** Whole batches in `bytes`, decoded in order; a truncated trailing batch is ignored. */
  decodeBatches(bytes: Uint8Array): Promise<DecodedBatch[]>;
}
