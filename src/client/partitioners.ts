/**
 * Partitioners, with KafkaJS's interface: a partitioner factory
 * `createPartitioner()` returns `({ topic, partitionMetadata, message }) => partition`.
 * A partitioner may also have `onNewBatch({ topic, partition, partitionMetadata })`,
 * which the producer's accumulator calls when it seals a batch of that
 * partition (the sticky partitioner's hook, as Kafka's Java client has it).
 *
 * DefaultPartitioner is Kafka's:
 *  - an explicit `message.partition` wins;
 *  - a keyed message goes to toPositive(murmur2(keyBytes)) % numPartitions,
 *    byte-compatible with Kafka's Java client and KafkaJS's DefaultPartitioner
 *    (string keys are hashed as their UTF-8 bytes);
 *  - a message without a key goes to a sticky partition (KIP-480), chosen at
 *    random among partitions with a leader, and switched when the batch it
 *    was filling is sealed, so null-key messages still make full batches.
 */
import type { PartitionMetadata } from '../protocol/types.ts';

export interface PartitionerMessage {
  key?: Uint8Array | string | null;
  partition?: number | null;
}
export interface PartitionerArgs { topic: string; partitionMetadata: PartitionMetadata[]; message: PartitionerMessage }
export interface Partitioner {
  (args: PartitionerArgs): number;
  onNewBatch?(args: { topic: string; partition: number; partitionMetadata: PartitionMetadata[] }): void;
}
export type ICustomPartitioner = () => Partitioner;

const SEED = 0x9747b28c | 0;
const M = 0x5bd1e995;

// murmur2's arithmetic, once; the two readers below feed it bytes or an ASCII string's char codes.
// (V8 inlines these into the loops.)

/** Mixes one little-endian 4-byte block `k` into `h`. */
function mixBlock(h: number, k: number): number {
  k = Math.imul(k, M);
  k ^= k >>> 24;
  k = Math.imul(k, M);
  return Math.imul(h, M) ^ k;
}

/** Mixes the last `count` (0..3) bytes b0, b1, b2 into `h`, then finalizes: a signed 32-bit int. */
function finish(h: number, count: number, b0: number, b1: number, b2: number): number {
  switch (count) {
    case 3: h ^= b2 << 16; // falls through
    case 2: h ^= b1 << 8; // falls through
    case 1: h ^= b0; h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2) over bytes; a signed 32-bit int. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const tail = length & ~3;
  for (let i = 0; i < tail; i += 4) h = mixBlock(h, data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
  const count = length & 3;
  return finish(h, count, count > 0 ? data[tail] : 0, count > 1 ? data[tail + 1] : 0, count > 2 ? data[tail + 2] : 0);
}

const utf8 = new TextEncoder();

/** murmur2 of a string's UTF-8 bytes; ASCII strings are hashed without encoding them, in one pass. */
export function murmur2String(key: string): number {
  const length = key.length;
  let h = SEED ^ length;
  const tail = length & ~3;
  for (let i = 0; i < tail; i += 4) {
    const c0 = key.charCodeAt(i), c1 = key.charCodeAt(i + 1), c2 = key.charCodeAt(i + 2), c3 = key.charCodeAt(i + 3);
    if ((c0 | c1 | c2 | c3) > 0x7f) return murmur2(utf8.encode(key));
    h = mixBlock(h, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24));
  }
  const count = length & 3;
  const b0 = count > 0 ? key.charCodeAt(tail) : 0, b1 = count > 1 ? key.charCodeAt(tail + 1) : 0, b2 = count > 2 ? key.charCodeAt(tail + 2) : 0;
  if ((b0 | b1 | b2) > 0x7f) return murmur2(utf8.encode(key));
  return finish(h, count, b0, b1, b2);
}

export const toPositive = (x: number) => x & 0x7fffffff;

/** The partition Kafka's default partitioner gives a key. */
export function partitionForKey(key: Uint8Array | string, numPartitions: number): number {
  const hash = typeof key === 'string' ? murmur2String(key) : murmur2(key);
  return toPositive(hash) % numPartitions;
}

function randomAvailable(partitionMetadata: PartitionMetadata[], avoid: number | undefined): number {
  const available = partitionMetadata.filter((p) => p.leader >= 0 && p.partitionId !== avoid);
  const pool = available.length > 0 ? available : partitionMetadata.filter((p) => p.partitionId !== avoid);
  if (pool.length === 0) return avoid ?? 0;
  return pool[Math.floor(Math.random() * pool.length)].partitionId;
}

const DefaultPartitioner: ICustomPartitioner = () => {
  const sticky = new Map<string, number>();
  const partitioner: Partitioner = ({ topic, partitionMetadata, message }) => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    const numPartitions = partitionMetadata.length;
    if (message.key !== null && message.key !== undefined) return partitionForKey(message.key, numPartitions);
    let partition = sticky.get(topic);
    if (partition === undefined || partition >= numPartitions) {
      partition = randomAvailable(partitionMetadata, undefined);
      sticky.set(topic, partition);
    }
    return partition;
  };
  partitioner.onNewBatch = ({ topic, partition, partitionMetadata }) => {
    if (sticky.get(topic) === partition && partitionMetadata.length > 1) {
      sticky.set(topic, randomAvailable(partitionMetadata, partition));
    }
  };
  return partitioner;
};

/** Round-robin over all partitions, ignoring keys (Kafka's RoundRobinPartitioner); an explicit partition wins. */
const RoundRobinPartitioner: ICustomPartitioner = () => {
  const counters = new Map<string, number>();
  return ({ topic, partitionMetadata, message }) => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    const next = counters.get(topic) ?? Math.floor(Math.random() * 0x7fffffff);
    counters.set(topic, (next + 1) & 0x7fffffff);
    return next % partitionMetadata.length;
  };
};

export const Partitioners = {
  DefaultPartitioner,
  /** KafkaJS's old name for the Java-compatible partitioner. */
  JavaCompatiblePartitioner: DefaultPartitioner,
  RoundRobinPartitioner,
};
