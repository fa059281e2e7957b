/**
 * Starts a wafka cluster here: N brokers and a handle to reach and stop them.
 *
 *   storage     where brokers run                          default
 *   'memory'    in-process (memory cannot be shared)        always in-process
 *   'files'     Node worker threads (one per broker)         inProcess: true → this thread
 *   'opfs'      browser dedicated workers                    (OPFS sync handles exist only there)
 *   'indexeddb' browser dedicated workers                    inProcess: true → this realm
 *
 * Restart on the same storage (same clusterId, same dir) recovers every topic
 * (metadata store) and every record (partition logs). Brokers are 0..N-1.
 */
import type { BrokerConfigInput } from '../broker/broker-config.ts';
import { importNodeOnly } from '../node-only.ts';
import type { ListenOptions, WireListeners } from '../wire/listener.ts';
import type { StorageKind } from './broker-storage.ts';
import type { Cluster, Settings } from './cluster.ts';
import type { SharedCluster } from './shared-cluster.ts';
import { startWorkers } from './worker-brokers.ts';

export type { Cluster } from './cluster.ts';

/** Each broker is a worker with its own storage; more than this on one device is a mistake. */
export const CLUSTER_BROKERS_MAX = 32;

export interface StartClusterOptions {
  /** Number of brokers (default 3). */
  brokers?: number;
  storage: StorageKind;
  /**
   * 'files': the data directory (default 'data'); brokers use <dir>/broker-<id>/, metadata <dir>/metadata.json.
   * A running cluster owns it (<dir>/.lock): a second startCluster on it, in any process, fails with KAFKA_STORAGE_ERROR.
   */
  dir?: string;
  /** Names the cluster's storage (OPFS directory, IndexedDB databases, BroadcastChannel). Default 'wafka'. */
  clusterId?: string;
  /** Shorthand for brokerConfig.allowAutoTopicCreation (Kafka's auto.create.topics.enable; default true). */
  allowAutoTopicCreation?: boolean;
  brokerConfig?: BrokerConfigInput;
  /** Run the brokers in this thread/realm rather than in workers ('files', 'indexeddb'; 'memory' always is). */
  inProcess?: boolean;
  /** Give up on a broker that is not ready after this long (default 30 s). */
  startTimeoutMs?: number;
  /** Browser: how long a broker waits for its Web Lock held by a predecessor (default 5 s). */
  lockWaitMs?: number;
  /** A broker whose heartbeats stop this long is fenced and loses its leadership (default 1.5 s). */
  brokerSessionTimeoutMs?: number;
  /** Workers: start a broker whose worker died again, after a backoff growing from 200 ms to 10 s (default true). */
  restartBrokers?: boolean;
  /**
   * Browser ('opfs', 'indexeddb'): one cluster for every tab of the origin that starts it with this
   * clusterId and `shared: true` (./shared-cluster.ts). Each tab hosts up to `maxBrokersPerTab` of the
   * `brokers` ids that no tab runs; the controller runs in one of the tabs and moves when it closes.
   */
  shared?: boolean;
  /** Shared clusters: the most broker workers this tab runs (default: `brokers`, so one tab alone runs them all). */
  maxBrokersPerTab?: number;
  /**
   * Node, Deno, Bun: serve Kafka's wire protocol, one TCP listener per broker
   * (ports port..port+N-1; port 0 picks free ones), bound to 127.0.0.1 unless
   * `host` names another address, so Kafka clients (KafkaJS, librdkafka, ...)
   * connect to it (src/wire/listener.ts).
   */
  listen?: ListenOptions;
}

export async function startCluster(options: StartClusterOptions & { shared: true }): Promise<SharedCluster>;
export async function startCluster(options: StartClusterOptions): Promise<Cluster>;
export async function startCluster(options: StartClusterOptions): Promise<Cluster> {
  const cluster = await startBrokers(options);
  if (!options.listen) return cluster;
  try {
    const { listenCluster } = await importNodeOnly<typeof import('../wire/listener.ts')>('wireListener');
    return listening(cluster, await listenCluster(cluster, options.listen));
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

/** The cluster whose stop() first closes its listeners (no request arrives at a closing broker). */
function listening(cluster: Cluster, wire: WireListeners): Cluster {
  const stopBrokers = cluster.stop.bind(cluster);
  let stopping: Promise<void> | undefined;
  Object.defineProperty(cluster, 'listeners', { value: wire.listeners, enumerable: true });
  cluster.stop = () => (stopping ??= wire.close().finally(stopBrokers));
  return cluster;
}

async function startBrokers(options: StartClusterOptions): Promise<Cluster> {
  const count = options.brokers ?? 3;
  if (!Number.isInteger(count) || count < 1 || count > CLUSTER_BROKERS_MAX) {
    throw new RangeError(`brokers = ${count}: expected 1..${CLUSTER_BROKERS_MAX}`);
  }
  const clusterId = options.clusterId ?? 'wafka';
  if (!/^[a-zA-Z0-9._-]{1,100}$/.test(clusterId)) throw new RangeError(`clusterId '${clusterId}': 1..100 of [a-zA-Z0-9._-]`);
  const brokerConfig: BrokerConfigInput = { ...options.brokerConfig };
  if (options.allowAutoTopicCreation !== undefined) brokerConfig.allowAutoTopicCreation = options.allowAutoTopicCreation;
  const settings: Settings = {
    clusterId, storage: options.storage, dir: options.dir ?? 'data', brokerConfig,
    startTimeoutMs: options.startTimeoutMs ?? 30_000, lockWaitMs: options.lockWaitMs ?? 5_000,
    brokerSessionTimeoutMs: options.brokerSessionTimeoutMs ?? 1_500,
    restartBrokers: options.restartBrokers ?? true,
  };
  const nodeIds = Array.from({ length: count }, (_, i) => i);
  // The in-process starter holds the brokers' code; a page whose brokers run in workers never loads it.
  const startInProcess = async (s: Settings, ids: number[]) => (await import('./in-process-cluster.ts')).startInProcess(s, ids);
  if (options.shared) {
    const maxBrokersPerTab = options.maxBrokersPerTab ?? count;
    if (!Number.isInteger(maxBrokersPerTab) || maxBrokersPerTab < 0 || maxBrokersPerTab > count) {
      throw new RangeError(`maxBrokersPerTab = ${maxBrokersPerTab}: expected 0..${count} (brokers)`);
    }
    if (options.inProcess) throw new TypeError('a shared cluster runs its brokers in workers: inProcess is not allowed');
    return (await import('./shared-cluster.ts')).startSharedCluster(settings, nodeIds, maxBrokersPerTab);
  }
  if (options.storage === 'memory') return startInProcess(settings, nodeIds);
  if (options.storage === 'files') {
    // One owner per data directory, across processes: the lock is taken before any broker touches a file.
    const { lockDataDir } = await importNodeOnly<typeof import('./data-dir-lock.ts')>('dataDirLock');
    const release = await lockDataDir(settings.dir, nodeIds);
    try {
      return releasedOnStop(await (options.inProcess ? startInProcess(settings, nodeIds) : startWorkers(settings, nodeIds, 'node')), release);
    } catch (error) {
      await release();
      throw error;
    }
  }
  if (options.storage === 'opfs' || options.storage === 'indexeddb') {
    return options.inProcess ? startInProcess(settings, nodeIds) : startWorkers(settings, nodeIds, 'browser');
  }
  throw new TypeError(`unknown storage '${String(options.storage)}': expected 'opfs', 'indexeddb', 'files' or 'memory'`);
}

/** The cluster whose stop() also releases the data directory, once its brokers are closed. */
function releasedOnStop(cluster: Cluster, release: () => Promise<void>): Cluster {
  const stopBrokers = cluster.stop.bind(cluster);
  let stopping: Promise<void> | undefined;
  cluster.stop = () => (stopping ??= stopBrokers().finally(release));
  return cluster;
}
