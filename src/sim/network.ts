/**
 * The simulated network between SimNodes: every message takes a delay drawn
 * from the seed, may be dropped, and is lost when a partition separates the
 * two nodes (checked when it is sent and again when it arrives). A message to
 * a paused node waits for it; one to a dead node is lost.
 *
 * `remote()` turns any object with async methods (a BrokerApi, a controller)
 * into the view another node has of it across this network: each call is a
 * request message, the method runs as the target node, and its answer (or
 * error) is a response message. A lost request or response surfaces as
 * REQUEST_TIMED_OUT after the caller's `timeoutMs`, as a real client's request
 * timeout would.
 */
import { WafkaError } from '../errors.ts';
import type { SimNode } from './node.ts';
import type { SimScheduler } from './scheduler.ts';

export interface SimNetworkOptions {
  /** Delay of one message, drawn uniformly from [minDelayMs, maxDelayMs] (defaults 0.05 .. 2). */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Probability that a message is lost (default 0). */
  dropProbability?: number;
}

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  cut: number;
}

export class SimNetwork {
  readonly scheduler: SimScheduler;
  minDelayMs: number;
  maxDelayMs: number;
  dropProbability: number;
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, cut: 0 };
  /** Unordered pairs "a\u0000b" (a < b) whose link is cut. */
  readonly #cut = new Set<string>();

  constructor(scheduler: SimScheduler, options: SimNetworkOptions = {}) {
    this.scheduler = scheduler;
    this.minDelayMs = options.minDelayMs ?? 0.05;
    this.maxDelayMs = options.maxDelayMs ?? 2;
    this.dropProbability = options.dropProbability ?? 0;
  }

  /** Cuts every link between a node of `side` and a node of `other`. */
  partition(side: readonly SimNode[], other: readonly SimNode[]): void {
    for (const a of side) for (const b of other) if (a !== b) this.#cut.add(linkKey(a, b));
  }

  /** Cuts `node` off from every node in `others`. */
  isolate(node: SimNode, others: readonly SimNode[]): void {
    this.partition([node], others);
  }

  /** Restores every link (or only those of `node`). */
  heal(node?: SimNode): void {
    if (!node) return this.#cut.clear();
    for (const key of [...this.#cut]) if (key.split('\u0000').includes(node.name)) this.#cut.delete(key);
  }

  canReach(from: SimNode, to: SimNode): boolean {
    return from === to || !this.#cut.has(linkKey(from, to));
  }

  /** Sends one message; `deliver` runs as `to` when (and if) it arrives. */
  send(from: SimNode, to: SimNode, deliver: () => void): void {
    this.stats.sent++;
    if (!this.canReach(from, to)) { this.stats.cut++; return; }
    if (this.scheduler.chance(this.dropProbability)) { this.stats.dropped++; return; }
    const delayMs = this.minDelayMs + this.scheduler.random() * (this.maxDelayMs - this.minDelayMs);
    this.scheduler.setTimeout(() => {
      if (!this.canReach(from, to)) { this.stats.cut++; return; }
      if (to.state === 'dead') { this.stats.dropped++; return; }
      this.stats.delivered++;
      to.run(deliver);
    }, delayMs);
  }

  /**
   * `target`'s async methods as seen from `from` across the network, each call
   * answered by `to` (where `target` lives) or failing with REQUEST_TIMED_OUT
   * after `timeoutMs` of `from`'s clock.
   */
  remote<T extends object>(from: SimNode, to: SimNode, target: T, timeoutMs: number): T {
    return this.remoteOf<T>(from, () => ({ node: to, target }), timeoutMs);
  }

  /**
   * Like remote(), with the target looked up when each call is sent (a
   * process restarted on a new node, a new controller): null means nobody is
   * there, and the call times out as if the message were lost.
   */
  remoteOf<T extends object>(from: SimNode, resolve: () => { node: SimNode; target: T } | null, timeoutMs: number): T {
    const network = this;
    return new Proxy({} as T, {
      get(_object, property) {
        if (typeof property !== 'string' || property === 'then') return undefined;
        return (...args: unknown[]) => {
          const to = resolve();
          return network.#call(from, to?.node ?? null, () => {
            const member = (to!.target as Record<string, unknown>)[property];
            if (typeof member !== 'function') throw new TypeError(`${property} is not a method of the remote object`);
            return (member as (...a: unknown[]) => unknown).apply(to!.target, args);
          }, property, timeoutMs);
        };
      },
    });
  }

  #call(from: SimNode, to: SimNode | null, invoke: () => unknown, what: string, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = from.clock.setTimeout(() => {
        if (settled) return;
        settled = true;
        reject(new WafkaError('REQUEST_TIMED_OUT', `${what} from ${from.name} to ${to?.name ?? 'nobody'}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      if (!to) return;
      const answer = (outcome: () => void) => this.send(to, from, () => {
        if (settled) return;
        settled = true;
        from.clock.clearTimeout(timer);
        outcome();
      });
      this.send(from, to, () => {
        let result: Promise<unknown>;
        try {
          result = Promise.resolve(invoke());
        } catch (error) {
          result = Promise.reject(error);
        }
        result.then(
          // A node paused mid-call answers when it resumes; a dead one never does.
          (value) => to.run(() => answer(() => resolve(value))),
          (error) => to.run(() => answer(() => reject(error))),
        );
      });
    });
  }
}

function linkKey(a: SimNode, b: SimNode): string {
  return a.name < b.name ? `${a.name}\u0000${b.name}` : `${b.name}\u0000${a.name}`;
}
