/**
 * The admin client: KafkaJS's admin API. Topic changes go to the controller
 * (any broker when none is elected yet); offsets and record deletion go to
 * each partition's leader. Config names may be given as Kafka's
 * (`retention.ms`) or wafka's (`retentionMs`); answers use wafka's.
 */
import { WafkaError, type KafkaErrorType } from '../errors.ts';
import {
  EARLIEST_TIMESTAMP, LATEST_TIMESTAMP,
  type BrokerApi, type ConfigResourceType, type CreateTopicSpec, type IsolationLevel,
} from '../protocol/types.ts';
import { arrayArgument, LATEST_OFFSET, objectArgument, offsetArgument, partitionArgument, timestampArgument, topicArgument } from './arguments.ts';
import { ClusterClient, fromErrorJSON, type BrokerConnector } from './connection.ts';
import { ADMIN_EVENTS, InstrumentationEmitter, type Listener, type RemoveListener } from './instrumentation.ts';
import type { Logger } from './logger.ts';
import { resolveRetry, withRetry, type RetryOptions } from './retry.ts';
import { COORDINATOR_MOVED, findCoordinators, groupCall } from './group/group-requests.ts';
import {
  COORDINATOR_KEY_TYPE_TRANSACTION, transactionMethodsOf,
  type DescribedTransaction, type GroupApi, type GroupState, type TransactionApi, type TransactionState,
} from '../protocol/types.ts';

/** KafkaJS's ConfigResourceTypes. */
export const ConfigResourceTypes = { UNKNOWN: 0, ANY: 1, TOPIC: 2, GROUP: 3, BROKER: 4, BROKER_LOGGER: 8 } as const;

export interface AdminContext { connector: BrokerConnector; clientId: string; logger: Logger; retry?: RetryOptions }
export interface AdminConfig { retry?: RetryOptions }

export interface ITopicConfig {
  topic: string;
  numPartitions?: number;
  replicationFactor?: number;
  replicaAssignment?: { partition: number; replicas: number[] }[];
  configEntries?: { name: string; value: string }[];
}

export interface PartitionMetadataKafkaJS {
  partitionErrorCode: number;
  partitionId: number;
  leader: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
}

type ResourceType = number | ConfigResourceType;
export interface ResourceConfigQuery { type: ResourceType; name: string; configNames?: string[] }

/** `retention.ms` → `retentionMs`; names without dots are kept. */
export const toConfigName = (name: string) => name.includes('.') ? name.replace(/\.([a-z])/g, (_, c: string) => c.toUpperCase()) : name;

function resourceType(type: ResourceType): ConfigResourceType {
  if (type === 'topic' || type === ConfigResourceTypes.TOPIC) return 'topic';
  if (type === 'broker' || type === ConfigResourceTypes.BROKER) return 'broker';
  throw new WafkaError('INVALID_REQUEST', `config resource type ${String(type)} is not supported (TOPIC or BROKER)`);
}
const resourceTypeCode = (type: ConfigResourceType) => (type === 'topic' ? ConfigResourceTypes.TOPIC : ConfigResourceTypes.BROKER);

/** Topics, partitions or resources in one admin call (the broker has its own limit per request). */
export const ADMIN_REQUEST_ENTRIES_MAX = 10_000;

function stringArgument(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new WafkaError('INVALID_REQUEST', `${what} must be a string, got ${typeof value}`, { retriable: false });
  return value;
}

function optionalInteger(value: unknown, what: string, type: KafkaErrorType): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new WafkaError(type, `${what} ${String(typeof value === 'number' ? value : typeof value)} is not an integer`, { retriable: false });
  return value;
}

function brokerIdLists(value: unknown, what: string): number[][] {
  return arrayArgument<unknown>(value, what, ADMIN_REQUEST_ENTRIES_MAX).map((ids, i) => arrayArgument<unknown>(ids, `${what}[${i}]`, 64).map((id, j) => {
    if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw new WafkaError('INVALID_REQUEST', `${what}[${i}][${j}] is not a broker id`, { retriable: false });
    return id;
  }));
}

/** { name, value } entries; a value may be given as a number (KafkaJS users do), never as an object. */
function configEntries(value: unknown, what: string): { name: string; value: string }[] | undefined {
  if (value === undefined || value === null) return undefined;
  return arrayArgument<unknown>(value, what, 64).map((entry, i) => {
    const e = objectArgument<{ name: unknown; value: unknown }>(entry, `${what}[${i}]`);
    const name = stringArgument(e.name, `${what}[${i}].name`);
    if (typeof e.value !== 'string' && typeof e.value !== 'number') throw new WafkaError('INVALID_CONFIG', `${what}[${i}].value must be a string`, { retriable: false });
    return { name: toConfigName(name), value: String(e.value) };
  });
}

function topicSpec(t: ITopicConfig, i: number): CreateTopicSpec {
  const what = `createTopics topics[${i}]`;
  return {
    topic: topicArgument(t.topic, `${what}.topic`),
    numPartitions: optionalInteger(t.numPartitions, `${what}.numPartitions`, 'INVALID_PARTITIONS'),
    replicationFactor: optionalInteger(t.replicationFactor, `${what}.replicationFactor`, 'INVALID_REPLICATION_FACTOR'),
    replicaAssignment: t.replicaAssignment === undefined || t.replicaAssignment === null ? undefined
      : arrayArgument<unknown>(t.replicaAssignment, `${what}.replicaAssignment`, ADMIN_REQUEST_ENTRIES_MAX).map((entry, j) => {
        const a = objectArgument<{ partition: unknown; replicas: unknown }>(entry, `${what}.replicaAssignment[${j}]`);
        return { partition: partitionArgument(a.partition, `${what}.replicaAssignment[${j}].partition`), replicas: brokerIdLists([a.replicas], `${what}.replicaAssignment[${j}].replicas`)[0] };
      }),
    configEntries: configEntries(t.configEntries, `${what}.configEntries`),
  };
}

export class Admin {
  readonly events = ADMIN_EVENTS;
  readonly #logger: Logger;
  readonly #instrumentation: InstrumentationEmitter;
  readonly #cluster: ClusterClient;
  readonly #retry: Required<RetryOptions>;
  #connected = false;

  constructor(config: AdminConfig, context: AdminContext) {
    this.#logger = context.logger.namespace('Admin');
    this.#instrumentation = new InstrumentationEmitter(ADMIN_EVENTS, (error, type) => this.#logger.error(`listener of ${type} threw`, { error: String(error) }));
    this.#cluster = new ClusterClient({
      connector: context.connector, clientId: context.clientId, logger: this.#logger,
      instrumentation: this.#instrumentation, requestEvent: ADMIN_EVENTS.REQUEST, allowAutoTopicCreation: false,
    });
    this.#retry = resolveRetry(context.retry, config.retry);
  }

  on(eventName: string, listener: Listener): RemoveListener { return this.#instrumentation.on(eventName, listener); }
  logger(): Logger { return this.#logger; }

  async connect(): Promise<void> {
    if (this.#connected) return;
    await this.#cluster.refresh([]);
    this.#connected = true;
    this.#instrumentation.emit(ADMIN_EVENTS.CONNECT, null);
  }

  async disconnect(): Promise<void> {
    if (!this.#connected) return;
    this.#connected = false;
    this.#instrumentation.emit(ADMIN_EVENTS.DISCONNECT, null);
  }

  #assertConnected(): void {
    if (!this.#connected) throw new WafkaError('NETWORK_EXCEPTION', 'the admin client is not connected (call connect())', { retriable: false });
  }

  /** The controller, or any broker when none is known; retried with a metadata refresh. */
  async #toController<T>(apiName: string, call: (api: BrokerApi) => Promise<T>): Promise<T> {
    return withRetry(this.#retry, async () => {
      if (!this.#cluster.metadata) await this.#cluster.refresh([]);
      const ids = this.#cluster.brokerIds();
      const nodeId = this.#cluster.controllerId >= 0 ? this.#cluster.controllerId : ids[0];
      if (nodeId === undefined) throw new WafkaError('BROKER_NOT_AVAILABLE', 'the cluster has no brokers');
      return this.#cluster.request(nodeId, apiName, 0, call);
    }, async () => { await this.#cluster.refresh([]).catch(() => {}); });
  }

  /** true when every topic was created, false when some already existed (as KafkaJS); other errors throw. */
  async createTopics(options: { topics: ITopicConfig[]; validateOnly?: boolean; waitForLeaders?: boolean; timeout?: number }): Promise<boolean> {
    this.#assertConnected();
    objectArgument(options, 'createTopics options');
    const specs = arrayArgument<ITopicConfig>(options.topics, 'createTopics topics', ADMIN_REQUEST_ENTRIES_MAX);
    if (specs.length === 0) throw new WafkaError('INVALID_REQUEST', 'createTopics needs topics: [{ topic, numPartitions, ... }]', { retriable: false });
    const topics: CreateTopicSpec[] = specs.map((t, i) => topicSpec(objectArgument<ITopicConfig>(t, `createTopics topics[${i}]`), i));
    const names = topics.map((t) => t.topic);
    if (new Set(names).size !== names.length) throw new WafkaError('INVALID_REQUEST', `duplicate topic in ${JSON.stringify(names)}`);
    const response = await this.#toController('CreateTopics', (api) => api.createTopics({ topics, validateOnly: options.validateOnly, timeoutMs: options.timeout }));
    let existed = false;
    for (const t of response.topics) {
      const error = fromErrorJSON(t.error);
      if (!error) continue;
      if (error.type === 'TOPIC_ALREADY_EXISTS') { existed = true; continue; }
      throw error;
    }
    if (!options.validateOnly && options.waitForLeaders !== false) await this.#waitForLeaders(names, options.timeout ?? 5000);
    return !existed;
  }

  async #waitForLeaders(topics: string[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await this.#cluster.refresh(topics);
      const ready = topics.every((name) => {
        const t = response.topics.find((x) => x.name === name);
        return t && !t.error && t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0);
      });
      if (ready) return;
      if (Date.now() > deadline) throw new WafkaError('REQUEST_TIMED_OUT', `topics ${topics.join(', ')} have no leaders after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async deleteTopics(options: { topics: string[]; timeout?: number }): Promise<void> {
    this.#assertConnected();
    objectArgument(options, 'deleteTopics options');
    const topics = arrayArgument<unknown>(options.topics, 'deleteTopics topics', ADMIN_REQUEST_ENTRIES_MAX).map((t, i) => topicArgument(t, `deleteTopics topics[${i}]`));
    const response = await this.#toController('DeleteTopics', (api) => api.deleteTopics({ topics, timeoutMs: options.timeout }));
    for (const t of response.topics) { const error = fromErrorJSON(t.error); if (error) throw error; }
    this.#cluster.markStale();
  }

  async createPartitions(options: { topicPartitions: { topic: string; count: number; assignments?: number[][] }[]; validateOnly?: boolean; timeout?: number }): Promise<boolean> {
    this.#assertConnected();
    objectArgument(options, 'createPartitions options');
    const topicPartitions = arrayArgument<unknown>(options.topicPartitions, 'createPartitions topicPartitions', ADMIN_REQUEST_ENTRIES_MAX).map((entry, i) => {
      const { topic, count, assignments } = objectArgument<{ topic: unknown; count: unknown; assignments?: unknown }>(entry, `createPartitions topicPartitions[${i}]`);
      if (typeof count !== 'number') throw new WafkaError('INVALID_PARTITIONS', `createPartitions topicPartitions[${i}].count must be a number`, { retriable: false });
      return { topic: topicArgument(topic, `createPartitions topicPartitions[${i}].topic`), count, assignments: assignments === undefined ? undefined : brokerIdLists(assignments, `createPartitions topicPartitions[${i}].assignments`) };
    });
    const response = await this.#toController('CreatePartitions', (api) => api.createPartitions({ topicPartitions, validateOnly: options.validateOnly === true }));
    for (const t of response.topics) { const error = fromErrorJSON(t.error); if (error) throw error; }
    this.#cluster.markStale();
    return true;
  }

  async listTopics(): Promise<string[]> {
    this.#assertConnected();
    const response = await withRetry(this.#retry, () => this.#cluster.refresh(null));
    return response.topics.filter((t) => !t.error).map((t) => t.name);
  }

  async fetchTopicMetadata(options: { topics?: string[] } = {}): Promise<{ topics: { name: string; partitions: PartitionMetadataKafkaJS[] }[] }> {
    this.#assertConnected();
    const response = await withRetry(this.#retry, () => this.#cluster.refresh(options.topics && options.topics.length > 0 ? options.topics : null));
    const wanted = options.topics && options.topics.length > 0 ? options.topics : response.topics.map((t) => t.name);
    return {
      topics: wanted.map((name) => {
        const t = response.topics.find((x) => x.name === name);
        if (!t) throw new WafkaError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${name}" does not exist`, { retriable: false });
        if (t.error) throw fromErrorJSON(t.error)!;
        return {
          name: t.name,
          partitions: [...t.partitions].sort((a, b) => a.partitionId - b.partitionId).map((p) => ({
            partitionErrorCode: p.error?.code ?? 0,
            partitionId: p.partitionId,
            leader: p.leader,
            replicas: p.replicas,
            isr: p.isr,
            offlineReplicas: p.replicas.filter((r) => !p.isr.includes(r)),
          })),
        };
      }),
    };
  }

  async describeCluster(): Promise<{ brokers: { nodeId: number; host: string; port: number }[]; controller: number | null; clusterId: string }> {
    this.#assertConnected();
    const response = await withRetry(this.#retry, () => this.#cluster.refresh([]));
    return {
      brokers: response.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: 0 })),
      controller: response.controllerId >= 0 ? response.controllerId : null,
      clusterId: response.clusterId,
    };
  }

  /** One ListOffsets per leader for every partition of `topic`, at `timestamp` (bigint, or the special -1/-2). */
  async #listOffsets(topic: string, timestamps: bigint[], isolationLevel: IsolationLevel = 'read_uncommitted'): Promise<Map<number, bigint>[]> {
    return withRetry(this.#retry, async () => {
      const metadata = await this.#cluster.topicMetadata(topic, false);
      const byLeader = new Map<number, number[]>();
      for (const p of metadata.partitions) {
        if (p.leader < 0) throw new WafkaError('LEADER_NOT_AVAILABLE', `no leader for ${topic}-${p.partitionId}`);
        if (!byLeader.has(p.leader)) byLeader.set(p.leader, []);
        byLeader.get(p.leader)!.push(p.partitionId);
      }
      return Promise.all(timestamps.map(async (timestamp) => {
        const offsets = new Map<number, bigint>();
        await Promise.all([...byLeader].map(async ([nodeId, partitions]) => {
          const response = await this.#cluster.request(nodeId, 'ListOffsets', 0, (api) => api.listOffsets({
            isolationLevel, topics: [{ topic, partitions: partitions.map((partition) => ({ partition, timestamp })) }],
          }));
          for (const t of response.topics) for (const p of t.partitions) {
            const error = fromErrorJSON(p.error);
            if (error) throw error;
            offsets.set(p.partition, p.offset);
          }
        }));
        return offsets;
      }));
    }, () => { this.#cluster.markStale(); });
  }

  /** [{ partition, offset, high, low }]: offset and high are the high watermark, low the log start offset. */
  async fetchTopicOffsets(topic: string): Promise<{ partition: number; offset: string; high: string; low: string }[]> {
    this.#assertConnected();
    topicArgument(topic, 'fetchTopicOffsets topic');
    const [high, low] = await this.#listOffsets(topic, [LATEST_TIMESTAMP, EARLIEST_TIMESTAMP]);
    return [...high.keys()].sort((a, b) => a - b).map((partition) => ({
      partition, offset: String(high.get(partition)), high: String(high.get(partition)), low: String(low.get(partition)),
    }));
  }

  /** [{ partition, offset }]: the first offset whose timestamp is ≥ `timestamp` (ms), or the high watermark when none is. */
  async fetchTopicOffsetsByTimestamp(topic: string, timestamp?: number): Promise<{ partition: number; offset: string }[]> {
    this.#assertConnected();
    topicArgument(topic, 'fetchTopicOffsetsByTimestamp topic');
    const ts = timestamp === undefined ? LATEST_TIMESTAMP : timestampArgument(timestamp, 'fetchTopicOffsetsByTimestamp timestamp');
    const [byTime, high] = await this.#listOffsets(topic, [ts, LATEST_TIMESTAMP]);
    return [...byTime.keys()].sort((a, b) => a - b).map((partition) => {
      const offset = byTime.get(partition)!;
      return { partition, offset: String(offset < 0n ? high.get(partition)! : offset) };
    });
  }

  async describeConfigs(options: { resources: ResourceConfigQuery[]; includeSynonyms?: boolean }): Promise<{
    resources: { errorCode: number; errorMessage: string | null; resourceName: string; resourceType: number; configEntries: { configName: string; configValue: string | null; isDefault: boolean; configSource: number; isSensitive: boolean; readOnly: boolean; configSynonyms: never[] }[] }[];
    throttleTime: number;
  }> {
    this.#assertConnected();
    objectArgument(options, 'describeConfigs options');
    const resources = arrayArgument<ResourceConfigQuery>(options.resources, 'describeConfigs resources', ADMIN_REQUEST_ENTRIES_MAX).map((r, i) => {
      objectArgument(r, `describeConfigs resources[${i}]`);
      const configNames = r.configNames === undefined || r.configNames === null ? null
        : arrayArgument<unknown>(r.configNames, `describeConfigs resources[${i}].configNames`, ADMIN_REQUEST_ENTRIES_MAX).map((n) => toConfigName(stringArgument(n, `describeConfigs resources[${i}].configNames`)));
      return { type: resourceType(r.type), name: stringArgument(r.name, `describeConfigs resources[${i}].name`), configNames };
    });
    const response = await this.#toController('DescribeConfigs', (api) => api.describeConfigs({ resources }));
    return {
      throttleTime: 0,
      resources: response.resources.map((r) => {
        const error = fromErrorJSON(r.error);
        if (error) throw error;
        return {
          errorCode: 0, errorMessage: null, resourceName: r.name, resourceType: resourceTypeCode(r.type),
          configEntries: r.configEntries.map((e) => ({
            configName: e.name, configValue: e.value, isDefault: e.isDefault,
            // KafkaJS's configSource: 1 dynamic topic config, 5 default config.
            configSource: e.isDefault ? 5 : 1, isSensitive: e.isSensitive, readOnly: e.readOnly, configSynonyms: [],
          })),
        };
      }),
    };
  }

  async alterConfigs(options: { resources: { type: ResourceType; name: string; configEntries: { name: string; value: string }[] }[]; validateOnly?: boolean }): Promise<{
    resources: { errorCode: number; errorMessage: string | null; resourceName: string; resourceType: number }[];
    throttleTime: number;
  }> {
    this.#assertConnected();
    objectArgument(options, 'alterConfigs options');
    const resources = arrayArgument<{ type: ResourceType; name: string; configEntries: unknown }>(options.resources, 'alterConfigs resources', ADMIN_REQUEST_ENTRIES_MAX).map((r, i) => {
      objectArgument(r, `alterConfigs resources[${i}]`);
      return { type: resourceType(r.type), name: stringArgument(r.name, `alterConfigs resources[${i}].name`), configEntries: configEntries(r.configEntries, `alterConfigs resources[${i}].configEntries`) ?? [] };
    });
    const response = await this.#toController('AlterConfigs', (api) => api.alterConfigs({ resources, validateOnly: options.validateOnly }));
    return {
      throttleTime: 0,
      resources: response.resources.map((r) => {
        const error = fromErrorJSON(r.error);
        if (error) throw error;
        return { errorCode: 0, errorMessage: null, resourceName: r.name, resourceType: resourceTypeCode(r.type) };
      }),
    };
  }

  /** Deletes records below `offset` of each partition ('-1': up to the high watermark). */
  async deleteTopicRecords(options: { topic: string; partitions: { partition: number; offset: string }[] }): Promise<void> {
    this.#assertConnected();
    objectArgument(options, 'deleteTopicRecords options');
    const topic = topicArgument(options.topic, 'deleteTopicRecords topic');
    const partitions = arrayArgument<unknown>(options.partitions, 'deleteTopicRecords partitions', ADMIN_REQUEST_ENTRIES_MAX).map((entry, i) => {
      const { partition, offset } = objectArgument<{ partition: unknown; offset: unknown }>(entry, `deleteTopicRecords partitions[${i}]`);
      return { partition: partitionArgument(partition, `deleteTopicRecords partitions[${i}].partition`), offset: offsetArgument(offset, `deleteTopicRecords partitions[${i}].offset`, [LATEST_OFFSET]) };
    });
    if (partitions.length === 0) throw new WafkaError('INVALID_REQUEST', 'deleteTopicRecords needs { topic, partitions: [{ partition, offset }] }', { retriable: false });
    const metadata = await this.#cluster.topicMetadata(topic, false);
    const [high] = partitions.some((p) => p.offset === LATEST_OFFSET) ? await this.#listOffsets(topic, [LATEST_TIMESTAMP]) : [new Map<number, bigint>()];
    const byLeader = new Map<number, { partition: number; offset: bigint }[]>();
    for (const { partition, offset } of partitions) {
      const p = metadata.partitions.find((x) => x.partitionId === partition);
      if (!p) throw new WafkaError('UNKNOWN_TOPIC_OR_PARTITION', `partition ${partition} is not in topic "${topic}"`, { retriable: false });
      const value = offset === LATEST_OFFSET ? high.get(partition)! : offset;
      if (!byLeader.has(p.leader)) byLeader.set(p.leader, []);
      byLeader.get(p.leader)!.push({ partition, offset: value });
    }
    const errors: { partition: number; type: KafkaErrorType; message: string }[] = [];
    await Promise.all([...byLeader].map(async ([nodeId, list]) => {
      const response = await this.#cluster.request(nodeId, 'DeleteRecords', 0, (api) => api.deleteRecords({ topics: [{ topic, partitions: list }] }));
      for (const t of response.topics) for (const p of t.partitions) {
        const error = fromErrorJSON(p.error);
        if (error) errors.push({ partition: p.partition, type: error.type, message: error.message });
      }
    }));
    if (errors.length > 0) {
      const first = errors[0];
      throw new WafkaError(first.type, `deleteTopicRecords failed for ${errors.map((e) => `${topic}-${e.partition}: ${e.message}`).join('; ')}`);
    }
  }

  // ------------------------------------------------------------------ Groups

  /** A group request to the group's coordinator, looked up again (and retried) when it moved. */
  async #toCoordinator<T>(groupId: string, apiName: string, call: (api: GroupApi) => Promise<T>, errorOf: (response: T) => WafkaError | undefined = () => undefined): Promise<T> {
    return withRetry(this.#retry, async () => {
      const nodeId = (await findCoordinators(this.#cluster, [groupId])).get(groupId)!;
      const response = await groupCall(this.#cluster, nodeId, apiName, call);
      const error = errorOf(response);
      if (error) throw error.retriable || COORDINATOR_MOVED.has(error.type) ? new WafkaError(error.type, error.message.replace(/^[A-Z_]+: /, ''), { retriable: true }) : error;
      return response;
    });
  }

  /** KafkaJS's describeGroups: each group as its coordinator describes it (state 'Dead' for one that does not exist). */
  async describeGroups(groupIds: string[]): Promise<{ groups: { groupId: string; state: GroupState; protocol: string; protocolType: string; errorCode: number; members: { memberId: string; clientId: string; clientHost: string; memberMetadata: Uint8Array; memberAssignment: Uint8Array }[] }[] }> {
    this.#assertConnected();
    const ids = arrayArgument<string>(groupIds, 'describeGroups groupIds', 10_000).map((g, i) => groupIdArgument(g, `describeGroups groupIds[${i}]`));
    const groups = await Promise.all(ids.map(async (groupId) => {
      const { groups: [g] } = await this.#toCoordinator(groupId, 'DescribeGroups', (api) => api.describeGroups({ groups: [groupId] }), (r) => fromErrorJSON(r.groups[0]?.error));
      return {
        groupId, state: g.groupState, protocol: g.protocolData, protocolType: g.protocolType, errorCode: 0,
        members: g.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId, clientHost: m.clientHost, memberMetadata: m.memberMetadata, memberAssignment: m.memberAssignment })),
      };
    }));
    return { groups };
  }

  /** KafkaJS's listGroups: the groups of every broker (each lists the ones it coordinates), with their state. */
  async listGroups(): Promise<{ groups: { groupId: string; protocolType: string; groupState: GroupState }[] }> {
    this.#assertConnected();
    await withRetry(this.#retry, () => this.#cluster.refresh([]));
    const lists = await Promise.all(this.#cluster.brokerIds().map((nodeId) => withRetry(this.#retry, async () => {
      const r = await groupCall(this.#cluster, nodeId, 'ListGroups', (api) => api.listGroups({}));
      const error = fromErrorJSON(r.error);
      if (error) throw error;
      return r.groups;
    })));
    const seen = new Map<string, { groupId: string; protocolType: string; groupState: GroupState }>();
    for (const g of lists.flat()) seen.set(g.groupId, g);
    return { groups: [...seen.values()].sort((a, b) => (a.groupId < b.groupId ? -1 : 1)) };
  }

  /**
   * KafkaJS's fetchOffsets: the group's committed offsets, per topic (all the
   * topics it has offsets for, when none are named); '-1' where it has none.
   * `resolveOffsets`: '-1' becomes the partition's high watermark (where such a consumer would start with fromBeginning false).
   */
  async fetchOffsets(options: { groupId: string; topics?: string[]; resolveOffsets?: boolean }): Promise<{ topic: string; partitions: { partition: number; offset: string; metadata: string | null }[] }[]> {
    this.#assertConnected();
    const { groupId, topics, resolveOffsets } = objectArgument<{ groupId: string; topics?: string[]; resolveOffsets?: boolean }>(options, 'fetchOffsets({ groupId, topics })');
    groupIdArgument(groupId, 'fetchOffsets groupId');
    let request: { topic: string; partitions: number[] }[] | null = null;
    if (topics !== undefined) {
      request = [];
      for (const [i, topic] of arrayArgument<string>(topics, 'fetchOffsets topics', 10_000).entries()) {
        const metadata = await this.#cluster.topicMetadata(topicArgument(topic, `fetchOffsets topics[${i}]`), false);
        request.push({ topic, partitions: metadata.partitions.map((p) => p.partitionId).sort((a, b) => a - b) });
      }
    }
    const response = await this.#toCoordinator(groupId, 'OffsetFetch', (api) => api.offsetFetch({ groupId, topics: request }), (r) => fromErrorJSON(r.error));
    const result = response.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((p) => ({ partition: p.partition, offset: String(p.committedOffset), metadata: p.metadata })),
    }));
    if (resolveOffsets) {
      for (const t of result) {
        if (!t.partitions.some((p) => p.offset === '-1')) continue;
        const [high] = await this.#listOffsets(t.topic, [LATEST_TIMESTAMP]);
        for (const p of t.partitions) if (p.offset === '-1' && high.has(p.partition)) p.offset = String(high.get(p.partition));
      }
    }
    return result;
  }

  /**
   * KafkaJS's setOffsets: commits these offsets for the group from outside it;
   * the group must have no members (its consumers read them on their next join).
   */
  async setOffsets(options: { groupId: string; topic: string; partitions: { partition: number; offset: string }[] }): Promise<void> {
    this.#assertConnected();
    const { groupId, topic, partitions } = objectArgument<{ groupId: string; topic: string; partitions: { partition: number; offset: string }[] }>(options, 'setOffsets({ groupId, topic, partitions })');
    groupIdArgument(groupId, 'setOffsets groupId');
    topicArgument(topic, 'setOffsets topic');
    const list = arrayArgument<{ partition: number; offset: string }>(partitions, 'setOffsets partitions', 100_000).map((p, i) => ({
      partition: partitionArgument(p?.partition, `setOffsets partitions[${i}].partition`),
      committedOffset: offsetArgument(p?.offset, `setOffsets partitions[${i}].offset`, []),
    }));
    await this.#commitAsOutsider(groupId, topic, list);
  }

  /** KafkaJS's resetOffsets: every partition of `topic` to its earliest (or latest) offset, for a group with no members. */
  async resetOffsets(options: { groupId: string; topic: string; earliest?: boolean }): Promise<void> {
    this.#assertConnected();
    const { groupId, topic, earliest } = objectArgument<{ groupId: string; topic: string; earliest?: boolean }>(options, 'resetOffsets({ groupId, topic, earliest })');
    groupIdArgument(groupId, 'resetOffsets groupId');
    topicArgument(topic, 'resetOffsets topic');
    const [offsets] = await this.#listOffsets(topic, [earliest ? EARLIEST_TIMESTAMP : LATEST_TIMESTAMP]);
    await this.#commitAsOutsider(groupId, topic, [...offsets].map(([partition, committedOffset]) => ({ partition, committedOffset })));
  }

  async #commitAsOutsider(groupId: string, topic: string, partitions: { partition: number; committedOffset: bigint }[]): Promise<void> {
    const { groups: [group] } = await this.describeGroups([groupId]);
    if (group.state !== 'Empty' && group.state !== 'Dead') {
      throw new WafkaError('NON_EMPTY_GROUP', `group '${groupId}' has ${group.members.length} members (${group.state}): stop its consumers before setting its offsets`);
    }
    const response = await this.#toCoordinator(groupId, 'OffsetCommit', (api) => api.offsetCommit({ groupId, generationId: -1, memberId: '', topics: [{ topic, partitions }] }),
      (r) => r.topics.flatMap((t) => t.partitions).map((p) => fromErrorJSON(p.error)).find((e) => e !== undefined));
    void response;
  }

  /** KafkaJS's deleteGroups: [{ groupId, errorCode }]; throws the first group's error if any failed (a group with members is NON_EMPTY_GROUP). */
  /** Each transactional id as its transaction coordinator describes it (Kafka's Admin.describeTransactions). */
  async describeTransactions(transactionalIds: string[]): Promise<{ transactions: DescribedTransaction[] }> {
    this.#assertConnected();
    const ids = arrayArgument<string>(transactionalIds, 'describeTransactions transactionalIds', 10_000);
    const transactions = await Promise.all(ids.map((transactionalId) => withRetry(this.#retry, async () => {
      if (typeof transactionalId !== 'string' || transactionalId === '') throw new TypeError('wafka: a transactional id must be a non-empty string');
      const nodeId = (await findCoordinators(this.#cluster, [transactionalId], COORDINATOR_KEY_TYPE_TRANSACTION)).get(transactionalId)!;
      const { transactionStates: [t] } = await this.#cluster.request(nodeId, 'DescribeTransactions', 0, (api) => transactionApi(api, nodeId).describeTransactions({ transactionalIds: [transactionalId] }));
      const error = fromErrorJSON(t?.error);
      if (error) throw error.retriable || COORDINATOR_MOVED.has(error.type) ? new WafkaError(error.type, error.message.replace(/^[A-Z_]+: /, ''), { retriable: true }) : error;
      return t;
    })));
    return { transactions };
  }

  /** The transactions every broker coordinates, optionally only those in `states` (Kafka's Admin.listTransactions). */
  async listTransactions(options: { states?: TransactionState[]; producerIds?: (bigint | string)[] } = {}): Promise<{ transactions: { transactionalId: string; producerId: string; state: TransactionState }[] }> {
    this.#assertConnected();
    await withRetry(this.#retry, () => this.#cluster.refresh([]));
    const request = { stateFilters: options.states ?? [], producerIdFilters: (options.producerIds ?? []).map((id) => BigInt(id)) };
    const lists = await Promise.all(this.#cluster.brokerIds().map((nodeId) => withRetry(this.#retry, () =>
      this.#cluster.request(nodeId, 'ListTransactions', 0, (api) => transactionApi(api, nodeId).listTransactions(request)))));
    const seen = new Map<string, { transactionalId: string; producerId: string; state: TransactionState }>();
    for (const list of lists) for (const t of list.transactionStates) seen.set(t.transactionalId, { transactionalId: t.transactionalId, producerId: String(t.producerId), state: t.state });
    return { transactions: [...seen.values()].sort((a, b) => (a.transactionalId < b.transactionalId ? -1 : 1)) };
  }

  async deleteGroups(groupIds: string[]): Promise<{ groupId: string; errorCode: number }[]> {
    this.#assertConnected();
    const ids = arrayArgument<string>(groupIds, 'deleteGroups groupIds', 10_000).map((g, i) => groupIdArgument(g, `deleteGroups groupIds[${i}]`));
    const results = await Promise.all(ids.map(async (groupId) => {
      const r = await this.#toCoordinator(groupId, 'DeleteGroups', (api) => api.deleteGroups({ groupsNames: [groupId] }), (x) => {
        const e = fromErrorJSON(x.results[0]?.error);
        return e && COORDINATOR_MOVED.has(e.type) ? e : undefined;
      });
      return { groupId, error: fromErrorJSON(r.results[0]?.error) };
    }));
    const failed = results.find((r) => r.error);
    if (failed) throw new WafkaError(failed.error!.type, `deleteGroups: ${results.filter((r) => r.error).map((r) => `${r.groupId}: ${r.error!.message}`).join('; ')}`);
    return results.map((r) => ({ groupId: r.groupId, errorCode: 0 }));
  }

  /**
   * Lag of a group per partition: the high watermark (what a consumer can
   * read) minus the committed offset; a partition without a commit lags by
   * everything from its log start.
   */
  async fetchGroupLag(options: { groupId: string; topics: string[] }): Promise<{ topic: string; partitions: { partition: number; committed: string; high: string; lag: string }[] }[]> {
    const offsets = await this.fetchOffsets({ groupId: options?.groupId, topics: options?.topics });
    return Promise.all(offsets.map(async (t) => {
      const [high, low] = await this.#listOffsets(t.topic, [LATEST_TIMESTAMP, EARLIEST_TIMESTAMP]);
      return {
        topic: t.topic,
        partitions: t.partitions.map((p) => {
          const h = high.get(p.partition) ?? 0n;
          const from = p.offset === '-1' ? (low.get(p.partition) ?? 0n) : BigInt(p.offset);
          return { partition: p.partition, committed: p.offset, high: String(h), lag: String(h > from ? h - from : 0n) };
        }),
      };
    }));
  }
}

function groupIdArgument(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 255) {
    throw new WafkaError('INVALID_GROUP_ID', `${what} must be a string of 1 to 255 characters`, { retriable: false });
  }
  return value;
}

function transactionApi(api: unknown, nodeId: number): TransactionApi {
  if (!transactionMethodsOf(api).includes('describeTransactions')) throw new WafkaError('UNSUPPORTED_VERSION', `broker ${nodeId} does not serve transaction requests`);
  return api as TransactionApi;
}
