/** Storage/e2e input: batches of 100-byte JSON-ish values, and the values themselves as standalone events. */
import { batchesOf } from '../lib/batch.ts';
import { jsonValue, KiB, rng } from '../lib/data.ts';

export const VALUE_BYTES = 100;

export function values(n: number, seed = 3): Uint8Array[] {
  const r = rng(seed);
  const enc = new TextEncoder();
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(enc.encode(jsonValue(r, i, VALUE_BYTES)));
  return out;
}

export interface BatchSet {
  label: string;
  batchBytes: number;
  batches: Uint8Array[];
  records: number[];
  /** Each batch's values as standalone 100-byte arrays (own ArrayBuffer: IndexedDB clones whole buffers). */
  events: Map<Uint8Array, Uint8Array[]>;
}

/** A few distinct batches of about `batchBytes` (the workloads cycle through them). */
export function batchSet(batchBytes: number, distinct = 8): BatchSet {
  const perBatch = Math.floor((batchBytes - 61) / (VALUE_BYTES + 8));
  const vs = values(perBatch * distinct);
  const { batches, records } = batchesOf(vs, batchBytes);
  const events = new Map<Uint8Array, Uint8Array[]>();
  batches.forEach((b, i) => events.set(b, vs.slice(i * perBatch, i * perBatch + records[i]).map((v) => v.slice())));
  return { label: `${Math.round(batchBytes / KiB)} KiB`, batchBytes, batches, records, events };
}
