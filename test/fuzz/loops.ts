/**
 * The fuzz loops over mutated batches (test/fuzz/batch-mutations.ts), run
 * briefly by test/fuzz/fuzz-loops.test.ts and for longer by
 * `npm run fuzz -- --iterations N [--seed S]` (test/fuzz/run.ts):
 *
 * - decoder: every mutated batch decodes, or fails with a WafkaError; no
 *   call grows the core's memory past HIGH_WATER_BYTES_MAX, and after each
 *   call memory is back within ARENA_RETAINED_BYTES;
 * - append check: a batch the leader's check accepts decodes fully (every
 *   record, offsets base..base+count-1); one it refuses gets a WafkaError.
 */
import {
  ARENA_RETAINED_BYTES, checkBatchRecords, coreSync, decodeBatch, readBatchHeader, type DecodedBatch,
} from '../../src/core/index.ts';
import { WafkaError } from '../../src/errors.ts';
import { mutateBatch, seeded, validBatch, type Random } from './batch-mutations.ts';

/** The most memory one decode of a mutated (≤ a few KiB) batch may take. */
export const HIGH_WATER_BYTES_MAX = ARENA_RETAINED_BYTES;

export interface FuzzCounts {
  loop: string;
  seed: number;
  iterations: number;
  /** Accepted (decoded, or passed the append check and decoded). */
  accepted: number;
  /** Refusals by error type. */
  refused: Record<string, number>;
  /** The largest core memory seen during one call, in bytes. */
  highWaterBytesMax: number;
}

function mutated(rnd: Random): Uint8Array {
  let batch = validBatch(rnd);
  for (let k = 1 + (rnd() % 3); k > 0; k--) batch = mutateBatch(batch, rnd);
  return batch;
}

/** Reads every field of every record, as a consumer would. */
function touch(batch: DecodedBatch): void {
  for (const r of batch.records) {
    void r.offset;
    void r.timestamp;
    void r.key;
    void r.value;
    for (const h of r.headers) void h.value;
  }
}

function refusal(counts: FuzzCounts, error: unknown, what: string): void {
  if (!(error instanceof WafkaError)) throw new Error(`${what}: not a WafkaError: ${String(error)}`, { cause: error });
  counts.refused[error.type] = (counts.refused[error.type] ?? 0) + 1;
}

function startCall(): void {
  const arena = coreSync();
  arena.highWaterBytes = arena.memoryBytes;
}

function endCall(counts: FuzzCounts, what: string): void {
  const arena = coreSync();
  if (arena.highWaterBytes > counts.highWaterBytesMax) counts.highWaterBytesMax = arena.highWaterBytes;
  if (arena.highWaterBytes > HIGH_WATER_BYTES_MAX) throw new Error(`${what}: the core's memory reached ${arena.highWaterBytes} B, over ${HIGH_WATER_BYTES_MAX} B`);
  if (arena.memoryBytes > ARENA_RETAINED_BYTES) throw new Error(`${what}: ${arena.memoryBytes} B of core memory kept after the call`);
}

export async function fuzzDecoder(iterations: number, seed: number): Promise<FuzzCounts> {
  const counts: FuzzCounts = { loop: 'decoder', seed, iterations, accepted: 0, refused: {}, highWaterBytesMax: 0 };
  const rnd = seeded(seed);
  for (let i = 0; i < iterations; i++) {
    const what = `decoder seed ${seed} iteration ${i}`;
    const batch = mutated(rnd);
    startCall();
    try {
      touch(await decodeBatch(batch));
      counts.accepted++;
    } catch (error) {
      refusal(counts, error, what);
    }
    endCall(counts, what);
  }
  return counts;
}

export async function fuzzAppendCheck(iterations: number, seed: number): Promise<FuzzCounts> {
  const counts: FuzzCounts = { loop: 'append check', seed, iterations, accepted: 0, refused: {}, highWaterBytesMax: 0 };
  const rnd = seeded(seed);
  for (let i = 0; i < iterations; i++) {
    const what = `append check seed ${seed} iteration ${i}`;
    const batch = mutated(rnd);
    startCall();
    let count: number;
    try {
      count = await checkBatchRecords(batch);
    } catch (error) {
      refusal(counts, error, what);
      endCall(counts, what);
      continue;
    }
    endCall(counts, what);
    // Accepted: it must decode whole, with the offsets the log will give it.
    const decoded = await decodeBatch(batch);
    touch(decoded);
    const header = readBatchHeader(batch);
    const offsets = decoded.records.map((r) => r.offset - header.baseOffset);
    if (decoded.records.length !== count || offsets.some((o, k) => o !== BigInt(k)) || header.lastOffsetDelta !== count - 1) {
      throw new Error(`${what}: accepted, but decodes to offsets [${offsets.join(', ')}] for ${count} records`);
    }
    counts.accepted++;
  }
  return counts;
}
