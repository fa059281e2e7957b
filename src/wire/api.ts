/**
 * What one Kafka API is to the listener: its key, the versions served, the
 * request and response schemas, and how a decoded request becomes a call on
 * the broker (src/protocol/types.ts's BrokerApi) and its answer a response.
 * One file per API in ./apis/.
 */
import type { Logger } from '../client/logger.ts';
import { WafkaError, type WafkaErrorJSON } from '../errors.ts';
import { TRANSACTION_API_METHODS, type BrokerApi, type GroupApi, type TransactionApi } from '../protocol/types.ts';
import type { Schema, Struct } from './schema.ts';

export interface Endpoint { host: string; port: number }

export interface WireContext {
  /** The broker this listener serves, the group coordinator it may be, and the transaction coordinator it may be (see transactionsOf). */
  broker: BrokerApi & GroupApi & Partial<TransactionApi>;
  nodeId: number;
  /** Every broker's listener, by node id (what Metadata advertises). */
  endpoints(): ReadonlyMap<number, Endpoint>;
  log: Logger;
  /** The request header's client_id (set per request). */
  clientId?: string | null;
  /** The peer's address (set per connection). */
  clientHost?: string;
}

export interface WireApi {
  key: number;
  name: string;
  minVersion: number;
  maxVersion: number;
  request: Schema;
  response: Schema;
  /** The response body, or null when the request takes none (Produce with acks=0). */
  handle(request: Struct, version: number, context: WireContext): Promise<Struct | null>;
}

/** A per-partition (or per-topic) error as Kafka's responses carry it. */
export function errorFields(error: WafkaErrorJSON | undefined): { errorCode: number; errorMessage: string | null } {
  return error ? { errorCode: error.code, errorMessage: error.message } : { errorCode: 0, errorMessage: null };
}

/** The broker's transaction requests; a broker reached through a channel without them refuses with UNSUPPORTED_VERSION. */
export function transactionsOf(context: WireContext): TransactionApi {
  const missing = TRANSACTION_API_METHODS.filter((m) => typeof context.broker[m] !== 'function');
  if (missing.length > 0) throw new WafkaError('UNSUPPORTED_VERSION', `broker ${context.nodeId} serves no transactions (${missing.join(', ')} missing)`);
  return context.broker as TransactionApi;
}
