/**
 * What a partition leader knows of its followers, as Kafka's leader keeps it
 * (Partition / Replica.updateFetchState): each follower's log end offset, as
 * its fetch offsets show them, and the last time it was caught up. From that
 * the leader derives:
 *
 * - the high watermark: the lowest log end offset in the ISR (the leader's
 *   own included), never moving back;
 * - which ISR members lag: not caught up for longer than replicaLagTimeMaxMs;
 * - which followers may join the ISR: caught up to the high watermark and to
 *   the start of the current leader epoch.
 *
 * "Caught up" follows Kafka exactly: a fetch from offset f made when the
 * leader's end was L catches the follower up now if f ≥ L, and as of its
 * previous fetch if f reached the leader's end at that previous fetch. A
 * follower that keeps fetching but never reaches a moving end therefore
 * still counts as caught up as long as each fetch reaches where the leader
 * was at the one before.
 */

interface Follower {
  logEndOffset: bigint;
  lastCaughtUpTimeMs: number;
  lastFetchLeaderLogEndOffset: bigint;
  lastFetchTimeMs: number;
}

export class FollowerProgress {
  readonly #followers = new Map<number, Follower>();
  #highWatermark: bigint;

  /**
   * `followerIds`: the partition's replicas other than the leader. A new
   * leader counts each as caught up at `nowMs`, as Kafka does, so none lags
   * before it had a chance to fetch.
   */
  constructor(followerIds: readonly number[], highWatermark: bigint, nowMs: number) {
    this.#highWatermark = highWatermark;
    for (const id of followerIds) {
      this.#followers.set(id, { logEndOffset: -1n, lastCaughtUpTimeMs: nowMs, lastFetchLeaderLogEndOffset: -1n, lastFetchTimeMs: nowMs });
    }
  }

  get highWatermark(): bigint {
    return this.#highWatermark;
  }

  has(followerId: number): boolean {
    return this.#followers.has(followerId);
  }

  /** The follower's log end offset as the leader knows it; -1n before its first fetch. */
  logEndOffsetOf(followerId: number): bigint {
    return this.#followers.get(followerId)?.logEndOffset ?? -1n;
  }

  /**
   * Followers that left the ISR (lagging, or shut down): what they fetched
   * before says nothing of them now, so none may rejoin on it. Kafka reaches
   * the same through the broker epoch each fetch carries (KIP-903): a
   * restarted broker's old fetch state is not its own.
   */
  forgetFetches(followerIds: readonly number[]): void {
    for (const id of followerIds) {
      const f = this.#followers.get(id);
      if (f) f.logEndOffset = -1n;
    }
  }

  /** A fetch from `followerId` at `fetchOffset`, served when the leader's log ended at `leaderLogEndOffset`. */
  recordFetch(followerId: number, fetchOffset: bigint, leaderLogEndOffset: bigint, nowMs: number): void {
    const f = this.#followers.get(followerId);
    if (!f) return;
    if (fetchOffset >= leaderLogEndOffset) f.lastCaughtUpTimeMs = Math.max(f.lastCaughtUpTimeMs, nowMs);
    else if (fetchOffset >= f.lastFetchLeaderLogEndOffset) f.lastCaughtUpTimeMs = Math.max(f.lastCaughtUpTimeMs, f.lastFetchTimeMs);
    f.logEndOffset = fetchOffset;
    f.lastFetchLeaderLogEndOffset = leaderLogEndOffset;
    f.lastFetchTimeMs = nowMs;
  }

  /**
   * Recomputes the high watermark from the ISR: the lowest log end offset
   * among its members (the leader's is `leaderLogEndOffset`). It only moves
   * forward; returns true when it moved.
   */
  updateHighWatermark(isr: readonly number[], leaderId: number, leaderLogEndOffset: bigint): boolean {
    let low = leaderLogEndOffset;
    for (const id of isr) {
      if (id === leaderId) continue;
      const end = this.#followers.get(id)?.logEndOffset ?? -1n;
      if (end < low) low = end;
    }
    if (low <= this.#highWatermark) return false;
    this.#highWatermark = low;
    return true;
  }

  /** ISR followers not caught up within the last `replicaLagTimeMaxMs`: the leader asks to drop them. */
  laggingIsrMembers(isr: readonly number[], leaderId: number, nowMs: number, replicaLagTimeMaxMs: number): number[] {
    return isr.filter((id) => {
      if (id === leaderId) return false;
      const f = this.#followers.get(id);
      return !f || nowMs - f.lastCaughtUpTimeMs > replicaLagTimeMaxMs;
    });
  }

  /**
   * Followers outside the ISR that may join it: their log reaches the high
   * watermark and the first offset of the current leader epoch (so they have
   * truncated to this leader's history).
   */
  followersReadyToJoin(isr: readonly number[], leaderEpochStartOffset: bigint): number[] {
    const ready: number[] = [];
    for (const [id, f] of this.#followers) {
      if (isr.includes(id)) continue;
      if (f.logEndOffset >= this.#highWatermark && f.logEndOffset >= leaderEpochStartOffset) ready.push(id);
    }
    return ready;
  }
}
