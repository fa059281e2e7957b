/**
 * The relay between the tabs of a shared cluster (./shared-cluster.ts): a
 * SharedWorker (workers/tab-relay.worker.ts) that every tab of the origin
 * connects to, and which hands MessagePorts from one tab to another. A
 * SharedWorker can neither host OPFS brokers nor start workers, but it can
 * transfer ports; once a port is handed over, the two ends talk directly and
 * the relay is out of the path.
 *
 *   tab → relay   host        this tab serves broker `nodeId`, whose lock `holder` (a
 *                             Web Locks clientId) names the broker worker's incarnation
 *                 controller  this tab serves the controller of `epoch`
 *                 connect     deliver `port` to whoever serves `target`
 *                 bye         this tab is going: forget what it served
 *   relay → tab   connect     serve `port` as `target`
 *
 * A target names one incarnation (a broker's lock holder, a controller epoch),
 * so a port is never handed to a tab that closed (which sends no event) while
 * a successor serves the id: a connect for an incarnation nobody has announced
 * yet waits, at most PENDING_CONNECT_MS and PENDING_CONNECTS_MAX of them, and
 * is dropped after (its asker sees the holder change and asks again).
 */
import { systemClock, type Clock } from '../clock.ts';

export type RelayTarget =
  | { kind: 'broker'; nodeId: number; holder: string }
  | { kind: 'controller'; epoch: number };

export type TabToRelay =
  | { type: 'host'; clusterId: string; nodeId: number; holder: string }
  | { type: 'controller'; clusterId: string; epoch: number }
  | { type: 'connect'; clusterId: string; target: RelayTarget; port: MessagePort }
  | { type: 'bye' };

export type RelayToTab = { type: 'connect'; clusterId: string; target: RelayTarget; port: MessagePort };

export const PENDING_CONNECT_MS = 10_000;
export const PENDING_CONNECTS_MAX = 1_024;

export function relayTargetKey(target: RelayTarget): string {
  return target.kind === 'broker' ? `broker:${target.nodeId}:${target.holder}` : `controller:${target.epoch}`;
}

interface TabLink { postMessage(message: RelayToTab, transfer: Transferable[]): void }

interface Routes {
  /** Who serves each target now, by relayTargetKey. */
  served: Map<string, TabLink>;
  /** The key each broker id and the controller are served under (one incarnation at a time). */
  current: Map<string, string>;
  pending: { key: string; message: RelayToTab; untilMs: number }[];
}

export class TabRelay {
  readonly #clusters = new Map<string, Routes>();
  readonly #clock: Clock;

  constructor(clock: Clock = systemClock) {
    this.#clock = clock;
  }

  /** Serves one tab's port (a SharedWorker's connect event). */
  attach(port: MessagePort): void {
    port.onmessage = (event: MessageEvent<TabToRelay>) => this.handle(port, event.data);
    port.start();
  }

  handle(tab: TabLink, message: TabToRelay): void {
    if (!message || typeof message !== 'object') return;
    if (message.type === 'bye') {
      for (const routes of this.#clusters.values()) {
        for (const [key, link] of routes.served) if (link === tab) routes.served.delete(key);
      }
      return;
    }
    if (typeof message.clusterId !== 'string') return;
    const routes = this.#routes(message.clusterId);
    if (message.type === 'host' || message.type === 'controller') {
      const target: RelayTarget = message.type === 'host'
        ? { kind: 'broker', nodeId: message.nodeId, holder: message.holder }
        : { kind: 'controller', epoch: message.epoch };
      const slot = message.type === 'host' ? `broker:${message.nodeId}` : 'controller';
      const key = relayTargetKey(target);
      const previous = routes.current.get(slot);
      if (previous !== undefined && previous !== key) routes.served.delete(previous);
      routes.current.set(slot, key);
      routes.served.set(key, tab);
      this.#flush(routes);
    } else if (message.type === 'connect' && message.port) {
      const key = relayTargetKey(message.target);
      const forward: RelayToTab = { type: 'connect', clusterId: message.clusterId, target: message.target, port: message.port };
      const server = routes.served.get(key);
      if (server) server.postMessage(forward, [message.port]);
      else this.#pend(routes, key, forward);
    }
  }

  /** Connects waiting for a server, across clusters (for tests and limits). */
  get pendingCount(): number {
    let n = 0;
    for (const routes of this.#clusters.values()) n += routes.pending.length;
    return n;
  }

  #routes(clusterId: string): Routes {
    let routes = this.#clusters.get(clusterId);
    if (!routes) this.#clusters.set(clusterId, routes = { served: new Map(), current: new Map(), pending: [] });
    return routes;
  }

  #pend(routes: Routes, key: string, message: RelayToTab): void {
    const nowMs = this.#clock.nowMs();
    routes.pending = routes.pending.filter((p) => p.untilMs > nowMs);
    if (routes.pending.length >= PENDING_CONNECTS_MAX) routes.pending.shift()!.message.port.close();
    routes.pending.push({ key, message, untilMs: nowMs + PENDING_CONNECT_MS });
  }

  #flush(routes: Routes): void {
    const nowMs = this.#clock.nowMs();
    routes.pending = routes.pending.filter((p) => {
      if (p.untilMs <= nowMs) {
        p.message.port.close();
        return false;
      }
      const server = routes.served.get(p.key);
      if (!server) return true;
      server.postMessage(p.message, [p.message.port]);
      return false;
    });
  }
}
