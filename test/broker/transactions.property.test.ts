// Property: any interleaving of plain and transactional batches, commits, aborts and epoch bumps on one partition,
// read back read_committed in pages (with the consumer's aborted-transaction filter), gives exactly the plain and
// committed records below the last stable offset, in offset order; the last stable offset is always the first
// offset of the oldest open transaction (or the high watermark); a restarted broker answers the same.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AbortedTransactionFilter } from '../../src/client/aborted-transactions.ts';
import { batchSpans, ControlRecordTypes, decodeBatchSync, parseControlRecord } from '../../src/core/index.ts';
import type { Broker } from '../../src/broker/broker.ts';
import { batchOf, startTestCluster } from './helpers.ts';
import { produce, txnBatch, writeMarker } from './transactions.ts';

type Op = { kind: 'plain'; size: number } | { kind: 'txn'; producer: number; size: number } | { kind: 'end'; producer: number; commit: boolean; bump: boolean };

const PRODUCERS = 3;
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('plain' as const), size: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('txn' as const), producer: fc.nat(PRODUCERS - 1), size: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('end' as const), producer: fc.nat(PRODUCERS - 1), commit: fc.boolean(), bump: fc.boolean() }),
);

/** Reads [0, lastStableOffset) read_committed in pages of about `pageBytes`, filtered as the consumer does. */
async function readCommitted(broker: Broker, pageBytes: number): Promise<{ values: string[]; lastStableOffset: bigint }> {
  const values: string[] = [];
  let offset = 0n;
  for (let pages = 0; pages < 1000; pages++) {
    const r = (await broker.fetch({
      maxWaitMs: 0, minBytes: 0, maxBytes: pageBytes, isolationLevel: 'read_committed',
      topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: pageBytes }] }],
    })).topics[0].partitions[0];
    expect(r.error).toBeUndefined();
    if (!r.records) return { values, lastStableOffset: r.lastStableOffset };
    const filter = new AbortedTransactionFilter(r.abortedTransactions);
    for (const span of batchSpans(new DataView(r.records.buffer, r.records.byteOffset, r.records.byteLength))) {
      const batch = decodeBatchSync(r.records, { position: span.at });
      expect(batch.lastOffset).toBeLessThan(r.lastStableOffset);
      const isAbortMarker = batch.isControlBatch && parseControlRecord(batch.records[0]).type === ControlRecordTypes.ABORT;
      if (filter.delivers({ ...batch, isAbortMarker })) {
        for (const record of batch.records) if (record.offset >= offset) values.push(new TextDecoder().decode(record.value!));
      }
      offset = batch.lastOffset + 1n;
    }
  }
  throw new Error('too many pages');
}

describe('read_committed over random transactions (property)', () => {
  it('returns exactly the plain and committed records below the last stable offset, which never passes an open transaction', async () => {
    await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), fc.integer({ min: 80, max: 600 }), async (ops, pageBytes) => {
      const cluster = await startTestCluster(1, { transactionPartitionVerificationEnable: false });
      try {
        let broker = cluster.brokers[0];
        await broker.createTopics({ topics: [{ topic: 't', numPartitions: 1 }] });
        // The model: each record's value and fate, and each producer's open transaction.
        const records: { value: string; offset: bigint; fate: 'visible' | 'pending' | 'aborted'; producer: number }[] = [];
        const producers = Array.from({ length: PRODUCERS }, () => ({ epoch: 0, sequence: 0, openAt: null as bigint | null }));
        let end = 0n;
        for (const [i, o] of ops.entries()) {
          if (o.kind === 'plain') {
            const values = Array.from({ length: o.size }, (_, j) => `p${i}.${j}`);
            expect(await produce(broker, await batchOf(values), null)).toMatchObject({ baseOffset: end });
            for (const value of values) records.push({ value, offset: end++, fate: 'visible', producer: -1 });
          } else if (o.kind === 'txn') {
            const p = producers[o.producer];
            const values = Array.from({ length: o.size }, (_, j) => `t${o.producer}.${i}.${j}`);
            expect(await produce(broker, await txnBatch(values, BigInt(100 + o.producer), p.sequence, p.epoch))).toMatchObject({ baseOffset: end });
            p.sequence += o.size;
            p.openAt ??= end;
            for (const value of values) records.push({ value, offset: end++, fate: 'pending', producer: o.producer });
          } else {
            const p = producers[o.producer];
            const epoch = o.bump ? p.epoch + 1 : p.epoch;
            expect(await writeMarker(broker, { producerId: BigInt(100 + o.producer), producerEpoch: epoch, committed: o.commit })).toEqual({ partition: 0 });
            end++;
            for (const r of records) if (r.producer === o.producer && r.fate === 'pending') r.fate = o.commit ? 'visible' : 'aborted';
            p.openAt = null;
            if (o.bump) { p.epoch = epoch; p.sequence = 0; }
          }
          const open = producers.flatMap((p) => (p.openAt === null ? [] : [p.openAt]));
          const expectedStable = open.reduce((a, b) => (b < a ? b : a), end);
          const { lastStableOffset } = await readCommitted(broker, 1 << 20);
          expect(lastStableOffset).toBe(expectedStable);
        }
        const expected = (stable: bigint) => records.filter((r) => r.offset < stable && r.fate === 'visible').map((r) => r.value);
        const read = await readCommitted(broker, pageBytes);
        expect(read.values).toEqual(expected(read.lastStableOffset));
        // Rebuilt from the log, the state answers the same.
        broker = await cluster.restart(0);
        const again = await readCommitted(broker, pageBytes);
        expect(again).toEqual(read);
      } finally {
        await cluster.close();
      }
    }), { numRuns: 150 });
  }, 120_000);
});

