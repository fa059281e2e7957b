/**
 * Topic administration as pure changes to a ClusterMetadata copy: create,
 * delete, add partitions, replace config overrides. Each returns per-topic
 * results (errors as Kafka reports them) and whether the document changed; the
 * caller runs it inside updateMetadata (read, change, compare-and-set, retry on
 * a lost race), so these functions must not look at anything but their inputs.
 */
import { describeValue, WafkaError } from '../errors.ts';
import type { CreatePartitionsRequest, CreateTopicSpec, TopicResult } from '../protocol/types.ts';
import { errorJSON } from '../protocol/error-json.ts';
import { assignPartitions } from './assignment.ts';
import { getTopic, newTopicId, partitionCount, putTopic, type ClusterMetadata, type PartitionState } from './metadata.ts';
import { parseTopicConfigEntries } from './topic-config.ts';
import { checkTopicName } from './topic-names.ts';

export interface TopicLimits {
  topicsMax: number;
  partitionsPerTopicMax: number;
  /** All partitions of the cluster: each is a log, with files and memory, on some broker. */
  partitionsTotalMax: number;
  /** 1 in a cluster without a controller: copies without failover and ISR changes would promise what they cannot keep. */
  replicationFactorMax: number;
}

export interface TopicDefaults {
  numPartitions: number;
  replicationFactor: number;
}

export interface AdminChange { results: TopicResult[]; changed: boolean }


export function createTopicsIn(
  metadata: ClusterMetadata,
  specs: readonly CreateTopicSpec[],
  options: { limits: TopicLimits; defaults: TopicDefaults; validateOnly?: boolean; newTopicId?: () => string },
): AdminChange {
  const results: TopicResult[] = [];
  let changed = false;
  const counts = new Map<string, number>();
  for (const spec of specs) counts.set(spec.topic, (counts.get(spec.topic) ?? 0) + 1);
  for (const spec of specs) {
    try {
      checkTopicName(spec.topic);
      if (counts.get(spec.topic)! > 1) throw new WafkaError('INVALID_REQUEST', `topic '${spec.topic}' appears more than once in the request`);
      if (getTopic(metadata, spec.topic)) throw new WafkaError('TOPIC_ALREADY_EXISTS', `topic '${spec.topic}' already exists`);
      if (Object.keys(metadata.topics).length >= options.limits.topicsMax) {
        throw new WafkaError('POLICY_VIOLATION', `the cluster has ${options.limits.topicsMax} topics, the limit`);
      }
      const configs = parseTopicConfigEntries(spec.configEntries);
      // Limits first: nothing is allocated for a partition count that is refused.
      const explicit = spec.replicaAssignment !== undefined && spec.replicaAssignment !== null && (!Array.isArray(spec.replicaAssignment) || spec.replicaAssignment.length > 0);
      const count = explicit ? assignmentLength(spec.replicaAssignment) : requestedPartitions(spec, options.defaults);
      checkPartitionLimits(metadata, count, count, options.limits);
      const partitions = explicit ? explicitAssignment(metadata, spec.replicaAssignment!, options.limits) : roundRobinAssignment(metadata, spec, count, options.defaults, options.limits);
      if (!options.validateOnly) {
        putTopic(metadata, { name: spec.topic, topicId: (options.newTopicId ?? newTopicId)(), configs, partitions });
        metadata.nextAssignmentStart = (metadata.nextAssignmentStart + 1) % Math.max(1, metadata.brokers.length);
        changed = true;
      }
      results.push({ topic: spec.topic });
    } catch (error) {
      results.push({ topic: spec.topic, error: errorJSON(error) });
    }
  }
  return { results, changed };
}

function requestedPartitions(spec: CreateTopicSpec, defaults: TopicDefaults): number {
  const numPartitions = spec.numPartitions === undefined || spec.numPartitions === -1 ? defaults.numPartitions : spec.numPartitions;
  if (!Number.isSafeInteger(numPartitions) || numPartitions < 1) {
    throw new WafkaError('INVALID_PARTITIONS', `numPartitions ${describeValue(numPartitions)}: must be an integer of at least 1`);
  }
  return numPartitions;
}

function assignmentLength(assignment: unknown): number {
  if (!Array.isArray(assignment)) throw new WafkaError('INVALID_REQUEST', 'replicaAssignment must be an array of { partition, replicas }');
  return assignment.length;
}

function roundRobinAssignment(metadata: ClusterMetadata, spec: CreateTopicSpec, numPartitions: number, defaults: TopicDefaults, limits: TopicLimits): PartitionState[] {
  const replicationFactor = spec.replicationFactor === undefined || spec.replicationFactor === -1 ? defaults.replicationFactor : spec.replicationFactor;
  checkReplicationFactor(metadata, replicationFactor, limits);
  return assignPartitions(liveBrokerIds(metadata), 0, numPartitions, metadata.nextAssignmentStart, replicationFactor);
}

function explicitAssignment(metadata: ClusterMetadata, assignment: NonNullable<CreateTopicSpec['replicaAssignment']>, limits: TopicLimits): PartitionState[] {
  for (const [i, entry] of assignment.entries()) {
    if (typeof entry !== 'object' || entry === null || !Number.isSafeInteger(entry.partition) || !Array.isArray(entry.replicas)) {
      throw new WafkaError('INVALID_REQUEST', `replicaAssignment[${i}] must be { partition: integer, replicas: number[] }`);
    }
  }
  const sorted = [...assignment].sort((a, b) => a.partition - b.partition);
  return sorted.map(({ partition, replicas }, i) => {
    if (partition !== i) throw new WafkaError('INVALID_REQUEST', `replicaAssignment partitions must be 0..${sorted.length - 1}, got ${partition} at ${i}`);
    checkReplicas(metadata, replicas, limits);
    return { partition, leader: replicas[0], leaderEpoch: 0, replicas: [...replicas], isr: [...replicas] };
  });
}

function checkReplicas(metadata: ClusterMetadata, replicas: readonly number[], limits: TopicLimits): void {
  if (!Array.isArray(replicas)) throw new WafkaError('INVALID_REQUEST', 'a replica assignment must be an array of broker ids');
  checkReplicationFactor(metadata, replicas.length, limits);
  if (new Set(replicas).size !== replicas.length) throw new WafkaError('INVALID_REQUEST', `replica assignment [${replicas}] names a broker twice`);
  const live = new Set(liveBrokerIds(metadata));
  for (const id of replicas) if (!live.has(id)) throw new WafkaError('INVALID_REQUEST', `replica assignment names broker ${id}, which is not registered`);
}

function checkReplicationFactor(metadata: ClusterMetadata, replicationFactor: number, limits: TopicLimits): void {
  if (!Number.isSafeInteger(replicationFactor) || replicationFactor < 1) {
    throw new WafkaError('INVALID_REPLICATION_FACTOR', `replicationFactor ${describeValue(replicationFactor)}: must be an integer of at least 1`);
  }
  if (replicationFactor > limits.replicationFactorMax) {
    throw new WafkaError('INVALID_REPLICATION_FACTOR', `replicationFactor ${replicationFactor}: at most ${limits.replicationFactorMax} in this cluster (more than 1 needs a controller)`);
  }
  const live = liveBrokerIds(metadata).length;
  if (replicationFactor > live) {
    throw new WafkaError('INVALID_REPLICATION_FACTOR', `replicationFactor ${replicationFactor} larger than the ${live} live brokers`);
  }
}

function checkPartitionLimits(metadata: ClusterMetadata, topicPartitions: number, added: number, limits: TopicLimits): void {
  if (topicPartitions > limits.partitionsPerTopicMax) {
    throw new WafkaError('INVALID_PARTITIONS', `${topicPartitions} partitions over the ${limits.partitionsPerTopicMax} per-topic limit`);
  }
  const total = partitionCount(metadata) + added;
  if (total > limits.partitionsTotalMax) {
    throw new WafkaError('POLICY_VIOLATION', `${total} partitions in the cluster would pass the ${limits.partitionsTotalMax} limit`);
  }
}

export function liveBrokerIds(metadata: ClusterMetadata): number[] {
  // Registered and not fenced by the controller.
  return metadata.brokers.filter((b) => !b.fenced).map((b) => b.nodeId).sort((a, b) => a - b);
}

export function deleteTopicsIn(metadata: ClusterMetadata, names: readonly string[]): AdminChange {
  let changed = false;
  const results = names.map((topic): TopicResult => {
    if (!getTopic(metadata, topic)) {
      return { topic, error: errorJSON(new WafkaError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${topic}' does not exist`)) };
    }
    delete metadata.topics[topic];
    changed = true;
    return { topic };
  });
  return { results, changed };
}

export function createPartitionsIn(
  metadata: ClusterMetadata,
  request: CreatePartitionsRequest,
  limits: TopicLimits,
): AdminChange {
  let changed = false;
  const results = request.topicPartitions.map((entry): TopicResult => {
    const { topic, count, assignments } = entry ?? {};
    try {
      checkTopicName(topic);
      if (assignments !== undefined && assignments !== null && !Array.isArray(assignments)) {
        throw new WafkaError('INVALID_REQUEST', `assignments of '${topic}' must be an array of broker id arrays`);
      }
      const state = getTopic(metadata, topic);
      if (!state) throw new WafkaError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${topic}' does not exist`);
      const current = state.partitions.length;
      if (!Number.isSafeInteger(count) || count <= current) {
        throw new WafkaError('INVALID_PARTITIONS', `topic '${topic}' has ${current} partitions; the new count ${describeValue(count)} must be a larger integer`);
      }
      const added = count - current;
      checkPartitionLimits(metadata, count, added, limits);
      let partitions: PartitionState[];
      if (assignments) {
        if (assignments.length !== added) {
          throw new WafkaError('INVALID_REQUEST', `${assignments.length} assignments for ${added} new partitions of '${topic}'`);
        }
        partitions = assignments.map((replicas, i) => {
          checkReplicas(metadata, replicas, limits);
          return { partition: current + i, leader: replicas[0], leaderEpoch: 0, replicas: [...replicas], isr: [...replicas] };
        });
      } else {
        // Continue the topic's round-robin where its partition 0 started.
        const start = state.partitions[0] ? liveBrokerIds(metadata).indexOf(state.partitions[0].leader) : 0;
        const replicationFactor = state.partitions[0]?.replicas.length ?? 1;
        checkReplicationFactor(metadata, replicationFactor, limits);
        partitions = assignPartitions(liveBrokerIds(metadata), current, added, Math.max(0, start), replicationFactor);
      }
      if (!request.validateOnly) {
        state.partitions.push(...partitions);
        changed = true;
      }
      return { topic };
    } catch (error) {
      return { topic, error: errorJSON(error) };
    }
  });
  return { results, changed };
}

/** Kafka's (non-incremental) AlterConfigs: the given entries replace all of the topic's overrides. */
export function alterTopicConfigsIn(
  metadata: ClusterMetadata,
  topic: string,
  entries: readonly { name: string; value: string }[],
  validateOnly: boolean,
): { changed: boolean } {
  const state = getTopic(metadata, topic);
  if (!state) throw new WafkaError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${topic}' does not exist`);
  const configs = parseTopicConfigEntries(entries);
  if (validateOnly) return { changed: false };
  state.configs = configs;
  return { changed: true };
}
