/**
 * The broker's counters (BrokerMetrics): totals, and traffic per topic. Tests
 * count produced batches through them; the console turns them into rates.
 */
import { batchSpans, spanIsWhole, RECORDS_COUNT_OFFSET } from '../core/batch.ts';
import type { BrokerMetrics, TopicTrafficMetrics } from '../protocol/types.ts';

/**
 * The records of the whole batches in `bytes`, read from each batch header's
 * count (one look per batch, nothing decoded); a partial trailing batch is not counted.
 */
export function recordsInBatches(bytes: Uint8Array): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let records = 0;
  for (const span of batchSpans(dv)) {
    if (!spanIsWhole(span, bytes.byteLength)) break;
    records += Math.max(0, dv.getInt32(span.at + RECORDS_COUNT_OFFSET));
  }
  return records;
}

/** What the snapshot adds to the counters: the broker's view of itself and its replicas. */
export type BrokerState = Pick<BrokerMetrics, 'host' | 'storage' | 'replicas' | 'cluster'>;

export class BrokerMetricsCounters {
  produceRequests = 0;
  batchesAppended = 0;
  recordsAppended = 0;
  bytesAppended = 0;
  fetchRequests = 0;
  bytesFetched = 0;
  readonly errors: Record<string, number> = {};
  /** Keyed by topic name (a Map: `__proto__` is a legal topic name); a deleted topic's entry is dropped. */
  readonly #topics = new Map<string, TopicTrafficMetrics>();

  countError(type: string): void {
    this.errors[type] = (this.errors[type] ?? 0) + 1;
  }

  #topic(topic: string): TopicTrafficMetrics {
    let t = this.#topics.get(topic);
    if (!t) {
      t = { topic, recordsAppended: 0, bytesAppended: 0, recordsFetched: 0, bytesFetched: 0 };
      this.#topics.set(topic, t);
    }
    return t;
  }

  /** Every append, a leader's or a follower's copy. */
  countAppend(batches: number, records: number, bytes: number): void {
    this.batchesAppended += batches;
    this.recordsAppended += records;
    this.bytesAppended += bytes;
  }

  /** What producers wrote to `topic` here (this broker its leader). */
  countLeaderAppend(topic: string, records: number, bytes: number): void {
    const t = this.#topic(topic);
    t.recordsAppended += records;
    t.bytesAppended += bytes;
  }

  /** A consumer's fetch of whole batches from `topic`. */
  countConsumerFetch(topic: string, records: number, bytes: number): void {
    const t = this.#topic(topic);
    t.recordsFetched += records;
    t.bytesFetched += bytes;
  }

  forgetTopic(topic: string): void {
    this.#topics.delete(topic);
  }

  snapshot(nodeId: number, state: BrokerState): BrokerMetrics {
    return {
      nodeId,
      ...state,
      produceRequests: this.produceRequests,
      batchesAppended: this.batchesAppended,
      recordsAppended: this.recordsAppended,
      bytesAppended: this.bytesAppended,
      fetchRequests: this.fetchRequests,
      bytesFetched: this.bytesFetched,
      errors: { ...this.errors },
      topics: [...this.#topics.values()].map((t) => ({ ...t })),
    };
  }
}
