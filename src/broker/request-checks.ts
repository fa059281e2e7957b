/**
 * Shape checks for requests that come from outside the broker's realm (any
 * tab or worker may hold a port to it): a malformed request is rejected as a
 * whole with INVALID_REQUEST before any work, and the count of topic-partitions
 * it names is bounded.
 */
import { describeValue, WafkaError } from '../errors.ts';

export function invalidRequest(message: string): WafkaError {
  return new WafkaError('INVALID_REQUEST', message);
}

export function checkObject(value: unknown, what: string): asserts value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) throw invalidRequest(`${what} must be an object`);
}

export function checkArray(value: unknown, what: string): asserts value is unknown[] {
  if (!Array.isArray(value)) throw invalidRequest(`${what} must be an array`);
}

export function checkStrings(value: unknown, what: string): asserts value is string[] {
  checkArray(value, what);
  for (const [i, v] of value.entries()) {
    if (typeof v !== 'string') throw invalidRequest(`${what}[${i}] must be a string, got ${typeof v}`);
  }
}

export function checkInt(value: unknown, what: string, min = -(2 ** 31), max = 2 ** 31 - 1): asserts value is number {
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
    throw invalidRequest(`${what} = ${describeValue(value)}: expected an integer in [${min}, ${max}]`);
  }
}

export function checkBigInt(value: unknown, what: string): asserts value is bigint {
  if (typeof value !== 'bigint') throw invalidRequest(`${what} must be a bigint, got ${typeof value}`);
}

/**
 * Checks `topics: { topic, partitions: [...] }[]` and counts the partitions
 * against `partitionsMax`; `checkPartition` checks each partition entry.
 */
export function checkTopicPartitions<P>(
  topics: unknown,
  partitionsMax: number,
  checkPartition: (p: Record<string, unknown>, where: string) => void,
): asserts topics is { topic: string; partitions: P[] }[] {
  checkArray(topics, 'topics');
  let count = 0;
  for (const [i, t] of topics.entries()) {
    checkObject(t, `topics[${i}]`);
    if (typeof t.topic !== 'string') throw invalidRequest(`topics[${i}].topic must be a string`);
    checkArray(t.partitions, `topics[${i}].partitions`);
    count += t.partitions.length;
    if (count > partitionsMax) throw invalidRequest(`request names more than ${partitionsMax} topic-partitions`);
    for (const [j, p] of t.partitions.entries()) {
      checkObject(p, `topics[${i}].partitions[${j}]`);
      checkInt(p.partition, `topics[${i}].partitions[${j}].partition`);
      checkPartition(p, `${t.topic}-${p.partition}`);
    }
  }
}
