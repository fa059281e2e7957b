/**
 * One cluster for every tab of an origin (`startCluster({ shared: true, ... })`
 * in each tab): brokers are spread over the open tabs, a closed tab is a
 * failed broker, and any tab reaches any broker.
 *
 * - Hosting: broker ids are Web Locks. A tab takes the host lock
 *   `wafka:<cluster>:host:<id>` of ids whose broker nobody runs, up to
 *   `maxBrokersPerTab`, and runs each as a dedicated worker that takes the
 *   broker lock `wafka:<cluster>:broker:<id>` and owns that broker's storage.
 *   Closing the tab frees both; an open tab with room picks the id up, and its
 *   new worker recovers the broker's log, registers and rejoins the ISR.
 * - The controller: whichever tab holds `wafka:<cluster>:controller`
 *   (../controller/controller-lease.ts); every tab campaigns, and the next one
 *   takes over when the holder closes, recovering state from the metadata
 *   store (IndexedDB) and claiming a new controller epoch. It fences a broker
 *   whose lock is freed at once, one whose heartbeats stop (a hung worker, a
 *   frozen tab) when its session expires.
 * - Liveness: a MessagePort to a closed tab gives no event, so every tab polls
 *   `navigator.locks.query()` (every `SHARED_POLL_MS`): a broker lock freed or
 *   taken by another holder means that broker incarnation is gone; its
 *   connections are closed (calls fail with BROKER_NOT_AVAILABLE, retriable)
 *   and new ones go to the new holder.
 * - Ports: through the relay SharedWorker (./tab-relay.ts), addressed to one
 *   incarnation (a broker's lock holder, a controller epoch). The metadata
 *   doorbell (BroadcastChannel) tells tabs that a new controller was elected.
 */
import { systemClock } from '../clock.ts';
import { CONTROLLER_NODE_ID, Controller } from '../controller/controller.ts';
import { acquireControllerLease, type ControllerLease } from '../controller/controller-lease.ts';
import { WafkaError } from '../errors.ts';
import type { BrokerApi } from '../protocol/types.ts';
import { BrokerClient } from '../transport/broker-client.ts';
import { exposeController } from '../transport/controller-channel.ts';
import { openSharedMetadata } from './broker-storage.ts';
import { brokerLookup } from './cluster-connection.ts';
import type { Cluster, Settings } from './cluster.ts';
import { startWorker, stopWorker, type RunningWorker } from './worker-brokers.ts';
import type { RelayTarget, RelayToTab, TabToRelay } from './tab-relay.ts';
import { requestWebLock, webLocks } from '../locks/web-lock.ts';
import type { WorkerHandle } from './worker-protocol.ts';

/** How often a tab looks at the origin's locks (who runs which broker). */
export const SHARED_POLL_MS = 50;
/** The controller state a tab also re-reads this often (in case it missed a doorbell). */
const METADATA_POLL_MS = 500;

export function hostLockName(clusterId: string, nodeId: number): string {
  return `wafka:${clusterId}:host:${nodeId}`;
}

/** Where the brokers of a shared cluster run, as this tab sees it. */
export interface TabHosting {
  tabId: string;
  /** Broker ids whose workers run in this tab. */
  hostedBrokerIds: number[];
  /** Whether this tab runs the controller. */
  controller: boolean;
  /** The controller epoch last seen (0: none yet). */
  controllerEpoch: number;
  /** Broker ids whose broker lock someone holds, in any tab. */
  runningBrokerIds: number[];
}

export interface SharedCluster extends Cluster {
  readonly shared: true;
  /** This tab's id; its brokers register with host `tab:<tabId>`. */
  readonly tabId: string;
  hosting(): TabHosting;
  /** What `new Wafka({ cluster })` uses: the brokers reachable now, and each by id. */
  connector(): { bootstrap(): BrokerApi[]; broker(nodeId: number): BrokerApi };
}

interface Hosted {
  nodeId: number;
  releaseHost: () => void;
  /** Set once the worker is up (and its lock holder known). */
  worker: RunningWorker | null;
  /** The worker being started, to give it the controller as soon as one is known. */
  spawning: WorkerHandle | null;
  restartAttempts: number;
}

export async function startSharedCluster(settings: Settings, nodeIds: number[], maxBrokersPerTab: number): Promise<SharedCluster> {
  const { clusterId } = settings;
  if (settings.storage !== 'opfs' && settings.storage !== 'indexeddb') {
    throw new WafkaError('INVALID_REQUEST', `a shared cluster spans the tabs of an origin: storage 'opfs' or 'indexeddb', not '${settings.storage}'`);
  }
  const tabId = globalThis.crypto.randomUUID().slice(0, 8);
  const metadata = await openSharedMetadata(settings.storage, clusterId);
  const stopping = new AbortController();
  const hosted = new Map<number, Hosted>();
  const remote = new Map<number, { holder: string; client: BrokerClient }>();
  let holders = new Map<number, string>();
  let controllerHere: { controller: Controller; lease: ControllerLease; ports: MessagePort[] } | null = null;
  let controllerEpoch = 0;

  const relay = new RelayLink((message) => onRelayConnect(message));
  const brokerLockPattern = new RegExp(`^wafka:${clusterId.replace(/[.]/g, '\\.')}:broker:(\\d+)$`);

  // ---------------------------------------------------------------- ports

  /** A port to the controller as known now (undefined while none is). */
  const controllerPort = (): MessagePort | undefined => {
    const { port1, port2 } = new MessageChannel();
    if (controllerHere) {
      exposeController(controllerHere.controller, port1);
      controllerHere.ports.push(port1);
      return port2;
    }
    if (controllerEpoch === 0) return undefined;
    relay.connect(clusterId, { kind: 'controller', epoch: controllerEpoch }, port1);
    return port2;
  };
  const giveController = (handle: WorkerHandle) => {
    const port = controllerPort();
    if (port) handle.post({ type: 'wafka:controller', port }, [port]);
  };
  /** A port to broker `nodeId` (held by `holder`), or null if it is not running. */
  const brokerPort = (nodeId: number, holder: string | undefined): MessagePort | null => {
    const local = hosted.get(nodeId)?.worker;
    const { port1, port2 } = new MessageChannel();
    if (local && !local.client.closed) {
      local.handle.post({ type: 'wafka:connect', port: port1 }, [port1]);
      return port2;
    }
    if (!holder) return null;
    relay.connect(clusterId, { kind: 'broker', nodeId, holder }, port1);
    return port2;
  };
  const givePeer = (worker: RunningWorker, nodeId: number, holder: string | undefined) => {
    const port = brokerPort(nodeId, holder);
    if (port) worker.handle.post({ type: 'wafka:peer', nodeId, port }, [port]);
  };
  const runningWorkers = () => [...hosted.values()].flatMap((h) => (h.worker && !h.worker.client.closed ? [h.worker] : []));

  function onRelayConnect(message: RelayToTab): void {
    if (message.clusterId !== clusterId) return message.port.close();
    const target = message.target;
    if (target.kind === 'controller') {
      if (controllerHere && controllerHere.controller.epoch === target.epoch && !controllerHere.controller.closed) {
        exposeController(controllerHere.controller, message.port);
        controllerHere.ports.push(message.port);
      } else {
        message.port.close();
      }
      return;
    }
    const worker = hosted.get(target.nodeId)?.worker;
    if (worker && worker.lockHolder === target.holder && !worker.client.closed) worker.handle.post({ type: 'wafka:connect', port: message.port }, [message.port]);
    else message.port.close();
  }

  // ---------------------------------------------------------------- clients

  const brokerFor = (nodeId: number): BrokerApi => {
    const local = hosted.get(nodeId)?.worker;
    if (local && !local.client.closed) return local.client;
    const holder = holders.get(nodeId);
    const known = remote.get(nodeId);
    if (known && known.holder === holder && !known.client.closed) return known.client;
    if (!holder) throw new WafkaError('BROKER_NOT_AVAILABLE', `broker ${nodeId} of shared cluster '${clusterId}' runs in no tab now`, { retriable: true });
    const port = brokerPort(nodeId, holder)!;
    const client = new BrokerClient(port, { onClose: () => port.close() });
    remote.set(nodeId, { holder, client });
    return client;
  };
  const reachable = () => nodeIds.flatMap((id) => {
    try { return [brokerFor(id)]; } catch { return []; }
  });

  // ---------------------------------------------------------------- hosting

  const onDeath = (entry: Hosted) => (reason: string) => {
    if (stopping.signal.aborted) return;
    entry.worker = null;
    if (controllerHere) void controllerHere.controller.brokerGone(entry.nodeId).catch(() => {});
    if (!settings.restartBrokers) {
      hosted.delete(entry.nodeId);
      entry.releaseHost();
      return;
    }
    const delayMs = Math.min(10_000, 200 * 2 ** Math.min(entry.restartAttempts++, 6));
    const timer = setTimeout(() => void spawn(entry).catch(() => onDeath(entry)(reason)), delayMs);
    (timer as { unref?: () => void }).unref?.();
  };

  const spawn = async (entry: Hosted): Promise<void> => {
    if (stopping.signal.aborted) return;
    const worker = await startWorker(settings, entry.nodeId, 'browser', controllerPort(), onDeath(entry),
      { controlled: true, host: `tab:${tabId}` }, (handle) => { entry.spawning = handle; })
      .finally(() => { entry.spawning = null; });
    if (stopping.signal.aborted) {
      await stopWorker(worker);
      return;
    }
    entry.worker = worker;
    entry.restartAttempts = 0;
    if (worker.lockHolder) {
      holders.set(entry.nodeId, worker.lockHolder);
      relay.announce({ type: 'host', clusterId, nodeId: entry.nodeId, holder: worker.lockHolder });
    }
    for (const id of nodeIds) if (id !== entry.nodeId) givePeer(worker, id, holders.get(id));
    for (const other of runningWorkers()) if (other !== worker) givePeer(other, entry.nodeId, worker.lockHolder);
  };

  let hostingBusy = false;
  /** Takes one free broker id, if this tab has room and a controller is known. */
  const hostOne = async (held: Map<number, string>): Promise<void> => {
    if (hostingBusy || stopping.signal.aborted || hosted.size >= maxBrokersPerTab || (controllerEpoch === 0 && !controllerHere)) return;
    hostingBusy = true;
    try {
      for (const nodeId of nodeIds) {
        if (hosted.has(nodeId) || held.has(nodeId)) continue;
        const releaseHost = await requestWebLock(hostLockName(clusterId, nodeId), { waitMs: 0, ifAvailable: true });
        if (!releaseHost) continue;
        if (stopping.signal.aborted) return releaseHost();
        const entry: Hosted = { nodeId, releaseHost, worker: null, spawning: null, restartAttempts: 0 };
        hosted.set(nodeId, entry);
        try {
          await spawn(entry);
        } catch (error) {
          onDeath(entry)(String((error as Error)?.message ?? error));
        }
        return;
      }
    } finally {
      hostingBusy = false;
    }
  };

  // ---------------------------------------------------------------- the controller

  const campaign = async (): Promise<void> => {
    while (!stopping.signal.aborted) {
      let lease: ControllerLease;
      try {
        lease = await acquireControllerLease({ kind: 'web-lock', clusterId, waitMs: Infinity, signal: stopping.signal });
      } catch {
        return; // stopped
      }
      try {
        const controller = await Controller.activate({
          nodeId: CONTROLLER_NODE_ID, clusterId, store: metadata.store, watch: metadata.watch,
          clock: systemClock, brokerSessionTimeoutMs: settings.brokerSessionTimeoutMs,
        });
        controllerHere = { controller, lease, ports: [] };
        controllerEpoch = controller.epoch;
        relay.announce({ type: 'controller', clusterId, epoch: controller.epoch });
        // Brokers of tabs that closed before this controller took over: fenced now, not at session expiry.
        const running = await heldBrokers();
        for (const b of (await metadata.store.read())?.brokers ?? []) {
          if (!b.fenced && !running.has(b.nodeId)) void controller.brokerGone(b.nodeId).catch(() => {});
        }
        for (const h of hosted.values()) {
          if (h.worker) giveController(h.worker.handle);
          else if (h.spawning) giveController(h.spawning);
        }
        return;
      } catch {
        await lease.release();
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };

  const learnController = async (): Promise<void> => {
    const m = await metadata.store.read();
    if (!m || m.controllerEpoch <= controllerEpoch) return;
    if (controllerHere && m.controllerEpoch > controllerHere.controller.epoch) {
      // Superseded (this tab was frozen past its lease): stop deciding and campaign again.
      const old = controllerHere;
      controllerHere = null;
      old.controller.close();
      for (const port of old.ports) port.close();
      await old.lease.release();
      void campaign();
    }
    controllerEpoch = m.controllerEpoch;
    for (const h of hosted.values()) {
      if (h.worker) giveController(h.worker.handle);
      else if (h.spawning) giveController(h.spawning);
    }
  };
  const unsubscribe = metadata.watch.subscribe(() => void learnController().catch(() => {}));

  // ---------------------------------------------------------------- the poll

  const heldBrokers = async (): Promise<Map<number, string>> => {
    const held = new Map<number, string>();
    for (const lock of (await webLocks().query()).held ?? []) {
      const match = brokerLockPattern.exec(lock.name ?? '');
      if (match && lock.clientId) held.set(Number(match[1]), lock.clientId);
    }
    return held;
  };

  let lastMetadataPollMs = 0;
  const tick = async (): Promise<void> => {
    const now = await heldBrokers();
    for (const nodeId of nodeIds) {
      const before = holders.get(nodeId);
      const after = now.get(nodeId);
      if (before === after) continue;
      const known = remote.get(nodeId);
      if (known && known.holder !== after) {
        known.client.close(new WafkaError('BROKER_NOT_AVAILABLE', `broker ${nodeId} is gone from the tab that ran it`, { retriable: true }));
        remote.delete(nodeId);
      }
      const local = hosted.get(nodeId)?.worker;
      if (!local || local.lockHolder !== after) {
        for (const worker of runningWorkers()) {
          if (worker.nodeId === nodeId) continue;
          if (before) worker.handle.post({ type: 'wafka:peer-gone', nodeId }, []);
          if (after) givePeer(worker, nodeId, after);
        }
      }
      if (!after && controllerHere) void controllerHere.controller.brokerGone(nodeId).catch(() => {});
    }
    holders = now;
    if (Date.now() - lastMetadataPollMs >= METADATA_POLL_MS) {
      lastMetadataPollMs = Date.now();
      await learnController();
    }
    await hostOne(now);
  };
  let pollTimer: ReturnType<typeof setTimeout> | undefined;
  const poll = () => {
    if (stopping.signal.aborted) return;
    pollTimer = setTimeout(() => void tick().catch(() => {}).finally(poll), SHARED_POLL_MS);
  };

  void campaign();
  // Up: a controller is known (this tab's or another's) and this tab took its share of free ids.
  const deadlineMs = Date.now() + settings.startTimeoutMs;
  for (;;) {
    await tick();
    const settled = (controllerHere !== null || controllerEpoch > 0)
      && [...hosted.values()].every((h) => h.worker)
      && (hosted.size >= maxBrokersPerTab || nodeIds.every((id) => holders.has(id) || hosted.has(id)));
    if (settled || Date.now() > deadlineMs) break;
    await new Promise((resolve) => setTimeout(resolve, SHARED_POLL_MS));
  }
  poll();

  let stopped: Promise<void> | undefined;
  const cluster: SharedCluster = {
    shared: true, tabId, clusterId, storage: settings.storage, inProcess: false, listeners: [],
    get brokers() { return reachable(); },
    bootstrap: { clusterId, nodeIds, transport: 'port' },
    broker: (nodeId) => {
      if (!nodeIds.includes(nodeId)) return brokerLookup(clusterId, new Map())(nodeId);
      return brokerFor(nodeId);
    },
    connector: () => ({ bootstrap: reachable, broker: (nodeId) => cluster.broker(nodeId) }),
    hosting: () => ({
      tabId, hostedBrokerIds: [...hosted.values()].filter((h) => h.worker).map((h) => h.nodeId).sort((a, b) => a - b),
      controller: controllerHere !== null, controllerEpoch, runningBrokerIds: [...holders.keys()].sort((a, b) => a - b),
    }),
    connectPort(nodeId) {
      const port = brokerPort(nodeId, holders.get(nodeId));
      if (!port) throw new WafkaError('BROKER_NOT_AVAILABLE', `broker ${nodeId} runs in no tab now`);
      return port;
    },
    hangBroker(nodeId, ms) {
      const worker = hosted.get(nodeId)?.worker;
      if (!worker || worker.client.closed) throw new WafkaError('BROKER_NOT_AVAILABLE', `broker ${nodeId} is not hosted by this tab`);
      if (!Number.isSafeInteger(ms) || ms < 0 || ms > 600_000) throw new RangeError(`hang of ${ms} ms: expected 0..600000`);
      worker.handle.post({ type: 'wafka:hang', ms }, []);
    },
    async restartBroker(nodeId) {
      const entry = hosted.get(nodeId);
      const worker = entry?.worker;
      if (!entry || !worker) throw new WafkaError('BROKER_NOT_AVAILABLE', `broker ${nodeId} is not hosted by this tab`);
      entry.worker = null;
      await stopWorker(worker); // a clean shutdown: leadership moves first
      await spawn(entry);
    },
    async killBroker(nodeId) {
      const worker = hosted.get(nodeId)?.worker;
      if (!worker) throw new WafkaError('BROKER_NOT_AVAILABLE', `broker ${nodeId} is not hosted by this tab`);
      if (worker.client.closed) return;
      await worker.handle.terminate();
      worker.reportDeath('killed');
    },
    stop() {
      stopped ??= (async () => {
        stopping.abort();
        clearTimeout(pollTimer);
        unsubscribe();
        // Brokers first: a clean shutdown hands their leadership over while the controller still answers.
        await Promise.allSettled([...hosted.values()].map(async (h) => { if (h.worker) await stopWorker(h.worker); }));
        for (const h of hosted.values()) h.releaseHost();
        hosted.clear();
        if (controllerHere) {
          controllerHere.controller.close();
          for (const port of controllerHere.ports) port.close();
          await controllerHere.lease.release();
          controllerHere = null;
        }
        for (const { client } of remote.values()) client.close();
        remote.clear();
        relay.close();
        await metadata.store.close().catch(() => {});
        metadata.watch.close();
      })();
      return stopped;
    },
  };
  return cluster;
}

/**
 * This tab's link to the relay SharedWorker. What the tab announced is sent
 * again if the relay has to be started anew (an error event).
 */
class RelayLink {
  #worker!: SharedWorker;
  readonly #announced = new Map<string, TabToRelay>();
  readonly #onConnect: (message: RelayToTab) => void;
  #closed = false;

  constructor(onConnect: (message: RelayToTab) => void) {
    this.#onConnect = onConnect;
    this.#open();
  }

  #open(): void {
    // The literal `new SharedWorker(new URL(...), { ... })` is what bundlers recognise; one relay per origin.
    const worker = new SharedWorker(new URL('../../workers/tab-relay.worker.ts', import.meta.url), { type: 'module', name: 'wafka-relay' });
    worker.port.onmessage = (event: MessageEvent<RelayToTab>) => {
      if (event.data?.type === 'connect' && event.data.port) this.#onConnect(event.data);
    };
    worker.onerror = () => {
      if (this.#closed) return;
      worker.port.close();
      this.#open();
      for (const message of this.#announced.values()) this.#worker.port.postMessage(message);
    };
    worker.port.start();
    this.#worker = worker;
  }

  /** Tells the relay what this tab serves (kept, to tell a new relay again). */
  announce(message: Extract<TabToRelay, { type: 'host' | 'controller' }>): void {
    this.#announced.set(message.type === 'host' ? `host:${message.nodeId}` : 'controller', message);
    this.#worker.port.postMessage(message);
  }

  connect(clusterId: string, target: RelayTarget, port: MessagePort): void {
    this.#worker.port.postMessage({ type: 'connect', clusterId, target, port } satisfies TabToRelay, [port]);
  }

  close(): void {
    this.#closed = true;
    this.#worker.port.postMessage({ type: 'bye' } satisfies TabToRelay);
    this.#worker.port.close();
  }
}
