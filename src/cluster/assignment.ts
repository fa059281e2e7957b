/**
 * Partition → broker assignment: round-robin over the live brokers, as
 * Kafka's AdminUtils does without racks. Partition p of a topic gets broker
 * brokers[(start + p) % n] as leader (and first replica); `start` advances per
 * topic so that partition 0 of every topic does not land on the same broker.
 * Replication factor 1 for now: replicas = isr = [leader].
 */
import type { PartitionState } from './metadata.ts';

export function assignPartitions(
  liveBrokerIds: readonly number[],
  firstPartition: number,
  count: number,
  start: number,
): PartitionState[] {
  if (liveBrokerIds.length === 0) throw new Error('assignPartitions: no live broker');
  const brokers = [...liveBrokerIds].sort((a, b) => a - b);
  const partitions: PartitionState[] = [];
  for (let p = firstPartition; p < firstPartition + count; p++) {
    const leader = brokers[(start + p) % brokers.length];
    partitions.push({ partition: p, leader, leaderEpoch: 0, replicas: [leader], isr: [leader] });
  }
  return partitions;
}
