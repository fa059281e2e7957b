/**
 * The body of a broker worker, shared by the browser's dedicated worker and
 * Node's worker thread (workers/ holds the thin entries): waits for `init`,
 * takes the broker's lock (browser), opens storage and metadata, starts the
 * Broker, serves it on every port it is given, and closes it on `stop`.
 */
import { Broker } from '../broker/broker.ts';
import { systemClock } from '../clock.ts';
import { WafkaError } from '../errors.ts';
import { BrokerClient } from '../transport/broker-client.ts';
import { controllerClient } from '../transport/controller-channel.ts';
import { exposeBroker } from '../transport/expose-broker.ts';
import { openBrokerLogs, openSharedMetadata } from './broker-storage.ts';
import type { ControllerLink } from '../broker/broker.ts';
import { acquireWebLock, brokerLockName, webLocks } from '../locks/web-lock.ts';
import type { BrokerWorkerInit, ParentToWorker, WorkerToParent } from './worker-protocol.ts';

export interface WorkerControl {
  post(message: WorkerToParent): void;
  listen(handler: (message: ParentToWorker) => void): void;
  /** 'dedicated-worker' takes the broker's Web Lock; 'worker-thread' relies on the file backend's ownership. */
  runtime: 'dedicated-worker' | 'worker-thread';
}

export function serveBrokerWorker(control: WorkerControl): void {
  let broker: Broker | undefined;
  let starting: Promise<void> | undefined;
  let releaseLock: () => void = () => {};
  /** Other brokers, for follower fetches; a newer port for the same broker (it restarted) replaces the old one. */
  const peers = new Map<number, BrokerClient>();
  /** The controller as reached now; a shared cluster replaces it when the controller moves to another tab. */
  let controller: { link: ControllerLink; port: MessagePort } | null = null;
  let controllerCallTimeoutMs = 3_000;
  const useController = (port: MessagePort) => {
    controller?.port.close();
    controller = { link: timedController(controllerClient(port), controllerCallTimeoutMs), port };
  };
  control.listen((message) => {
    if (message?.type === 'wafka:init' && !starting) {
      starting = start(message).catch((error) => {
        releaseLock();
        const json = error instanceof WafkaError ? error.toJSON() : { name: (error as Error)?.name ?? 'Error', message: String((error as Error)?.message ?? error) };
        control.post({ type: 'wafka:failed', error: json });
      });
    } else if (message?.type === 'wafka:peer') {
      peers.get(message.nodeId)?.close();
      peers.set(message.nodeId, new BrokerClient(message.port, { onClose: () => message.port.close() }));
    } else if (message?.type === 'wafka:peer-gone') {
      peers.get(message.nodeId)?.close();
      peers.delete(message.nodeId);
    } else if (message?.type === 'wafka:controller') {
      useController(message.port);
    } else if (message?.type === 'wafka:hang') {
      const until = Date.now() + Math.min(Math.max(0, message.ms), 600_000);
      // Hung on purpose. The count is stored where a bundler cannot see it unused: Rollup drops an empty loop.
      let spins = 0;
      while (Date.now() < until) spins++;
      (globalThis as { wafkaHangSpins?: number }).wafkaHangSpins = spins;
    } else if (message?.type === 'wafka:connect') {
      void starting?.then(() => broker && exposeBroker(broker, message.port));
    } else if (message?.type === 'wafka:stop') {
      void (async () => {
        let error: string | undefined;
        try {
          await starting;
          await broker?.close();
          for (const peer of peers.values()) peer.close();
        } catch (e) {
          error = String((e as Error)?.message ?? e);
        }
        releaseLock();
        control.post({ type: 'wafka:stopped', error });
      })();
    }
  });

  async function start(init: BrokerWorkerInit): Promise<void> {
    let lockHolder: string | undefined;
    if (control.runtime === 'dedicated-worker') {
      const lockName = brokerLockName(init.clusterId, init.nodeId);
      releaseLock = await acquireWebLock(lockName, init.lockWaitMs ?? 5_000);
      // The lock's holder id names this worker to every context of the origin (navigator.locks.query()).
      lockHolder = ((await webLocks().query()).held ?? []).find((l) => l.name === lockName)?.clientId;
    }
    const { store, watch } = await openSharedMetadata(init.storage, init.clusterId, init.dir);
    const storage = await openBrokerLogs(init.storage, { clusterId: init.clusterId, nodeId: init.nodeId, dir: init.dir });
    controllerCallTimeoutMs = init.controllerCallTimeoutMs ?? controllerCallTimeoutMs;
    if (init.controllerPort) useController(init.controllerPort);
    broker = await Broker.start({
      nodeId: init.nodeId, clusterId: init.clusterId, host: init.host ?? control.runtime, config: init.brokerConfig,
      metadataStore: store, metadataWatch: watch, storage,
      ...((init.controllerPort || init.controlled) && {
        controller: () => controller?.link ?? null,
        peer: (id: number) => { const p = peers.get(id); return p && !p.closed ? p : null; },
      }),
    });
    exposeBroker(broker, init.port);
    control.post({ type: 'wafka:ready', nodeId: init.nodeId, lockHolder });
  }
}

/**
 * The controller with a deadline on every call: a controller whose tab went
 * away never answers (a MessagePort gives no close event), and a broker must
 * keep heartbeating and retrying until its tab hands it the next one.
 */
function timedController(link: ControllerLink, timeoutMs: number): ControllerLink {
  const timed = <T>(call: string, pending: Promise<T>) => new Promise<T>((resolve, reject) => {
    const timer = systemClock.setTimeout(() => reject(new WafkaError('REQUEST_TIMED_OUT', `controller ${call}: no answer in ${timeoutMs} ms`)), timeoutMs);
    pending.then(resolve, reject).finally(() => systemClock.clearTimeout(timer));
  });
  return {
    registerBroker: (r) => timed('registerBroker', link.registerBroker(r)),
    heartbeat: (nodeId, brokerEpoch) => timed('heartbeat', link.heartbeat(nodeId, brokerEpoch)),
    controlledShutdown: (nodeId) => timed('controlledShutdown', link.controlledShutdown(nodeId)),
    alterPartition: (r) => timed('alterPartition', link.alterPartition(r)),
  };
}
