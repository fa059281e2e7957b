/**
 * Checks of what an application passes to the client API (offsets, topic
 * names, partitions, timestamps): a bad argument is a typed WafkaError
 * (INVALID_REQUEST, or Kafka's more precise name), never a TypeError from
 * deeper down or a value quietly taken to mean something else.
 */
import { WafkaError, describeValue } from '../errors.ts';

export const INT64_MAX = (1n << 63n) - 1n;

/** Kafka's ListOffsets sentinels, as seek() and deleteTopicRecords accept them. */
export const LATEST_OFFSET = -1n;
export const EARLIEST_OFFSET = -2n;

/** A canonical decimal integer: no sign but '-', no leading zeros, no spaces, no '0x', no exponent. */
const CANONICAL_DECIMAL = /^(?:0|-?[1-9][0-9]{0,19})$/;

/**
 * An offset as the API takes it: a canonical decimal string ('42'), a bigint or
 * a safe integer number, in [0, 2^63-1], or one of `sentinels` (-1 latest,
 * -2 earliest, where the caller supports them). Anything else throws
 * INVALID_REQUEST (not an integer) or OFFSET_OUT_OF_RANGE (outside int64 or negative).
 */
export function offsetArgument(value: unknown, what: string, sentinels: readonly bigint[] = []): bigint {
  let offset: bigint;
  if (typeof value === 'bigint') offset = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) offset = BigInt(value);
  else if (typeof value === 'string' && CANONICAL_DECIMAL.test(value)) offset = BigInt(value);
  else throw new WafkaError('INVALID_REQUEST', `${what} ${describeValue(value)} is not an offset: expected a decimal integer string, a bigint or a safe integer`, { retriable: false });
  if (sentinels.includes(offset)) return offset;
  if (offset < 0n || offset > INT64_MAX) {
    const allowed = sentinels.length ? ` (or ${sentinels.join(', ')})` : '';
    throw new WafkaError('OFFSET_OUT_OF_RANGE', `${what} ${offset} is outside [0, 2^63-1]${allowed}`, { retriable: false });
  }
  return offset;
}

/** A topic name argument: a non-empty string (the broker checks Kafka's name rule). */
export function topicArgument(value: unknown, what = 'topic'): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new WafkaError('INVALID_TOPIC_EXCEPTION', `${what} ${describeValue(value)} is not a topic name (a non-empty string)`, { retriable: false });
  }
  return value;
}

/** A partition number argument: an integer in [0, 2^31-1]. */
export function partitionArgument(value: unknown, what = 'partition'): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0x7fffffff) {
    throw new WafkaError('INVALID_REQUEST', `${what} ${describeValue(value)} is not a partition number (an integer in [0, 2^31-1])`, { retriable: false });
  }
  return value;
}

/** A timestamp in ms: a safe integer ≥ 0 (Kafka's record timestamps are int64 ms since the epoch). */
export function timestampArgument(value: unknown, what = 'timestamp'): bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  throw new WafkaError('INVALID_REQUEST', `${what} ${describeValue(value)} is not a timestamp (an integer number of ms ≥ 0)`, { retriable: false });
}

/** An options object argument. */
export function objectArgument<T extends object>(value: unknown, what: string): T {
  if (typeof value !== 'object' || value === null) throw new WafkaError('INVALID_REQUEST', `${what} must be an object, got ${describeValue(value)}`, { retriable: false });
  return value as T;
}

/** An array argument, at most `lengthMax` long. */
export function arrayArgument<T>(value: unknown, what: string, lengthMax: number): T[] {
  if (!Array.isArray(value)) throw new WafkaError('INVALID_REQUEST', `${what} must be an array, got ${describeValue(value)}`, { retriable: false });
  if (value.length > lengthMax) throw new WafkaError('INVALID_REQUEST', `${what} has ${value.length} entries, over the ${lengthMax} limit`, { retriable: false });
  return value as T[];
}

