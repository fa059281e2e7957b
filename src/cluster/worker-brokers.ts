/**
 * Brokers in workers (Node worker threads, browser dedicated workers): one
 * worker per broker, its init and stop handshake, and a cluster of them with
 * its controller in this realm.
 */
import { WafkaError } from '../errors.ts';
import { importNodeOnly } from '../node-only.ts';
import type { BrokerApi } from '../protocol/types.ts';
import { BrokerClient } from '../transport/broker-client.ts';
import { exposeController } from '../transport/controller-channel.ts';
import { openSharedMetadata, type StorageKind } from './broker-storage.ts';
import type { Cluster, Settings } from './cluster.ts';
import { brokerLookup } from './cluster-connection.ts';
import { activateController } from './controller-activation.ts';
import type { BrokerWorkerInit, WorkerHandle, WorkerToParent } from './worker-protocol.ts';

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
export async function startWorkers(settings: Settings, nodeIds: number[], kind: 'node' | 'browser'): Promise<Cluster> {
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
