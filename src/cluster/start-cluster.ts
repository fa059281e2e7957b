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
import { CONTROLLER_NODE_ID, Controller, type ControllerOptions } from '../controller/controller.ts';
import { acquireControllerLease, type ControllerLease } from '../controller/controller-lease.ts';
import { systemClock } from '../clock.ts';
import { WafkaError } from '../errors.ts';
import { importNodeOnly } from '../node-only.ts';
import type { BrokerApi } from '../protocol/types.ts';
import type { ListenOptions, WireListener, WireListeners } from '../wire/listener.ts';
import { BrokerClient } from '../transport/broker-client.ts';
import { exposeController } from '../transport/controller-channel.ts';
import { openSharedMetadata, type StorageKind } from './broker-storage.ts';
import { brokerLookup, type ClusterConnection } from './cluster-connection.ts';
import type { MetadataStore } from '../metadata/metadata-store.ts';
import type { MetadataWatch } from '../metadata/metadata-watch.ts';
import type { SharedCluster } from './shared-cluster.ts';
import type { BrokerWorkerInit, WorkerHandle, WorkerToParent } from './worker-protocol.ts';

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

export interface Cluster extends ClusterConnection {
  readonly storage: StorageKind;
  readonly inProcess: boolean;
  /**
   * A new MessagePort served by broker `nodeId`, to transfer to a client in
   * another tab or worker (see connectCluster). Each port is one connection.
   */
  connectPort(nodeId: number): MessagePort;
  /**
   * Ends broker `nodeId`'s worker at once, as a crash would (chaos drills,
   * failover tests): the controller fences it and moves its leadership; with
   * `restartBrokers` (the default) the cluster starts it again, and it
   * recovers its log and catches up. In-process clusters have no worker to end.
   */
  killBroker(nodeId: number): Promise<void>;
  /**
   * Makes broker `nodeId`'s worker busy-loop for `ms` (chaos drills): a hung
   * broker, alive and holding its lock but answering nothing. The controller
   * fences it when its session expires; when it wakes it finds itself a
   * follower, and whatever it took as a leader meanwhile is refused or cut.
   */
  hangBroker(nodeId: number, ms: number): void;
  /** The Kafka wire-protocol listeners (`listen`), one per broker; empty without. */
  readonly listeners: readonly WireListener[];
  /**
   * Shuts broker `nodeId` down cleanly and starts it again (a rolling
   * restart): the controller moves its leadership first, so no send waits
   * for a dead leader; the new worker recovers its log, catches up and
   * rejoins the ISR. In-process clusters have no worker to restart.
   */
  restartBroker(nodeId: number): Promise<void>;
  /** Flushes and closes every broker, then ends the workers. Idempotent. */
  stop(): Promise<void>;
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

/** The options startCluster resolved, as the in-process and the worker starters take them. */
export interface Settings {
  clusterId: string;
  brokerSessionTimeoutMs: number;
  restartBrokers: boolean;
  storage: StorageKind;
  dir: string;
  brokerConfig: BrokerConfigInput;
  startTimeoutMs: number;
  lockWaitMs: number;
}

/**
 * Takes the controller's lease for a cluster whose controller runs here (a
 * Web Lock in the browser, a lock file on Node; memory clusters are private to
 * this realm and need none), then claims the controller epoch. A lease found
 * lost (Node: broken after a stall) closes the controller; its writes would be
 * refused anyway.
 */
export async function activateController(
  settings: Settings, metadata: { store: MetadataStore; watch: MetadataWatch },
  hooks: Pick<ControllerOptions, 'onBrokersFenced' | 'onBrokerRegistered'> = {},
): Promise<{ controller: Controller; lease: ControllerLease | null }> {
  const lease = settings.storage === 'memory'
    ? null
    : await acquireControllerLease(settings.storage === 'files'
      ? { kind: 'file', dir: settings.dir, waitMs: settings.lockWaitMs }
      : { kind: 'web-lock', clusterId: settings.clusterId, waitMs: settings.lockWaitMs });
  try {
    const controller = await Controller.activate({
      nodeId: CONTROLLER_NODE_ID, clusterId: settings.clusterId, store: metadata.store, watch: metadata.watch,
      clock: systemClock, brokerSessionTimeoutMs: settings.brokerSessionTimeoutMs, ...hooks,
    });
    lease?.onLost(() => controller.close());
    return { controller, lease };
  } catch (error) {
    await lease?.release();
    throw error;
  }
}

// ------------------------------------------------------------------ workers

export async function spawnWorker(kind: 'node' | 'browser', nodeId: number): Promise<WorkerHandle> {
  if (kind === 'browser') {
    // The literal `new Worker(new URL(...), { type: 'module' })` is what bundlers (Vite) recognise and bundle;
    // its options must be static for them (no per-broker name).
    const worker = new Worker(new URL('../../workers/broker.worker.ts', import.meta.url), { type: 'module' });
    return {
      post: (message, transfer) => worker.postMessage(message, transfer),
      onMessage: (handler) => worker.addEventListener('message', (e: MessageEvent<WorkerToParent>) => handler(e.data)),
      onDeath: (handler) => worker.addEventListener('error', (e: ErrorEvent) => handler(e.message || 'worker error')),
      terminate: async () => worker.terminate(),
    };
  }
  const { spawnNodeBrokerWorker } = await importNodeOnly<typeof import('./node-broker-worker.ts')>('nodeBrokerWorker');
  return spawnNodeBrokerWorker(nodeId);
}

export interface RunningWorker {
  nodeId: number;
  /** The Web Locks clientId holding this broker's lock (browser): names this incarnation to other tabs. */
  lockHolder?: string;
  handle: WorkerHandle;
  client: BrokerClient;
  next(type: WorkerToParent['type'], timeoutMs: number): Promise<WorkerToParent>;
  /** Once per worker: its pending calls fail and the cluster hears of it. */
  reportDeath(reason: string): void;
}

/** Extra fields of a worker's init message (a shared cluster's brokers are `controlled` and name their tab as host). */
export type WorkerInitExtras = Pick<BrokerWorkerInit, 'controlled' | 'host' | 'controllerCallTimeoutMs'>;

export async function startWorker(
  settings: Settings, nodeId: number, kind: 'node' | 'browser', controllerPort: MessagePort | undefined,
  onDeath: (reason: string) => void, extras: WorkerInitExtras = {}, onSpawned?: (handle: WorkerHandle) => void,
): Promise<RunningWorker> {
  const handle = await spawnWorker(kind, nodeId);
  onSpawned?.(handle);
  const inbox: WorkerToParent[] = [];
  const waiting = new Set<() => void>();
  let death: string | undefined;
  handle.onMessage((message) => {
    inbox.push(message);
    for (const wake of [...waiting]) wake();
  });
  const next = (type: WorkerToParent['type'], timeoutMs: number) => new Promise<WorkerToParent>((resolve, reject) => {
    const timer = setTimeout(() => finish(() => reject(new WafkaError('REQUEST_TIMED_OUT', `broker ${nodeId}: no '${type}' after ${timeoutMs} ms`))), timeoutMs);
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      waiting.delete(check);
      settle();
    };
    const check = () => {
      const i = inbox.findIndex((m) => m.type === type || m.type === 'wafka:failed');
      if (i >= 0) return finish(() => resolve(inbox.splice(i, 1)[0]));
      if (death !== undefined) finish(() => reject(new WafkaError('BROKER_NOT_AVAILABLE', `broker ${nodeId} worker died: ${death}`)));
    };
    waiting.add(check);
    check();
  });
  const { port1, port2 } = new MessageChannel();
  const client = new BrokerClient(port1, { onClose: () => port1.close() });
  const reportDeath = (reason: string) => {
    if (death !== undefined) return;
    death = reason;
    client.close(new WafkaError('BROKER_NOT_AVAILABLE', `broker ${nodeId} worker died: ${reason}`));
    for (const wake of [...waiting]) wake();
    onDeath(reason);
  };
  handle.onDeath(reportDeath);
  handle.post({
    type: 'wafka:init', nodeId, clusterId: settings.clusterId, storage: settings.storage as Exclude<StorageKind, 'memory'>,
    dir: settings.storage === 'files' ? settings.dir : undefined, brokerConfig: settings.brokerConfig, lockWaitMs: settings.lockWaitMs, port: port2,
    controllerPort, ...extras,
  }, controllerPort ? [port2, controllerPort] : [port2]);
  let lockHolder: string | undefined;
  try {
    const answer = await next('wafka:ready', settings.startTimeoutMs);
    if (answer.type === 'wafka:failed') {
      const e = answer.error;
      throw 'code' in e ? WafkaError.fromJSON(e) : new Error(`broker ${nodeId} failed to start: ${e.name}: ${e.message}`);
    }
    if (answer.type === 'wafka:ready') lockHolder = answer.lockHolder;
  } catch (error) {
    client.close();
    await handle.terminate();
    throw error;
  }
  return { nodeId, lockHolder, handle, client, next, reportDeath };
}

/**
 * Broker workers and, in this realm, their controller: each worker reaches
 * the controller through a port of its own and every other broker through a
 * port per peer (follower fetches). A worker that dies is fenced at once (its
 * death is seen here, as a freed lock would be) and, unless turned off,
 * started again; its peers get new ports to it.
 */
async function startWorkers(settings: Settings, nodeIds: number[], kind: 'node' | 'browser'): Promise<Cluster> {
  const metadata = await openSharedMetadata(settings.storage as Exclude<StorageKind, 'memory'>, settings.clusterId, settings.dir);
  const workers = new Map<number, RunningWorker>();
  const { controller, lease } = await activateController(settings, metadata, {
    // A broker fenced while its worker lives is hung: calls to it fail now (retriable), so clients move
    // to the new leaders instead of waiting for it to wake; it is reachable again once it registers anew.
    onBrokersFenced: (ids) => {
      for (const id of ids) workers.get(id)?.client.suspend(new WafkaError('BROKER_NOT_AVAILABLE', `broker ${id} was fenced: its session expired`, { retriable: true }));
    },
    onBrokerRegistered: (id) => workers.get(id)?.client.resume(),
  }).catch(async (error) => {
    await metadata.store.close().catch(() => {});
    metadata.watch.close();
    throw error;
  });
  const controllerPorts: MessagePort[] = [];
  const controllerPort = () => {
    const { port1, port2 } = new MessageChannel();
    exposeController(controller, port1);
    controllerPorts.push(port1);
    return port2;
  };
  const byId = new Map<number, BrokerApi>();
  let stopping: Promise<void> | undefined;
  const restartAttempts = new Map<number, number>();
  const restartPending = new Set<number>();

  /** Gives `a` a port to `b`'s broker. */
  const link = (a: RunningWorker, b: RunningWorker) => {
    const { port1, port2 } = new MessageChannel();
    b.handle.post({ type: 'wafka:connect', port: port1 }, [port1]);
    a.handle.post({ type: 'wafka:peer', nodeId: b.nodeId, port: port2 }, [port2]);
  };
  /** Brokers being restarted cleanly (restartBroker): their old worker's end is no crash. */
  const restarting = new Set<number>();
  const onDeath = (nodeId: number) => (reason: string) => {
    if (stopping || restarting.has(nodeId)) return;
    void controller.brokerGone(nodeId).catch(() => {});
    if (settings.restartBrokers) scheduleRestart(nodeId, reason);
  };
  const scheduleRestart = (nodeId: number, reason: string) => {
    if (restartPending.has(nodeId)) return;
    restartPending.add(nodeId);
    const attempt = restartAttempts.get(nodeId) ?? 0;
    restartAttempts.set(nodeId, attempt + 1);
    const delayMs = Math.min(10_000, 200 * 2 ** Math.min(attempt, 6));
    const timer = setTimeout(() => {
      restartPending.delete(nodeId);
      if (stopping || workers.get(nodeId)?.client.closed === false) return;
      void spawn(nodeId).then(
        (worker) => {
          // A restart that finished after stop() began: stop() did not see this worker, so it is stopped here (else it keeps the process alive).
          if (stopping) { void stopWorker(worker).catch(() => {}); return; }
          restartAttempts.set(nodeId, 0);
          for (const other of workers.values()) if (other !== worker) { link(worker, other); link(other, worker); }
        },
        () => { if (!stopping) scheduleRestart(nodeId, reason); },
      );
    }, delayMs);
    (timer as { unref?: () => void }).unref?.();
  };
  const spawn = async (nodeId: number) => {
    const worker = await startWorker(settings, nodeId, kind, controllerPort(), onDeath(nodeId));
    workers.set(nodeId, worker);
    byId.set(nodeId, worker.client);
    return worker;
  };

  const started = await Promise.allSettled(nodeIds.map((id) => spawn(id)));
  const failure = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  const closeController = async () => {
    controller.close();
    await lease?.release().catch(() => {});
    for (const port of controllerPorts) port.close();
    await metadata.store.close().catch(() => {});
    metadata.watch.close();
  };
  if (failure) {
    stopping = Promise.resolve();
    await Promise.allSettled([...workers.values()].map((w) => stopWorker(w)));
    await closeController();
    throw failure.reason;
  }
  for (const a of workers.values()) for (const b of workers.values()) if (a !== b) link(a, b);
  return {
    clusterId: settings.clusterId, storage: settings.storage, inProcess: false, listeners: [],
    get brokers() { return nodeIds.map((id) => workers.get(id)!.client); },
    bootstrap: { clusterId: settings.clusterId, nodeIds, transport: 'worker' },
    broker: brokerLookup(settings.clusterId, byId),
    connectPort(nodeId) {
      const worker = workers.get(nodeId);
      if (!worker || worker.client.closed) throw new WafkaError('BROKER_NOT_AVAILABLE', `no running broker ${nodeId}`);
      const { port1, port2 } = new MessageChannel();
      worker.handle.post({ type: 'wafka:connect', port: port2 }, [port2]);
      return port1;
    },
    hangBroker(nodeId, ms) {
      const worker = workers.get(nodeId);
      if (!worker || worker.client.closed) throw new WafkaError('BROKER_NOT_AVAILABLE', `no running broker ${nodeId}`);
      if (!Number.isSafeInteger(ms) || ms < 0 || ms > 600_000) throw new RangeError(`hang of ${ms} ms: expected 0..600000`);
      worker.handle.post({ type: 'wafka:hang', ms }, []);
    },
    async restartBroker(nodeId) {
      const worker = workers.get(nodeId);
      if (!worker) throw new WafkaError('BROKER_NOT_AVAILABLE', `no broker ${nodeId}`);
      if (restarting.has(nodeId)) throw new WafkaError('BROKER_NOT_AVAILABLE', `broker ${nodeId} is restarting`);
      restarting.add(nodeId);
      try {
        await stopWorker(worker); // the broker's close is a controlled shutdown: its leadership moves first
        if (stopping) return;
        const fresh = await spawn(nodeId);
        for (const other of workers.values()) if (other !== fresh) { link(fresh, other); link(other, fresh); }
      } finally {
        restarting.delete(nodeId);
      }
    },
    async killBroker(nodeId) {
      const worker = workers.get(nodeId);
      if (!worker) throw new WafkaError('BROKER_NOT_AVAILABLE', `no broker ${nodeId}`);
      if (worker.client.closed) return;
      await worker.handle.terminate();
      // A terminated browser worker sends no event: its death is reported here (once, whoever reports first).
      worker.reportDeath('killed');
    },
    stop() {
      stopping ??= Promise.all([...workers.values()].map((w) => stopWorker(w))).then(closeController);
      return stopping;
    },
  };
}

/** Asks the broker to close (flush, release storage and lock), then ends the worker. */
export async function stopWorker(worker: RunningWorker, timeoutMs = 10_000): Promise<void> {
  try {
    if (!worker.client.closed) {
      worker.handle.post({ type: 'wafka:stop' }, []);
      await worker.next('wafka:stopped', timeoutMs);
      // Parked fetches were answered while the broker closed; let those answers arrive.
      await worker.client.drain(1_000);
    }
  } catch {
    // Dead or stuck: terminating is all that is left.
  } finally {
    worker.client.close();
    await worker.handle.terminate();
  }
}
