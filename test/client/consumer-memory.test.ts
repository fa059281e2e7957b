// What a consumer holds while it reads a topic much larger than its fetches: measured in a child
// process with --expose-gc (live ArrayBuffer bytes after full collections), against an endless-topic
// broker that keeps nothing itself (fixtures/endless-topic-broker.ts).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('./fixtures/consumer-memory.child.ts', import.meta.url));
const MiB = 1024 * 1024;

interface Result {
  baselineBytes: number; peakBytes: number; afterDisconnectBytes: number; samples: number;
  consumedRecords: number; recordCount: number; topicBytes: number; bytesFetched: number;
}

async function readWholeTopic(spec: Record<string, unknown>): Promise<Result> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD, JSON.stringify(spec)], { timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Result;
}

describe('consumer memory', () => {
  it('holds a small multiple of its fetch size while it reads a topic 64x larger, and nothing after disconnect', async () => {
    const maxBytesPerPartition = 1 * MiB;
    const partitions = 2;
    const result = await readWholeTopic({
      topic: 'endless', partitions, recordsPerBatch: 60, valueBytes: 1000, batchesPerPartition: 1120,
      maxBytesPerPartition, sampleEveryBytes: 4 * MiB,
    });
    const fetchBytes = maxBytesPerPartition * partitions;
    expect(result.consumedRecords).toBe(result.recordCount);
    expect(result.topicBytes).toBeGreaterThan(64 * fetchBytes);
    expect(result.samples).toBeGreaterThanOrEqual(30);
    expect(result.peakBytes).toBeLessThan(8 * fetchBytes);
    expect(result.afterDisconnectBytes).toBeLessThan(fetchBytes);
  }, 120_000);

  it('holds a small multiple of its fetch size, decompressed, while it reads LZ4 batches that decompress 60x', async () => {
    const maxBytesPerPartition = 256 * 1024;
    const partitions = 2;
    const result = await readWholeTopic({
      topic: 'endless', partitions, recordsPerBatch: 60, valueBytes: 1000, batchesPerPartition: 600, compression: 3,
      maxBytesPerPartition, sampleEveryBytes: 2 * MiB,
    });
    const fetchBytes = maxBytesPerPartition * partitions;
    // One fetch of each partition decompresses to ~20 MiB: what is held must not be that.
    const recordBytes = result.recordCount * 1000;
    expect(result.consumedRecords).toBe(result.recordCount);
    expect(recordBytes / result.topicBytes).toBeGreaterThan(40);
    expect(recordBytes).toBeGreaterThan(64 * fetchBytes);
    expect(result.samples).toBeGreaterThanOrEqual(30);
    expect(result.peakBytes).toBeLessThan(8 * fetchBytes);
    expect(result.afterDisconnectBytes).toBeLessThan(fetchBytes);
  }, 120_000);
});
