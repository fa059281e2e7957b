import { describe, expect, it } from 'vitest';
import { BATCH_OVERHEAD_BYTES, RecordAccumulator, estimateRecordBytes, type ProducerBatch } from '../../src/client/accumulator.ts';

function make(options: { batchSizeBytes?: number; lingerMs?: number; bufferMemoryBytes?: number } = {}) {
  let now = 1000;
  const sealed: ProducerBatch[] = [];
  const acc = new RecordAccumulator({
    batchSizeBytes: options.batchSizeBytes ?? 1000,
    lingerMs: options.lingerMs ?? 50,
    bufferMemoryBytes: options.bufferMemoryBytes ?? 1 << 20,
    onSeal: (batch) => sealed.push(batch),
    now: () => now,
  });
  const record = (value: string) => ({ key: null, value, headers: undefined, timestamp: now });
  const add = (partition: number, value: string, abortOnNewBatch = false) => {
    const bytes = estimateRecordBytes({ value });
    expect(acc.tryReserve(bytes)).toBe(true);
    return acc.append('t', partition, record(value), bytes, 1, 0, abortOnNewBatch);
  };
  return { acc, sealed, add, record, advance: (ms: number) => { now += ms; }, now: () => now };
}

describe('RecordAccumulator', () => {
  it('an open batch becomes ready after lingerMs, not before', () => {
    const { acc, add, advance } = make({ lingerMs: 50 });
    add(0, 'a');
    add(0, 'b');
    expect(acc.ready()).toHaveLength(0);
    expect(acc.nextReadyMs()).toBe(1050);
    advance(49);
    expect(acc.ready()).toHaveLength(0);
    advance(1);
    const [q] = acc.ready();
    const drained = acc.drain(q, 1 << 20);
    expect(drained).toHaveLength(1);
    expect(drained[0].recordCount).toBe(2);
    expect(drained[0].sealed).toBe(true);
  });

  it('seals a batch when the next record would pass batchSizeBytes; a record larger than that gets its own batch', () => {
    const { acc, sealed, add } = make({ batchSizeBytes: 310, lingerMs: 1e9 });
    const value = 'x'.repeat(100); // 109 B in the batch: two fit beside the 61 B header
    for (let i = 0; i < 5; i++) add(0, value);
    expect(sealed.map((b) => b.recordCount)).toEqual([2, 2]);
    expect(acc.ready()).toHaveLength(1); // sealed batches are ready at once
    add(0, 'y'.repeat(1000));
    expect(sealed.map((b) => b.recordCount)).toEqual([2, 2, 1, 1]); // the open one, then the big one alone
    for (const b of sealed) expect(b.sizeBytes <= 310 || b.recordCount === 1).toBe(true);
  });

  it('bounds buffered bytes: reserve waits until completed batches free space, in order', async () => {
    const bytes = estimateRecordBytes({ value: 'x'.repeat(100) });
    // What one batch holds: its staging capacity (the same for each fresh batch).
    const probe = make({ bufferMemoryBytes: 4000 });
    probe.add(0, 'x'.repeat(100));
    const batchBytes = probe.acc.bufferedBytes;
    expect(batchBytes).toBeGreaterThan(bytes);
    // Room for two batches and one more record's estimate, not two.
    const { acc, add } = make({ bufferMemoryBytes: 2 * batchBytes + bytes + bytes / 2 });
    add(0, 'x'.repeat(100));
    add(1, 'x'.repeat(100));
    add(2, 'x'.repeat(100)); // fits by its estimate; its batch passes the bound by one batch's staging
    expect(acc.bufferedBytes).toBe(3 * batchBytes);
    expect(acc.tryReserve(bytes)).toBe(false);
    const order: number[] = [];
    const first = acc.reserve(bytes).then(() => order.push(1));
    const second = acc.reserve(bytes).then(() => order.push(2));
    expect(acc.waitingForSpace).toBe(true);
    expect(acc.ready().length).toBe(3); // waiters make open batches ready
    const [q0] = acc.ready().filter((q) => q.partition === 0);
    const [b0] = acc.drain(q0, 1 << 20);
    acc.complete(b0, { result: { baseOffset: 0n, logAppendTimeMs: -1n, logStartOffset: 0n } });
    await first;
    expect(order).toEqual([1]);
    expect(acc.bufferedBytes).toBe(2 * batchBytes + bytes); // the first waiter's estimate is reserved
    const [q1] = acc.ready().filter((q) => q.partition === 1);
    const [b1] = acc.drain(q1, 1 << 20);
    acc.complete(b1, { error: new Error('failed for good') });
    await second;
    expect(order).toEqual([1, 2]);
    await expect(b1.done).rejects.toThrow('failed for good');
  });

  it('counts what batches hold: staging capacity, strings by their UTF-8 bytes, requests in flight; all given back', () => {
    const { acc, add } = make({ batchSizeBytes: 1000, lingerMs: 1e9 });
    add(0, 'a');
    const fresh = acc.bufferedBytes;
    // 20,000 two-byte characters: 40,000 bytes staged in a batch of their own, whose staging grows to hold them.
    add(0, '\u00e9'.repeat(20_000));
    expect(acc.bufferedBytes).toBeGreaterThan(fresh + 40_000);
    expect(acc.bufferedBytes).toBeLessThan(fresh + 2 * 40_000);
    acc.holdRequest(5000);
    const held = acc.bufferedBytes;
    const [q] = acc.ready(Infinity);
    const batches = acc.drain(q, 1 << 20);
    expect(batches.map((b) => b.recordCount)).toEqual([1, 1]);
    for (const b of batches) acc.complete(b, { result: { baseOffset: 0n, logAppendTimeMs: -1n, logStartOffset: 0n } });
    expect(acc.bufferedBytes).toBe(5000);
    expect(held).toBeGreaterThan(5000);
    acc.releaseRequest(5000);
    expect(acc.bufferedBytes).toBe(0);
  });

  it('abortOnNewBatch: returns null instead of starting a batch (the sticky partitioner switches first)', () => {
    const { acc, add } = make({ batchSizeBytes: 300, lingerMs: 1e9 });
    expect(add(0, 'a', true)).toBeNull(); // no open batch yet
    expect(add(0, 'a')).not.toBeNull();
    expect(add(0, 'b', true)?.index).toBe(1); // fits: appended
    const value = 'x'.repeat(250);
    expect(add(0, value, true)).toBeNull(); // would need a new batch
    expect(acc.queue('t', 0).batches[0].recordCount).toBe(2);
    expect(acc.queue('t', 0).batches).toHaveLength(1);
  });

  it('drain takes several sealed batches of a partition up to maxBytes, and requeue puts them back in order', () => {
    const { acc, add } = make({ batchSizeBytes: 200, lingerMs: 1e9 });
    for (let i = 0; i < 6; i++) add(0, 'x'.repeat(100)); // one record per batch
    const q = acc.queue('t', 0);
    const taken = acc.drain(q, 2 * (BATCH_OVERHEAD_BYTES + 109) + 10);
    expect(taken).toHaveLength(2);
    acc.requeue(taken);
    expect(q.batches.slice(0, 2)).toEqual(taken);
  });

  it('add (the producer\'s path) appends to a given queue and returns the batch; the record\'s index is recordCount - 1', () => {
    const { acc, record } = make({ batchSizeBytes: 350, lingerMs: 1e9 });
    const q = acc.queue('t', 2);
    const value = 'x'.repeat(100);
    const bytes = estimateRecordBytes({ value });
    const add = (abort = false) => { const r = record(value); return acc.add(q, r.timestamp, r.key, r.value, r.headers, bytes, 1, 0, abort); };
    const a = add()!;
    const b = add()!;
    expect(b).toBe(a);
    expect(b.recordCount - 1).toBe(1);
    expect(add(true)).toBeNull(); // would start a new batch
    expect(a.recordCount).toBe(2); // the record tried and taken back is not in it
    const c = add()!;
    expect(c).not.toBe(a);
    expect([a.sealed, c.recordCount, c.partition]).toEqual([true, 1, 2]);
    expect(q.batches).toEqual([a, c]);
  });
});
