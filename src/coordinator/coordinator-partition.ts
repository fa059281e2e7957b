/**
 * Which partition of an internal topic holds a coordinator key (a group id
 * in __consumer_offsets, a transactional id in __transaction_state), as
 * Kafka's `Utils.abs(key.hashCode()) % numPartitions`: Java's
 * String.hashCode over UTF-16 code units in int32 arithmetic, and Utils.abs
 * (which maps Integer.MIN_VALUE to 0). The same key lands on the same
 * partition number a Kafka broker would choose.
 */
export function javaStringHashCode(value: string): number {
  let hash = 0;
  for (let i = 0; i < value.length; i++) hash = (Math.imul(hash, 31) + value.charCodeAt(i)) | 0;
  return hash;
}

export function coordinatorPartition(key: string, numPartitions: number): number {
  const hash = javaStringHashCode(key);
  const abs = hash === -2147483648 ? 0 : Math.abs(hash);
  return abs % numPartitions;
}
