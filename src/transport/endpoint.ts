/**
 * Anything with postMessage is a comlink endpoint: a browser Worker,
 * MessagePort or DedicatedWorkerGlobalScope as they are; a Node worker_threads
 * Worker, MessagePort or parentPort through comlink's node adapter (they are
 * EventEmitters: `on('message', data)` rather than `addEventListener`).
 *
 * comlink is imported by its ESM path everywhere: on Node the bare 'comlink'
 * resolves to the UMD build, and two copies would not share transfer handlers.
 */
import type { Endpoint } from 'comlink/dist/esm/comlink.mjs';
import nodeEndpoint, { type NodeEndpoint } from 'comlink/dist/esm/node-adapter.mjs';

export type { Endpoint };
export type EndpointLike = Endpoint | NodeEndpoint;

export function toEndpoint(target: EndpointLike): Endpoint {
  const maybeNode = target as Partial<NodeEndpoint>;
  if (typeof maybeNode.on === 'function' && typeof maybeNode.off === 'function') return nodeEndpoint(target as NodeEndpoint);
  return target as Endpoint;
}
