/**
 * The core's error codes (mirror of assembly/errors.ts) and their translation
 * into WafkaError with the numbers the core left in its detail area.
 */
import { WafkaError, corrupt } from '../errors.ts';
import type { CoreExports } from './exports.ts';

export const ERR_CORRUPT = -1;
export const ERR_CRC = -2;
export const ERR_MAGIC = -3;
export const ERR_OUT_OF_SPACE = -4;
export const ERR_TOO_LARGE = -5;
export const ERR_UNSUPPORTED = -6;
export const ERR_TRUNCATED = -7;

/** Reasons of ERR_CORRUPT (detail slot 2), mirror of WHY_* in assembly/batch.ts. */
const WHY: Record<number, string> = {
  1: 'record length is invalid or runs past the records',
  2: 'a record field runs past the record length',
  3: 'record fields do not add up to the record length',
  4: 'negative header count',
  5: 'negative header key length',
  6: 'fewer records than RecordCount',
  7: 'bytes left after RecordCount records',
  8: 'RecordCount is negative or impossible for the batch size',
  9: 'batch Length is smaller than the batch header',
  10: 'the compressed records cannot be decompressed',
  11: 'varint overflow',
  12: 'offset delta is not the record\'s index',
  13: 'attribute bits 7-15 are set',
  14: 'compression type does not exist',
  15: 'a producer may not write control batches',
  16: 'a producer may not set the delete horizon flag',
  17: 'a batch with a producer id needs a base sequence',
  18: 'RecordCount and LastOffsetDelta disagree',
  19: 'a compacted topic takes only records with a key',
  20: 'timestamp overflows an int64',
  21: 'declared decompressed size is more than the compressed records can hold',
};

/** Reasons that are a broken rule (Kafka's InvalidRecordException) rather than broken bytes, besides those with numbers below. */
const INVALID_RECORD_WHY = new Set([15, 16, 19]);

/** Builds the error for a negative result of the core. `what` names the object ("batch at position 0"). */
export function coreError(exports: CoreExports, code: number, what: string): WafkaError {
  const d0 = exports.errorDetail(0);
  const d1 = exports.errorDetail(1);
  const d2 = exports.errorDetail(2);
  switch (code) {
    case ERR_CRC:
      return corrupt(`${what}: CRC mismatch: stored 0x${hex32(d0)}, computed 0x${hex32(d1)}`);
    case ERR_MAGIC:
      return corrupt(`${what}: magic ${d0}, expected 2 (only RecordBatch v2 is supported)`);
    case ERR_TRUNCATED:
      return corrupt(`${what}: truncated: needs ${d0} bytes, ${d1} available`);
    case ERR_TOO_LARGE:
      return new WafkaError('MESSAGE_TOO_LARGE', `${what}: decompressed size ${d0} bytes over the limit of ${d1} bytes`);
    case ERR_UNSUPPORTED:
      return new WafkaError('UNSUPPORTED_COMPRESSION_TYPE', `${what}: compression type ${d0} is not supported`);
    case ERR_CORRUPT: {
      const reason = Number(d2);
      const why = WHY[reason];
      switch (reason) {
        case 8: return corrupt(`${what}: RecordCount ${d0} is impossible for ${d1} bytes of records`);
        case 9: return corrupt(`${what}: batch Length ${d0} is smaller than the header (${d1} bytes)`);
        case 10: return corrupt(`${what}: ${why} (codec error ${d1})`);
        case 12: return new WafkaError('INVALID_RECORD', `${what}: record ${d0} has offset delta ${d1}: ${why}`);
        case 13: return corrupt(`${what}: attributes 0x${d0.toString(16)}: ${why}`);
        case 14: return corrupt(`${what}: compression type ${d0} does not exist`);
        case 17: return new WafkaError('INVALID_RECORD', `${what}: base sequence ${d0}: ${why}`);
        case 18: return new WafkaError('INVALID_RECORD', `${what}: RecordCount ${d0} with LastOffsetDelta ${d1}: ${why}`);
        case 20: return new WafkaError('INVALID_TIMESTAMP', `${what}: record ${d0} with timestamp delta ${d1}: ${why}`);
        case 21: return corrupt(`${what}: ${why} (${d0} bytes declared, at most ${d1})`);
      }
      if (INVALID_RECORD_WHY.has(reason)) return new WafkaError('INVALID_RECORD', `${what}: ${reason === 19 ? `record ${d0}: ` : ''}${why}`);
      return corrupt(`${what}: record ${d0} at byte ${d1} of the records: ${why ?? `reason ${d2}`}`);
    }
    case ERR_OUT_OF_SPACE:
      return new WafkaError('UNKNOWN_SERVER_ERROR', `${what}: the core ran out of space (${d0}, ${d1})`);
    default:
      return new WafkaError('UNKNOWN_SERVER_ERROR', `${what}: core error ${code} (${d0}, ${d1}, ${d2})`);
  }
}

const hex32 = (v: bigint) => (Number(v) >>> 0).toString(16).padStart(8, '0');
