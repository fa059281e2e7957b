/**
 * The internal topic __transaction_state as a broker makes and reads it:
 * compacted, transactionStateTopicNumPartitions partitions, replication
 * factor min(transactionStateTopicReplicationFactor, brokers), and Kafka's
 * transaction.state.log.min.isr (2) capped by that factor, so a state
 * change is acknowledged only once two replicas have it wherever two exist.
 */
import type { CreateTopicSpec } from '../../protocol/types.ts';
import { replayInternalPartition, type InternalLogReader } from '../internal-topic-replay.ts';
import { decodeTransactionLogRecord, TRANSACTION_STATE_TOPIC, type TransactionLogRecord } from './transaction-log-records.ts';

/** Kafka: transaction.state.log.min.isr. */
export const TRANSACTION_STATE_MIN_ISR = 2;

export function transactionStateTopicSpec(numPartitions: number, replicationFactorWanted: number, brokerCount: number): CreateTopicSpec {
  const replicationFactor = Math.max(1, Math.min(replicationFactorWanted, brokerCount));
  return {
    topic: TRANSACTION_STATE_TOPIC,
    numPartitions,
    replicationFactor,
    configEntries: [
      { name: 'cleanupPolicy', value: 'compact' },
      { name: 'minInsyncReplicas', value: String(Math.min(TRANSACTION_STATE_MIN_ISR, replicationFactor)) },
      // Kafka: transaction.state.log.segment.bytes is 100 MiB; smaller lets compaction reach old states sooner.
      { name: 'segmentBytes', value: String(16 * 1024 * 1024) },
    ],
  };
}

/** The records of one __transaction_state partition from its start to its end now, a read's worth at a time. */
export function replayTransactionStatePartition(log: InternalLogReader): AsyncIterable<TransactionLogRecord[]> {
  return replayInternalPartition(log, (r) => decodeTransactionLogRecord(r.key, r.value));
}
