import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sleep } from '../../src/clock.ts';
import { SimScheduler } from '../../src/sim/scheduler.ts';

/** A small concurrent workload whose trace depends on the order of simultaneous timers. */
async function traceOf(seed: number): Promise<string[]> {
  const scheduler = new SimScheduler(seed);
  const trace: string[] = [];
  for (const name of ['a', 'b', 'c', 'd']) {
    void (async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(scheduler, 10);
        trace.push(`${name}${i}@${scheduler.nowMs() - Date.UTC(2026, 0, 1)}`);
      }
    })();
  }
  await scheduler.runFor(1_000);
  return trace;
}

describe('SimScheduler', () => {
  it('runs timers in time order and moves virtual time only through them', async () => {
    const scheduler = new SimScheduler(1, { startMs: 0 });
    const seen: number[] = [];
    for (const delayMs of [30, 10, 20, 0, -5]) scheduler.setTimeout(() => seen.push(scheduler.nowMs()), delayMs);
    expect(scheduler.pendingTimers).toBe(5);
    await scheduler.runFor(25);
    expect(seen).toEqual([0, 0, 10, 20]);
    expect(scheduler.nowMs()).toBe(25);
    await scheduler.runFor(100);
    expect(seen).toEqual([0, 0, 10, 20, 30]);
    expect(scheduler.nowMs()).toBe(125);
    expect(scheduler.steps).toBe(5);
  });

  it('replays the same interleaving for the same seed, and tries others for other seeds', async () => {
    const first = await traceOf(7);
    expect(await traceOf(7)).toEqual(first);
    expect(first).toHaveLength(12);
    const others = new Set<string>();
    for (let seed = 0; seed < 20; seed++) others.add((await traceOf(seed)).join(','));
    expect(others.size).toBeGreaterThan(1);
  });

  it('replays any seed exactly (property)', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: 0xffff_ffff }), async (seed) => {
      expect(await traceOf(seed)).toEqual(await traceOf(seed));
    }), { numRuns: 25 });
  });

  it('cancels timers, including ones already at the top of the queue', async () => {
    const scheduler = new SimScheduler(2, { startMs: 0 });
    const seen: string[] = [];
    const early = scheduler.setTimeout(() => seen.push('early'), 1);
    scheduler.setTimeout(() => seen.push('late'), 2);
    const never = scheduler.setTimeout(() => seen.push('never'), 3);
    scheduler.clearTimeout(early);
    scheduler.clearTimeout(never);
    scheduler.clearTimeout(never);
    scheduler.clearTimeout(undefined);
    expect(scheduler.pendingTimers).toBe(1);
    await scheduler.runFor(10);
    expect(seen).toEqual(['late']);
    expect(scheduler.pendingTimers).toBe(0);
  });

  it('lets the promise chains a timer starts finish within its step', async () => {
    const scheduler = new SimScheduler(3);
    let hops = 0;
    scheduler.setTimeout(() => {
      void (async () => { for (let i = 0; i < 200; i++) { await Promise.resolve(); hops++; } })();
    }, 5);
    expect(await scheduler.step()).toBe(true);
    expect(hops).toBe(200);
    expect(await scheduler.step()).toBe(false);
  });

  it('keeps running after a callback throws, and records the error', async () => {
    const scheduler = new SimScheduler(4);
    let ran = false;
    scheduler.setTimeout(() => { throw new Error('boom'); }, 1);
    scheduler.setTimeout(() => { ran = true; }, 2);
    await scheduler.runFor(5);
    expect(ran).toBe(true);
    expect(scheduler.errors).toHaveLength(1);
  });

  it('settles a promise in virtual time, or says it did not within the limit', async () => {
    const scheduler = new SimScheduler(5, { startMs: 0 });
    await expect(scheduler.settle(sleep(scheduler, 60_000).then(() => 'woke'), 120_000)).resolves.toBe('woke');
    expect(scheduler.nowMs()).toBe(60_000);
    await expect(scheduler.settle(new Promise(() => {}), 1_000)).rejects.toThrow(/not settled within 1000 ms/);
    await expect(scheduler.settle(Promise.reject(new Error('no')), 1_000)).rejects.toThrow('no');
  });

  it('calls afterStep after every timer, for invariant checks', async () => {
    const scheduler = new SimScheduler(6);
    let checks = 0;
    scheduler.afterStep = () => { checks++; };
    for (let i = 0; i < 10; i++) scheduler.setTimeout(() => {}, i);
    await scheduler.runFor(100);
    expect(checks).toBe(10);
  });

  it('draws numbers in range from the seed', () => {
    const a = new SimScheduler(9);
    const b = new SimScheduler(9);
    const draws = Array.from({ length: 1000 }, () => a.int(-3, 3));
    expect(draws).toEqual(Array.from({ length: 1000 }, () => b.int(-3, 3)));
    expect(new Set(draws)).toEqual(new Set([-3, -2, -1, 0, 1, 2, 3]));
    for (let i = 0; i < 1000; i++) {
      const x = a.random();
      expect(x >= 0 && x < 1).toBe(true);
    }
    expect(a.chance(0)).toBe(false);
    expect(a.chance(1)).toBe(true);
    expect(() => a.pick([])).toThrow(RangeError);
    expect(() => new SimScheduler(-1)).toThrow(RangeError);
    expect(() => new SimScheduler(2 ** 32)).toThrow(RangeError);
  });
});
