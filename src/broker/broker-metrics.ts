/** The broker's counters (BrokerMetrics); tests count produced batches through them. */
import type { BrokerMetrics } from '../protocol/types.ts';

export class BrokerMetricsCounters {
  produceRequests = 0;
  batchesAppended = 0;
  recordsAppended = 0;
  bytesAppended = 0;
  fetchRequests = 0;
  bytesFetched = 0;
  readonly errors: Record<string, number> = {};

  countError(type: string): void {
    this.errors[type] = (this.errors[type] ?? 0) + 1;
  }

  snapshot(nodeId: number): BrokerMetrics {
    return {
      nodeId,
      produceRequests: this.produceRequests,
      batchesAppended: this.batchesAppended,
      recordsAppended: this.recordsAppended,
      bytesAppended: this.bytesAppended,
      fetchRequests: this.fetchRequests,
      bytesFetched: this.bytesFetched,
      errors: { ...this.errors },
    };
  }
}
