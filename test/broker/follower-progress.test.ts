import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FollowerProgress } from '../../src/broker/follower-progress.ts';

describe('FollowerProgress', () => {
  it('sets the high watermark to the lowest log end offset in the ISR, leader included', () => {
    const progress = new FollowerProgress([2, 3], 0n, 0);
    expect(progress.updateHighWatermark([1, 2, 3], 1, 10n)).toBe(false); // followers have not fetched: -1
    progress.recordFetch(2, 7n, 10n, 1);
    progress.recordFetch(3, 4n, 10n, 1);
    expect(progress.updateHighWatermark([1, 2, 3], 1, 10n)).toBe(true);
    expect(progress.highWatermark).toBe(4n);
    // Follower 3 left the ISR: the rest decides.
    expect(progress.updateHighWatermark([1, 2], 1, 10n)).toBe(true);
    expect(progress.highWatermark).toBe(7n);
    // The leader alone: its own end.
    progress.updateHighWatermark([1], 1, 10n);
    expect(progress.highWatermark).toBe(10n);
  });

  it('never moves the high watermark back, even when the ISR grows with a follower behind it', () => {
    const progress = new FollowerProgress([2], 5n, 0);
    progress.recordFetch(2, 3n, 9n, 1);
    expect(progress.updateHighWatermark([1, 2], 1, 9n)).toBe(false);
    expect(progress.highWatermark).toBe(5n);
  });

  it('counts a follower caught up when a fetch reaches the leader end as of now or as of its previous fetch', () => {
    const progress = new FollowerProgress([2], 0n, 0);
    progress.recordFetch(2, 10n, 10n, 100); // at the end: caught up at 100
    expect(progress.laggingIsrMembers([1, 2], 1, 150, 40)).toEqual([2]);
    expect(progress.laggingIsrMembers([1, 2], 1, 140, 40)).toEqual([]);
    progress.recordFetch(2, 10n, 20n, 200); // reached where the leader was at the previous fetch: caught up as of 100
    expect(progress.laggingIsrMembers([1, 2], 1, 200, 99)).toEqual([2]);
    progress.recordFetch(2, 20n, 30n, 300); // reached the end seen at 200: caught up as of 200
    expect(progress.laggingIsrMembers([1, 2], 1, 300, 100)).toEqual([]);
    progress.recordFetch(2, 25n, 40n, 400); // did not reach 30: still as of 200
    expect(progress.laggingIsrMembers([1, 2], 1, 400, 150)).toEqual([2]);
  });

  it('gives a new leader followers caught up as of its start, and ignores unknown replicas', () => {
    const progress = new FollowerProgress([2, 3], 0n, 1_000);
    expect(progress.laggingIsrMembers([1, 2, 3], 1, 1_500, 500)).toEqual([]);
    expect(progress.laggingIsrMembers([1, 2, 3], 1, 1_501, 500)).toEqual([2, 3]);
    progress.recordFetch(9, 100n, 100n, 1_200);
    expect(progress.has(9)).toBe(false);
    expect(progress.logEndOffsetOf(9)).toBe(-1n);
    expect(progress.laggingIsrMembers([1, 9], 1, 1_000, 500)).toEqual([9]);
  });

  it('lets a follower join once it reaches the high watermark and the start of the leader epoch', () => {
    const progress = new FollowerProgress([2, 3], 0n, 0);
    progress.recordFetch(2, 8n, 8n, 1);
    progress.updateHighWatermark([1, 2], 1, 8n);
    progress.recordFetch(3, 5n, 8n, 2);
    expect(progress.followersReadyToJoin([1, 2], 0n)).toEqual([]);
    progress.recordFetch(3, 8n, 8n, 3);
    expect(progress.followersReadyToJoin([1, 2], 9n)).toEqual([]);
    expect(progress.followersReadyToJoin([1, 2], 8n)).toEqual([3]);
  });

  it('keeps the high watermark at or below every ISR member end and monotone (property)', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ follower: fc.constantFrom(2, 3, 4), advance: fc.nat(5), fetchBehind: fc.nat(6), drop: fc.boolean() }), { maxLength: 80 }),
      (steps) => {
        const progress = new FollowerProgress([2, 3, 4], 0n, 0);
        let leaderEnd = 0n;
        let isr = [1, 2, 3, 4];
        const ends = new Map<number, bigint>();
        let last = 0n;
        steps.forEach((s, t) => {
          leaderEnd += BigInt(s.advance);
          const fetchOffset = leaderEnd - BigInt(Math.min(s.fetchBehind, Number(leaderEnd)));
          // A follower's fetch offset never goes back (it only appends what it fetched).
          const end = (ends.get(s.follower) ?? 0n) > fetchOffset ? ends.get(s.follower)! : fetchOffset;
          ends.set(s.follower, end);
          progress.recordFetch(s.follower, end, leaderEnd, t);
          if (s.drop && isr.length > 1) isr = isr.filter((id) => id !== s.follower);
          progress.updateHighWatermark(isr, 1, leaderEnd);
          const hw = progress.highWatermark;
          expect(hw).toBeGreaterThanOrEqual(last);
          expect(hw).toBeLessThanOrEqual(leaderEnd);
          for (const id of isr) if (id !== 1) expect(hw).toBeLessThanOrEqual(ends.get(id) ?? 0n);
          last = hw;
        });
      },
    ), { numRuns: 300 });
  });
  it('does not let a follower that left the ISR rejoin on what it fetched before it left', () => {
    const progress = new FollowerProgress([2, 3], 0n, 0);
    progress.recordFetch(2, 5n, 5n, 10);
    progress.recordFetch(3, 5n, 5n, 10);
    progress.updateHighWatermark([1, 2, 3], 1, 5n);
    // Both shut down and left the ISR; only 2 comes back and fetches.
    progress.forgetFetches([2, 3]);
    expect(progress.followersReadyToJoin([1], 5n)).toEqual([]);
    progress.recordFetch(2, 5n, 5n, 20);
    expect(progress.followersReadyToJoin([1], 5n)).toEqual([2]);
  });
});
