/**
 * One simulated process (a broker, the controller, a client): its own Clock
 * over the shared scheduler, so the simulation can pause it (a frozen tab or a
 * hung worker: its timers and incoming messages wait, and all of them fire
 * late when it resumes, like a zombie waking up) or kill it (its timers and
 * messages are gone for good).
 */
import type { Clock, TimerHandle } from '../clock.ts';
import type { SimScheduler } from './scheduler.ts';

export type SimNodeState = 'running' | 'paused' | 'dead';

export class SimNode {
  readonly name: string;
  readonly scheduler: SimScheduler;
  readonly clock: Clock;
  #state: SimNodeState = 'running';
  /** Timers of this node live on the scheduler under their own handle; this maps ours to theirs. */
  readonly #timers = new Map<number, TimerHandle>();
  /** Callbacks that came due while paused, in the order they came due. */
  #held: (() => void)[] = [];
  #nextId = 1;

  constructor(scheduler: SimScheduler, name: string) {
    this.scheduler = scheduler;
    this.name = name;
    this.clock = {
      nowMs: () => scheduler.nowMs(),
      random: () => scheduler.random(),
      setTimeout: (callback, delayMs) => this.#setTimeout(callback, delayMs),
      clearTimeout: (handle) => this.#clearTimeout(handle),
    };
  }

  get state(): SimNodeState {
    return this.#state;
  }

  /** Runs `callback` as this node: at once when running, after resume() when paused, never when dead. */
  run(callback: () => void): void {
    if (this.#state === 'running') callback();
    else if (this.#state === 'paused') this.#held.push(callback);
  }

  pause(): void {
    if (this.#state === 'running') this.#state = 'paused';
  }

  /** Wakes a paused node: what came due while it slept runs now, in order, each as its own step. */
  resume(): void {
    if (this.#state !== 'paused') return;
    this.#state = 'running';
    const held = this.#held;
    this.#held = [];
    const runFrom = (i: number): void => {
      if (i >= held.length) return;
      this.scheduler.setTimeout(() => { this.run(held[i]); runFrom(i + 1); }, 0);
    };
    runFrom(0);
  }

  /** The process is gone: pending timers and held work are dropped; nothing of it runs again. */
  kill(): void {
    this.#state = 'dead';
    for (const handle of this.#timers.values()) this.scheduler.clearTimeout(handle);
    this.#timers.clear();
    this.#held = [];
  }

  #setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.#nextId++;
    if (this.#state === 'dead') return id;
    this.#timers.set(id, this.scheduler.setTimeout(() => {
      this.#timers.delete(id);
      this.run(callback);
    }, delayMs));
    return id;
  }

  #clearTimeout(handle: TimerHandle | undefined): void {
    if (typeof handle !== 'number') return;
    const inner = this.#timers.get(handle);
    if (inner === undefined) return;
    this.#timers.delete(handle);
    this.scheduler.clearTimeout(inner);
  }
}
