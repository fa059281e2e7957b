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
};

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
      const why = WHY[Number(d2)];
      if (Number(d2) === 9) return corrupt(`${what}: batch Length ${d0} is smaller than the header (${d1} bytes)`);
      if (Number(d2) === 8) return corrupt(`${what}: RecordCount ${d0} is impossible for ${d1} bytes of records`);
      if (Number(d2) === 10) return corrupt(`${what}: ${why} (codec error ${d1})`);
      return corrupt(`${what}: record ${d0} at byte ${d1} of the records: ${why ?? `reason ${d2}`}`);
    }
    case ERR_OUT_OF_SPACE:
      return new WafkaError('UNKNOWN_SERVER_ERROR', `${what}: the core ran out of space (${d0}, ${d1})`);
    default:
      return new WafkaError('UNKNOWN_SERVER_ERROR', `${what}: core error ${code} (${d0}, ${d1}, ${d2})`);
  }
}

const hex32 = (v: bigint) => (Number(v) >>> 0).toString(16).padStart(8, '0');
