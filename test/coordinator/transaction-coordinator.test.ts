import { describe, expect, it } from 'vitest';
import { WafkaError } from '../../src/errors.ts';
import {
  TransactionCoordinator, type TransactionCoordinatorConfig,
} from '../../src/coordinator/transaction/transaction-coordinator.ts';
import {
  decodeTransactionLogRecord, transactionLogKey, transactionLogValue, TRANSACTION_STATE_IDS, type TransactionLogRecord,
} from '../../src/coordinator/transaction/transaction-log-records.ts';
import { isLegalTransition, TransactionMetadata } from '../../src/coordinator/transaction/transaction-metadata.ts';
import { coordinatorPartition } from '../../src/coordinator/coordinator-partition.ts';
import type { TransactionState, TxnMarker, TxnPartitionResults } from '../../src/protocol/types.ts';
import { SimScheduler } from '../../src/sim/scheduler.ts';

/** __transaction_state as a list of raw records; `failNext` makes the next append fail as a lost leadership would. */
class MemoryTxnLog {
  readonly records: { partition: number; key: Uint8Array; value: Uint8Array | null }[] = [];
  /** The states each append wrote, in order (one write may hold several). */
  readonly appends: string[][] = [];
  failNext: WafkaError | null = null;
  async append(partition: number, records: { key: Uint8Array; value: Uint8Array | null }[]): Promise<void> {
    if (this.failNext) { const e = this.failNext; this.failNext = null; throw e; }
    for (const r of records) this.records.push({ partition, ...r });
    this.appends.push(records.map((r) => { const d = decodeTransactionLogRecord(r.key, r.value); return d.kind === 'transaction' && d.value ? `${d.value.state}@${d.value.producerEpoch}` : 'tombstone'; }));
  }
  async *replay(partition: number): AsyncIterable<TransactionLogRecord[]> {
    yield this.records.filter((r) => r.partition === partition).map((r) => decodeTransactionLogRecord(r.key, r.value));
  }
  states(transactionalId: string): string[] {
    return this.records.map((r) => decodeTransactionLogRecord(r.key, r.value))
      .filter((r) => r.kind === 'transaction' && r.transactionalId === transactionalId)
      .map((r) => (r.kind === 'transaction' && r.value ? `${r.value.state}@${r.value.producerEpoch}` : 'tombstone'));
  }
}

/** Partition leaders as the coordinator reaches them: records every marker written; `down` partitions refuse. */
class MarkerWriters {
  readonly written: { topic: string; partition: number; producerId: bigint; producerEpoch: number; committed: boolean; coordinatorEpoch: number }[] = [];
  readonly down = new Set<string>();
  attempts = 0;
  async write(marker: TxnMarker): Promise<TxnPartitionResults[]> {
    this.attempts++;
    return marker.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((partition) => {
        if (this.down.has(`${t.topic}-${partition}`)) return { partition, error: new WafkaError('NOT_LEADER_OR_FOLLOWER', 'down').toJSON() };
        this.written.push({ topic: t.topic, partition, producerId: marker.producerId, producerEpoch: marker.producerEpoch, committed: marker.committed, coordinatorEpoch: marker.coordinatorEpoch });
        return { partition };
      }),
    }));
  }
}

const PARTITIONS = 3;
const TXN = 'copier-1';

async function setUp(config: Partial<TransactionCoordinatorConfig> = {}, shared?: { log: MemoryTxnLog; markers: MarkerWriters; clock: SimScheduler }) {
  const clock = shared?.clock ?? new SimScheduler(11);
  const log = shared?.log ?? new MemoryTxnLog();
  const markers = shared?.markers ?? new MarkerWriters();
  let nextId = shared ? 500n : 100n;
  const coordinator = new TransactionCoordinator({
    nodeId: 1, clock, log, markers, newProducerId: async () => nextId++,
    config: { transactionStateTopicNumPartitions: PARTITIONS, transactionAbortTimedOutTransactionCleanupIntervalMs: 1_000, ...config },
  });
  return { clock, log, markers, coordinator, load: async (epoch = 0) => { for (let p = 0; p < PARTITIONS; p++) await coordinator.load(p, epoch, log.replay(p)); } };
}

const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: WafkaError) => e.type);

async function begin(c: TransactionCoordinator, producerId: bigint, producerEpoch: number, partitions = [0, 1]) {
  const added = await c.addPartitionsToTxn({ transactionalId: TXN, producerId, producerEpoch, topics: [{ topic: 'out', partitions }] });
  expect(added.error).toBeUndefined();
}

describe('transaction state machine', () => {
  it('allows exactly Kafka\'s transitions', () => {
    const legal: Record<TransactionState, TransactionState[]> = {
      Empty: ['Empty', 'CompleteCommit', 'CompleteAbort'],
      Ongoing: ['Ongoing', 'Empty', 'CompleteCommit', 'CompleteAbort'],
      PrepareCommit: ['Ongoing'],
      PrepareAbort: ['Ongoing', 'PrepareEpochFence'],
      CompleteCommit: ['PrepareCommit'],
      CompleteAbort: ['PrepareAbort'],
      PrepareEpochFence: ['Ongoing'],
      Dead: ['Empty', 'CompleteCommit', 'CompleteAbort'],
    };
    for (const to of TRANSACTION_STATE_IDS) {
      for (const from of TRANSACTION_STATE_IDS) expect(isLegalTransition(from, to), `${from} → ${to}`).toBe(legal[to].includes(from));
    }
  });

  it('prepare refuses an illegal transition with INVALID_TXN_STATE and leaves nothing pending', () => {
    const m = new TransactionMetadata({ transactionalId: 'x', partition: 0, producerId: 1n, producerEpoch: 0, transactionTimeoutMs: 1000, state: 'Empty', nowMs: 0 });
    expect(() => m.prepare({ state: 'PrepareCommit' }, 1)).toThrow(expect.objectContaining({ type: 'INVALID_TXN_STATE' }));
    expect(m.pending).toBeNull();
    const t = m.prepare({ state: 'Ongoing' }, 1);
    expect(() => m.prepare({ state: 'Ongoing' }, 1)).toThrow(expect.objectContaining({ type: 'CONCURRENT_TRANSACTIONS' }));
    m.complete(t);
    expect(m.state).toBe('Ongoing');
    expect(() => m.prepare({ state: 'CompleteCommit' }, 2)).toThrow(expect.objectContaining({ type: 'INVALID_TXN_STATE' }));
  });

  it('writes Kafka\'s TransactionLogKey/Value v0 bytes', () => {
    expect([...transactionLogKey('ab')]).toEqual([0, 0, 0, 2, 97, 98]);
    const value = transactionLogValue({ producerId: 7n, producerEpoch: 3, transactionTimeoutMs: 60_000, state: 'Ongoing', partitions: [{ topic: 't', partitions: [1, 2] }], lastUpdateTimestampMs: 9n, startTimestampMs: 8n });
    expect([...value]).toEqual([
      0, 0, /* producerId */ 0, 0, 0, 0, 0, 0, 0, 7, /* epoch */ 0, 3, /* timeout */ 0, 0, 0xea, 0x60, /* status */ 1,
      /* partitions */ 0, 0, 0, 1, 0, 1, 116, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2,
      /* last update */ 0, 0, 0, 0, 0, 0, 0, 9, /* start */ 0, 0, 0, 0, 0, 0, 0, 8,
    ]);
    const back = decodeTransactionLogRecord(transactionLogKey('ab'), value);
    expect(back).toEqual({ kind: 'transaction', transactionalId: 'ab', value: { producerId: 7n, producerEpoch: 3, transactionTimeoutMs: 60_000, state: 'Ongoing', partitions: [{ topic: 't', partitions: [1, 2] }], lastUpdateTimestampMs: 9n, startTimestampMs: 8n } });
    // Empty stores null partitions.
    const empty = transactionLogValue({ producerId: 7n, producerEpoch: 3, transactionTimeoutMs: 1, state: 'Empty', partitions: [], lastUpdateTimestampMs: 0n, startTimestampMs: -1n });
    expect([...empty.subarray(17, 21)]).toEqual([0xff, 0xff, 0xff, 0xff]);
    expect(() => decodeTransactionLogRecord(transactionLogKey('ab'), value.subarray(0, 20))).toThrow(expect.objectContaining({ type: 'CORRUPT_MESSAGE' }));
  });
});

describe('transaction coordinator', () => {
  it('puts a transactional id on partition abs(String.hashCode) % n', () => {
    expect(coordinatorPartition('hello', 50)).toBe(99162322 % 50);
    expect(coordinatorPartition('polygenelubricants', 50)).toBe(0);
  });

  it('InitProducerId: a new id gets epoch 0, the next holder epoch 1 and the first is fenced', async () => {
    const { coordinator: c, log, load } = await setUp();
    await load();
    const first = await c.initProducerId({ transactionalId: TXN, transactionTimeoutMs: 10_000 });
    expect(first).toEqual({ producerId: 100n, producerEpoch: 0 });
    const second = await c.initProducerId({ transactionalId: TXN, transactionTimeoutMs: 10_000 });
    expect(second).toEqual({ producerId: 100n, producerEpoch: 1 });
    expect(log.states(TXN)).toEqual(['Empty@0', 'Empty@1']);
    const zombie = await c.addPartitionsToTxn({ transactionalId: TXN, producerId: 100n, producerEpoch: 0, topics: [{ topic: 'out', partitions: [0] }] });
    expect(zombie.error?.type).toBe('PRODUCER_FENCED');
    expect(zombie.results[0].partitions[0].error?.type).toBe('PRODUCER_FENCED');
    expect((await c.endTxn({ transactionalId: TXN, producerId: 100n, producerEpoch: 0, committed: true })).error?.type).toBe('PRODUCER_FENCED');
    expect((await c.addPartitionsToTxn({ transactionalId: TXN, producerId: 999n, producerEpoch: 1, topics: [{ topic: 'out', partitions: [0] }] })).error?.type).toBe('INVALID_PRODUCER_ID_MAPPING');
  });

  it('refuses bad input: timeouts over the max, empty or long ids, a coordinator full of ids, too many partitions', async () => {
    const { coordinator: c, load } = await setUp({ transactionMaxTimeoutMs: 5_000, transactionalIdsPerCoordinatorMax: 2, transactionPartitionsMax: 3 });
    await load();
    expect(await code(c.initProducerId({ transactionalId: TXN, transactionTimeoutMs: 5_001 }))).toBe('INVALID_TRANSACTION_TIMEOUT');
    expect(await code(c.initProducerId({ transactionalId: TXN, transactionTimeoutMs: 0 }))).toBe('INVALID_TRANSACTION_TIMEOUT');
    expect(await code(c.initProducerId({ transactionalId: '', transactionTimeoutMs: 1 }))).toBe('INVALID_REQUEST');
    expect(await code(c.initProducerId({ transactionalId: 'x'.repeat(256), transactionTimeoutMs: 1 }))).toBe('INVALID_REQUEST');
    const { producerId, producerEpoch } = await c.initProducerId({ transactionalId: TXN, transactionTimeoutMs: 5_000 });
    await c.initProducerId({ transactionalId: 'b', transactionTimeoutMs: 5_000 });
    expect(await code(c.initProducerId({ transactionalId: 'c', transactionTimeoutMs: 5_000 }))).toBe('POLICY_VIOLATION');
    const tooMany = await c.addPartitionsToTxn({ transactionalId: TXN, producerId, producerEpoch, topics: [{ topic: 'out', partitions: [0, 1, 2, 3] }] });
    expect(tooMany.error?.type).toBe('POLICY_VIOLATION');
    expect(c.describe(TXN)?.state).toBe('Empty');
    await expect(c.addPartitionsToTxn({ transactionalId: TXN, producerId, producerEpoch, topics: [{ topic: 'out', partitions: [-1] }] })).rejects.toMatchObject({ type: 'INVALID_REQUEST' });
  });

  it('commit: Ongoing, PrepareCommit and CompleteCommit are written in order; markers carry the bumped epoch and the coordinator epoch; the answer is the new epoch', async () => {
    const { coordinator: c, log, markers, clock } = await setUp();
    for (let p = 0; p < PARTITIONS; p++) await c.load(p, 4, log.replay(p));
    const { producerId, producerEpoch } = await c.initProducerId({ transactionalId: TXN, transactionTimeoutMs: 10_000 });
    await begin(c, producerId, producerEpoch);
    // Adding a partition already in the transaction writes nothing more.
    await begin(c, producerId, producerEpoch, [1]);
    expect(log.states(TXN)).toEqual(['Empty@0', 'Ongoing@0']);
    const ended = await clock.settle(c.endTxn({ transactionalId: TXN, producerId, producerEpoch, committed: true }), 10_000);
    expect(ended).toEqual({ producerId, producerEpoch: 1 });
    expect(log.states(TXN)).toEqual(['Empty@0', 'Ongoing@0', 'PrepareCommit@1', 'CompleteCommit@1']);
    expect(markers.written.map((m) => `${m.topic}-${m.partition}:${m.committed}@${m.producerEpoch}/c${m.coordinatorEpoch}`)).toEqual(['out-0:true@1/c4', 'out-1:true@1/c4']);
    // The answer was lost: the retry with the old epoch gets the same answer, and nothing more is written.
    expect(await c.endTxn({ transactionalId: TXN, producerId, producerEpoch, committed: true })).toEqual({ producerId, producerEpoch: 1 });
    expect((await c.endTxn({ transactionalId: TXN, producerId, producerEpoch, committed: false })).error?.type).toBe('INVALID_TXN_STATE');
    expect(log.states(TXN)).toHaveLength(4);
    // An EndTxn with no open transaction is INVALID_TXN_STATE; the next transaction runs at the new epoch.
    expect((await c.endTxn({ transactionalId: TXN, producerId, producerEpoch: 1, committed: true })).error?.type).toBe('INVALID_TXN_STATE');
    await begin(c, producerId, 1, [2]);
    expect(c.describe(TXN)).toMatchObject({ state: 'Ongoing', producerEpoch: 1, partitions: [{ topic: 'out', partition: 2 }] });
  });

  it('a client that keeps its epoch (EndTxn below version 5): no bump at the end; its retry with the same epoch gets the outcome', async () => {
    const { coordinator: c, log, markers, clock, load } = await setUp();
    await load();
    const { producerId, producerEpoch } = await c.initProducerId({ transactionalId: TXN, transactionTimeoutMs: 10_000 });
    await begin(c, producerId, producerEpoch);
    const ended = await clock.settle(c.endTxn({ transactionalId: TXN, producerId, producerEpoch, committed: true, keepsEpoch: true }), 10_000);
    expect(ended).toEqual({ producerId, producerEpoch: 0 });
    expect(log.states(TXN)).toEqual(['Empty@0', 'Ongoing@0', 'PrepareCommit@0', 'CompleteCommit@0']);
    expect(markers.written.every((m) => m.producerEpoch === 0 && m.committed)).toBe(true);
    expect(await c.endTxn({ transactionalId: TXN, producerId, producerEpoch, committed: true, keepsEpoch: true })).toEqual({ producerId, producerEpoch: 0 });
    await begin(c, producerId, 0, [2]);
    expect(c.describe(TXN)?.state).toBe('Ongoing');
  });

  it('verifyOnly says which partitions are in the ongoing transaction and writes nothing', async () => {
    const { coordinator: c, log, load } = await setUp();
    await load();
    const { producerId, producerEpoch } = await c.initProducerId({ transactionalId: TXN, transactionTimeoutMs: 10_000 });
    const before = await c.addPartitionsToTxn({ transactionalId: TXN, producerId, producerEpoch, verifyOnly: true, topics: [{ topic: 'out', partitions: [0] }] });
    expect(before.results[0].partitions[0].error?.type).toBe('TRANSACTION_ABORTABLE');
    await begin(c, producerId, producerEpoch, [0]);
    const written = log.records.length;
    const verified = await c.addPartitionsToTxn({ transactionalId: TXN, producerId, producerEpoch, verifyOnly: true, topics: [{ topic: 'out', partitions: [0, 1] }] });
    expect(verified.results[0].partitions.map((p) => p.error?.type ?? 'ok')).toEqual(['ok', 'TRANSACTION_ABORTABLE']);
    const stale = await c.addPartitionsToTxn({ transactionalId: TXN, producerId, producerEpoch: producerEpoch + 5, verifyOnly: true, topics: [{ topic: 'out', partitions: [0] }] });
    expect(stale.results[0].partitions[0].error?.type).toBe('PRODUCER_FENCED');
    expect(log.records.length).toBe(written);
    expect(c.describe(TXN)?.partitions).toEqual([{ topic: 'out', partition: 0 }]);
  });

  it('a failed state write leaves the state as it was and answers the coordinator error', async () => {
    const { coordinator: c, log, load } = await setUp();
    await load();
    const { producerId, producerEpoch } = await c.initProducerId({ transactionalId: TXN, transactionTimeoutMs: 10_000 });
    log.failNext = new WafkaError('NOT_LEADER_OR_FOLLOWER', 'moved');
    const added = await c.addPartitionsToTxn({ transactionalId: TXN, producerId, producerEpoch, topics: [{ topic: 'out', partitions: [0] }] });
    expect(added.error?.type).toBe('NOT_COORDINATOR');
    expect(c.describe(TXN)?.state).toBe('Empty');
    log.failNext = new WafkaError('NOT_ENOUGH_REPLICAS', 'isr');
    expect(await code(c.initProducerId({ transactionalId: TXN, transactionTimeoutMs: 10_000 }))).toBe('COORDINATOR_NOT_AVAILABLE');
    expect(c.describe(TXN)?.producerEpoch).toBe(0);
  });

  it('answers EndTxn once PrepareCommit is stored; the next transaction is held until the markers and CompleteCommit are written', async () => {
    const { coordinator: c, log, markers, clock, load } = await setUp();
    await load();
    const { producerId, producerEpoch } = await c.initProducerId({ transactionalId: TXN, transactionTimeoutMs: 60_000 });
    await begin(c, producerId, producerEpoch);
    // The leader of out-1 cannot take its marker now.
    markers.down.add('out-1');
    const answer = await clock.settle(c.endTxn({ transactionalId: TXN, producerId, producerEpoch, committed: true }), 50);
    expect(answer).toEqual({ producerId, producerEpoch: 1 });
    expect(log.states(TXN).at(-1)).toBe('PrepareCommit@1');
    expect(markers.written.map((m) => `${m.topic}-${m.partition}`)).toEqual(['out-0']);
    // A retry of the EndTxn gets the same answer at once.
    expect(await clock.settle(c.endTxn({ transactionalId: TXN, producerId, producerEpoch, committed: true }), 50)).toEqual({ producerId, producerEpoch: 1 });

    // The next transaction's first request waits for the previous one to complete, rather than CONCURRENT_TRANSACTIONS.
    let next: { error?: { type: string } } | undefined;
    const adding = c.addPartitionsToTxn({ transactionalId: TXN, producerId, producerEpoch: 1, topics: [{ topic: 'out', partitions: [2] }] });
    void adding.then((r) => { next = r; });
    await clock.runFor(1_000);
    expect(next).toBeUndefined();
    expect(c.describe(TXN)?.state).toBe('PrepareCommit');
    // The partition is back: its marker lands, CompleteCommit is stored, then the next transaction starts.
    markers.down.delete('out-1');
    expect((await clock.settle(adding, 5_000)).error).toBeUndefined();
    expect(markers.written.map((m) => `${m.topic}-${m.partition}:${m.committed}@${m.producerEpoch}`)).toEqual(['out-0:true@1', 'out-1:true@1']);
    expect(log.states(TXN)).toEqual(['Empty@0', 'Ongoing@0', 'PrepareCommit@1', 'CompleteCommit@1', 'Ongoing@1']);
    // The held add was written with the Complete state: one replicated write for both.
    expect(log.appends.at(-1)).toEqual(['CompleteCommit@1', 'Ongoing@1']);
    expect(c.describe(TXN)?.state).toBe('Ongoing');
  });

  it('adds held behind an ending transaction share its Complete write; an add during another add\'s write waits for it instead of CONCURRENT_TRANSACTIONS', async () => {
    const { coordinator: c, log, markers, clock, load } = await setUp();
    await load();
    const { producerId, producerEpoch } = await c.initProducerId({ transactionalId: TXN, transactionTimeoutMs: 60_000 });
    // Two adds at once (a send's partitions and sendOffsets'): both answered, one after the other.
    const both = await clock.settle(Promise.all([
      c.addPartitionsToTxn({ transactionalId: TXN, producerId, producerEpoch, topics: [{ topic: 'out', partitions: [0] }] }),
      c.addPartitionsToTxn({ transactionalId: TXN, producerId, producerEpoch, topics: [{ topic: 'offsets', partitions: [3] }] }),
    ]), 1_000);
    expect(both.map((r) => r.error)).toEqual([undefined, undefined]);
    expect(log.appends.slice(1)).toEqual([['Ongoing@0'], ['Ongoing@0']]);

    markers.down.add('out-0');
    expect((await clock.settle(c.endTxn({ transactionalId: TXN, producerId, producerEpoch, committed: true }), 50)).error).toBeUndefined();
    const held = Promise.all([
      c.addPartitionsToTxn({ transactionalId: TXN, producerId, producerEpoch: 1, topics: [{ topic: 'out', partitions: [1] }] }),
      c.addPartitionsToTxn({ transactionalId: TXN, producerId, producerEpoch: 1, topics: [{ topic: 'offsets', partitions: [3] }] }),
    ]);
    await clock.runFor(200);
    markers.down.clear();
    expect((await clock.settle(held, 5_000)).map((r) => r.error)).toEqual([undefined, undefined]);
    expect(log.appends.at(-1)).toEqual(['CompleteCommit@1', 'Ongoing@1']);
    expect(c.describe(TXN)?.partitions?.map((t) => t.topic).sort()).toEqual(['offsets', 'out']);
    // A replay sees the transaction the merged write opened.
    const again = await setUp({}, { log, markers, clock });
    await again.load(1);
    expect(again.coordinator.describe(TXN)?.state).toBe('Ongoing');
  });

  it('holds the next transaction\'s request only up to transactionEndWaitMs, then answers CONCURRENT_TRANSACTIONS', async () => {
    const { coordinator: c, markers, clock, load } = await setUp({ transactionEndWaitMs: 300 });
    await load();
    const { producerId, producerEpoch } = await c.initProducerId({ transactionalId: TXN, transactionTimeoutMs: 60_000 });
    await begin(c, producerId, producerEpoch);
    markers.down.add('out-0');
    await clock.settle(c.endTxn({ transactionalId: TXN, producerId, producerEpoch, committed: false }), 50);
    const t0 = clock.nowMs();
    const held = await clock.settle(c.addPartitionsToTxn({ transactionalId: TXN, producerId, producerEpoch: 1, topics: [{ topic: 'out', partitions: [0] }] }), 5_000);
    expect(held.error?.type).toBe('CONCURRENT_TRANSACTIONS');
    expect(clock.nowMs() - t0).toBeGreaterThanOrEqual(300);
    expect(await code(clock.settle(c.initProducerId({ transactionalId: TXN, transactionTimeoutMs: 60_000 }), 5_000))).toBe('CONCURRENT_TRANSACTIONS');
    markers.down.clear();
    await clock.runUntil(() => c.describe(TXN)?.state === 'CompleteAbort', 10_000);
    expect(c.describe(TXN)?.state).toBe('CompleteAbort');
  });

  it('a coordinator failover in the middle of a commit: the new coordinator replays PrepareCommit, writes the markers and completes', async () => {
    const first = await setUp();
    await first.load(0);
    const { producerId, producerEpoch } = await first.coordinator.initProducerId({ transactionalId: TXN, transactionTimeoutMs: 10_000 });
    await begin(first.coordinator, producerId, producerEpoch);
    first.markers.down.add('out-1');
    const pending = first.coordinator.endTxn({ transactionalId: TXN, producerId, producerEpoch, committed: true });
    await new Promise((r) => setImmediate(r));
    await first.clock.runFor(300);
    expect(first.log.states(TXN).at(-1)).toBe('PrepareCommit@1');
    expect(first.markers.written.map((m) => `${m.topic}-${m.partition}`)).toEqual(['out-0']);
    // The commit is decided once PrepareCommit is stored: EndTxn is answered then, with a marker still to write.
    const answer = await first.clock.settle(pending, 10_000);
    expect(answer).toEqual({ producerId, producerEpoch: 1 });
    // The coordinator's partition moves away: it stops sending.
    first.coordinator.unload(first.coordinator.partitionFor(TXN));
    const attempts = first.markers.attempts;
    await first.clock.runFor(5_000);
    expect(first.markers.attempts).toBe(attempts);

    // The new coordinator (same log, its own marker writers) loads at the next leader epoch.
    first.markers.down.clear();
    const second = await setUp({}, { log: first.log, markers: new MarkerWriters(), clock: first.clock });
    await second.load(1);
    await first.clock.runUntil(() => second.coordinator.describe(TXN)?.state === 'CompleteCommit', 10_000);
    expect(second.markers.written.map((m) => `${m.topic}-${m.partition}:${m.committed}@${m.producerEpoch}/c${m.coordinatorEpoch}`)).toEqual(['out-0:true@1/c1', 'out-1:true@1/c1']);
    expect(first.log.states(TXN)).toEqual(['Empty@0', 'Ongoing@0', 'PrepareCommit@1', 'CompleteCommit@1']);
    // The client's retry at the new coordinator (old epoch) gets the outcome.
    expect(await second.coordinator.endTxn({ transactionalId: TXN, producerId, producerEpoch, committed: true })).toEqual({ producerId, producerEpoch: 1 });
  });

  it('requests while loading get COORDINATOR_LOAD_IN_PROGRESS; for other partitions NOT_COORDINATOR', async () => {
    const { coordinator: c } = await setUp();
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const partition = c.partitionFor(TXN);
    const loading = c.load(partition, 0, (async function* () { await gate; yield []; })());
    expect(await code(c.initProducerId({ transactionalId: TXN, transactionTimeoutMs: 1000 }))).toBe('COORDINATOR_LOAD_IN_PROGRESS');
    release();
    await loading;
    expect(await code(c.initProducerId({ transactionalId: TXN, transactionTimeoutMs: 1000 }))).toBe('ok');
    const other = ['a', 'b', 'c', 'd', 'e', 'f'].find((id) => c.partitionFor(id) !== partition)!;
    expect(await code(c.initProducerId({ transactionalId: other, transactionTimeoutMs: 1000 }))).toBe('NOT_COORDINATOR');
  });

  it('a transaction open past its timeout is aborted with the epoch bumped twice: the late producer is fenced', async () => {
    const { coordinator: c, log, markers, clock, load } = await setUp();
    await load();
    const { producerId, producerEpoch } = await c.initProducerId({ transactionalId: TXN, transactionTimeoutMs: 3_000 });
    await begin(c, producerId, producerEpoch);
    await clock.runFor(2_000);
    expect(c.describe(TXN)?.state).toBe('Ongoing');
    await clock.runUntil(() => c.describe(TXN)?.state === 'CompleteAbort', 10_000);
    expect(markers.written.map((m) => `${m.topic}-${m.partition}:${m.committed}@${m.producerEpoch}`)).toEqual(['out-0:false@2', 'out-1:false@2']);
    expect(log.states(TXN)).toEqual(['Empty@0', 'Ongoing@0', 'PrepareAbort@2', 'CompleteAbort@2']);
    expect((await c.endTxn({ transactionalId: TXN, producerId, producerEpoch, committed: true })).error?.type).toBe('PRODUCER_FENCED');
    expect((await c.endTxn({ transactionalId: TXN, producerId, producerEpoch, committed: false })).error?.type).toBe('PRODUCER_FENCED');
    expect((await c.addPartitionsToTxn({ transactionalId: TXN, producerId, producerEpoch, topics: [{ topic: 'out', partitions: [0] }] })).error?.type).toBe('PRODUCER_FENCED');
    // A new holder goes on from there.
    expect(await c.initProducerId({ transactionalId: TXN, transactionTimeoutMs: 3_000 })).toEqual({ producerId, producerEpoch: 3 });
  });

  it('InitProducerId while the previous holder\'s transaction is open aborts it first (CONCURRENT_TRANSACTIONS until done)', async () => {
    const { coordinator: c, markers, clock, load } = await setUp();
    await load();
    const old = await c.initProducerId({ transactionalId: TXN, transactionTimeoutMs: 60_000 });
    await begin(c, old.producerId, old.producerEpoch);
    expect(await code(c.initProducerId({ transactionalId: TXN, transactionTimeoutMs: 60_000 }))).toBe('CONCURRENT_TRANSACTIONS');
    await clock.runUntil(() => c.describe(TXN)?.state === 'CompleteAbort', 10_000);
    expect(markers.written.every((m) => !m.committed && m.producerEpoch === 2)).toBe(true);
    const fresh = await c.initProducerId({ transactionalId: TXN, transactionTimeoutMs: 60_000 });
    expect(fresh).toEqual({ producerId: old.producerId, producerEpoch: 3 });
    expect((await c.endTxn({ transactionalId: TXN, ...old, committed: true })).error?.type).toBe('PRODUCER_FENCED');
  });

  it('an exhausted epoch moves the id to a new producer id', async () => {
    const { coordinator: c, log, load } = await setUp();
    // A stored state at epoch 32765 (Kafka: Short.MaxValue - 2 and up cannot be bumped for a fence).
    const partition = coordinatorPartition(TXN, PARTITIONS);
    log.records.push({ partition, key: transactionLogKey(TXN), value: transactionLogValue({ producerId: 42n, producerEpoch: 32765, transactionTimeoutMs: 1000, state: 'CompleteCommit', partitions: [], lastUpdateTimestampMs: 0n, startTimestampMs: -1n }) });
    await load();
    expect(await c.initProducerId({ transactionalId: TXN, transactionTimeoutMs: 1000 })).toEqual({ producerId: 100n, producerEpoch: 0 });
  });

  it('an idle id expires after transactionalIdExpirationMs: a tombstone, and a replay forgets it', async () => {
    const { coordinator: c, log, clock, load } = await setUp({ transactionalIdExpirationMs: 60_000, transactionRemoveExpiredTransactionCleanupIntervalMs: 10_000 });
    await load();
    await c.initProducerId({ transactionalId: TXN, transactionTimeoutMs: 1000 });
    await c.initProducerId({ transactionalId: 'busy', transactionTimeoutMs: 1000 });
    await clock.runFor(30_000);
    await c.initProducerId({ transactionalId: 'busy', transactionTimeoutMs: 1000 });
    await clock.runUntil(() => c.describe(TXN) === null, 100_000);
    expect(log.states(TXN).at(-1)).toBe('tombstone');
    expect(c.describe('busy')).not.toBeNull();
    const again = await setUp({}, { log, markers: new MarkerWriters(), clock });
    await again.load(1);
    expect(again.coordinator.describe(TXN)).toBeNull();
    expect((await again.coordinator.describeTransactions({ transactionalIds: [TXN] })).transactionStates[0].error?.type).toBe('TRANSACTIONAL_ID_NOT_FOUND');
  });

  it('describes and lists transactions with filters', async () => {
    const { coordinator: c, load } = await setUp();
    await load();
    const a = await c.initProducerId({ transactionalId: TXN, transactionTimeoutMs: 7_000 });
    await c.initProducerId({ transactionalId: 'other', transactionTimeoutMs: 7_000 });
    await begin(c, a.producerId, a.producerEpoch, [3]);
    const described = (await c.describeTransactions({ transactionalIds: [TXN] })).transactionStates[0];
    expect(described).toMatchObject({ transactionalId: TXN, state: 'Ongoing', producerId: a.producerId, producerEpoch: 0, transactionTimeoutMs: 7_000, topics: [{ topic: 'out', partitions: [3] }] });
    expect(described.transactionStartTimeMs).toBeGreaterThanOrEqual(0n);
    expect((await c.listTransactions({})).transactionStates.map((t) => t.transactionalId)).toEqual([TXN, 'other']);
    expect((await c.listTransactions({ stateFilters: ['Ongoing'] })).transactionStates.map((t) => t.transactionalId)).toEqual([TXN]);
    expect((await c.listTransactions({ producerIdFilters: [a.producerId] })).transactionStates.map((t) => t.transactionalId)).toEqual([TXN]);
  });
});
