// Helpers for the transaction tests: transactional batches, produce with a transactionalId, fetch by isolation
// level (data values and marker offsets apart), and markers written straight through WriteTxnMarkers.
import type { Broker } from '../../src/broker/broker.ts';
import { batchSpans, decodeBatchSync, encodeBatch } from '../../src/core/index.ts';
import type { BrokerApi, FetchPartitionResponse, IsolationLevel, TxnMarker } from '../../src/protocol/types.ts';

export const txnBatch = (values: string[], producerId: bigint, baseSequence: number, producerEpoch = 0) =>
  encodeBatch(values.map((value) => ({ key: null, value })), { producerId, producerEpoch, baseSequence, isTransactional: true });

export async function produce(broker: BrokerApi, records: Uint8Array, transactionalId: string | null = 'tx', topic = 't') {
  return (await broker.produce({ acks: -1, timeoutMs: 5_000, transactionalId, topics: [{ topic, partitions: [{ partition: 0, records }] }] })).topics[0].partitions[0];
}

export async function fetchFrom(broker: BrokerApi, isolationLevel: IsolationLevel, fetchOffset = 0n, topic = 't'): Promise<FetchPartitionResponse & { values: string[]; markers: bigint[] }> {
  const response = await broker.fetch({
    maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel,
    topics: [{ topic, partitions: [{ partition: 0, fetchOffset, partitionMaxBytes: 1 << 20 }] }],
  });
  const p = response.topics[0].partitions[0];
  return { ...p, values: dataValues(p.records), markers: markerOffsets(p.records) };
}

/** The values of the data batches in `bytes` (control batches left out). */
export function dataValues(bytes: Uint8Array | null): string[] {
  const out: string[] = [];
  for (const batch of batchesIn(bytes)) if (!batch.isControlBatch) for (const r of batch.records) out.push(new TextDecoder().decode(r.value!));
  return out;
}

/** The offsets of the control batches in `bytes`. */
export function markerOffsets(bytes: Uint8Array | null): bigint[] {
  return batchesIn(bytes).filter((b) => b.isControlBatch).map((b) => b.baseOffset);
}

function batchesIn(bytes: Uint8Array | null) {
  if (!bytes) return [];
  return [...batchSpans(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength))].map((span) => decodeBatchSync(bytes, { position: span.at }));
}

export async function writeMarker(broker: Broker, marker: Omit<TxnMarker, 'topics' | 'coordinatorEpoch'> & { coordinatorEpoch?: number; topic?: string; partition?: number }) {
  const response = await broker.writeTxnMarkers({
    markers: [{
      producerId: marker.producerId, producerEpoch: marker.producerEpoch, committed: marker.committed, coordinatorEpoch: marker.coordinatorEpoch ?? 0,
      topics: [{ topic: marker.topic ?? 't', partitions: [marker.partition ?? 0] }],
    }],
  });
  return response.markers[0].topics[0].partitions[0];
}

