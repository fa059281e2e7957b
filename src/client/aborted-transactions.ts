/**
 * What a read_committed consumer drops from one fetched partition (the Java
 * consumer's CompletedFetch): the fetch answer lists the aborted transactions
 * whose data the records hold (producer id, first offset). Walking the
 * batches in order, every aborted transaction whose first offset is at or
 * before the batch's last offset marks its producer aborted; a transactional
 * batch of an aborted producer is skipped; that producer's ABORT marker
 * clears the mark. Control batches are never delivered.
 *
 * One filter serves one fetch answer of one partition, batches in offset
 * order.
 */

export interface FilteredBatch {
  producerId: bigint;
  lastOffset: bigint;
  isTransactional: boolean;
  isControlBatch: boolean;
  /** A control batch whose record is an ABORT marker. */
  isAbortMarker: boolean;
}

export class AbortedTransactionFilter {
  /** Aborted transactions not reached yet, by first offset. */
  readonly #pending: { producerId: bigint; firstOffset: bigint }[];
  #next = 0;
  readonly #abortedProducers = new Set<bigint>();

  constructor(aborted: readonly { producerId: bigint; firstOffset: bigint }[] | undefined) {
    this.#pending = [...(aborted ?? [])].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  }

  /** Whether the records of `batch` are delivered (false: aborted data, or a control batch). */
  delivers(batch: FilteredBatch): boolean {
    if (batch.producerId >= 0n) {
      while (this.#next < this.#pending.length && this.#pending[this.#next].firstOffset <= batch.lastOffset) {
        this.#abortedProducers.add(this.#pending[this.#next++].producerId);
      }
      if (batch.isAbortMarker) this.#abortedProducers.delete(batch.producerId);
      else if (batch.isTransactional && this.#abortedProducers.has(batch.producerId)) return false;
    }
    return !batch.isControlBatch;
  }
}
