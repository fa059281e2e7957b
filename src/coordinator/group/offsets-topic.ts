/**
 * The internal topic __consumer_offsets as a broker makes and reads it: the
 * topic's spec (compacted, offsetsTopicNumPartitions partitions, replication
 * factor min(offsetsTopicReplicationFactor, brokers)), the batch one
 * coordinator write becomes, and the replay of one partition's log in
 * chunks of whole batches.
 */
import { encodeBatchSync } from '../../core/index.ts';
import { replayInternalPartition, type InternalLogReader } from '../internal-topic-replay.ts';
import type { CreateTopicSpec } from '../../protocol/types.ts';
import { decodeOffsetsTopicRecord, OFFSETS_TOPIC, type OffsetsTopicRecord } from './offsets-topic-records.ts';

export function offsetsTopicSpec(numPartitions: number, replicationFactorWanted: number, brokerCount: number, maxMessageBytes: number): CreateTopicSpec {
  return {
    topic: OFFSETS_TOPIC,
    numPartitions,
    replicationFactor: Math.max(1, Math.min(replicationFactorWanted, brokerCount)),
    configEntries: [
      { name: 'cleanupPolicy', value: 'compact' },
      // Kafka: offsets.topic.segment.bytes is 100 MiB; a smaller segment lets compaction reach old commits sooner.
      { name: 'segmentBytes', value: String(16 * 1024 * 1024) },
      { name: 'maxMessageBytes', value: String(maxMessageBytes) },
    ],
  };
}

/**
 * One coordinator write as one RecordBatch v2 (no compression, create time
 * now); a TxnOffsetCommit's is a transactional batch of its producer (base
 * sequence 0: the coordinator's writes are not checked against the
 * producer's sequences).
 */
export function offsetsBatch(records: readonly { key: Uint8Array; value: Uint8Array | null }[], nowMs: number, transactional?: { producerId: bigint; producerEpoch: number }): Uint8Array {
  return encodeBatchSync(records.map((r) => ({ key: r.key, value: r.value, timestamp: nowMs })), {
    baseTimestamp: nowMs,
    ...(transactional ? { producerId: transactional.producerId, producerEpoch: transactional.producerEpoch, baseSequence: 0, isTransactional: true } : {}),
  });
}

export type OffsetsLogReader = InternalLogReader;

/** The records of one offsets partition from its start to its end now, a read's worth at a time. */
export function replayOffsetsPartition(log: OffsetsLogReader): AsyncIterable<OffsetsTopicRecord[]> {
  return replayInternalPartition<OffsetsTopicRecord>(log, (r, batch) => {
    const record = decodeOffsetsTopicRecord(r.key, r.value);
    if (record.kind === 'other') return record;
    if (record.kind === 'offset' && batch.isTransactional) return { ...record, logOffset: r.offset, transactionalProducerId: batch.producerId };
    return { ...record, logOffset: r.offset };
  }, (marker) => ({ kind: 'marker', producerId: marker.producerId, committed: marker.committed }));
}
