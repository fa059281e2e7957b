/**
 * How a client reaches brokers, and what it knows about the cluster.
 *
 * `BrokerConnector` is the one thing the client needs from a cluster: a
 * bootstrap list and a `BrokerApi` per broker id. `toConnector()` adapts what
 * a user hands to `new Wafka({ cluster })`: a started cluster handle, an
 * array of BrokerApi (in-process brokers, comlink proxies), or one BrokerApi.
 *
 * `ClusterClient` is one client's view: a metadata cache (topics →
 * partitions → leader) refreshed on demand and on leader/topic errors, and
 * `request()`, which every broker call goes through so that it is timed,
 * instrumented, and its failure turned into a WafkaError.
 */
import { WafkaError, type KafkaErrorType, type WafkaErrorJSON, KAFKA_ERRORS } from '../errors.ts';
import type { BrokerApi, MetadataResponse, PartitionMetadata, TopicMetadata } from '../protocol/types.ts';
import type { InstrumentationEmitter } from './instrumentation.ts';
import type { Logger } from './logger.ts';

export interface BrokerConnector {
  /** Brokers to ask for metadata first. */
  bootstrap(): Promise<BrokerApi[]> | BrokerApi[];
  /** The broker with this id (metadata tells which ids exist). */
  broker(nodeId: number): Promise<BrokerApi> | BrokerApi;
}

const isBrokerApi = (x: unknown): x is BrokerApi =>
  !!x && (typeof x === 'object' || typeof x === 'function') &&
  typeof (x as BrokerApi).metadata === 'function' && typeof (x as BrokerApi).produce === 'function';

/** Learns broker ids by asking each broker its own metrics (nodeId). */
function connectorFromList(list: BrokerApi[]): BrokerConnector {
  let byId: Promise<Map<number, BrokerApi>> | undefined;
  const index = () => (byId ??= Promise.all(list.map(async (api) => [(await api.metrics()).nodeId, api] as const)).then((e) => new Map(e)));
  return {
    bootstrap: () => list,
    async broker(nodeId) {
      const api = (await index()).get(nodeId);
      if (!api) throw new WafkaError('BROKER_NOT_AVAILABLE', `no connection to broker ${nodeId}`);
      return api;
    },
  };
}

/**
 * Adapts a cluster handle or a list of brokers. Accepted shapes:
 *  - a BrokerConnector ({ bootstrap(), broker(nodeId) });
 *  - a cluster handle or ClusterConnection (src/cluster): `broker(nodeId)` with `bootstrap.nodeIds`,
 *    `nodeIds` or `brokers` (ids, or BrokerApis in id order), or `connector()`;
 *  - BrokerApi[] or one BrokerApi.
 */
export function toConnector(cluster: unknown): BrokerConnector {
  if (!cluster) throw new TypeError('wafka: `cluster` is required: a handle from startCluster() or BrokerApi[]');
  const c = cluster as any;
  if (typeof c.connector === 'function') return toConnector(c.connector());
  if (typeof c.bootstrap === 'function' && typeof c.broker === 'function') return c as BrokerConnector;
  if (isBrokerApi(cluster)) return connectorFromList([cluster]);
  if (Array.isArray(cluster) && cluster.every(isBrokerApi)) return connectorFromList(cluster);
  if (typeof c.broker === 'function') {
    const ids = (): number[] => {
      const raw = typeof c.brokerIds === 'function' ? c.brokerIds() : c.brokerIds ?? c.nodeIds ?? c.bootstrap?.nodeIds ?? c.brokers;
      const list = raw instanceof Map ? [...raw.keys()] : Array.isArray(raw) ? raw : [];
      return list.map((b: any, i: number) => (typeof b === 'number' ? b : typeof b?.nodeId === 'number' ? b.nodeId : i));
    };
    return {
      bootstrap: async () => Promise.all(ids().map((id) => c.broker(id))),
      broker: (nodeId) => c.broker(nodeId),
    };
  }
  const brokers = c.brokers instanceof Map ? [...c.brokers.values()] : c.brokers;
  if (Array.isArray(brokers)) {
    const apis = brokers.map((b: any) => (isBrokerApi(b) ? b : b?.api ?? b?.client ?? b?.proxy));
    if (apis.every(isBrokerApi)) return connectorFromList(apis);
  }
  throw new TypeError('wafka: `cluster` is neither a cluster handle nor a list of BrokerApi');
}

/** Turns whatever a broker call rejected with into a WafkaError. */
export function toWafkaError(error: unknown): WafkaError {
  if (error instanceof WafkaError) return error;
  const e = error as Partial<WafkaErrorJSON> | undefined;
  if (e && typeof e.type === 'string' && e.type in KAFKA_ERRORS && typeof e.message === 'string') {
    return WafkaError.fromJSON(e as WafkaErrorJSON);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new WafkaError('UNKNOWN_SERVER_ERROR', message, { cause: error });
}

export const fromErrorJSON = (json: WafkaErrorJSON | undefined) => (json ? WafkaError.fromJSON(json) : undefined);

/** Errors after which the client's metadata is presumed stale. */
const STALE_METADATA: ReadonlySet<KafkaErrorType> = new Set([
  'NOT_LEADER_OR_FOLLOWER', 'UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'UNKNOWN_TOPIC_ID',
  'BROKER_NOT_AVAILABLE', 'REPLICA_NOT_AVAILABLE', 'NETWORK_EXCEPTION',
]);
export const invalidatesMetadata = (error: WafkaError) => STALE_METADATA.has(error.type);

export interface ClusterClientOptions {
  connector: BrokerConnector;
  clientId: string;
  logger: Logger;
  instrumentation?: InstrumentationEmitter;
  requestEvent?: string;
  allowAutoTopicCreation?: boolean;
  /** How old cached metadata may get before it is refreshed anyway (KafkaJS's metadataMaxAge). */
  metadataMaxAgeMs?: number;
}

let correlationIds = 0;

export class ClusterClient {
  readonly options: ClusterClientOptions;
  #metadata: MetadataResponse | undefined;
  #topics = new Map<string, TopicMetadata>();
  #fetchedAtMs = 0;
  #stale = false;
  #refreshing: Promise<void> | undefined;
  #apis = new Map<number, BrokerApi>();

  constructor(options: ClusterClientOptions) {
    this.options = options;
  }

  get metadata(): MetadataResponse | undefined { return this.#metadata; }
  get controllerId(): number { return this.#metadata?.controllerId ?? -1; }
  brokerIds(): number[] { return (this.#metadata?.brokers ?? []).map((b) => b.nodeId); }

  /** Cached metadata of a topic (undefined until fetched; never an errored topic). */
  topic(name: string): TopicMetadata | undefined { return this.#topics.get(name); }
  knownTopics(): string[] { return [...this.#topics.keys()]; }

  markStale(): void { this.#stale = true; }
  isStale(): boolean {
    return this.#stale || !this.#metadata || Date.now() - this.#fetchedAtMs > (this.options.metadataMaxAgeMs ?? 300_000);
  }

  leaderOf(topic: string, partition: number): number {
    const p = this.#topics.get(topic)?.partitions[partition];
    return p && p.partitionId === partition ? p.leader : this.#topics.get(topic)?.partitions.find((x) => x.partitionId === partition)?.leader ?? -1;
  }

  partitions(topic: string): PartitionMetadata[] {
    return this.#topics.get(topic)?.partitions ?? [];
  }

  async broker(nodeId: number): Promise<BrokerApi> {
    let api = this.#apis.get(nodeId);
    if (!api) {
      api = await this.options.connector.broker(nodeId);
      this.#apis.set(nodeId, api);
    }
    return api;
  }

  /** A broker call, timed and instrumented; rejections become WafkaErrors. */
  async request<T>(nodeId: number, apiName: string, size: number, call: (api: BrokerApi) => Promise<T>): Promise<T> {
    const createdAt = Date.now();
    const correlationId = correlationIds++;
    let result: T;
    try {
      const api = await this.broker(nodeId);
      result = await call(api);
    } catch (error) {
      let wafkaError = toWafkaError(error);
      if (invalidatesMetadata(wafkaError)) this.markStale();
      // A broker that went away is a network failure to this client: with replication its partitions get
      // new leaders, so the call is worth retrying after a metadata refresh (Kafka's clients do the same).
      if (wafkaError.type === 'BROKER_NOT_AVAILABLE') this.#apis.delete(nodeId); // a restarted broker is a new connection
      if (wafkaError.type === 'BROKER_NOT_AVAILABLE' && !wafkaError.retriable) {
        wafkaError = new WafkaError('BROKER_NOT_AVAILABLE', wafkaError.message.replace(/^BROKER_NOT_AVAILABLE: /, ''), { retriable: true, cause: wafkaError });
      }
      this.options.logger.debug(`${apiName} to broker ${nodeId} failed`, { error: wafkaError.message });
      throw wafkaError;
    }
    const { instrumentation, requestEvent } = this.options;
    if (instrumentation && requestEvent && instrumentation.has(requestEvent)) {
      const now = Date.now();
      instrumentation.emit(requestEvent, {
        broker: nodeId, clientId: this.options.clientId, correlationId, apiName, size,
        createdAt, sentAt: createdAt, pendingDuration: 0, duration: now - createdAt,
      });
    }
    return result;
  }

  /** Asks a broker that answers (the controller if known, else bootstrap brokers in turn). */
  async #fetchMetadata(topics: string[] | null, allowAutoTopicCreation: boolean): Promise<MetadataResponse> {
    const request = { topics, allowAutoTopicCreation };
    let lastError: unknown;
    const known = this.brokerIds();
    for (const nodeId of known) {
      try { return await this.request(nodeId, 'Metadata', 0, (api) => api.metadata(request)); } catch (error) { lastError = error; }
    }
    const bootstrap = await this.options.connector.bootstrap();
    for (const api of bootstrap) {
      try { return await api.metadata(request); } catch (error) { lastError = toWafkaError(error); }
    }
    throw lastError ?? new WafkaError('BROKER_NOT_AVAILABLE', 'the cluster has no brokers');
  }

  /**
   * Refreshes metadata of `topics` (all known topics when omitted; every topic
   * of the cluster when `null`). Concurrent callers share one request.
   */
  async refresh(topics?: string[] | null, allowAutoTopicCreation = this.options.allowAutoTopicCreation ?? false): Promise<MetadataResponse> {
    while (this.#refreshing) await this.#refreshing.catch(() => {});
    const wanted = topics === undefined ? [...this.#topics.keys()] : topics;
    let response!: MetadataResponse;
    this.#refreshing = (async () => {
      response = await this.#fetchMetadata(wanted, allowAutoTopicCreation);
      this.#metadata = response;
      this.#fetchedAtMs = Date.now();
      this.#stale = false;
      if (wanted === null) this.#topics.clear();
      for (const t of response.topics) {
        if (t.error) this.#topics.delete(t.name);
        else this.#topics.set(t.name, { ...t, partitions: [...t.partitions].sort((a, b) => a.partitionId - b.partitionId) });
      }
    })();
    try { await this.#refreshing; } finally { this.#refreshing = undefined; }
    return response;
  }

  /**
   * Metadata of one topic, from the cache or the cluster; throws the topic's
   * error (UNKNOWN_TOPIC_OR_PARTITION when it does not exist and is not auto-created).
   */
  async topicMetadata(topic: string, allowAutoTopicCreation?: boolean): Promise<TopicMetadata> {
    let cached = this.#topics.get(topic);
    if (cached && !this.isStale()) return cached;
    // A refresh under way probably brings it: concurrent callers share it.
    while (this.#refreshing) {
      await this.#refreshing.catch(() => {});
      cached = this.#topics.get(topic);
      if (cached && !this.isStale()) return cached;
    }
    const response = await this.refresh([...new Set([...this.#topics.keys(), topic])], allowAutoTopicCreation);
    const found = response.topics.find((t) => t.name === topic);
    if (!found) throw new WafkaError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${topic}" is not in the cluster metadata`);
    if (found.error) throw WafkaError.fromJSON(found.error);
    const withLeaders = this.#topics.get(topic)!;
    const leaderless = withLeaders.partitions.find((p) => p.error || p.leader < 0);
    if (leaderless?.error) throw WafkaError.fromJSON(leaderless.error);
    return withLeaders;
  }
}
