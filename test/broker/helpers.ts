// In-process brokers on memory storage, sharing one metadata store and doorbell.
import { Broker } from '../../src/broker/broker.ts';
import type { BrokerConfigInput } from '../../src/broker/broker-config.ts';
import { StorageReplicaLogs } from '../../src/broker/storage-logs.ts';
import { MemoryMetadataStore } from '../../src/cluster/memory-metadata-store.ts';
import { LocalMetadataHub } from '../../src/cluster/metadata-watch.ts';
import { encodeBatch, loadCore, type RecordInput } from '../../src/core/index.ts';
import { MemoryBackend } from '../../src/storage/index.ts';

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

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Every record of the concatenated batches in `bytes`: offset and value as text. */
export async function readRecords(bytes: Uint8Array | null): Promise<{ offset: bigint; value: string; key: string | null }[]> {
  const { batchSizeAt, decodeBatch } = await import('../../src/core/index.ts');
  const out: { offset: bigint; value: string; key: string | null }[] = [];
  if (!bytes) return out;
  const text = new TextDecoder();
  for (let pos = 0; pos < bytes.byteLength; pos += batchSizeAt(bytes, pos)) {
    const batch = await decodeBatch(bytes, { position: pos });
    for (const r of batch.records) out.push({ offset: r.offset, value: text.decode(r.value!), key: r.key ? text.decode(r.key) : null });
  }
  return out;
}
