/**
 * Serves a BrokerApi (usually a Broker) on a comlink endpoint: the inside of a
 * broker worker, or one MessagePort handed to a client in another tab or
 * worker. Fetch responses carry their record bytes as transferred buffers.
 * `produceHandingBack` answers a produce with the request's record buffers
 * transferred back, for the client's buffer pool (see BrokerClient.produce).
 */
import { expose, transfer } from 'comlink/dist/esm/comlink.mjs';
import { isPlainArrayBuffer } from '../buffer-pool.ts';
import {
  GROUP_API_METHODS, isGroupApi, transactionMethodsOf, type BrokerApi, type FetchRequest, type FetchResponse, type ProduceRequest, type ProduceResponse,
} from '../protocol/types.ts';
import { toEndpoint, type EndpointLike } from './endpoint.ts';
import { prepareTransfer } from './transferable-bytes.ts';
import { registerWafkaErrorHandler } from './wafka-error-handler.ts';

/** The surface exposed over comlink: BrokerApi, GroupApi when the broker serves groups, and its TransactionApi methods (no close, no internals). */
export function exposeBroker(broker: BrokerApi, endpoint: EndpointLike): void {
  registerWafkaErrorHandler();
  const served: BrokerApi & Pick<HandingBackApi, 'produceHandingBack'> = {
    metadata: (r) => broker.metadata(r),
    produce: (r) => broker.produce(r),
    produceHandingBack: async (r: ProduceRequest) => handBack(r, await broker.produce(r)),
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

/** The produce that hands its request's record buffers back once they are written. */
export interface HandingBackApi {
  produceHandingBack(request: ProduceRequest): Promise<{ response: ProduceResponse; buffers: ArrayBuffer[] }>;
}

/**
 * The request's record buffers, transferred back with the response. Once
 * Broker.produce has answered with acks 1 or -1 every append of the request
 * has finished (written, or failed and rolled back) and no storage backend
 * keeps the bytes it was given, so nothing here reads them again. acks=0 is
 * answered before its appends run: its buffers stay.
 */
function handBack(request: ProduceRequest, response: ProduceResponse): { response: ProduceResponse; buffers: ArrayBuffer[] } {
  if (request.acks === 0) return { response, buffers: [] };
  const buffers = new Set<ArrayBuffer>();
  for (const t of request.topics) {
    for (const p of t.partitions) {
      const buffer = p.records?.buffer;
      if (buffer && isPlainArrayBuffer(buffer) && buffer.byteLength > 0) buffers.add(buffer);
    }
  }
  const list = [...buffers];
  return transfer({ response, buffers: list }, list);
}
