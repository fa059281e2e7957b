/**
 * The leader epochs of what a consumer fetched, per partition, so that each
 * fetch can carry its position's epoch (KIP-320): the epoch of the batch that
 * held the record before the position. A leader whose log holds that epoch
 * only up to an earlier offset answers with the diverging epoch: the log was
 * truncated under the consumer (an unclean election), and the consumer says so
 * and resumes where the two logs agree, instead of skipping to an offset reset.
 */

/** Epoch changes remembered per partition: enough for any position near the fetch front. */
export const FETCHED_EPOCH_RANGES_MAX = 32;

interface EpochRange {
  epoch: number;
  startOffset: bigint;
  /** Exclusive. */
  endOffset: bigint;
}

export class FetchedEpochs {
  #ranges: EpochRange[] = [];

  /** A batch holding [baseOffset, lastOffset] written in `epoch` was fetched. */
  record(baseOffset: bigint, lastOffset: bigint, epoch: number): void {
    if (epoch < 0) return;
    const last = this.#ranges[this.#ranges.length - 1];
    if (last && last.epoch === epoch && baseOffset <= last.endOffset && baseOffset >= last.startOffset) {
      if (lastOffset + 1n > last.endOffset) last.endOffset = lastOffset + 1n;
      return;
    }
    // Fetched again from earlier (a seek back): what lay past it may be stale.
    while (this.#ranges.length > 0 && this.#ranges[this.#ranges.length - 1].startOffset >= baseOffset) this.#ranges.pop();
    this.#ranges.push({ epoch, startOffset: baseOffset, endOffset: lastOffset + 1n });
    if (this.#ranges.length > FETCHED_EPOCH_RANGES_MAX) this.#ranges.shift();
  }

  /** The epoch of the record at `position - 1`, or -1 when it was not fetched (nothing to check against). */
  epochBefore(position: bigint): number {
    for (let i = this.#ranges.length - 1; i >= 0; i--) {
      const r = this.#ranges[i];
      if (position - 1n >= r.startOffset && position - 1n < r.endOffset) return r.epoch;
    }
    return -1;
  }

  /** Forgets what was fetched at or above `offset` (the leader's log ends there now). */
  truncateTo(offset: bigint): void {
    while (this.#ranges.length > 0) {
      const last = this.#ranges[this.#ranges.length - 1];
      if (last.startOffset >= offset) this.#ranges.pop();
      else {
        if (last.endOffset > offset) last.endOffset = offset;
        break;
      }
    }
  }
}
