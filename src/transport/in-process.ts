/**
 * The in-process transport: direct calls on a BrokerApi in the same realm, for
 * tests and single-threaded edge runtimes. No copies and no transfer: produce
 * records are handed to the broker as they are (the broker copies what it
 * keeps; see Broker.produce), and fetch records belong to the caller.
 *
 * It still behaves like a connection: after close(), calls reject with
 * BROKER_NOT_AVAILABLE, and the broker's own lifecycle (close) is not exposed.
 */
import { WafkaError } from '../errors.ts';
import type { BrokerApi } from '../protocol/types.ts';

const METHODS = [
  'metadata', 'produce', 'fetch', 'listOffsets', 'createTopics', 'deleteTopics', 'createPartitions',
  'describeConfigs', 'alterConfigs', 'deleteRecords', 'metrics',
] as const satisfies readonly (keyof BrokerApi)[];

export type InProcessBrokerClient = BrokerApi & { close(): void; readonly closed: boolean };

export function inProcessBroker(broker: BrokerApi): InProcessBrokerClient {
  let closed = false;
  const client = {
    close() { closed = true; },
    get closed() { return closed; },
  } as InProcessBrokerClient;
  for (const method of METHODS) {
    (client as unknown as Record<string, unknown>)[method] = (request: unknown) =>
      closed
        ? Promise.reject(new WafkaError('BROKER_NOT_AVAILABLE', 'broker connection closed'))
        : (broker[method] as (r: unknown) => Promise<unknown>).call(broker, request);
  }
  return client;
}
