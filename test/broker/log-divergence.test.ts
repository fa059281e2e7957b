import { beforeAll, describe, expect, it } from 'vitest';
import { findDivergingEpoch, truncationPoint } from '../../src/broker/log-divergence.ts';
import { loadCore } from '../../src/core/index.ts';
import { MemoryBackend, openPartitionLog, type PartitionLog } from '../../src/storage/index.ts';
import { batch, records } from '../storage/helpers.ts';

beforeAll(() => loadCore());

const open = (backend = new MemoryBackend()) => openPartitionLog({ backend, dir: 't-0' });

/** Appends `values` as leader in `epoch`, one batch per value. */
async function lead(log: PartitionLog, epoch: number, ...values: string[]): Promise<void> {
  for (const v of values) await log.append(batch([v]), { leaderEpoch: epoch });
}

/**
 * A follower's fetch loop against a leader, as the replica fetcher runs it:
 * fetch with the last fetched epoch; on a diverging answer truncate and ask
 * again; else append what the leader returns. Returns the truncations made.
 */
async function catchUp(leader: PartitionLog, follower: PartitionLog): Promise<bigint[]> {
  const truncations: bigint[] = [];
  for (let round = 0; round < 20; round++) {
    const diverging = findDivergingEpoch(leader, follower.logEndOffset, follower.latestEpoch);
    if (diverging) {
      const { offset } = truncationPoint(follower, diverging);
      await follower.truncateTo(offset);
      truncations.push(offset);
      continue;
    }
    if (follower.logEndOffset >= leader.logEndOffset) return truncations;
    const { bytes } = await leader.read(follower.logEndOffset, 1 << 20, { maxOffset: leader.logEndOffset });
    await follower.appendAsFollower(bytes);
  }
  throw new Error('no agreement after 20 rounds');
}

/** Every record of the log as "offset:value" (a read returns one segment's batches at most: read on). */
async function values(log: PartitionLog): Promise<string[]> {
  const out: string[] = [];
  for (let offset = log.logStartOffset; offset < log.logEndOffset;) {
    const { bytes, nextOffset } = await log.read(offset, 1 << 20, { maxOffset: log.logEndOffset });
    out.push(...records(bytes).map((r) => `${r.offset}:${r.value}`));
    offset = nextOffset;
  }
  return out;
}

describe('log divergence by leader epochs', () => {
  it('KIP-101 scenario 1: a follower that restarts with records above its high watermark keeps them, so a committed record survives the leader', async () => {
    const a = await open();
    const bBackend = new MemoryBackend();
    let b = await open(bBackend);
    await lead(a, 0, 'm1', 'm2');
    await catchUp(a, b);
    // A's high watermark moved to 2 once B fetched m2: m2 is committed. B only heard of hw 1 before it restarted.
    b.highWatermark = 1n;
    await b.close();
    b = await open(bBackend);
    expect(await values(b)).toEqual(['0:m1', '1:m2']);
    // A dies; B leads in epoch 1 and appends; A comes back as a follower and agrees with B without losing anything.
    await lead(b, 1, 'm3');
    expect(await catchUp(b, a)).toEqual([]);
    expect(await values(a)).toEqual(['0:m1', '1:m2', '2:m3']);
    expect(await values(b)).toEqual(await values(a));
  });

  it('KIP-101 scenario 2: replicas that diverged after both restarted converge on the new leader\'s log', async () => {
    const a = await open();
    const b = await open();
    await lead(a, 0, 'm1');
    await catchUp(a, b);
    await lead(a, 0, 'm2'); // only A has m2 when both lose power
    // B comes back first and leads epoch 1, writing m3 at the offset where A has m2.
    await lead(b, 1, 'm3');
    expect(await catchUp(b, a)).toEqual([1n]);
    expect(await values(a)).toEqual(['0:m1', '1:m3']);
    expect(a.leaderEpochs).toEqual(b.leaderEpochs);
  });

  it('KIP-279: a follower away through several leader changes finds the point of agreement in more than one round', async () => {
    const leader = await open();
    const follower = await open();
    await lead(leader, 0, 'a', 'b');
    await catchUp(leader, follower);
    // The follower led epoch 2 on its own for a while (records the others never got)...
    await lead(follower, 2, 'f1', 'f2', 'f3');
    // ...while the leader went through epochs 1 and 3.
    await lead(leader, 1, 'c', 'd');
    await lead(leader, 3, 'e', 'f');
    const truncations = await catchUp(leader, follower);
    expect(truncations).toEqual([2n]);
    expect(await values(follower)).toEqual(await values(leader));
    expect(follower.leaderEpochs).toEqual(leader.leaderEpochs);
  });

  it('KIP-279: two rounds when the follower holds an epoch the leader never had between two it shares', async () => {
    const leader = await open();
    const follower = await open();
    await lead(leader, 0, 'a');
    await catchUp(leader, follower);
    await lead(leader, 1, 'b', 'c');
    await catchUp(leader, follower);
    await lead(follower, 2, 'x', 'y'); // a leadership only the follower saw
    await lead(leader, 3, 'd');
    const answer = findDivergingEpoch(leader, follower.logEndOffset, follower.latestEpoch);
    expect(answer).toEqual({ epoch: 1, endOffset: 3n });
    expect(truncationPoint(follower, answer!)).toEqual({ offset: 3n, complete: true });
    await catchUp(leader, follower);
    expect(await values(follower)).toEqual(['0:a', '1:b', '2:c', '3:d']);
  });

  it('sends a follower whose epochs are all older than the leader\'s log to the leader\'s log start', async () => {
    const leader = await open();
    await lead(leader, 5, 'a', 'b');
    const answer = findDivergingEpoch(leader, 7n, 3);
    expect(answer).toEqual({ epoch: -1, endOffset: 0n });
    expect(findDivergingEpoch(leader, 0n, -1)).toBeNull();
    expect(findDivergingEpoch(leader, 2n, 5)).toBeNull();
    expect(findDivergingEpoch(leader, 3n, 5)).toEqual({ epoch: 5, endOffset: 2n });
  });

  it('truncates a follower whose every epoch is newer than what it shares with the leader to the start of its oldest epoch', async () => {
    // The follower led epoch 4 from an empty log and wrote offset 0; the leader's offset 0 is from epoch 2,
    // written before and kept when it was elected for epoch 5: the follower shares nothing with it.
    const leader = await open();
    const follower = await open();
    await lead(leader, 2, 'old');
    await lead(follower, 4, 'mine');
    await lead(leader, 5, 'new');
    const answer = findDivergingEpoch(leader, follower.logEndOffset, follower.latestEpoch)!;
    expect(answer).toEqual({ epoch: 2, endOffset: 1n });
    expect(truncationPoint(follower, answer)).toEqual({ offset: 0n, complete: true });
    await catchUp(leader, follower);
    expect(await values(follower)).toEqual(['0:old', '1:new']);
  });
});
