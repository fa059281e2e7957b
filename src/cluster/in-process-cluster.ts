/**
 * A cluster whose brokers run in this thread/realm: 'memory' always, 'files' and 'indexeddb' with
 * inProcess: true. Loaded by startCluster() only then, so that a page whose brokers run in workers
 * does not load the brokers' code.
 */
import { Broker } from '../broker/broker.ts';
import { StorageReplicaLogs } from '../broker/storage-logs.ts';
import { WafkaError } from '../errors.ts';
import type { BrokerApi } from '../protocol/types.ts';
import { exposeBroker } from '../transport/expose-broker.ts';
import { inProcessBroker, type InProcessBrokerClient } from '../transport/in-process.ts';
import { openBrokerLogs, openSharedMetadata } from './broker-storage.ts';
import { brokerLookup } from './cluster-connection.ts';
import { MemoryMetadataStore } from './memory-metadata-store.ts';
import { LocalMetadataHub } from './metadata-watch.ts';
import type { Cluster, Settings } from './start-cluster.ts';

export async function startInProcess(settings: Settings, nodeIds: number[]): Promise<Cluster> {
  const { clusterId, storage } = settings;
  // Memory brokers share one store and an in-realm doorbell; others share their real store like workers do.
  const memoryStore = new MemoryMetadataStore();
  const hub = new LocalMetadataHub();
  const started = await Promise.allSettled(nodeIds.map(async (nodeId) => {
    if (storage === 'memory') {
      const { MemoryBackend } = await import('../storage/memory.ts');
      return Broker.start({
        nodeId, clusterId, host: 'in-process', config: settings.brokerConfig,
        metadataStore: { read: () => memoryStore.read(), compareAndSet: (v, m) => memoryStore.compareAndSet(v, m), close: async () => {} },
        metadataWatch: hub.handle(),
        storage: new StorageReplicaLogs(new MemoryBackend(), 'memory'),
      });
    }
    const { store, watch } = await openSharedMetadata(storage, clusterId, settings.dir);
    const logs = await openBrokerLogs(storage, { clusterId, nodeId, dir: settings.dir });
    return Broker.start({ nodeId, clusterId, host: 'in-process', config: settings.brokerConfig, metadataStore: store, metadataWatch: watch, storage: logs });
  }));
  const brokers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failure = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    await Promise.allSettled(brokers.map((b) => b.close()));
    throw failure.reason;
  }
  const clients = brokers.map((b) => inProcessBroker(b));
  const byId = new Map<number, BrokerApi>(clients.map((c, i) => [nodeIds[i], c]));
  let stopping: Promise<void> | undefined;
  const ports: MessagePort[] = [];
  return {
    clusterId, storage, inProcess: true,
    brokers: clients,
    bootstrap: { clusterId, nodeIds, transport: 'in-process' },
    broker: brokerLookup(clusterId, byId),
    connectPort(nodeId) {
      const broker = brokers[nodeIds.indexOf(nodeId)];
      if (!broker) throw new WafkaError('BROKER_NOT_AVAILABLE', `no broker ${nodeId}`);
      const { port1, port2 } = new MessageChannel();
      exposeBroker(broker, port1);
      ports.push(port1);
      return port2;
    },
    stop() {
      stopping ??= (async () => {
        clients.forEach((c: InProcessBrokerClient) => c.close());
        const results = await Promise.allSettled(brokers.map((b) => b.close()));
        for (const port of ports) port.close();
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      })();
      return stopping;
    },
  };
}
