/**
 * Brokers, a controller and their memory storage in this realm, on the
 * platform's timers: each broker can be stopped (closed cleanly) and started
 * again on the same storage; `apis` is what a client reaches under each id.
 */
import { Broker } from '../../src/broker/broker.ts';
import type { BrokerConfigInput } from '../../src/broker/broker-config.ts';
import { StorageReplicaLogs } from '../../src/broker/storage-logs.ts';
import { MemoryMetadataStore } from '../../src/metadata/memory-metadata-store.ts';
import { LocalMetadataHub } from '../../src/metadata/metadata-watch.ts';
import { systemClock } from '../../src/clock.ts';
import { Controller } from '../../src/controller/controller.ts';
import { loadCore } from '../../src/core/index.ts';
import { GROUP_API_METHODS, TRANSACTION_API_METHODS, type BrokerApi } from '../../src/protocol/types.ts';
import { WafkaError } from '../../src/errors.ts';
import { MemoryBackend } from '../../src/storage/index.ts';

/** Polls `check` every 10 ms until it holds; throws after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

export type ReplicatedCluster = Awaited<ReturnType<typeof replicatedCluster>>;

export async function replicatedCluster(count: number, config: BrokerConfigInput = {}) {
  await loadCore();
  const store = new MemoryMetadataStore();
  const hub = new LocalMetadataHub();
  const shared = { read: () => store.read(), compareAndSet: store.compareAndSet.bind(store), close: async () => {} };
  const controller = await Controller.activate({ nodeId: 1000, clusterId: 'r', store: shared, watch: hub.handle(), clock: systemClock, brokerSessionTimeoutMs: 1_000 });
  const backends = Array.from({ length: count }, () => new MemoryBackend());
  const brokers: (Broker | null)[] = [];
  const start = async (nodeId: number) => {
    brokers[nodeId] = await Broker.start({
      nodeId, clusterId: 'r', metadataStore: shared, metadataWatch: hub.handle(), storage: new StorageReplicaLogs(backends[nodeId], 'memory'),
      config: { replicaLagTimeMaxMs: 500, allowAutoTopicCreation: false, ...config },
      controller: () => controller, peer: (id) => brokers[id] ?? null,
    });
    return brokers[nodeId]!;
  };
  for (let id = 0; id < count; id++) await start(id);
  // What a client reaches: the broker running now under each id (a stopped one refuses).
  const methods = ['metadata', 'produce', 'fetch', 'listOffsets', 'createTopics', 'deleteTopics', 'createPartitions', 'describeConfigs', 'alterConfigs', 'deleteRecords', 'initProducerId', 'metrics', ...GROUP_API_METHODS, ...TRANSACTION_API_METHODS];
  const apis = Array.from({ length: count }, (_, id) => Object.fromEntries(methods.map((method) => [method, (...args: unknown[]) => {
    const b = brokers[id];
    // The client learns which broker an endpoint is from its metrics: the identity of an id holds while it is down.
    if (method === 'metrics') return Promise.resolve({ nodeId: id, produceRequests: 0, batchesAppended: 0, recordsAppended: 0, bytesAppended: 0, fetchRequests: 0, bytesFetched: 0, errors: {} });
    if (!b) return Promise.reject(new WafkaError('BROKER_NOT_AVAILABLE', `broker ${id} is down`));
    const call = (b as unknown as Record<string, ((...a: unknown[]) => unknown) | undefined>)[method];
    if (typeof call !== 'function') return Promise.reject(new WafkaError('UNSUPPORTED_VERSION', `broker ${id} has no ${method}`));
    return call.apply(b, args);
  }])) as unknown as BrokerApi);
  return {
    brokers, store, controller, apis,
    async stop(id: number) { const b = brokers[id]; brokers[id] = null; await b?.close(); },
    start,
    async close() {
      await Promise.all(brokers.map((b) => b?.close()));
      controller.close();
    },
  };
}

