/**
 * The controller across a MessagePort (comlink): the cluster's host serves
 * it, and each broker worker reaches it through its own port. Calls carry
 * plain data (registrations, heartbeats, ISR changes) and errors cross as
 * WafkaErrors.
 */
import { expose, wrap } from 'comlink/dist/esm/comlink.mjs';
import type { ControllerLink } from '../broker/broker.ts';
import { toEndpoint, type EndpointLike } from './endpoint.ts';
import { registerWafkaErrorHandler } from './wafka-error-handler.ts';

export function exposeController(controller: ControllerLink, endpoint: EndpointLike): void {
  registerWafkaErrorHandler();
  const served: ControllerLink = {
    registerBroker: (r) => controller.registerBroker(r),
    heartbeat: (nodeId, brokerEpoch) => controller.heartbeat(nodeId, brokerEpoch),
    controlledShutdown: (nodeId) => controller.controlledShutdown(nodeId),
    alterPartition: (r) => controller.alterPartition(r),
  };
  expose(served, toEndpoint(endpoint));
}

export function controllerClient(endpoint: EndpointLike): ControllerLink {
  registerWafkaErrorHandler();
  const remote = wrap<ControllerLink>(toEndpoint(endpoint));
  return {
    registerBroker: (r) => remote.registerBroker(r),
    heartbeat: (nodeId, brokerEpoch) => remote.heartbeat(nodeId, brokerEpoch),
    controlledShutdown: (nodeId) => remote.controlledShutdown(nodeId),
    alterPartition: (r) => remote.alterPartition(r),
  };
}
