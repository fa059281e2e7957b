/** ListTransactions (key 66, KIP-664): the transactional ids this broker coordinates, filtered by state and producer id. */
import { TRANSACTION_STATES, type TransactionState } from '../../protocol/types.ts';
import { errorFields, transactionsOf, type WireApi } from '../api.ts';
import { schema } from '../schema.ts';
import { answerOrError } from './transaction-errors.ts';

export const listTransactions: WireApi = {
  key: 66, name: 'ListTransactions', minVersion: 0, maxVersion: 0,
  request: schema(`
stateFilters []string 0+
producerIdFilters []int64 0+
`, 0),
  response: schema(`
throttleTimeMs int32 0+
errorCode int16 0+
unknownStateFilters []string 0+
transactionStates [] 0+
  transactionalId string 0+
  producerId int64 0+
  transactionState string 0+
`, 0),
  async handle(request, _version, context) {
    const known = new Set<string>(TRANSACTION_STATES);
    const stateFilters = (request.stateFilters as string[]).filter((s) => known.has(s)) as TransactionState[];
    const unknownStateFilters = (request.stateFilters as string[]).filter((s) => !known.has(s));
    const answer = await answerOrError(() => transactionsOf(context).listTransactions({ stateFilters, producerIdFilters: request.producerIdFilters }));
    if ('failed' in answer) return { throttleTimeMs: 0, errorCode: errorFields(answer.failed).errorCode, unknownStateFilters, transactionStates: [] };
    return {
      throttleTimeMs: 0, errorCode: 0, unknownStateFilters,
      transactionStates: answer.transactionStates.map((t) => ({ transactionalId: t.transactionalId, producerId: t.producerId, transactionState: t.state })),
    };
  },
};
