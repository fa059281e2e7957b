/**
 * The in-process transport: direct calls on a BrokerApi in the same realm, for
 * tests and single-threaded edge runtimes. No copies and no transfer: produce
 * records are handed to the broker as they are (the broker copies what it
 * keeps; see Broker.produce), and fetch records belong to the caller.
 *
 * It still behaves like a connection: after close(), calls reject with
 * BROKER_NOT_AVAILABLE, and the broker's own lifecycle (close) is not exposed;
 * and an answer arrives in a task of its own, as a message from a worker
 * would (see yieldToEventLoop): a broker on memory or files answers without
 * waiting for anything, and a client looping over such answers would
 * otherwise never let timers and I/O run.
 */
import { WafkaError } from '../errors.ts';
import { yieldToEventLoop } from '../event-loop.ts';
import { GROUP_API_METHODS, isGroupApi, transactionMethodsOf, type BrokerApi, type GroupApi, type TransactionApi } from '../protocol/types.ts';

const METHODS = [
  'metadata', 'produce', 'fetch', 'listOffsets', 'createTopics', 'deleteTopics', 'createPartitions',
  'describeConfigs', 'alterConfigs', 'deleteRecords', 'initProducerId', 'metrics',
] as const satisfies readonly (keyof BrokerApi)[];

export type InProcessBrokerClient = BrokerApi & Partial<GroupApi> & Partial<TransactionApi> & { close(): void; readonly closed: boolean };

/** A connection to `broker`; the group and transaction requests too when it serves them. */
export function inProcessBroker(broker: BrokerApi): InProcessBrokerClient {
  let closed = false;
  const client = {
    close() { closed = true; },
    get closed() { return closed; },
  } as InProcessBrokerClient;
  const methods: readonly string[] = [...METHODS, ...(isGroupApi(broker) ? GROUP_API_METHODS : []), ...transactionMethodsOf(broker)];
  for (const method of methods) {
    (client as unknown as Record<string, unknown>)[method] = async (request: unknown) => {
      if (closed) throw new WafkaError('BROKER_NOT_AVAILABLE', 'broker connection closed');
      try {
        return await ((broker as unknown as Record<string, (r: unknown) => Promise<unknown>>)[method]).call(broker, request);
      } finally {
        await yieldToEventLoop();
      }
    };
  }
  return client;
}
