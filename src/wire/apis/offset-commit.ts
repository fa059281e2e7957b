/**
 * OffsetCommit (key 8): a group's committed offsets, stored in
 * __consumer_offsets. Version 0 (Kafka's ZooKeeper-era form) carries no
 * generation or member: it commits from outside the group (generation -1).
 * Retention (versions 2–4) and the commit timestamp (version 1) are not kept.
 */
import { errorFields, type WireApi } from '../api.ts';
import { schema } from '../schema.ts';

const FLEXIBLE_FROM = 8;

export const offsetCommit: WireApi = {
  key: 8, name: 'OffsetCommit', minVersion: 0, maxVersion: 8,
  request: schema(`
groupId string 0+
generationId int32 1+ default:-1
memberId string 1+
groupInstanceId string 7+ null:7+ default:null
retentionTimeMs int64 2-4 default:-1
topics [] 0+
  name string 0+
  partitions [] 0+
    partitionIndex int32 0+
    committedOffset int64 0+
    committedLeaderEpoch int32 6+ default:-1
    commitTimestamp int64 1 default:-1
    committedMetadata string 0+ null:0+
`, FLEXIBLE_FROM),
  response: schema(`
throttleTimeMs int32 3+
topics [] 0+
  name string 0+
  partitions [] 0+
    partitionIndex int32 0+
    errorCode int16 0+
`, FLEXIBLE_FROM),
  async handle(request, _version, context) {
    const answer = await context.broker.offsetCommit({
      groupId: request.groupId, generationId: request.generationId, memberId: request.memberId, groupInstanceId: request.groupInstanceId,
      topics: committedOffsets(request.topics),
    });
    return {
      throttleTimeMs: 0,
      topics: answer.topics.map((t) => ({
        name: t.topic, partitions: t.partitions.map((p) => ({ partitionIndex: p.partition, errorCode: errorFields(p.error).errorCode })),
      })),
    };
  },
};

interface WireCommittedPartition { partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; committedMetadata: string | null }

/** The offsets an OffsetCommit or TxnOffsetCommit request carries, as the broker takes them (a leader epoch of -1 is none). */
export function committedOffsets(topics: { name: string; partitions: WireCommittedPartition[] }[]) {
  return topics.map((t) => ({
    topic: t.name,
    partitions: t.partitions.map((p) => ({
      partition: p.partitionIndex, committedOffset: p.committedOffset, committedMetadata: p.committedMetadata,
      ...(p.committedLeaderEpoch >= 0 ? { committedLeaderEpoch: p.committedLeaderEpoch } : {}),
    })),
  }));
}
