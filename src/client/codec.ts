/**
 * The client's side of the Wasm core: encode the producer's staged batches
 * (one core call per batch, all of a request in one buffer), and decode fetched bytes (one or more whole RecordBatch v2
 * batches) once per batch into a record table whose keys and values are views.
 */
import type { EncodedBatches, StagedRecords } from '../core/staged-batch.ts';
import type { WafkaError } from '../errors.ts';
import type { CompressionType } from './types.ts';
import type { RecordTable } from '../core/batch.ts';

/** A decoded batch's records, read by index (see RecordTable in src/core/batch.ts). */
export type { RecordTable } from '../core/batch.ts';

export interface DecodedBatch {
  baseOffset: bigint;
  lastOffset: bigint;
  /** The leader epoch the batch was written in (-1 if none). */
  partitionLeaderEpoch: number;
  attributes: number;
  isControl: boolean;
  isTransactional: boolean;
  /** -1 when the batch has none. */
  producerId: bigint;
  /** A control batch holding an ABORT marker (a read_committed consumer's filter needs it). */
  isAbortMarker: boolean;
  sizeBytes: number;
  records: RecordTable;
}

/** What decoding fetched bytes gave: the batches in order up to the first that cannot be decoded. */
export interface DecodedBatches {
  batches: DecodedBatch[];
  /** The first batch that cannot be decoded (none after it are tried): its base offset and the decoder's error. */
  failure?: { baseOffset: bigint; error: WafkaError };
}

export interface BatchCodec {
  /** Staged batches, encoded one after another into one buffer of their own (synchronously for none, snappy and lz4). */
  encodeStaged(batches: readonly StagedRecords[], options: { compression: CompressionType }): EncodedBatches | Promise<EncodedBatches>;
  /** Whole batches in `bytes`, decoded in order; a truncated trailing batch is ignored; a bad one ends the list (failure). */
  decodeBatches(bytes: Uint8Array): Promise<DecodedBatches>;
}
