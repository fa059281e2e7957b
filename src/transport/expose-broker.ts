/**
 * Serves a BrokerApi (usually a Broker) on a comlink endpoint: the inside of a
 * broker worker, or one MessagePort handed to a client in another tab or
 * worker. Fetch responses carry their record bytes as transferred buffers.
 */
import { expose, transfer } from 'comlink/dist/esm/comlink.mjs';
import { GROUP_API_METHODS, isGroupApi, transactionMethodsOf, type BrokerApi, type FetchRequest, type FetchResponse } from '../protocol/types.ts';
import { toEndpoint, type EndpointLike } from './endpoint.ts';
import { prepareTransfer } from './transferable-bytes.ts';
import { registerWafkaErrorHandler } from './wafka-error-handler.ts';

/** The surface exposed over comlink: BrokerApi, GroupApi when the broker serves groups, and its TransactionApi methods (no close, no internals). */
export function exposeBroker(broker: BrokerApi, endpoint: EndpointLike): void {
  registerWafkaErrorHandler();
  const served: BrokerApi = {
    metadata: (r) => broker.metadata(r),
    produce: (r) => broker.produce(r),
    fetch: async (r: FetchRequest) => transferFetchResponse(await broker.fetch(r)),
    listOffsets: (r) => broker.listOffsets(r),
    createTopics: (r) => broker.createTopics(r),
    deleteTopics: (r) => broker.deleteTopics(r),
    createPartitions: (r) => broker.createPartitions(r),
    describeConfigs: (r) => broker.describeConfigs(r),
    alterConfigs: (r) => broker.alterConfigs(r),
    deleteRecords: (r) => broker.deleteRecords(r),
    initProducerId: (r) => broker.initProducerId(r),
    metrics: () => broker.metrics(),
  };
  const extra: readonly string[] = [...(isGroupApi(broker) ? GROUP_API_METHODS : []), ...transactionMethodsOf(broker)];
  for (const method of extra) {
    const call = (broker as unknown as Record<string, (r: unknown) => Promise<unknown>>)[method];
    (served as unknown as Record<string, unknown>)[method] = (r: unknown) => call.call(broker, r);
  }
  expose(served, toEndpoint(endpoint));
}

/**
 * A broker's fetch records are fresh reads that belong to the response (see
 * Broker.fetch), so their buffers are transferred whole, without a copy, even
 * when a record set views only part of a larger read buffer.
 */
export function transferFetchResponse(response: FetchResponse): FetchResponse {
  const records: Uint8Array[] = [];
  for (const topic of response.topics) for (const p of topic.partitions) if (p.records) records.push(p.records);
  if (records.length === 0) return response;
  const { transfer: buffers } = prepareTransfer(records, 'whole-buffer');
  return transfer(response, buffers);
}
