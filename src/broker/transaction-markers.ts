/**
 * The partition leader's side of WriteTxnMarkers (Kafka's
 * ReplicaManager/KafkaApis.handleWriteTxnMarkersRequest): the request's shape
 * checks and limits, the control batch a marker becomes, and the listeners
 * told once a marker this broker leads is committed (a group coordinator
 * completes the transaction's pending offset commits on __consumer_offsets
 * with it, as Kafka's onTransactionCompleted).
 */
import { ControlRecordTypes, encodeEndTransactionMarker } from '../core/index.ts';
import type { WriteTxnMarkersRequest } from '../protocol/types.ts';
import { checkArray, checkBigInt, checkInt, checkObject, invalidRequest } from './request-checks.ts';

/** Markers one WriteTxnMarkers request may carry. */
export const TXN_MARKERS_PER_REQUEST_MAX = 1_000;
/** How long a marker's append waits for the ISR (Kafka: request.timeout.ms). */
export const TXN_MARKER_COMMIT_TIMEOUT_MS = 30_000;
/** Listeners one broker keeps. */
export const MARKER_LISTENERS_MAX = 64;

/** A marker committed on a partition this broker leads. */
export interface MarkerWritten {
  topic: string;
  partition: number;
  producerId: bigint;
  producerEpoch: number;
  /** COMMIT (true) or ABORT (false). */
  committed: boolean;
  /** The marker's offset in the partition. */
  offset: bigint;
}

export type MarkerListener = (event: MarkerWritten) => void;

export class MarkerListeners {
  readonly #listeners = new Set<MarkerListener>();

  /** Adds a listener; returns its removal. */
  add(listener: MarkerListener): () => void {
    if (typeof listener !== 'function') throw new TypeError('a marker listener is a function');
    if (this.#listeners.size >= MARKER_LISTENERS_MAX) throw new RangeError(`more than ${MARKER_LISTENERS_MAX} marker listeners`);
    this.#listeners.add(listener);
    return () => { this.#listeners.delete(listener); };
  }

  /** Tells every listener; one that throws does not stop the others (the marker is written either way). */
  notify(event: MarkerWritten): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own: the marker stays written and answered.
      }
    }
  }
}

/** INVALID_REQUEST for a malformed request; bounds markers and the topic-partitions they name together. */
export function checkWriteTxnMarkers(request: unknown, partitionsMax: number): asserts request is WriteTxnMarkersRequest {
  checkObject(request, 'request');
  checkArray(request.markers, 'markers');
  if (request.markers.length > TXN_MARKERS_PER_REQUEST_MAX) throw invalidRequest(`${request.markers.length} markers, over the ${TXN_MARKERS_PER_REQUEST_MAX} limit`);
  let count = 0;
  for (const [i, marker] of request.markers.entries()) {
    const where = `markers[${i}]`;
    checkObject(marker, where);
    checkBigInt(marker.producerId, `${where}.producerId`);
    if (marker.producerId < 0n) throw invalidRequest(`${where}.producerId ${marker.producerId}: a marker belongs to a producer id ≥ 0`);
    checkInt(marker.producerEpoch, `${where}.producerEpoch`, 0, 0x7fff);
    checkInt(marker.coordinatorEpoch, `${where}.coordinatorEpoch`, 0);
    if (typeof marker.committed !== 'boolean') throw invalidRequest(`${where}.committed must be a boolean`);
    checkArray(marker.topics, `${where}.topics`);
    for (const [j, t] of marker.topics.entries()) {
      checkObject(t, `${where}.topics[${j}]`);
      if (typeof t.topic !== 'string') throw invalidRequest(`${where}.topics[${j}].topic must be a string`);
      checkArray(t.partitions, `${where}.topics[${j}].partitions`);
      count += t.partitions.length;
      if (count > partitionsMax) throw invalidRequest(`markers name more than ${partitionsMax} topic-partitions`);
      for (const [k, p] of t.partitions.entries()) checkInt(p, `${where}.topics[${j}].partitions[${k}]`, 0);
    }
  }
}

/** The control batch a marker is written as (offsets and leader epoch set by the append). */
export function markerBatch(marker: { producerId: bigint; producerEpoch: number; committed: boolean; coordinatorEpoch: number }, nowMs: number): Uint8Array {
  return encodeEndTransactionMarker(
    { type: marker.committed ? ControlRecordTypes.COMMIT : ControlRecordTypes.ABORT, coordinatorEpoch: marker.coordinatorEpoch },
    { producerId: marker.producerId, producerEpoch: marker.producerEpoch, timestamp: nowMs },
  );
}
