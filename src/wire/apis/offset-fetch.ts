/**
 * OffsetFetch (key 9): a group's committed offsets (-1: none). Version 1 on
 * (version 0 read ZooKeeper in Kafka); null topics (version 2+) ask for every
 * partition the group has an offset for; version 8 asks for several groups.
 */
import type { OffsetFetchResponse } from '../../protocol/types.ts';
import { errorFields, type WireApi } from '../api.ts';
import { schema } from '../schema.ts';

const FLEXIBLE_FROM = 6;

export const offsetFetch: WireApi = {
  key: 9, name: 'OffsetFetch', minVersion: 1, maxVersion: 8,
  request: schema(`
groupId string 0-7
topics [] 0-7 null:2+
  name string 0-7
  partitionIndexes []int32 0-7
groups [] 8+
  groupId string 8+
  topics [] 8+ null:8+
    name string 8+
    partitionIndexes []int32 8+
requireStable bool 7+ default:false
`, FLEXIBLE_FROM),
  response: schema(`
throttleTimeMs int32 3+
topics [] 0-7
  name string 0-7
  partitions [] 0-7
    partitionIndex int32 0-7
    committedOffset int64 0-7
    committedLeaderEpoch int32 5-7 default:-1
    metadata string 0-7 null:0+
    errorCode int16 0-7
errorCode int16 2-7 default:0
groups [] 8+
  groupId string 8+
  topics [] 8+
    name string 8+
    partitions [] 8+
      partitionIndex int32 8+
      committedOffset int64 8+
      committedLeaderEpoch int32 8+ default:-1
      metadata string 8+ null:8+
      errorCode int16 8+
  errorCode int16 8+ default:0
`, FLEXIBLE_FROM),
  async handle(request, version, context) {
    type Topics = { name: string; partitionIndexes: number[] }[] | null;
    const fetchOne = (groupId: string, topics: Topics): Promise<OffsetFetchResponse> => context.broker.offsetFetch({
      groupId, requireStable: request.requireStable,
      topics: topics === null ? null : topics.map((t) => ({ topic: t.name, partitions: t.partitionIndexes })),
    });
    const topicsOf = (answer: OffsetFetchResponse) => answer.topics.map((t) => ({
      name: t.topic,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partition, committedOffset: p.committedOffset, committedLeaderEpoch: p.committedLeaderEpoch,
        metadata: p.metadata, errorCode: errorFields(p.error).errorCode,
      })),
    }));
    if (version >= 8) {
      const groups = await Promise.all(request.groups.map(async (g: { groupId: string; topics: Topics }) => {
        const answer = await fetchOne(g.groupId, g.topics);
        return { groupId: g.groupId, topics: topicsOf(answer), errorCode: errorFields(answer.error).errorCode };
      }));
      return { throttleTimeMs: 0, groups };
    }
    const answer = await fetchOne(request.groupId, request.topics);
    return { throttleTimeMs: 0, topics: topicsOf(answer), errorCode: errorFields(answer.error).errorCode };
  },
};
