/**
 * Partition → replica assignment as Kafka's AdminUtils makes it without
 * racks: partition p's first replica (its preferred leader) is broker
 * brokers[(start + p) % n], so leaders spread round-robin, and `start`
 * advances per topic so that partition 0 of every topic does not land on the
 * same broker. The other replicas follow the first at a shift that grows by
 * one every n partitions, so that followers spread too. A new partition's
 * ISR is all of its replicas (they are all empty).
 */
import type { PartitionState } from './metadata.ts';

export function assignPartitions(
  liveBrokerIds: readonly number[],
  firstPartition: number,
  count: number,
  start: number,
  replicationFactor = 1,
): PartitionState[] {
  const n = liveBrokerIds.length;
  if (n === 0) throw new Error('assignPartitions: no live broker');
  if (replicationFactor < 1 || replicationFactor > n) throw new Error(`assignPartitions: replication factor ${replicationFactor} with ${n} brokers`);
  const brokers = [...liveBrokerIds].sort((a, b) => a - b);
  const partitions: PartitionState[] = [];
  for (let p = firstPartition; p < firstPartition + count; p++) {
    const first = (start + p) % n;
    const shift = Math.floor(p / n) + start;
    const replicas = [brokers[first]];
    for (let j = 0; j < replicationFactor - 1; j++) replicas.push(brokers[(first + 1 + ((shift + j) % (n - 1))) % n]);
    partitions.push({ partition: p, leader: replicas[0], leaderEpoch: 0, replicas, isr: [...replicas], partitionEpoch: 0 });
  }
  return partitions;
}
