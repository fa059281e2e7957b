/**
 * AddPartitionsToTxn (key 24): the partitions a transactional producer is
 * about to write to, registered with its transaction coordinator before the
 * first send to each. Versions 0–3 are the clients' (one transaction per
 * request); 4+ are Kafka's inter-broker form and are not served.
 */
import { errorFields, transactionsOf, type WireApi } from '../api.ts';
import { schema } from '../schema.ts';
import { answerOrError, requestError } from './transaction-errors.ts';

const FLEXIBLE_FROM = 3;

export const addPartitionsToTxn: WireApi = {
  key: 24, name: 'AddPartitionsToTxn', minVersion: 0, maxVersion: 3,
  request: schema(`
transactionalId string 0+
producerId int64 0+
producerEpoch int16 0+
topics [] 0+
  name string 0+
  partitions []int32 0+
`, FLEXIBLE_FROM),
  response: schema(`
throttleTimeMs int32 0+
results [] 0+
  name string 0+
  results [] 0+
    partitionIndex int32 0+
    partitionErrorCode int16 0+
`, FLEXIBLE_FROM),
  async handle(request, _version, context) {
    const topics: { topic: string; partitions: number[] }[] = request.topics.map((t: { name: string; partitions: number[] }) => ({ topic: t.name, partitions: t.partitions }));
    const answer = await answerOrError(() => transactionsOf(context).addPartitionsToTxn({
      transactionalId: request.transactionalId, producerId: request.producerId, producerEpoch: request.producerEpoch, topics,
    }));
    // A request-level error is every partition's error, as Kafka's v3-and-below answer carries it.
    const failed = requestError(answer);
    const byTopic = new Map(('failed' in answer ? [] : answer.results).map((r) => [r.topic, new Map(r.partitions.map((p) => [p.partition, p.error]))]));
    return {
      throttleTimeMs: 0,
      results: topics.map((t) => ({
        name: t.topic,
        results: t.partitions.map((partition) => ({
          partitionIndex: partition, partitionErrorCode: errorFields(failed ?? byTopic.get(t.topic)?.get(partition)).errorCode,
        })),
      })),
    };
  },
};
