/**
 * AddOffsetsToTxn (key 25): a transactional producer's consumer group joins
 * its transaction (the group's __consumer_offsets partition gets the
 * transaction's marker), before TxnOffsetCommit sends the offsets.
 */
import { errorFields, transactionsOf, type WireApi } from '../api.ts';
import { schema } from '../schema.ts';
import { answerOrError, requestError } from './transaction-errors.ts';

const FLEXIBLE_FROM = 3;

export const addOffsetsToTxn: WireApi = {
  key: 25, name: 'AddOffsetsToTxn', minVersion: 0, maxVersion: 3,
  request: schema(`
transactionalId string 0+
producerId int64 0+
producerEpoch int16 0+
groupId string 0+
`, FLEXIBLE_FROM),
  response: schema(`
throttleTimeMs int32 0+
errorCode int16 0+
`, FLEXIBLE_FROM),
  async handle(request, _version, context) {
    const answer = await answerOrError(() => transactionsOf(context).addOffsetsToTxn({
      transactionalId: request.transactionalId, producerId: request.producerId, producerEpoch: request.producerEpoch, groupId: request.groupId,
    }));
    return { throttleTimeMs: 0, errorCode: errorFields(requestError(answer)).errorCode };
  },
};
