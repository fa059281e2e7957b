/**
 * Giving the event loop a turn. Work that only awaits promises that are
 * already settled (an in-process broker reading memory or files with
 * synchronous reads, a consumer delivering fetched records to async handlers)
 * runs as one unbroken chain of microtasks: timers, I/O callbacks, rendering
 * and messages from other workers wait until it ends, for seconds during a
 * catch-up. `yieldToEventLoop()` resolves in a new macrotask, after what the
 * event loop had queued; `TurnBudget` decides when: after a bounded amount of
 * work per turn.
 *
 * The macrotask comes from `setImmediate` where there is one (Node, Bun: it
 * runs after I/O callbacks, and the next loop iteration runs due timers
 * first), else a MessageChannel message (browsers, Deno, workerd: a task of
 * its own, queued behind due timers), else `setTimeout(0)` (clamped to 4 ms
 * when nested, hence the last resort). Not `scheduler.yield()`: its
 * continuation is queued ahead of other tasks of its priority, timers
 * included, and the point here is to let them run.
 */

type Yield = () => Promise<void>;

function pickYield(): Yield {
  const setImmediateFn = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
  if (typeof setImmediateFn === 'function') return () => new Promise<void>((resolve) => { setImmediateFn(resolve); });
  if (typeof MessageChannel === 'function') {
    // One channel for the realm: each yield posts a message and waits for it to arrive.
    const channel = new MessageChannel();
    const waiting: (() => void)[] = [];
    channel.port1.onmessage = () => waiting.shift()?.();
    return () => new Promise<void>((resolve) => { waiting.push(resolve); channel.port2.postMessage(null); });
  }
  return () => new Promise<void>((resolve) => { setTimeout(resolve, 0); });
}

let chosen: Yield | undefined;

/** Resolves in a later macrotask: timers and I/O that are due get to run first. */
export function yieldToEventLoop(): Promise<void> {
  chosen ??= pickYield();
  return chosen();
}

/**
 * Bounds the work done between two yields. `spend(units)` counts work done
 * (bytes, records); once `unitsPerTurn` are spent it returns a yield to await
 * and starts a new turn; otherwise it returns undefined, so that the common
 * case costs no promise:
 *
 *     const turn = budget.spend(bytes.byteLength);
 *     if (turn) await turn;
 */
export class TurnBudget {
  readonly unitsPerTurn: number;
  readonly #yield: () => Promise<void>;
  #spent = 0;
  /** Yields taken so far (for tests and metrics). */
  yields = 0;

  /** `yieldFn`: how to yield (default yieldToEventLoop; a simulated clock passes its own). */
  constructor(unitsPerTurn: number, yieldFn: () => Promise<void> = yieldToEventLoop) {
    if (!(unitsPerTurn > 0)) throw new RangeError(`unitsPerTurn ${unitsPerTurn}: expected > 0`);
    this.unitsPerTurn = unitsPerTurn;
    this.#yield = yieldFn;
  }

  spend(units: number): Promise<void> | undefined {
    this.#spent += units;
    if (this.#spent < this.unitsPerTurn) return undefined;
    return this.yieldNow();
  }

  /** Yields now and starts a new turn. */
  yieldNow(): Promise<void> {
    this.#spent = 0;
    this.yields++;
    return this.#yield();
  }
}
