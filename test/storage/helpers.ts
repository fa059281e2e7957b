/** Shared by the storage tests (Node and the browser worker): batch builders, a tiny assert, a seeded PRNG. */
import { concatBytes } from '../../src/bytes.ts';
import { batchSizeAt, decodeBatchSync, encodeBatchSync, readBatchHeader, type RecordInput } from '../../src/core/index.ts';
import { WafkaError, type KafkaErrorType } from '../../src/errors.ts';

export function batch(values: (string | null)[], options: { keys?: (string | null)[]; timestampMs?: number; timestamps?: number[] } = {}): Uint8Array {
  const ts = options.timestampMs ?? 1_700_000_000_000;
  const records: RecordInput[] = values.map((v, i) => ({
    key: options.keys?.[i] ?? null,
    value: v,
    timestamp: options.timestamps?.[i] ?? ts + i,
  }));
  return encodeBatchSync(records, { baseTimestamp: options.timestamps?.[0] ?? ts });
}

/** A batch of `count` records of `valueBytes` each. */
export function sizedBatch(count: number, valueBytes: number, tag = 'x', timestampMs?: number): Uint8Array {
  const value = tag.repeat(Math.ceil(valueBytes / tag.length)).slice(0, valueBytes);
  return batch(Array.from({ length: count }, () => value), { timestampMs });
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(parts);
}

/** Decodes concatenated stored batches into (offset, value, key) triples. */
export function records(bytes: Uint8Array): { offset: bigint; value: string | null; key: string | null; timestampMs: number }[] {
  const out: { offset: bigint; value: string | null; key: string | null; timestampMs: number }[] = [];
  const td = new TextDecoder();
  let pos = 0;
  while (pos < bytes.length) {
    const b = decodeBatchSync(bytes, { position: pos });
    for (const r of b.records) {
      out.push({ offset: r.offset, value: r.value && td.decode(r.value), key: r.key && td.decode(r.key), timestampMs: Number(r.timestamp) });
    }
    pos += b.sizeInBytes;
  }
  return out;
}

export function batchOffsets(bytes: Uint8Array): bigint[] {
  const out: bigint[] = [];
  for (let p = 0; p < bytes.length; p += batchSizeAt(bytes, p)) out.push(readBatchHeader(bytes, p).baseOffset);
  return out;
}

export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function ok(cond: unknown, message: string): asserts cond {
  if (!cond) throw new AssertionError(message);
}

export function eq<T>(actual: T, expected: T, message: string): void {
  const a = stringify(actual);
  const e = stringify(expected);
  if (a !== e) throw new AssertionError(`${message}: expected ${e}, got ${a}`);
}

function stringify(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? Array.from(x) : x));
}

export async function rejects(p: Promise<unknown> | (() => unknown), type: KafkaErrorType, message: string): Promise<WafkaError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (error) {
    if (WafkaError.is(error, type)) return error;
    throw new AssertionError(`${message}: expected ${type}, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  }
  throw new AssertionError(`${message}: expected ${type}, nothing thrown`);
}

/** mulberry32: a small seeded PRNG returning [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FakeClock {
  constructor(public now = 1_700_000_000_000) {}
  nowMs(): number {
    return this.now;
  }
}
