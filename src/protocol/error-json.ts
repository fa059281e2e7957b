/** Per-partition and per-topic errors as Kafka reports them: a code and name in the answer, not a throw. */
import { WafkaError, type WafkaErrorJSON } from '../errors.ts';

/** The error as it goes into a response: no stack (responses stay small and leak no internals). */
export function errorJSON(error: unknown): WafkaErrorJSON {
  const wafka = error instanceof WafkaError ? error : unknownServerError(error);
  const { stack: _stack, ...json } = wafka.toJSON();
  return json;
}

export function unknownServerError(error: unknown): WafkaError {
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new WafkaError('UNKNOWN_SERVER_ERROR', detail, { cause: error });
}

/** A thrown value as a WafkaError (request-level failures reject with one). */
export function asWafkaError(error: unknown): WafkaError {
  return error instanceof WafkaError ? error : unknownServerError(error);
}
