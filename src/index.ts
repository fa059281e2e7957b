/**
 * wafka: Apache Kafka's log as a WebAssembly-cored runtime for browsers and
 * edge runtimes. The package's main entry: the KafkaJS-shaped client, the
 * cluster starter, errors, compression types and partitioners.
 */
export * from './client/index.ts';
export {
  startCluster, connectCluster, CLUSTER_BROKERS_MAX,
  type Cluster, type StartClusterOptions, type ConnectClusterOptions, type ConnectedCluster, type ClusterConnection, type StorageKind,
} from './cluster/index.ts';
export { CompressionTypes, registerCodec, type CompressionCodec } from './core/codecs.ts';
export { WafkaError, UndecodableBatchError, KAFKA_ERRORS, type KafkaErrorType, type WafkaErrorJSON } from './errors.ts';
export type * from './protocol/types.ts';
