// In-process brokers on memory storage, sharing one metadata store and doorbell.
import { Broker } from '../../src/broker/broker.ts';
import type { BrokerConfigInput } from '../../src/broker/broker-config.ts';
import { StorageReplicaLogs } from '../../src/broker/storage-logs.ts';
import { MemoryMetadataStore } from '../../src/metadata/memory-metadata-store.ts';
import { LocalMetadataHub } from '../../src/metadata/metadata-watch.ts';
import { encodeBatch, loadCore, type RecordInput } from '../../src/core/index.ts';
import { WafkaError } from '../../src/errors.ts';
import type { BrokerApi, ProduceRequest } from '../../src/protocol/types.ts';
import type { ReplicaLog } from '../../src/broker/replica-log.ts';
import { MemoryBackend } from '../../src/storage/index.ts';
import { records } from '../storage/helpers.ts';

export interface TestCluster {
  brokers: Broker[];
  backends: MemoryBackend[];
  store: MemoryMetadataStore;
  /** Starts broker `nodeId` again on its old storage. */
  restart(nodeId: number): Promise<Broker>;
  close(): Promise<void>;
}

export async function startTestCluster(count: number, config: BrokerConfigInput = {}): Promise<TestCluster> {
  await loadCore();
  const store = new MemoryMetadataStore();
  const hub = new LocalMetadataHub();
  const backends = Array.from({ length: count }, () => new MemoryBackend());
  // The store is shared: a broker's close() must not close it for the others.
  const sharedStore = { read: () => store.read(), compareAndSet: store.compareAndSet.bind(store), close: async () => {} };
  const start = (nodeId: number) => Broker.start({
    nodeId, clusterId: 'test', config, metadataStore: sharedStore, metadataWatch: hub.handle(),
    storage: new StorageReplicaLogs(backends[nodeId], 'memory'),
  });
  const brokers = await Promise.all(backends.map((_, nodeId) => start(nodeId)));
  return {
    brokers, backends, store,
    async restart(nodeId) {
      await brokers[nodeId].close();
      brokers[nodeId] = await start(nodeId);
      return brokers[nodeId];
    },
    async close() {
      await Promise.all(brokers.map((b) => b.close()));
    },
  };
}

export function batchOf(values: string[], options: { key?: string; timestamp?: number } = {}): Promise<Uint8Array> {
  const records: RecordInput[] = values.map((value) => ({ key: options.key ?? null, value, timestamp: options.timestamp }));
  return encodeBatch(records);
}

export { concat } from '../storage/helpers.ts';

/** Every record of the concatenated batches in `bytes`: offset and value as text. */
export async function readRecords(bytes: Uint8Array | null): Promise<{ offset: bigint; value: string; key: string | null }[]> {
  if (!bytes) return [];
  await loadCore();
  return records(bytes).map(({ offset, value, key }) => ({ offset, value: value!, key }));
}

export function produceTo(topic: string, partition: number, records: Uint8Array): ProduceRequest {
  return { acks: 1, timeoutMs: 1000, topics: [{ topic, partitions: [{ partition, records }] }] };
}

/** The values of topic-partition from offset 0 (up to 1 MiB), fetched from `broker`; a partition error is thrown. */
export async function valuesAt(broker: BrokerApi, topic: string, partition: number): Promise<string[]> {
  const response = await broker.fetch({
    maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 'read_uncommitted',
    topics: [{ topic, partitions: [{ partition, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
  });
  const p = response.topics[0].partitions[0];
  if (p.error) throw WafkaError.fromJSON(p.error);
  return (await readRecords(p.records)).map((r) => r.value);
}

/** A ReplicaLog that records the offsets it is asked to read from. */
export function recordingReads(log: ReplicaLog, reads: bigint[]): ReplicaLog {
  return new Proxy(log, {
    get(target, name) {
      if (name === 'read') return (offset: bigint, ...rest: [number, bigint, boolean]) => { reads.push(offset); return target.read(offset, ...rest); };
      const value = (target as unknown as Record<string | symbol, unknown>)[name];
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
