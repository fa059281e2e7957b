/**
 * EndTxn (key 26): commit or abort a producer's transaction; its coordinator
 * writes the markers to every partition in it. Versions 0–3 are served, the
 * ones whose clients keep their epoch across transactions (KIP-890's epoch
 * bump at every end needs version 5, which answers the new epoch).
 */
import { errorFields, transactionsOf, type WireApi } from '../api.ts';
import { schema } from '../schema.ts';
import { answerOrError, requestError } from './transaction-errors.ts';

const FLEXIBLE_FROM = 3;

export const endTxn: WireApi = {
  key: 26, name: 'EndTxn', minVersion: 0, maxVersion: 3,
  request: schema(`
transactionalId string 0+
producerId int64 0+
producerEpoch int16 0+
committed bool 0+
`, FLEXIBLE_FROM),
  response: schema(`
throttleTimeMs int32 0+
errorCode int16 0+
`, FLEXIBLE_FROM),
  async handle(request, _version, context) {
    const answer = await answerOrError(() => transactionsOf(context).endTxn({
      transactionalId: request.transactionalId, producerId: request.producerId, producerEpoch: request.producerEpoch,
      committed: request.committed, keepsEpoch: true,
    }));
    return { throttleTimeMs: 0, errorCode: errorFields(requestError(answer)).errorCode };
  },
};
