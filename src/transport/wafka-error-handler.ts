/**
 * Makes a WafkaError thrown on one side of a comlink boundary arrive on the
 * other side as a WafkaError, with `type`, `code` and `retriable` intact.
 *
 * comlink serializes thrown values with its 'throw' transfer handler, which
 * keeps only an Error's name, message and stack. We wrap that handler: a
 * WafkaError travels as its toJSON() and is rebuilt with fromJSON(); anything
 * else goes through comlink's own handler unchanged. Both realms must register
 * (the thrower serializes, the caller deserializes): exposeBroker and
 * BrokerClient do it, and it is idempotent.
 */
import { transferHandlers, type TransferHandler } from 'comlink/dist/esm/comlink.mjs';
import { WafkaError, type WafkaErrorJSON } from '../errors.ts';

interface SerializedWafkaError { wafkaError: WafkaErrorJSON }

let registered = false;

export function registerWafkaErrorHandler(): void {
  if (registered) return;
  const comlinkThrow = transferHandlers.get('throw') as TransferHandler<{ value: unknown }, unknown>;
  const handler: TransferHandler<{ value: unknown }, unknown> = {
    canHandle: (value: unknown): value is { value: unknown } => comlinkThrow.canHandle(value),
    serialize(thrown) {
      if (looksLikeWafkaError(thrown.value)) return [{ wafkaError: thrown.value.toJSON() } satisfies SerializedWafkaError, []];
      return comlinkThrow.serialize(thrown);
    },
    deserialize(serialized) {
      const wafkaError = (serialized as Partial<SerializedWafkaError> | null)?.wafkaError;
      if (wafkaError) throw WafkaError.fromJSON(wafkaError);
      return comlinkThrow.deserialize(serialized);
    },
  };
  transferHandlers.set('throw', handler);
  registered = true;
}

/**
 * Duck-typed rather than `instanceof`: a bundler may load errors.ts twice (two
 * classes), and the shape is what we serialize anyway.
 */
function looksLikeWafkaError(value: unknown): value is WafkaError {
  const e = value as Partial<WafkaError> | null;
  return typeof e === 'object' && e !== null && e.name === 'WafkaError' && typeof e.code === 'number' &&
    typeof e.type === 'string' && typeof e.toJSON === 'function';
}
