/**
 * TxnOffsetCommit (key 28): a consumer group's offsets, committed as part of
 * a producer's transaction (visible to the group only once it commits).
 * Version 3 carries the consumer's generation and member (KIP-447), so a
 * zombie member's offsets are fenced.
 */
import { errorFields, transactionsOf, type WireApi } from '../api.ts';
import { schema } from '../schema.ts';
import { committedOffsets } from './offset-commit.ts';
import { answerOrError, requestError } from './transaction-errors.ts';

const FLEXIBLE_FROM = 3;

export const txnOffsetCommit: WireApi = {
  key: 28, name: 'TxnOffsetCommit', minVersion: 0, maxVersion: 3,
  request: schema(`
transactionalId string 0+
groupId string 0+
producerId int64 0+
producerEpoch int16 0+
generationId int32 3+ default:-1
memberId string 3+ default:
groupInstanceId string 3+ null:3+ default:null
topics [] 0+
  name string 0+
  partitions [] 0+
    partitionIndex int32 0+
    committedOffset int64 0+
    committedLeaderEpoch int32 2+ default:-1
    committedMetadata string 0+ null:0+
`, FLEXIBLE_FROM),
  response: schema(`
throttleTimeMs int32 0+
topics [] 0+
  name string 0+
  partitions [] 0+
    partitionIndex int32 0+
    errorCode int16 0+
`, FLEXIBLE_FROM),
  async handle(request, _version, context) {
    const topics = committedOffsets(request.topics);
    const answer = await answerOrError(() => transactionsOf(context).txnOffsetCommit({
      transactionalId: request.transactionalId, groupId: request.groupId, producerId: request.producerId, producerEpoch: request.producerEpoch,
      generationId: request.generationId, memberId: request.memberId, groupInstanceId: request.groupInstanceId, topics,
    }));
    const failed = requestError(answer);
    const byTopic = new Map(('failed' in answer ? [] : answer.topics).map((t) => [t.topic, new Map(t.partitions.map((p) => [p.partition, p.error]))]));
    return {
      throttleTimeMs: 0,
      topics: topics.map((t) => ({
        name: t.topic,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partition, errorCode: errorFields(failed ?? byTopic.get(t.topic)?.get(p.partition)).errorCode })),
      })),
    };
  },
};
