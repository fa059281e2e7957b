/**
 * A cluster whose brokers run in this thread/realm: 'memory' always, 'files' and 'indexeddb' with
 * inProcess: true. Loaded by startCluster() only then, so that a page whose brokers run in workers
 * does not load the brokers' code.
 */
import { Broker, type ControllerLink } from '../broker/broker.ts';
import { StorageReplicaLogs } from '../broker/storage-logs.ts';
import { WafkaError } from '../errors.ts';
import type { BrokerApi } from '../protocol/types.ts';
import { exposeBroker } from '../transport/expose-broker.ts';
import { inProcessBroker, type InProcessBrokerClient } from '../transport/in-process.ts';
import { openBrokerLogs, openSharedMetadata } from './broker-storage.ts';
import { brokerLookup } from './cluster-connection.ts';
import { MemoryMetadataStore } from '../metadata/memory-metadata-store.ts';
import { LocalMetadataHub } from '../metadata/metadata-watch.ts';
import type { Cluster, Settings } from './cluster.ts';
import { activateController } from './controller-activation.ts';

const sharedMemoryStore = (store: MemoryMetadataStore) =>
  ({ read: () => store.read(), compareAndSet: store.compareAndSet.bind(store), close: async () => {} });

/**
 * In-process brokers, with a controller in this realm too: they replicate by
 * fetching from each other directly, and the controller fences a broker that
 * stops (or stops heartbeating) and moves its leadership.
 */
export async function startInProcess(settings: Settings, nodeIds: number[]): Promise<Cluster> {
  const { clusterId, storage } = settings;
  // Memory brokers share one store and an in-realm doorbell; others share their real store like workers do.
  const memoryStore = new MemoryMetadataStore();
  const hub = new LocalMetadataHub();
  const controllerMetadata = storage === 'memory'
    ? { store: sharedMemoryStore(memoryStore), watch: hub.handle() }
    : await openSharedMetadata(storage, clusterId, settings.dir);
  const { controller, lease } = await activateController(settings, controllerMetadata).catch(async (error) => {
    await controllerMetadata.store.close().catch(() => {});
    controllerMetadata.watch.close();
    throw error;
  });
  const link: ControllerLink = controller;
  const live = new Map<number, Broker>();
  const started = await Promise.allSettled(nodeIds.map(async (nodeId) => {
    const replication = { controller: () => (controller.closed ? null : link), peer: (id: number) => live.get(id) ?? null };
    let broker: Broker;
    if (storage === 'memory') {
      const { MemoryBackend } = await import('../storage/memory.ts');
      broker = await Broker.start({
        nodeId, clusterId, host: 'in-process', config: settings.brokerConfig,
        metadataStore: sharedMemoryStore(memoryStore),
        metadataWatch: hub.handle(),
        storage: new StorageReplicaLogs(new MemoryBackend(), 'memory'),
        ...replication,
      });
    } else {
      const { store, watch } = await openSharedMetadata(storage, clusterId, settings.dir);
      const logs = await openBrokerLogs(storage, { clusterId, nodeId, dir: settings.dir });
      broker = await Broker.start({ nodeId, clusterId, host: 'in-process', config: settings.brokerConfig, metadataStore: store, metadataWatch: watch, storage: logs, ...replication });
    }
    live.set(nodeId, broker);
    return broker;
  }));
  const brokers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failure = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    await Promise.allSettled(brokers.map((b) => b.close()));
    controller.close();
    await lease?.release().catch(() => {});
    await controllerMetadata.store.close().catch(() => {});
    controllerMetadata.watch.close();
    throw failure.reason;
  }
  const clients = brokers.map((b) => inProcessBroker(b));
  const byId = new Map<number, BrokerApi>(clients.map((c, i) => [nodeIds[i], c]));
  let stopping: Promise<void> | undefined;
  const ports: MessagePort[] = [];
  return {
    clusterId, storage, inProcess: true, listeners: [],
    brokers: clients,
    bootstrap: { clusterId, nodeIds, transport: 'in-process' },
    broker: brokerLookup(clusterId, byId),
    killBroker: async () => {
      throw new WafkaError('UNSUPPORTED_VERSION', 'an in-process cluster has no broker worker to end');
    },
    restartBroker: async () => {
      throw new WafkaError('UNSUPPORTED_VERSION', 'an in-process cluster has no broker worker to restart');
    },
    hangBroker: () => {
      throw new WafkaError('UNSUPPORTED_VERSION', 'an in-process cluster has no broker worker to hang (it would hang this thread)');
    },
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
        controller.close();
        await lease?.release().catch(() => {});
        await controllerMetadata.store.close().catch(() => {});
        controllerMetadata.watch.close();
        for (const port of ports) port.close();
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      })();
      return stopping;
    },
  };
}
