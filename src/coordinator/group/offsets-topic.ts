/**
 * The internal topic __consumer_offsets as a broker makes and reads it: the
 * topic's spec (compacted, offsetsTopicNumPartitions partitions, replication
 * factor min(offsetsTopicReplicationFactor, brokers)), the batch one
 * coordinator write becomes, and the replay of one partition's log in
 * chunks of whole batches.
 */
import { batchSizeAt, decodeBatch, encodeBatchSync } from '../../core/index.ts';
import type { CreateTopicSpec } from '../../protocol/types.ts';
import { decodeOffsetsTopicRecord, OFFSETS_TOPIC, type OffsetsTopicRecord } from './offsets-topic-records.ts';

/** Bytes of log read per replay step. */
const REPLAY_READ_BYTES = 1024 * 1024;

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

/** One coordinator write as one RecordBatch v2 (no compression, create time now). */
export function offsetsBatch(records: readonly { key: Uint8Array; value: Uint8Array | null }[], nowMs: number): Uint8Array {
  return encodeBatchSync(records.map((r) => ({ key: r.key, value: r.value, timestamp: nowMs })), { baseTimestamp: nowMs });
}

export interface OffsetsLogReader {
  logStartOffset(): bigint;
  /** Where replay stops: the log end when it began. */
  logEndOffset(): bigint;
  read(offset: bigint, maxBytes: number, upTo: bigint): Promise<Uint8Array | null>;
}

/** The records of one offsets partition from its start to its end now, a read's worth at a time. */
export async function* replayOffsetsPartition(log: OffsetsLogReader): AsyncIterable<OffsetsTopicRecord[]> {
  const end = log.logEndOffset();
  let offset = log.logStartOffset();
  while (offset < end) {
    const bytes = await log.read(offset, REPLAY_READ_BYTES, end);
    if (!bytes || bytes.byteLength === 0) return;
    const records: OffsetsTopicRecord[] = [];
    let position = 0;
    let next = offset;
    while (position < bytes.byteLength) {
      const size = batchSizeAt(bytes, position);
      if (size < 0 || position + size > bytes.byteLength) break;
      const batch = await decodeBatch(bytes, { position });
      position += size;
      next = batch.baseOffset + BigInt(batch.lastOffsetDelta) + 1n;
      if (batch.isControlBatch) continue;
      for (const r of batch.records) if (r.offset >= offset) records.push(decodeOffsetsTopicRecord(r.key, r.value));
    }
    if (next <= offset) return;
    offset = next;
    yield records;
  }
}
