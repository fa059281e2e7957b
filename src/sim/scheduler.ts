/**
 * The simulation's clock: virtual time, a timer queue and one seeded random
 * stream. Everything a simulated cluster does (brokers, controller, clients,
 * the network, storage faults) is a timer callback of this scheduler, so a
 * whole run is decided by its seed: the same seed replays the same run, step
 * for step.
 *
 * Time moves only when the scheduler runs the next timer, so a run of minutes
 * of cluster time takes milliseconds. Timers due at the same virtual time run
 * in an order drawn from the seed (not insertion order): different seeds try
 * different interleavings of "simultaneous" events.
 *
 * Promise continuations are not timers: after each timer callback the
 * scheduler lets the real microtask queue drain (one real macrotask turn)
 * before it runs the next timer. Code under simulation must therefore do no
 * real I/O and read no real clock; whatever it awaits must settle through
 * this scheduler's timers.
 */
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { Clock, TimerHandle } from '../clock.ts';

interface Timer {
  id: number;
  atMs: number;
  /** Drawn from the seed at scheduling: the order among timers due at the same time. */
  rank: number;
  callback: () => void;
}

export interface SimSchedulerOptions {
  /** Virtual wall-clock time at the start (default 2026-01-01T00:00:00Z). */
  startMs?: number;
}

export interface RunLimits {
  /** Stop after this many timer callbacks (default 1,000,000). */
  maxSteps?: number;
}

export class SimScheduler implements Clock {
  readonly seed: number;
  #nowMs: number;
  #nextId = 1;
  #steps = 0;
  readonly #heap: Timer[] = [];
  /** Ids of timers scheduled and neither run nor cancelled. */
  readonly #live = new Set<number>();
  readonly #rng;
  /** Exceptions thrown by timer callbacks, in order. A callback that throws does not stop the run. */
  readonly errors: unknown[] = [];
  /** Called after every step (a timer callback and the microtasks it caused): invariant checks go here. */
  afterStep: ((scheduler: SimScheduler) => void) | null = null;

  constructor(seed: number, options: SimSchedulerOptions = {}) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) throw new RangeError(`seed must be an integer in [0, 2^32), got ${seed}`);
    this.seed = seed;
    this.#nowMs = options.startMs ?? Date.UTC(2026, 0, 1);
    this.#rng = xoroshiro128plus(seed | 0);
  }

  /** Whole milliseconds, as Date.now() gives them; timers keep their fractional due times (network delays) for ordering. */
  nowMs(): number {
    return Math.floor(this.#nowMs);
  }

  /** Timer callbacks run so far. */
  get steps(): number {
    return this.#steps;
  }

  /** Timers scheduled and neither run nor cancelled. */
  get pendingTimers(): number {
    return this.#live.size;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.#nextId++;
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
    this.#live.add(id);
    this.#push({ id, atMs: this.#nowMs + delay, rank: this.#rng.next(), callback });
    return id;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (typeof handle === 'number') this.#live.delete(handle);
  }

  random(): number {
    return uniformFloat64(this.#rng);
  }

  /** An integer in [from, to], both included. */
  int(from: number, to: number): number {
    return uniformInt(this.#rng, from, to);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return p > 0 && this.random() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty array');
    return items[this.int(0, items.length - 1)];
  }

  /**
   * Runs the next timer (advancing time to it) and the microtasks it caused.
   * Returns false when no timer is left.
   */
  async step(): Promise<boolean> {
    const timer = this.#popLive();
    if (!timer) return false;
    this.#nowMs = Math.max(this.#nowMs, timer.atMs);
    this.#steps++;
    try {
      timer.callback();
    } catch (error) {
      this.errors.push(error);
    }
    await drainMicrotasks();
    this.afterStep?.(this);
    return true;
  }

  /** Runs timers due within the next `durationMs`, then sets the clock to the end of it. */
  async runFor(durationMs: number, limits: RunLimits = {}): Promise<void> {
    const endMs = this.#nowMs + Math.max(0, durationMs);
    const maxSteps = limits.maxSteps ?? 1_000_000;
    for (let n = 0; n < maxSteps; n++) {
      const next = this.#peekLive();
      if (!next || next.atMs > endMs) break;
      await this.step();
    }
    this.#nowMs = Math.max(this.#nowMs, endMs);
  }

  /**
   * Runs timers until `done()` holds (checked before each step) or `timeoutMs`
   * of virtual time has passed; resolves whether `done()` held.
   */
  async runUntil(done: () => boolean, timeoutMs: number, limits: RunLimits = {}): Promise<boolean> {
    const endMs = this.#nowMs + timeoutMs;
    const maxSteps = limits.maxSteps ?? 1_000_000;
    for (let n = 0; n < maxSteps; n++) {
      if (done()) return true;
      const next = this.#peekLive();
      if (!next || next.atMs > endMs) break;
      await this.step();
    }
    if (done()) return true;
    this.#nowMs = Math.max(this.#nowMs, endMs);
    return false;
  }

  /** Awaits `promise` while running timers; rejects with a RangeError when it has not settled within `timeoutMs` of virtual time. */
  async settle<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
    let state: 'pending' | 'done' = 'pending';
    const observed = promise.finally(() => { state = 'done'; });
    observed.catch(() => {});
    await drainMicrotasks();
    if (!(await this.runUntil(() => state === 'done', timeoutMs))) {
      throw new RangeError(`not settled within ${timeoutMs} ms of simulated time (seed ${this.seed}, step ${this.#steps})`);
    }
    return observed;
  }

  #popLive(): Timer | undefined {
    const timer = this.#peekLive();
    if (timer) {
      this.#pop();
      this.#live.delete(timer.id);
    }
    return timer;
  }

  /** The next timer to run; cancelled ones reaching the top of the heap are dropped on the way. */
  #peekLive(): Timer | undefined {
    while (this.#heap.length > 0 && !this.#live.has(this.#heap[0].id)) this.#pop();
    return this.#heap[0];
  }

  // A binary min-heap on (atMs, rank, id).
  #push(timer: Timer): void {
    const heap = this.#heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  #pop(): Timer | undefined {
    const heap = this.#heap;
    if (heap.length === 0) return undefined;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l], heap[m])) m = l;
        if (r < heap.length && before(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Timer, b: Timer): boolean {
  if (a.atMs !== b.atMs) return a.atMs < b.atMs;
  if (a.rank !== b.rank) return a.rank < b.rank;
  return a.id < b.id;
}

/**
 * One real macrotask turn: every microtask queued so far, and every one those
 * queue in turn, runs before it ends.
 */
function drainMicrotasks(): Promise<void> {
  const g = globalThis as { setImmediate?: (cb: () => void) => unknown };
  if (g.setImmediate) return new Promise((resolve) => { g.setImmediate!(resolve); });
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => { channel.port1.close(); resolve(); };
    channel.port2.postMessage(null);
  });
}
