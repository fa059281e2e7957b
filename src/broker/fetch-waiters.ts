/**
 * Where long-polling fetches wait (Kafka's fetch purgatory): a fetch that has
 * fewer than minBytes parks here until an append to one of its partitions
 * rings it, or its maxWaitMs runs out. No polling: appends ring, timers end.
 *
 * Bounded: at most `waitingMax` parked fetches; `park` refuses more (the
 * caller answers at once with what it has).
 */
import { systemClock, type Clock } from '../clock.ts';

export type PartitionKey = string;

export const partitionKey = (topic: string, partition: number): PartitionKey => `${topic}\u0000${partition}`;

interface Waiter {
  keys: PartitionKey[];
  wake: () => void;
}

export class FetchWaiters {
  readonly #byPartition = new Map<PartitionKey, Set<Waiter>>();
  #waiting = 0;
  readonly waitingMax: number;
  readonly #clock: Clock;

  constructor(waitingMax: number, clock: Clock = systemClock) {
    this.waitingMax = waitingMax;
    this.#clock = clock;
  }

  get waiting(): number {
    return this.#waiting;
  }

  /**
   * Waits until one of `keys` is rung, `timeoutMs` passes, or `cancel` fires.
   * Resolves 'rung' | 'timeout'; resolves 'full' at once if too many wait.
   */
  park(keys: PartitionKey[], timeoutMs: number): { done: Promise<'rung' | 'timeout' | 'full'>; cancel: () => void } {
    if (this.#waiting >= this.waitingMax) return { done: Promise.resolve('full'), cancel: () => {} };
    let settle!: (why: 'rung' | 'timeout') => void;
    const done = new Promise<'rung' | 'timeout'>((resolve) => { settle = resolve; });
    let finished = false;
    const waiter: Waiter = { keys, wake: () => finish('rung') };
    const timer = this.#clock.setTimeout(() => finish('timeout'), timeoutMs);
    const finish = (why: 'rung' | 'timeout') => {
      if (finished) return;
      finished = true;
      this.#clock.clearTimeout(timer);
      this.#remove(waiter);
      settle(why);
    };
    this.#waiting++;
    for (const key of keys) {
      let set = this.#byPartition.get(key);
      if (!set) this.#byPartition.set(key, (set = new Set()));
      set.add(waiter);
    }
    return { done, cancel: () => finish('rung') };
  }

  /** An append (or truncation, deletion) happened on this partition. */
  ring(key: PartitionKey): void {
    const set = this.#byPartition.get(key);
    if (!set) return;
    for (const waiter of [...set]) waiter.wake();
  }

  /** Wakes everyone (broker closing). */
  ringAll(): void {
    for (const set of [...this.#byPartition.values()]) for (const waiter of [...set]) waiter.wake();
  }

  #remove(waiter: Waiter): void {
    this.#waiting--;
    for (const key of waiter.keys) {
      const set = this.#byPartition.get(key);
      if (!set) continue;
      set.delete(waiter);
      if (set.size === 0) this.#byPartition.delete(key);
    }
  }
}
