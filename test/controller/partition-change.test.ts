import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PartitionState } from '../../src/metadata/metadata.ts';
import {
  NO_LEADER, alterIsr, electLeader, fenceReplica, partitionEpochOf, shutDownReplica, unfenceReplica, type ElectionRules,
} from '../../src/controller/partition-change.ts';
import { WafkaError } from '../../src/errors.ts';

const partition = (replicas: number[], isr = replicas, leader = replicas[0]): PartitionState =>
  ({ partition: 0, leader, leaderEpoch: 0, replicas, isr, partitionEpoch: 0 });

const rules = (fenced: Iterable<number> = [], unclean = false): ElectionRules => {
  const out = new Set(fenced);
  return { eligible: (b) => !out.has(b), uncleanLeaderElectionEnable: unclean };
};

describe('electLeader', () => {
  it('keeps an eligible leader in the ISR, else takes the first eligible ISR member in assignment order', () => {
    expect(electLeader(partition([1, 2, 3], [1, 2, 3], 2), rules())).toEqual({ leader: 2, unclean: false });
    expect(electLeader(partition([1, 2, 3], [3, 2], 1), rules())).toEqual({ leader: 2, unclean: false });
    expect(electLeader(partition([1, 2, 3], [1, 2, 3], 1), rules([1]))).toEqual({ leader: 2, unclean: false });
  });

  it('stays leaderless rather than elect outside the ISR, unless unclean election is enabled', () => {
    const p = partition([1, 2, 3], [1], 1);
    expect(electLeader(p, rules([1]))).toEqual({ leader: NO_LEADER, unclean: false });
    expect(electLeader(p, rules([1], true))).toEqual({ leader: 2, unclean: true });
    expect(electLeader(p, rules([1, 2, 3], true))).toEqual({ leader: NO_LEADER, unclean: false });
  });
});

describe('fenceReplica / unfenceReplica / shutDownReplica', () => {
  it('moves leadership off a fenced leader, removes it from the ISR and bumps both epochs', () => {
    const next = fenceReplica(partition([1, 2, 3]), 1, rules([1]))!;
    expect(next).toMatchObject({ leader: 2, isr: [2, 3], leaderEpoch: 1, partitionEpoch: 1 });
  });

  it('bumps only the partition epoch when a follower leaves the ISR', () => {
    const next = fenceReplica(partition([1, 2, 3]), 3, rules([3]))!;
    expect(next).toMatchObject({ leader: 1, isr: [1, 2], leaderEpoch: 0, partitionEpoch: 1 });
  });

  it('keeps the last ISR member recorded, leaderless, and gives it leadership back when it returns', () => {
    const alone = partition([1, 2, 3], [1], 1);
    const fenced = fenceReplica(alone, 1, rules([1]))!;
    expect(fenced).toMatchObject({ leader: NO_LEADER, isr: [1], leaderEpoch: 1 });
    expect(unfenceReplica(fenced, 2, rules([1]))).toBeNull();
    expect(unfenceReplica(fenced, 1, rules())).toMatchObject({ leader: 1, isr: [1], leaderEpoch: 2, partitionEpoch: 2 });
  });

  it('changes nothing for a broker that is not a replica', () => {
    expect(fenceReplica(partition([1, 2]), 7, rules([7]))).toBeNull();
    expect(shutDownReplica(partition([1, 2]), 7, rules([7]))).toBeNull();
  });
});

describe('alterIsr', () => {
  const p = { ...partition([1, 2, 3]), leaderEpoch: 4, partitionEpoch: 9 };
  const ask = (over: Partial<Parameters<typeof alterIsr>[1]>, r = rules()) =>
    alterIsr(p, { brokerId: 1, leaderEpoch: 4, partitionEpoch: 9, newIsr: [1, 2], ...over }, r);
  const refusedWith = (f: () => unknown) => { try { f(); } catch (e) { return (e as WafkaError).type; } return 'accepted'; };

  it('shrinks and expands for the current leader with the current epochs', () => {
    expect(ask({})).toMatchObject({ leader: 1, isr: [1, 2], leaderEpoch: 4, partitionEpoch: 10 });
    expect(ask({ newIsr: [1, 2, 3] })).toBe(p);
  });

  it('refuses stale or future epochs, a non-leader, and invalid ISRs with typed errors', () => {
    expect(refusedWith(() => ask({ leaderEpoch: 3 }))).toBe('FENCED_LEADER_EPOCH');
    expect(refusedWith(() => ask({ leaderEpoch: 5 }))).toBe('UNKNOWN_LEADER_EPOCH');
    expect(refusedWith(() => ask({ brokerId: 2 }))).toBe('NOT_LEADER_OR_FOLLOWER');
    expect(refusedWith(() => ask({ partitionEpoch: 8 }))).toBe('INVALID_UPDATE_VERSION');
    expect(refusedWith(() => ask({ newIsr: [2, 3] }))).toBe('INVALID_REQUEST');
    expect(refusedWith(() => ask({ newIsr: [1, 1] }))).toBe('INVALID_REQUEST');
    expect(refusedWith(() => ask({ newIsr: [1, 4] }))).toBe('INVALID_REQUEST');
    const shrunk = ask({ newIsr: [1] });
    expect(refusedWith(() => alterIsr(shrunk, { brokerId: 1, leaderEpoch: 4, partitionEpoch: 10, newIsr: [1, 3] }, rules([3]))))
      .toBe('INELIGIBLE_REPLICA');
  });
});

/**
 * The guarantee behind "a committed message is not lost while one in-sync
 * replica is alive": with unclean election off, every ISR member (so every
 * leader) holds every committed record, whatever the sequence of commits,
 * fencings, returns, shutdowns and ISR changes.
 */
describe('leadership under any sequence of changes (model)', () => {
  type Op =
    | { kind: 'commit' }
    | { kind: 'fence' | 'unfence' | 'shutdown'; broker: number }
    | { kind: 'shrink' | 'catch-up'; broker: number }
    | { kind: 'stale-alter'; broker: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.constant<Op>({ kind: 'commit' }),
    fc.record({ kind: fc.constantFrom('fence', 'unfence', 'shutdown', 'shrink', 'catch-up', 'stale-alter'), broker: fc.integer({ min: 0, max: 5 }) }) as fc.Arbitrary<Op>,
  );

  for (const unclean of [false, true]) {
    it(`holds its invariants with uncleanLeaderElectionEnable=${unclean}`, () => {
      fc.assert(fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 5 }),
        fc.array(op, { maxLength: 60 }),
        (replicas, ops) => {
          let p = partition(replicas);
          const fenced = new Set<number>();
          /** Replicas known to hold every committed record. */
          let complete = new Set(replicas);
          let uncleanHappened = false;
          const r = () => rules(fenced, unclean);
          for (const o of ops) {
            const before = p;
            switch (o.kind) {
              case 'commit':
                // A record is committed when every ISR member has it; the others miss it.
                if (p.leader !== NO_LEADER) complete = new Set([...complete].filter((b) => p.isr.includes(b)));
                break;
              case 'fence': case 'shutdown':
                fenced.add(o.broker);
                p = (o.kind === 'fence' ? fenceReplica : shutDownReplica)(p, o.broker, r()) ?? p;
                break;
              case 'unfence':
                fenced.delete(o.broker);
                p = unfenceReplica(p, o.broker, r()) ?? p;
                break;
              case 'shrink':
                if (p.leader !== NO_LEADER && o.broker !== p.leader && p.isr.includes(o.broker)) {
                  p = alterIsr(p, { brokerId: p.leader, leaderEpoch: p.leaderEpoch, partitionEpoch: partitionEpochOf(p), newIsr: p.isr.filter((b) => b !== o.broker) }, r());
                }
                break;
              case 'catch-up':
                // A follower fetches up to the leader's end and the leader adds it back.
                if (p.leader !== NO_LEADER && p.replicas.includes(o.broker) && !p.isr.includes(o.broker) && !fenced.has(o.broker)) {
                  if (complete.has(p.leader)) complete.add(o.broker);
                  p = alterIsr(p, { brokerId: p.leader, leaderEpoch: p.leaderEpoch, partitionEpoch: partitionEpochOf(p), newIsr: [...p.isr, o.broker] }, r());
                }
                break;
              case 'stale-alter':
                if (p.leaderEpoch > 0) {
                  expect(() => alterIsr(p, { brokerId: o.broker, leaderEpoch: p.leaderEpoch - 1, partitionEpoch: partitionEpochOf(p), newIsr: p.isr }, r()))
                    .toThrow(expect.objectContaining({ type: 'FENCED_LEADER_EPOCH' }) as unknown as Error);
                }
                break;
            }
            // Shape.
            expect(p.isr.length).toBeGreaterThan(0);
            expect(new Set(p.isr).size).toBe(p.isr.length);
            for (const b of p.isr) expect(p.replicas).toContain(b);
            // Epochs never go back; a new leader always comes with a new leader epoch.
            expect(p.leaderEpoch).toBeGreaterThanOrEqual(before.leaderEpoch);
            expect(partitionEpochOf(p)).toBeGreaterThanOrEqual(partitionEpochOf(before));
            if (p.leader !== before.leader) expect(p.leaderEpoch).toBeGreaterThan(before.leaderEpoch);
            if (p !== before && (p.leader !== before.leader || p.isr.join() !== before.isr.join())) {
              expect(partitionEpochOf(p)).toBeGreaterThan(partitionEpochOf(before));
            }
            // A leader is an eligible ISR member; no leader only when no ISR member is eligible (or, unclean, no replica).
            if (p.leader !== NO_LEADER) {
              expect(p.isr).toContain(p.leader);
              expect(fenced.has(p.leader)).toBe(false);
            } else {
              for (const b of unclean ? p.replicas : p.isr) expect(fenced.has(b)).toBe(true);
            }
            if (p.leader !== before.leader && p.leader !== NO_LEADER && !before.isr.includes(p.leader)) uncleanHappened = true;
            // The guarantee: clean elections only ever pick replicas that hold everything committed.
            if (!uncleanHappened) for (const b of p.isr) expect(complete.has(b)).toBe(true);
          }
          if (!unclean) expect(uncleanHappened).toBe(false);
        },
      ), { numRuns: 500 });
    });
  }
});
