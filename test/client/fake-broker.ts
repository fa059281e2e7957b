/**
 * A small in-memory cluster of fake brokers for the client's unit tests: real
 * RecordBatch bytes (read with the core's header reader), offsets assigned on
 * append, long-poll fetch, leaders = partition % brokers. Not the real broker
 * (src/broker): the end-to-end tests use that.
 */
import { WafkaError, type KafkaErrorType } from '../../src/errors.ts';
import { batchSizeAt, readBatchHeader, setBaseOffset } from '../../src/core/index.ts';
import type {
  AlterConfigsRequest, AlterConfigsResponse, BrokerApi, BrokerMetrics, CreatePartitionsRequest, CreatePartitionsResponse,
  CreateTopicsRequest, CreateTopicsResponse, DeleteRecordsRequest, DeleteRecordsResponse, DeleteTopicsRequest,
  DeleteTopicsResponse, DescribeConfigsRequest, DescribeConfigsResponse, FetchRequest, FetchResponse, ListOffsetsRequest,
  ListOffsetsResponse, MetadataRequest, MetadataResponse, ProduceRequest, ProduceResponse,
} from '../../src/protocol/types.ts';

const err = (type: KafkaErrorType, message: string) => new WafkaError(type, message).toJSON();

interface StoredBatch { baseOffset: bigint; lastOffset: bigint; maxTimestamp: bigint; bytes: Uint8Array }
interface FakePartition { batches: StoredBatch[]; logStartOffset: bigint; logEndOffset: bigint }
interface FakeTopic { partitions: FakePartition[]; configs: Record<string, string> }

export class FakeCluster {
  readonly topics = new Map<string, FakeTopic>();
  readonly brokers: FakeBroker[];
  autoCreateTopics = false;
  version = 1;
  #waiters = new Set<() => void>();
  /** Fault injection: the next n produce answers for a partition carry this error. */
  readonly produceFaults: { topic: string; partition: number; type: KafkaErrorType; times: number }[] = [];

  constructor(brokerCount = 3) {
    this.brokers = Array.from({ length: brokerCount }, (_, nodeId) => new FakeBroker(this, nodeId));
  }

  leaderOf(partition: number): number { return partition % this.brokers.length; }

  createTopic(name: string, numPartitions: number, configs: Record<string, string> = {}): void {
    this.topics.set(name, {
      partitions: Array.from({ length: numPartitions }, () => ({ batches: [], logStartOffset: 0n, logEndOffset: 0n })),
      configs,
    });
    this.version++;
  }

  notify(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) w();
  }

  waitForData(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => { clearTimeout(timer); this.#waiters.delete(done); resolve(); };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
    });
  }

  /** Every stored batch of a partition (the tests count batches through metrics too). */
  batchesOf(topic: string, partition: number): StoredBatch[] { return this.topics.get(topic)!.partitions[partition].batches; }
}

export class FakeBroker implements BrokerApi {
  readonly cluster: FakeCluster;
  readonly nodeId: number;
  readonly counters: BrokerMetrics;

  constructor(cluster: FakeCluster, nodeId: number) {
    this.cluster = cluster;
    this.nodeId = nodeId;
    this.counters = {
      nodeId, host: 'fake', storage: 'memory', produceRequests: 0, batchesAppended: 0, recordsAppended: 0, bytesAppended: 0, fetchRequests: 0, bytesFetched: 0, errors: {},
      topics: [], replicas: [], cluster: { metadataVersion: 0, controllerId: -1, controllerEpoch: 0, brokers: [] },
    };
  }

  async metadata(request: MetadataRequest): Promise<MetadataResponse> {
    const c = this.cluster;
    const names = request.topics ?? [...c.topics.keys()];
    return {
      clusterId: 'fake', controllerId: 0, metadataVersion: c.version,
      brokers: c.brokers.map((b) => ({ nodeId: b.nodeId, host: `fake-${b.nodeId}` })),
      topics: names.map((name) => {
        if (!c.topics.has(name) && request.allowAutoTopicCreation && c.autoCreateTopics) c.createTopic(name, 1);
        const t = c.topics.get(name);
        if (!t) return { name, partitions: [], error: err('UNKNOWN_TOPIC_OR_PARTITION', `topic "${name}" does not exist`) };
        return {
          name,
          partitions: t.partitions.map((_, partitionId) => {
            const leader = c.leaderOf(partitionId);
            return { partitionId, leader, leaderEpoch: 0, replicas: [leader], isr: [leader] };
          }),
        };
      }),
    };
  }

  async produce(request: ProduceRequest): Promise<ProduceResponse> {
    this.counters.produceRequests++;
    const c = this.cluster;
    const response: ProduceResponse = {
      topics: request.topics.map(({ topic, partitions }) => ({
        topic,
        partitions: partitions.map(({ partition, records }) => {
          const base = { partition, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n };
          const t = c.topics.get(topic);
          const p = t?.partitions[partition];
          if (!t || !p) return { ...base, error: err('UNKNOWN_TOPIC_OR_PARTITION', `${topic}-${partition}`) };
          if (c.leaderOf(partition) !== this.nodeId) return { ...base, error: err('NOT_LEADER_OR_FOLLOWER', `broker ${this.nodeId} does not lead ${topic}-${partition}`) };
          const fault = c.produceFaults.find((f) => f.topic === topic && f.partition === partition && f.times > 0);
          if (fault) { fault.times--; return { ...base, error: err(fault.type, 'injected') }; }
          const maxMessageBytes = Number(t.configs.maxMessageBytes ?? 1048588);
          const bytes = records.slice(); // keep our own copy
          const found: { position: number; size: number }[] = [];
          for (let position = 0; position < bytes.byteLength;) {
            const size = batchSizeAt(bytes, position);
            if (size < 61 || position + size > bytes.byteLength) return { ...base, error: err('CORRUPT_MESSAGE', `bad batch at ${position}`) };
            if (size > maxMessageBytes) return { ...base, error: err('MESSAGE_TOO_LARGE', `batch of ${size} B over maxMessageBytes ${maxMessageBytes}`) };
            found.push({ position, size });
            position += size;
          }
          const firstOffset = p.logEndOffset;
          for (const { position, size } of found) {
            const header = readBatchHeader(bytes, position);
            setBaseOffset(bytes, position, p.logEndOffset);
            const baseOffset = p.logEndOffset;
            p.batches.push({ baseOffset, lastOffset: baseOffset + BigInt(header.lastOffsetDelta), maxTimestamp: header.maxTimestamp, bytes: bytes.subarray(position, position + size) });
            p.logEndOffset = baseOffset + BigInt(header.lastOffsetDelta) + 1n;
            this.counters.batchesAppended++;
            this.counters.recordsAppended += header.recordCount;
            this.counters.bytesAppended += size;
          }
          return { partition, baseOffset: firstOffset, logAppendTimeMs: -1n, logStartOffset: p.logStartOffset };
        }),
      })),
    };
    c.notify();
    return response;
  }

  #read(request: FetchRequest): { response: FetchResponse; bytes: number } {
    const c = this.cluster;
    let total = 0;
    const response: FetchResponse = {
      topics: request.topics.map(({ topic, partitions }) => ({
        topic,
        partitions: partitions.map(({ partition, fetchOffset, partitionMaxBytes }) => {
          const p = c.topics.get(topic)?.partitions[partition];
          const base = { partition, highWatermark: -1n, lastStableOffset: -1n, logStartOffset: -1n, records: null };
          if (!p) return { ...base, error: err('UNKNOWN_TOPIC_OR_PARTITION', `${topic}-${partition}`) };
          if (c.leaderOf(partition) !== this.nodeId) return { ...base, error: err('NOT_LEADER_OR_FOLLOWER', `${topic}-${partition}`) };
          if (fetchOffset < p.logStartOffset || fetchOffset > p.logEndOffset) {
            return { ...base, highWatermark: p.logEndOffset, error: err('OFFSET_OUT_OF_RANGE', `${fetchOffset} not in [${p.logStartOffset}, ${p.logEndOffset}]`) };
          }
          const parts: Uint8Array[] = [];
          let size = 0;
          for (const b of p.batches) {
            if (b.lastOffset < fetchOffset) continue;
            if (parts.length > 0 && size + b.bytes.byteLength > partitionMaxBytes) break;
            parts.push(b.bytes);
            size += b.bytes.byteLength;
          }
          const records = new Uint8Array(size);
          let at = 0;
          for (const part of parts) { records.set(part, at); at += part.byteLength; }
          total += size;
          return { partition, highWatermark: p.logEndOffset, lastStableOffset: p.logEndOffset, logStartOffset: p.logStartOffset, records: size ? records : null };
        }),
      })),
    };
    return { response, bytes: total };
  }

  async fetch(request: FetchRequest): Promise<FetchResponse> {
    this.counters.fetchRequests++;
    const deadline = Date.now() + request.maxWaitMs;
    for (;;) {
      const { response, bytes } = this.#read(request);
      const errors = response.topics.some((t) => t.partitions.some((p) => p.error));
      if (bytes >= request.minBytes || errors || Date.now() >= deadline) { this.counters.bytesFetched += bytes; return response; }
      await this.cluster.waitForData(deadline - Date.now());
    }
  }

  async listOffsets(request: ListOffsetsRequest): Promise<ListOffsetsResponse> {
    return {
      topics: request.topics.map(({ topic, partitions }) => ({
        topic,
        partitions: partitions.map(({ partition, timestamp }) => {
          const p = this.cluster.topics.get(topic)?.partitions[partition];
          if (!p) return { partition, offset: -1n, timestamp: -1n, error: err('UNKNOWN_TOPIC_OR_PARTITION', `${topic}-${partition}`) };
          if (timestamp === -2n) return { partition, offset: p.logStartOffset, timestamp: -1n };
          if (timestamp === -1n) return { partition, offset: p.logEndOffset, timestamp: -1n };
          const b = p.batches.find((x) => x.maxTimestamp >= timestamp);
          return { partition, offset: b ? b.baseOffset : -1n, timestamp: b ? b.maxTimestamp : -1n };
        }),
      })),
    };
  }

  async createTopics(request: CreateTopicsRequest): Promise<CreateTopicsResponse> {
    return {
      topics: request.topics.map(({ topic, numPartitions, configEntries }) => {
        if (this.cluster.topics.has(topic)) return { topic, error: err('TOPIC_ALREADY_EXISTS', `topic "${topic}" exists`) };
        if (!request.validateOnly) this.cluster.createTopic(topic, numPartitions ?? 1, Object.fromEntries((configEntries ?? []).map((e) => [e.name, e.value])));
        return { topic };
      }),
    };
  }

  async deleteTopics(request: DeleteTopicsRequest): Promise<DeleteTopicsResponse> {
    return {
      topics: request.topics.map((topic) => {
        if (!this.cluster.topics.delete(topic)) return { topic, error: err('UNKNOWN_TOPIC_OR_PARTITION', topic) };
        this.cluster.version++;
        return { topic };
      }),
    };
  }

  async createPartitions(request: CreatePartitionsRequest): Promise<CreatePartitionsResponse> {
    return {
      topics: request.topicPartitions.map(({ topic, count }) => {
        const t = this.cluster.topics.get(topic);
        if (!t) return { topic, error: err('UNKNOWN_TOPIC_OR_PARTITION', topic) };
        if (count <= t.partitions.length) return { topic, error: err('INVALID_PARTITIONS', `${count} <= ${t.partitions.length}`) };
        while (t.partitions.length < count) t.partitions.push({ batches: [], logStartOffset: 0n, logEndOffset: 0n });
        this.cluster.version++;
        return { topic };
      }),
    };
  }

  async describeConfigs(request: DescribeConfigsRequest): Promise<DescribeConfigsResponse> {
    return {
      resources: request.resources.map(({ type, name, configNames }) => {
        const t = this.cluster.topics.get(name);
        if (!t) return { type, name, configEntries: [], error: err('UNKNOWN_TOPIC_OR_PARTITION', name) };
        const all = { retentionMs: '604800000', maxMessageBytes: '1048588', ...t.configs };
        return {
          type, name,
          configEntries: Object.entries(all).filter(([k]) => !configNames || configNames.includes(k)).map(([k, v]) => ({
            name: k, value: v, isDefault: !(k in t.configs), readOnly: false, isSensitive: false,
          })),
        };
      }),
    };
  }

  async alterConfigs(request: AlterConfigsRequest): Promise<AlterConfigsResponse> {
    return {
      resources: request.resources.map(({ type, name, configEntries }) => {
        const t = this.cluster.topics.get(name);
        if (!t) return { type, name, error: err('UNKNOWN_TOPIC_OR_PARTITION', name) };
        if (!request.validateOnly) for (const e of configEntries) t.configs[e.name] = e.value;
        return { type, name };
      }),
    };
  }

  async initProducerId(): Promise<never> {
    throw new WafkaError('UNSUPPORTED_VERSION', 'the fake broker has no producer ids');
  }

  async deleteRecords(request: DeleteRecordsRequest): Promise<DeleteRecordsResponse> {
    return {
      topics: request.topics.map(({ topic, partitions }) => ({
        topic,
        partitions: partitions.map(({ partition, offset }) => {
          const p = this.cluster.topics.get(topic)?.partitions[partition];
          if (!p) return { partition, lowWatermark: -1n, error: err('UNKNOWN_TOPIC_OR_PARTITION', `${topic}-${partition}`) };
          if (offset > p.logEndOffset) return { partition, lowWatermark: p.logStartOffset, error: err('OFFSET_OUT_OF_RANGE', `${offset}`) };
          if (offset > p.logStartOffset) p.logStartOffset = offset;
          p.batches = p.batches.filter((b) => b.lastOffset >= p.logStartOffset);
          return { partition, lowWatermark: p.logStartOffset };
        }),
      })),
    };
  }

  async metrics(): Promise<BrokerMetrics> { return structuredClone(this.counters); }
}
