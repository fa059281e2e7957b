export { Wafka } from './wafka.ts';
export { Producer, Transaction, PRODUCER_DEFAULTS } from './producer.ts';
export type { TransactionOffsets } from './transaction-manager.ts';
export {
  Consumer, CONSUMER_DEFAULTS,
  type Batch, type ConsumerRunConfig, type ConsumerSubscribeTopics, type EachBatchPayload, type EachMessagePayload,
  type TopicPartitionOffset, type TopicPartitions,
} from './consumer.ts';
export { Admin, ConfigResourceTypes, type ITopicConfig } from './admin.ts';
export { Partitioners, murmur2, partitionForKey, toPositive, type ICustomPartitioner, type Partitioner, type PartitionerArgs } from './partitioners.ts';
export { logLevel, createLogger, type LogCreator, type LogEntry, type LogLevel, type Logger } from './logger.ts';
export { PRODUCER_EVENTS, CONSUMER_EVENTS, ADMIN_EVENTS, type InstrumentationEvent, type RemoveListener } from './instrumentation.ts';
export { toConnector, type BrokerConnector } from './connection.ts';
export { RecordAccumulator, ProducerBatch as AccumulatorBatch, estimateRecordBytes } from './accumulator.ts';
export { RETRY_DEFAULTS, type RetryOptions } from './retry.ts';
export {
  PartitionAssigners, AssignerProtocol,
  type Assigner, type AssignerCluster, type GroupMember, type GroupMemberAssignment, type PartitionAssigner, type RebalanceProtocol,
} from './group/assigners.ts';
export type {
  CompressionType, ConsumerConfig, IHeaders, KafkaMessage, Message, ProducerBatch, ProducerConfig, ProducerRecord,
  RecordMetadata, TopicMessages, WafkaConfig, RebalanceListener, TopicPartitionsList, ConsumerGroupMetadata,
} from './types.ts';
