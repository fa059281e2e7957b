/**
 * Where a follower's log stops agreeing with its leader's, found through
 * leader epochs (KIP-101, KIP-279, and the in-fetch form of KIP-595 that
 * Fetch v12 uses), never through the follower's high watermark: truncating
 * to the high watermark is what lost committed records before KIP-101.
 *
 * A follower fetches with the epoch of the last batch it holds. The leader
 * looks up where that epoch ends in its own log; if it knows no such epoch,
 * or the epoch ends before the follower's fetch offset, the follower holds
 * records the leader does not, and the answer carries the diverging epoch
 * and its end instead of records. The follower then truncates to where its
 * own log and that answer agree, which may take more than one round when
 * several leader changes happened while it was away (KIP-279).
 */
import { UNDEFINED_EPOCH } from '../storage/leader-epoch.ts';

/** What both sides need of a log: its end and its leader epoch cache. */
export interface EpochedLog {
  readonly logStartOffset: bigint;
  readonly logEndOffset: bigint;
  /** The largest epoch ≤ `epoch` and where it ends; leaderEpoch -1 when the log knows none. */
  endOffsetForEpoch(epoch: number): { leaderEpoch: number; endOffset: bigint };
  /** The leader epoch cache: each epoch and its first offset, oldest first. */
  readonly leaderEpochs: readonly { epoch: number; startOffset: bigint }[];
}

export interface DivergingEpoch {
  epoch: number;
  endOffset: bigint;
}

/**
 * Leader side: does a follower fetching from `fetchOffset`, whose last
 * batch was written in `lastFetchedEpoch`, hold records this log does not?
 * null when it does not (or the follower holds nothing: lastFetchedEpoch -1).
 */
export function findDivergingEpoch(leader: EpochedLog, fetchOffset: bigint, lastFetchedEpoch: number): DivergingEpoch | null {
  if (lastFetchedEpoch < 0) return null;
  const { leaderEpoch, endOffset } = leader.endOffsetForEpoch(lastFetchedEpoch);
  // No epoch this old left here (retention moved the log start past it): all the leader has starts at its log start.
  if (leaderEpoch === UNDEFINED_EPOCH) return { epoch: UNDEFINED_EPOCH, endOffset: leader.logStartOffset };
  if (leaderEpoch < lastFetchedEpoch || endOffset < fetchOffset) return { epoch: leaderEpoch, endOffset };
  return null;
}

/**
 * Follower side: the offset to truncate to after the leader answered
 * `diverging`, and whether that settles it (`complete`) or the follower must
 * fetch again with its then-latest epoch to find an earlier point of
 * agreement (its own log knows no `diverging.epoch`).
 */
export function truncationPoint(follower: EpochedLog, diverging: DivergingEpoch): { offset: bigint; complete: boolean } {
  const end = follower.logEndOffset;
  const min = (a: bigint, b: bigint) => (a < b ? a : b);
  if (diverging.epoch === UNDEFINED_EPOCH) return { offset: min(diverging.endOffset, end), complete: true };
  const mine = follower.endOffsetForEpoch(diverging.epoch);
  if (mine.leaderEpoch === UNDEFINED_EPOCH) {
    // Every epoch this follower holds is newer than any the leader shares with it: nothing from the start
    // of its oldest epoch on is the leader's.
    const firstEpochStart = follower.leaderEpochs[0]?.startOffset ?? follower.logStartOffset;
    return { offset: min(min(diverging.endOffset, end), firstEpochStart), complete: true };
  }
  if (mine.leaderEpoch !== diverging.epoch) return { offset: min(mine.endOffset, end), complete: false };
  return { offset: min(diverging.endOffset, mine.endOffset), complete: true };
}
