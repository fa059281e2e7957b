import { describe, expect, it } from 'vitest';
import { Wakeup } from '../../src/client/wakeup.ts';

describe('Wakeup', () => {
  it('a race that settles leaves nothing attached to the bell (so its value can be collected)', async () => {
    const bell = new Wakeup({ latched: true });
    for (let i = 0; i < 100; i++) expect(await bell.race(Promise.resolve(i))).toBe(i);
    await expect(bell.race(Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(bell.waiting).toBe(0);
  });

  it('ring ends pending races and sleeps with undefined; a latched bell ends later ones at once', async () => {
    const bell = new Wakeup({ latched: true });
    const never = new Promise<number>(() => {});
    const racing = bell.race(never);
    const sleeping = bell.sleep(60_000);
    expect(bell.waiting).toBe(2);
    bell.ring();
    expect(await racing).toBeUndefined();
    expect(await sleeping).toBeUndefined();
    expect(await bell.race(never)).toBeUndefined();
    // Work that fails after the ring is nobody's unhandled rejection.
    expect(await bell.race(Promise.reject(new Error('late')))).toBeUndefined();
    expect(bell.waiting).toBe(0);
  });

  it('an unlatched bell rings once per ring: later races wait again', async () => {
    const bell = new Wakeup();
    const first = bell.sleep(60_000);
    bell.ring();
    await first;
    let settled = false;
    const second = bell.race(new Promise<number>((resolve) => setTimeout(() => resolve(7), 5))).then((v) => { settled = true; return v; });
    expect(settled).toBe(false);
    expect(await second).toBe(7);
  });
});
