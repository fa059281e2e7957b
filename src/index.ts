/**
 * wafka: Apache Kafka's log as a WebAssembly-cored runtime for browsers and
 * edge runtimes. The package's main entry: the KafkaJS-shaped client, the
 * cluster starter, errors, compression types and partitioners.
 */
export * from './client/index.ts';
// From the modules themselves, not src/cluster/index.ts: that one also reaches the brokers' storage,
// which a page whose brokers run in workers must not load.
export { startCluster, CLUSTER_BROKERS_MAX, type Cluster, type StartClusterOptions } from './cluster/start-cluster.ts';
export { connectCluster, type ConnectClusterOptions, type ConnectedCluster } from './cluster/connect-cluster.ts';
export type { ClusterConnection } from './cluster/cluster-connection.ts';
export type { SharedCluster, TabHosting } from './cluster/shared-cluster.ts';
export type { StorageKind } from './cluster/broker-storage.ts';
export { CompressionTypes, registerCodec, type CompressionCodec } from './core/codecs.ts';
export { WafkaError, UndecodableBatchError, KAFKA_ERRORS, type KafkaErrorType, type WafkaErrorJSON } from './errors.ts';
export type * from './protocol/types.ts';
