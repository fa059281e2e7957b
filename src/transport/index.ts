export { BrokerClient, type BrokerClientOptions } from './broker-client.ts';
export { exposeBroker, transferFetchResponse } from './expose-broker.ts';
export { inProcessBroker, type InProcessBrokerClient } from './in-process.ts';
export { toEndpoint, type Endpoint, type EndpointLike } from './endpoint.ts';
export { ownsWholeBuffer, prepareTransfer } from './transferable-bytes.ts';
export { registerWafkaErrorHandler } from './wafka-error-handler.ts';
