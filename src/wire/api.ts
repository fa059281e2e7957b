/**
 * What one Kafka API is to the listener: its key, the versions served, the
 * request and response schemas, and how a decoded request becomes a call on
 * the broker (src/protocol/types.ts's BrokerApi) and its answer a response.
 * One file per API in ./apis/.
 */
import type { Logger } from '../client/logger.ts';
import type { WafkaErrorJSON } from '../errors.ts';
import type { BrokerApi } from '../protocol/types.ts';
import type { Schema, Struct } from './schema.ts';

export interface Endpoint { host: string; port: number }

export interface WireContext {
  /** The broker this listener serves. */
  broker: BrokerApi;
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
