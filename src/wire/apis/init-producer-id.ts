/**
 * InitProducerId (key 22): a producer id and epoch, for an idempotent
 * producer (its batches then carry sequence numbers the leader
 * de-duplicates) or, with a transactional id, from that id's transaction
 * coordinator (the epoch bumped, the previous holder fenced). Versions 3+
 * carry the id and epoch the producer holds (KIP-360). A refusal is the
 * answer's error code.
 */
import { WafkaError } from '../../errors.ts';
import { errorFields, type WireApi } from '../api.ts';
import { schema } from '../schema.ts';

const FLEXIBLE_FROM = 2;

export const initProducerId: WireApi = {
  key: 22, name: 'InitProducerId', minVersion: 0, maxVersion: 4,
  request: schema(`
transactionalId string 0+ null:0+
transactionTimeoutMs int32 0+
producerId int64 3+ default:-1
producerEpoch int16 3+ default:-1
`, FLEXIBLE_FROM),
  response: schema(`
throttleTimeMs int32 0+
errorCode int16 0+
producerId int64 0+ default:-1
producerEpoch int16 0+
`, FLEXIBLE_FROM),
  async handle(request, _version, context) {
    try {
      const held = request.producerId >= 0n ? { producerId: request.producerId, producerEpoch: request.producerEpoch } : {};
      const answer = await context.broker.initProducerId({ transactionalId: request.transactionalId, transactionTimeoutMs: request.transactionTimeoutMs, ...held });
      return { throttleTimeMs: 0, errorCode: 0, producerId: answer.producerId, producerEpoch: answer.producerEpoch };
    } catch (error) {
      if (!(error instanceof WafkaError)) throw error;
      return { throttleTimeMs: 0, errorCode: errorFields(error.toJSON()).errorCode, producerId: -1n, producerEpoch: -1 };
    }
  },
};
