/**
 * A doorbell that async loops wait on alongside their work: `race(work)`
 * settles with work's outcome, or with undefined once `ring()` is called,
 * whichever comes first.
 *
 * Why not `Promise.race([work, bell])` with a long-lived `bell` promise: each
 * race adds a reaction to `bell` that holds the race's promise, and with it
 * the value the race settled with (a fetch response: every fetched buffer),
 * until `bell` settles. A consumer that races every fetch against its stop
 * signal so keeps every response it ever got. Here a waiter is removed the
 * moment its work settles, so a settled race holds nothing.
 */
export class Wakeup {
  readonly #waiters = new Set<() => void>();
  /** A latched bell stays rung: later races end at once (a stop signal). */
  readonly #latched: boolean;
  #rung = false;

  constructor(options: { latched?: boolean } = {}) {
    this.#latched = options.latched ?? false;
  }

  get rung(): boolean { return this.#rung; }

  /** Waiters right now (for tests: it returns to 0 when the races settle). */
  get waiting(): number { return this.#waiters.size; }

  ring(): void {
    if (this.#latched) this.#rung = true;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  race<T>(work: Promise<T>): Promise<T | undefined> {
    if (this.#rung) {
      work.catch(() => {}); // nobody waits for it any more
      return Promise.resolve(undefined);
    }
    return new Promise<T | undefined>((resolve, reject) => {
      const wake = () => resolve(undefined);
      this.#waiters.add(wake);
      work.then(
        (value) => { this.#waiters.delete(wake); resolve(value); },
        (error) => { this.#waiters.delete(wake); reject(error); },
      );
    });
  }

  /** Waits `ms`, or less if the bell rings. */
  sleep(ms: number): Promise<void> {
    if (this.#rung) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => { clearTimeout(timer); this.#waiters.delete(done); resolve(); };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
    });
  }
}
