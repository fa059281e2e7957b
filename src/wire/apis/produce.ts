/**
 * Produce (key 0): record sets appended to partition leaders. Served from
 * version 0 on, but only RecordBatch v2 (magic 2) is stored: an older message
 * set is refused per partition by the broker's batch check. (librdkafka
 * before 2.11.1 turns compression off when a broker does not list Produce
 * from version 0.) The record bytes reach the broker as they came: nothing
 * decodes them on the way. With acks=0 there is no response.
 */
import type { Acks } from '../../protocol/types.ts';
import { errorFields, type WireApi } from '../api.ts';
import { schema } from '../schema.ts';

const FLEXIBLE_FROM = 9;

export const produce: WireApi = {
  key: 0, name: 'Produce', minVersion: 0, maxVersion: 9,
  request: schema(`
transactionalId string 3+ null:3+ default:null
acks int16 0+
timeoutMs int32 0+
topicData [] 0+
  name string 0+
  partitionData [] 0+
    index int32 0+
    records records 0+ null:0+
`, FLEXIBLE_FROM),
  response: schema(`
responses [] 0+
  name string 0+
  partitionResponses [] 0+
    index int32 0+
    errorCode int16 0+
    baseOffset int64 0+
    logAppendTimeMs int64 2+ default:-1
    logStartOffset int64 5+ default:-1
    recordErrors [] 8+
      batchIndex int32 8+
      batchIndexErrorMessage string 8+ null:8+ default:null
    errorMessage string 8+ null:8+ default:null
throttleTimeMs int32 1+ default:0
`, FLEXIBLE_FROM),
  async handle(request, _version, context) {
    const answer = await context.broker.produce({
      acks: request.acks as Acks,
      timeoutMs: request.timeoutMs,
      transactionalId: request.transactionalId,
      topics: request.topicData.map((t: { name: string; partitionData: { index: number; records: Uint8Array | null }[] }) => ({
        topic: t.name,
        partitions: t.partitionData.map((p) => ({ partition: p.index, records: p.records ?? new Uint8Array(0) })),
      })),
    });
    if (request.acks === 0) return null;
    return {
      responses: answer.topics.map((t) => ({
        name: t.topic,
        partitionResponses: t.partitions.map((p) => ({
          index: p.partition, ...errorFields(p.error), baseOffset: p.baseOffset, logAppendTimeMs: p.logAppendTimeMs, logStartOffset: p.logStartOffset,
        })),
      })),
      throttleTimeMs: 0,
    };
  },
};
