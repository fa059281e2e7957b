// The producer state's transaction rules (Kafka's ProducerAppendInfo/ProducerStateManager) and the aborted index,
// unit by unit; and a follower's copy kept up batch by batch against the same state rebuilt from its log.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PartitionProducers } from '../../src/broker/partition-producers.ts';
import { ProducerState, PRODUCER_IDS_PER_PARTITION_MAX, type IdempotentBatch } from '../../src/broker/producer-state.ts';
import { StorageReplicaLogs } from '../../src/broker/storage-logs.ts';
import { AbortedTxnIndex } from '../../src/broker/transaction-index.ts';
import { ControlRecordTypes, encodeBatch, encodeEndTransactionMarker, loadCore } from '../../src/core/index.ts';
import { DEFAULT_TOPIC_CONFIG } from '../../src/metadata/topic-config.ts';
import { MemoryBackend } from '../../src/storage/index.ts';

const data = (producerId: bigint, baseSequence: number, baseOffset: bigint, isTransactional = true, producerEpoch = 0, records = 1): IdempotentBatch =>
  ({ producerId, producerEpoch, baseSequence, lastOffsetDelta: records - 1, baseOffset, maxTimestampMs: 0, isTransactional });
const marker = (producerId: bigint, offset: bigint, committed: boolean, producerEpoch = 0, coordinatorEpoch = 0) =>
  ({ producerId, producerEpoch, coordinatorEpoch, committed, offset, timestampMs: 0 });

describe('producer state: transactions', () => {
  it('a transaction holds the first unstable offset until its marker is below the high watermark', () => {
    const state = new ProducerState();
    state.apply(data(1n, 0, 10n), 0);
    state.apply(data(1n, 1, 12n), 0);
    expect(state.firstUnstableOffset(13n)).toBe(10n);
    expect(state.applyMarker(marker(1n, 13n, true), 0)).toEqual({ producerId: 1n, firstOffset: 10n, lastOffset: 13n, aborted: false });
    expect(state.ongoingTransactions.size).toBe(0);
    // Decided but not replicated yet: still unstable (Kafka's unreplicatedTxns).
    expect(state.firstUnstableOffset(13n)).toBe(10n);
    expect(state.firstUnstableOffset(14n)).toBeNull();
    // A marker of no data completes nothing.
    expect(state.applyMarker(marker(1n, 14n, false), 0)).toBeNull();
    expect(state.firstUnstableOffset(15n)).toBeNull();
  });

  it('an open transaction is never expired nor evicted; a closed one is', () => {
    const state = new ProducerState();
    state.apply(data(1n, 0, 0n), 0);
    state.apply(data(2n, 0, 1n, false), 0);
    state.expire(10_000, 1_000);
    expect(state.producerCount).toBe(1);
    expect(state.ongoingTransactions.get(1n)).toBe(0n);
    state.applyMarker(marker(1n, 2n, true), 0);
    state.expire(10_000, 1_000);
    expect(state.producerCount).toBe(0);

    const full = new ProducerState();
    full.apply(data(0n, 0, 0n), 0); // the least recently used, with an open transaction
    for (let id = 1; id < PRODUCER_IDS_PER_PARTITION_MAX; id++) full.apply(data(BigInt(id), 0, BigInt(id), false), 0);
    full.apply(data(BigInt(PRODUCER_IDS_PER_PARTITION_MAX), 0, 99_999n, false), 0);
    expect(full.producerCount).toBe(PRODUCER_IDS_PER_PARTITION_MAX);
    expect(full.ongoingTransactions.get(0n)).toBe(0n);
    expect(() => full.check(data(0n, 1, -1n))).not.toThrow();
    expect(() => full.check(data(1n, 1, -1n, false))).toThrow(/UNKNOWN_PRODUCER_ID/);
  });

  it('checks markers: older producer epoch, older coordinator epoch', () => {
    const state = new ProducerState();
    state.apply(data(1n, 0, 0n, true, 2), 0);
    expect(() => state.checkMarker({ producerId: 1n, producerEpoch: 1, coordinatorEpoch: 0 })).toThrow(/INVALID_PRODUCER_EPOCH/);
    state.applyMarker(marker(1n, 1n, false, 3, 5), 0);
    expect(() => state.checkMarker({ producerId: 1n, producerEpoch: 3, coordinatorEpoch: 4 })).toThrow(/TRANSACTION_COORDINATOR_FENCED/);
    expect(() => state.checkMarker({ producerId: 1n, producerEpoch: 3, coordinatorEpoch: 5 })).not.toThrow();
    // The marker's epoch is the producer's now: sequences start over.
    expect(() => state.check(data(1n, 1, -1n, true, 2))).toThrow(/INVALID_PRODUCER_EPOCH/);
    expect(() => state.check(data(1n, 1, -1n, true, 3))).toThrow(/OUT_OF_ORDER_SEQUENCE_NUMBER/);
    expect(state.check(data(1n, 0, -1n, true, 3))).toEqual({ kind: 'append' });
  });
});

describe('aborted transaction index', () => {
  it('property: collect equals a linear scan of the entries overlapping the range', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(3), fc.integer({ min: 1, max: 6 })), { maxLength: 30 }), fc.nat(200), fc.nat(60), (txns, from, span) => {
      // Random transactions laid out one after the other with overlaps: a state decides stableBefore.
      const state = new ProducerState();
      const index = new AbortedTxnIndex();
      let offset = 0n;
      const sequences = new Map<bigint, number>();
      for (const [producer, len] of txns) {
        const id = BigInt(producer);
        const seq = sequences.get(id) ?? 0;
        state.apply(data(id, seq, offset), 0);
        sequences.set(id, seq + 1);
        offset += BigInt(len);
        if (len % 2 === 0) {
          const done = state.applyMarker(marker(id, offset++, false), 0);
          if (done) {
            let stableBefore = done.lastOffset + 1n;
            for (const first of state.ongoingTransactions.values()) if (first < stableBefore) stableBefore = first;
            index.add({ producerId: done.producerId, firstOffset: done.firstOffset, lastOffset: done.lastOffset, stableBefore });
          }
        }
      }
      const fetchOffset = BigInt(from % (Number(offset) + 1));
      const upper = fetchOffset + BigInt(span);
      const linear = index.entries.filter((t) => t.lastOffset >= fetchOffset && t.firstOffset < upper).map(({ producerId, firstOffset }) => ({ producerId, firstOffset }));
      expect(index.collect(fetchOffset, upper)).toEqual(linear);
    }));
  });

  it('is cut with the log and trimmed at its start', () => {
    const index = new AbortedTxnIndex();
    index.add({ producerId: 1n, firstOffset: 0n, lastOffset: 5n, stableBefore: 6n });
    index.add({ producerId: 2n, firstOffset: 3n, lastOffset: 8n, stableBefore: 9n });
    expect(() => index.add({ producerId: 3n, firstOffset: 1n, lastOffset: 8n, stableBefore: 9n })).toThrow(RangeError);
    index.truncateTo(8n);
    expect(index.entries.map((t) => t.producerId)).toEqual([1n]);
    index.add({ producerId: 2n, firstOffset: 7n, lastOffset: 9n, stableBefore: 10n });
    index.trimBefore(6n);
    expect(index.entries.map((t) => t.producerId)).toEqual([2n]);
  });
});

describe('a follower’s producer state', () => {
  it('property: kept up batch by batch as it copies, it equals the state rebuilt from its log', async () => {
    await loadCore();
    type Step = { producer: number; end: 'commit' | 'abort' | null; records: number };
    await fc.assert(fc.asyncProperty(fc.array(fc.record({ producer: fc.nat(2), end: fc.constantFrom('commit' as const, 'abort' as const, null), records: fc.integer({ min: 1, max: 3 }) }), { maxLength: 20 }), async (steps: Step[]) => {
      const logs = new StorageReplicaLogs(new MemoryBackend(), 'memory');
      const log = await logs.open({ topic: 't', partition: 0, topicId: 'x' }, DEFAULT_TOPIC_CONFIG);
      const follower = new PartitionProducers();
      await follower.load(log, 0);
      let offset = 0n;
      const sequences = [0, 0, 0];
      for (const step of steps) {
        const id = BigInt(step.producer);
        const values = Array.from({ length: step.records }, () => ({ key: null, value: 'v' }));
        const batch = await encodeBatch(values, { baseOffset: offset, producerId: id, producerEpoch: 0, baseSequence: sequences[step.producer], isTransactional: true });
        sequences[step.producer] += step.records;
        offset += BigInt(step.records);
        const copied = [batch];
        if (step.end) copied.push(encodeEndTransactionMarker({ type: step.end === 'commit' ? ControlRecordTypes.COMMIT : ControlRecordTypes.ABORT, coordinatorEpoch: 0 }, { producerId: id, producerEpoch: 0, baseOffset: offset++ }));
        for (const bytes of copied) {
          await log.appendAsFollower(bytes);
          follower.appended(bytes, 0);
        }
      }
      const rebuilt = new PartitionProducers();
      await rebuilt.load(log, 0);
      for (let hw = 0n; hw <= offset; hw++) expect(follower.lastStableOffset(hw)).toBe(rebuilt.lastStableOffset(hw));
      expect(follower.abortedTransactions(0n, offset)).toEqual(rebuilt.abortedTransactions(0n, offset));
      expect([...follower.state!.ongoingTransactions]).toEqual([...rebuilt.state!.ongoingTransactions]);
      await log.close();
    }), { numRuns: 40 });
  });
});

describe('truncation', () => {
  it('a cut marker reopens its transaction and takes its aborted entry away; a cut transaction is gone', async () => {
    await loadCore();
    const logs = new StorageReplicaLogs(new MemoryBackend(), 'memory');
    const log = await logs.open({ topic: 't', partition: 0, topicId: 'x' }, DEFAULT_TOPIC_CONFIG);
    const producers = new PartitionProducers();
    await producers.load(log, 0);
    const steps = [
      await encodeBatch([{ key: null, value: 'a' }], { baseOffset: 0n, producerId: 1n, producerEpoch: 0, baseSequence: 0, isTransactional: true }),
      encodeEndTransactionMarker({ type: ControlRecordTypes.ABORT, coordinatorEpoch: 0 }, { producerId: 1n, producerEpoch: 0, baseOffset: 1n }),
      await encodeBatch([{ key: null, value: 'b' }], { baseOffset: 2n, producerId: 2n, producerEpoch: 0, baseSequence: 0, isTransactional: true }),
    ];
    for (const bytes of steps) {
      await log.appendAsFollower(bytes);
      producers.appended(bytes, 0);
    }
    expect(producers.lastStableOffset(3n)).toBe(2n);
    expect(producers.abortedTransactions(0n, 3n)).toEqual([{ producerId: 1n, firstOffset: 0n }]);
    await log.truncateTo(1n);
    producers.truncatedTo(1n);
    await producers.load(log, 0);
    expect(producers.lastStableOffset(1n)).toBe(0n);
    expect(producers.abortedTransactions(0n, 1n)).toEqual([]);
    expect([...producers.state!.ongoingTransactions]).toEqual([[1n, 0n]]);
    await log.close();
  });
});

