/** DescribeTransactions (key 65, KIP-664): the state of transactional ids, from their coordinator. */
import { errorFields, transactionsOf, type WireApi } from '../api.ts';
import { schema } from '../schema.ts';
import { answerOrError } from './transaction-errors.ts';

export const describeTransactions: WireApi = {
  key: 65, name: 'DescribeTransactions', minVersion: 0, maxVersion: 0,
  request: schema(`
transactionalIds []string 0+
`, 0),
  response: schema(`
throttleTimeMs int32 0+
transactionStates [] 0+
  errorCode int16 0+
  transactionalId string 0+
  transactionState string 0+
  transactionTimeoutMs int32 0+
  transactionStartTimeMs int64 0+
  producerId int64 0+
  producerEpoch int32 0+
  topicPartitions [] 0+
    name string 0+
    partitionIndexes []int32 0+
`, 0),
  async handle(request, _version, context) {
    const answer = await answerOrError(() => transactionsOf(context).describeTransactions({ transactionalIds: request.transactionalIds }));
    if ('failed' in answer) {
      const { errorCode } = errorFields(answer.failed);
      return {
        throttleTimeMs: 0,
        transactionStates: (request.transactionalIds as string[]).map((transactionalId) => ({
          errorCode, transactionalId, transactionState: '', transactionTimeoutMs: 0, transactionStartTimeMs: -1n, producerId: -1n, producerEpoch: -1, topicPartitions: [],
        })),
      };
    }
    return {
      throttleTimeMs: 0,
      transactionStates: answer.transactionStates.map((t) => ({
        errorCode: errorFields(t.error).errorCode, transactionalId: t.transactionalId, transactionState: t.state,
        transactionTimeoutMs: t.transactionTimeoutMs, transactionStartTimeMs: t.transactionStartTimeMs,
        producerId: t.producerId, producerEpoch: t.producerEpoch,
        topicPartitions: t.topics.map((p) => ({ name: p.topic, partitionIndexes: p.partitions })),
      })),
    };
  },
};
