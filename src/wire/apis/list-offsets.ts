/**
 * ListOffsets (key 2): the offset of a timestamp, or of the log's start
 * (-2, earliest) or end (-1, latest: the high watermark, or the last stable
 * offset under read_committed). Version 0 answers with a list of offsets
 * (one here); later versions with one offset and its timestamp.
 */
import type { WireApi } from '../api.ts';
import { schema } from '../schema.ts';

const FLEXIBLE_FROM = 6;

export const listOffsets: WireApi = {
  key: 2, name: 'ListOffsets', minVersion: 0, maxVersion: 7,
  request: schema(`
replicaId int32 0+
isolationLevel int8 2+
topics [] 0+
  name string 0+
  partitions [] 0+
    partitionIndex int32 0+
    currentLeaderEpoch int32 4+ default:-1
    timestamp int64 0+
    maxNumOffsets int32 0 default:1
`, FLEXIBLE_FROM),
  response: schema(`
throttleTimeMs int32 2+
topics [] 0+
  name string 0+
  partitions [] 0+
    partitionIndex int32 0+
    errorCode int16 0+
    oldStyleOffsets []int64 0
    timestamp int64 1+ default:-1
    offset int64 1+ default:-1
    leaderEpoch int32 4+ default:-1
`, FLEXIBLE_FROM),
  async handle(request, _version, context) {
    const answer = await context.broker.listOffsets({
      isolationLevel: request.isolationLevel === 1 ? 'read_committed' : 'read_uncommitted',
      topics: request.topics.map((t: { name: string; partitions: { partitionIndex: number; timestamp: bigint }[] }) => ({
        topic: t.name, partitions: t.partitions.map((p) => ({ partition: p.partitionIndex, timestamp: p.timestamp })),
      })),
    });
    return {
      throttleTimeMs: 0,
      topics: answer.topics.map((t) => ({
        name: t.topic,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partition, errorCode: p.error?.code ?? 0,
          oldStyleOffsets: p.error ? [] : [p.offset], timestamp: p.timestamp, offset: p.offset,
        })),
      })),
    };
  },
};
