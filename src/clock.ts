/**
 * Time, timers and randomness, behind one interface: the real one reads the
 * platform, and the deterministic simulation (src/sim/) serves the same calls
 * from virtual time and a seeded generator. Code that takes a Clock runs the
 * same in a worker and inside one seeded run of a whole cluster.
 */

/** What setTimeout returned; only good for passing back to clearTimeout of the same clock. */
export type TimerHandle = { readonly __timer: unique symbol } | number;

export interface Clock {
  /** Wall-clock milliseconds since the epoch (record timestamps, retention, deadlines). */
  nowMs(): number;
  /** Runs `callback` once after at least `delayMs` (0 when negative). */
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  /** Cancels a timer of this clock; unknown or fired handles are ignored. */
  clearTimeout(handle: TimerHandle | undefined): void;
  /** A number in [0, 1): jitter, sticky-partition choices, ids. */
  random(): number;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  setTimeout: (callback, delayMs) => globalThis.setTimeout(callback, Math.max(0, delayMs)) as unknown as TimerHandle,
  clearTimeout: (handle) => { if (handle !== undefined) globalThis.clearTimeout(handle as unknown as number); },
  random: () => Math.random(),
};

/** Resolves after `delayMs` of the clock's time. */
export function sleep(clock: Clock, delayMs: number): Promise<void> {
  return new Promise((resolve) => { clock.setTimeout(resolve, delayMs); });
}
