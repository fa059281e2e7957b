/**
 * A partition's aborted transactions (Kafka's TransactionIndex, one for the
 * whole log rather than one file per segment): for each transaction an ABORT
 * marker closed, its producer id, the offset of its first batch and the
 * offset of the marker. A read_committed fetch returns the entries that
 * overlap the records it returns (Kafka's collectAbortedTxns), and the
 * consumer drops those producers' batches from each first offset up to the
 * producer's marker.
 *
 * Entries are kept in marker order. Each also keeps `stableBefore`: the last
 * stable offset right after it completed (the lowest first offset of the
 * transactions still open then, or the offset after its marker). No later
 * entry starts below it (a later one was either open then or began after the
 * marker), which lets a lookup stop early as Kafka's does with its
 * lastStableOffset field.
 *
 * Bounded: entries whose marker falls below the log start are trimmed with
 * the log; past ABORTED_TXNS_MAX (each entry stands for at least one data
 * batch and one marker in the log, ≈ 150 B) the oldest are forgotten.
 */

/** Aborted transactions one partition keeps (≈ 150 MB of log at the least). */
export const ABORTED_TXNS_MAX = 1_000_000;

export interface AbortedTxn {
  producerId: bigint;
  /** The offset of the transaction's first batch on this partition. */
  firstOffset: bigint;
  /** The offset of its ABORT marker. */
  lastOffset: bigint;
  /** The last stable offset once it completed (see the module comment). */
  stableBefore: bigint;
}

export class AbortedTxnIndex {
  #entries: AbortedTxn[] = [];

  get size(): number {
    return this.#entries.length;
  }

  get entries(): readonly AbortedTxn[] {
    return this.#entries;
  }

  /** Adds the transaction an ABORT marker at `txn.lastOffset` closed (markers come in offset order). */
  add(txn: AbortedTxn): void {
    const last = this.#entries[this.#entries.length - 1];
    if (last && txn.lastOffset <= last.lastOffset) {
      throw new RangeError(`aborted transaction with marker at ${txn.lastOffset} after one at ${last.lastOffset}`);
    }
    this.#entries.push(txn);
    if (this.#entries.length > ABORTED_TXNS_MAX) this.#entries.splice(0, this.#entries.length - ABORTED_TXNS_MAX);
  }

  /**
   * The aborted transactions with data in [fetchOffset, upperBoundOffset):
   * marker at or past fetchOffset and first offset below upperBoundOffset, in
   * marker order.
   */
  collect(fetchOffset: bigint, upperBoundOffset: bigint): { producerId: bigint; firstOffset: bigint }[] {
    const out: { producerId: bigint; firstOffset: bigint }[] = [];
    for (let i = this.#firstEndingAtOrAfter(fetchOffset); i < this.#entries.length; i++) {
      const txn = this.#entries[i];
      if (txn.firstOffset < upperBoundOffset) out.push({ producerId: txn.producerId, firstOffset: txn.firstOffset });
      if (txn.stableBefore >= upperBoundOffset) break;
    }
    return out;
  }

  /** The log lost every offset ≥ `offset`: entries whose marker it lost go (a transaction whose data it lost has its marker past it). */
  truncateTo(offset: bigint): void {
    this.#entries.length = this.#firstEndingAtOrAfter(offset);
  }

  /** The log starts at `logStartOffset` now: entries wholly below it go. */
  trimBefore(logStartOffset: bigint): void {
    const keep = this.#firstEndingAtOrAfter(logStartOffset);
    if (keep > 0) this.#entries.splice(0, keep);
  }

  clear(): void {
    this.#entries = [];
  }

  /** An index of `entries` (a snapshot's), kept in marker order; entries out of order are dropped. */
  static restore(entries: readonly AbortedTxn[]): AbortedTxnIndex {
    const index = new AbortedTxnIndex();
    for (const entry of entries) {
      const last = index.#entries[index.#entries.length - 1];
      if (!last || entry.lastOffset > last.lastOffset) index.#entries.push({ ...entry });
    }
    if (index.#entries.length > ABORTED_TXNS_MAX) index.#entries.splice(0, index.#entries.length - ABORTED_TXNS_MAX);
    return index;
  }

  /** Index of the first entry whose marker is at or past `offset` (binary search: markers are in order). */
  #firstEndingAtOrAfter(offset: bigint): number {
    let lo = 0;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#entries[mid].lastOffset < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
