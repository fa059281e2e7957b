// The partition side of Kafka's transactions: transactional produce, WriteTxnMarkers, the last stable offset,
// read_committed fetch with its aborted transactions, and ListOffsets under read_committed.
import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.ts';
import { decodeProducerSnapshot } from '../../src/broker/producer-snapshot.ts';
import type { MarkerWritten } from '../../src/broker/transaction-markers.ts';
import { encodeBatch } from '../../src/core/index.ts';
import type { BrokerApi, IsolationLevel } from '../../src/protocol/types.ts';
import { batchOf, concat, startTestCluster, type TestCluster } from './helpers.ts';
import { fetchFrom, produce, txnBatch, writeMarker } from './transactions.ts';

// Transactional batches and markers are written straight to the partition, with no transaction coordinator behind
// them: the leader's check with the coordinator before a transaction's first batch (KIP-890) is off.
const UNVERIFIED = { transactionPartitionVerificationEnable: false };

let cluster: TestCluster | undefined;
afterEach(async () => { await cluster?.close(); cluster = undefined; });

async function listLatest(broker: BrokerApi, isolationLevel: IsolationLevel): Promise<bigint> {
  const r = await broker.listOffsets({ isolationLevel, topics: [{ topic: 't', partitions: [{ partition: 0, timestamp: -1n }] }] });
  return r.topics[0].partitions[0].offset;
}

async function oneBroker(): Promise<Broker> {
  cluster = await startTestCluster(1, UNVERIFIED);
  const broker = cluster.brokers[0];
  await broker.createTopics({ topics: [{ topic: 't', numPartitions: 1 }] });
  return broker;
}

describe('transactional produce', () => {
  it('is appended with a transactionalId; without one the whole request is TRANSACTIONAL_ID_AUTHORIZATION_FAILED and nothing is stored', async () => {
    const broker = await oneBroker();
    const refused = await broker.produce({
      acks: -1, timeoutMs: 5_000,
      topics: [{ topic: 't', partitions: [{ partition: 0, records: await txnBatch(['a'], 5n, 0) }] }],
    });
    expect(refused.topics[0].partitions[0].error).toMatchObject({ type: 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', code: 53 });
    expect(await listLatest(broker, 'read_uncommitted')).toBe(0n);
    expect(await produce(broker, await txnBatch(['a', 'b'], 5n, 0))).toMatchObject({ baseOffset: 0n });
    // A retry of the same batch is a duplicate, as an idempotent one is.
    expect(await produce(broker, await txnBatch(['a', 'b'], 5n, 0))).toMatchObject({ baseOffset: 0n });
    expect(await produce(broker, await txnBatch(['c'], 5n, 3))).toMatchObject({ error: { type: 'OUT_OF_ORDER_SEQUENCE_NUMBER' } });
    expect(await listLatest(broker, 'read_uncommitted')).toBe(2n);
  });

  it('refuses transactional batches of two producers in one request (INVALID_PRODUCER_ID_MAPPING) and a plain batch inside an open transaction (INVALID_TXN_STATE)', async () => {
    cluster = await startTestCluster(1, UNVERIFIED);
    const broker = cluster.brokers[0];
    await broker.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
    const two = await broker.produce({
      acks: -1, timeoutMs: 5_000, transactionalId: 'tx',
      topics: [{ topic: 't', partitions: [{ partition: 0, records: await txnBatch(['a'], 5n, 0) }, { partition: 1, records: await txnBatch(['b'], 6n, 0) }] }],
    });
    expect(two.topics[0].partitions.map((p) => p.error?.type)).toEqual(['INVALID_PRODUCER_ID_MAPPING', 'INVALID_PRODUCER_ID_MAPPING']);
    expect(await listLatest(broker, 'read_uncommitted')).toBe(0n);

    expect(await produce(broker, await txnBatch(['a'], 5n, 0))).toMatchObject({ baseOffset: 0n });
    const plain = await encodeBatch([{ key: null, value: 'p' }], { producerId: 5n, producerEpoch: 0, baseSequence: 1 });
    expect(await produce(broker, plain, null)).toMatchObject({ error: { type: 'INVALID_TXN_STATE' } });
    expect(await listLatest(broker, 'read_uncommitted')).toBe(1n);
  });
});

describe('WriteTxnMarkers and read_committed', () => {
  it('keeps the last stable offset at an open transaction’s first offset, and moves it past the marker once written', async () => {
    const broker = await oneBroker();
    const events: MarkerWritten[] = [];
    broker.onMarkerWritten((e) => events.push(e));
    await produce(broker, await batchOf(['plain-0']), null);
    await produce(broker, await txnBatch(['t1', 't2'], 5n, 0));
    await produce(broker, await batchOf(['plain-3']), null);

    let committed = await fetchFrom(broker, 'read_committed');
    expect(committed).toMatchObject({ highWatermark: 4n, lastStableOffset: 1n, abortedTransactions: [] });
    expect(committed.values).toEqual(['plain-0']);
    expect((await fetchFrom(broker, 'read_uncommitted')).values).toEqual(['plain-0', 't1', 't2', 'plain-3']);
    expect(await listLatest(broker, 'read_committed')).toBe(1n);
    expect(await listLatest(broker, 'read_uncommitted')).toBe(4n);

    expect(await writeMarker(broker, { producerId: 5n, producerEpoch: 0, committed: true })).toEqual({ partition: 0 });
    expect(events).toEqual([{ topic: 't', partition: 0, producerId: 5n, producerEpoch: 0, committed: true, offset: 4n }]);
    committed = await fetchFrom(broker, 'read_committed');
    expect(committed).toMatchObject({ highWatermark: 5n, lastStableOffset: 5n, abortedTransactions: [] });
    // The marker is a control batch: it comes with the records (the consumer skips it), as Kafka's does.
    expect(committed.values).toEqual(['plain-0', 't1', 't2', 'plain-3']);
    expect(committed.markers).toEqual([4n]);
    expect(await listLatest(broker, 'read_committed')).toBe(5n);
  });

  it('an aborted transaction is listed for every fetch whose records it overlaps, and only for those', async () => {
    const broker = await oneBroker();
    await produce(broker, await batchOf(['p0']), null); // 0
    await produce(broker, await txnBatch(['a1'], 5n, 0)); // 1
    await produce(broker, await txnBatch(['b2'], 6n, 0)); // 2
    await produce(broker, await txnBatch(['a3'], 5n, 1)); // 3
    expect(await writeMarker(broker, { producerId: 5n, producerEpoch: 0, committed: false })).toEqual({ partition: 0 }); // 4
    expect((await fetchFrom(broker, 'read_committed')).lastStableOffset).toBe(2n);
    expect(await writeMarker(broker, { producerId: 6n, producerEpoch: 0, committed: true })).toEqual({ partition: 0 }); // 5
    await produce(broker, await batchOf(['p6']), null); // 6

    const all = await fetchFrom(broker, 'read_committed');
    expect(all).toMatchObject({ lastStableOffset: 7n, abortedTransactions: [{ producerId: 5n, firstOffset: 1n }] });
    expect((await fetchFrom(broker, 'read_committed', 4n)).abortedTransactions).toEqual([{ producerId: 5n, firstOffset: 1n }]);
    expect((await fetchFrom(broker, 'read_committed', 5n)).abortedTransactions).toEqual([]);
    // read_uncommitted gets no list.
    expect((await fetchFrom(broker, 'read_uncommitted')).abortedTransactions).toBeUndefined();
  });

  it('answers a marker of an old producer epoch INVALID_PRODUCER_EPOCH, of an old coordinator epoch TRANSACTION_COORDINATOR_FENCED; a newer epoch bumps the producer’s', async () => {
    const broker = await oneBroker();
    await produce(broker, await txnBatch(['a'], 5n, 0, 3));
    expect(await writeMarker(broker, { producerId: 5n, producerEpoch: 2, committed: false })).toMatchObject({ error: { type: 'INVALID_PRODUCER_EPOCH' } });
    expect((await fetchFrom(broker, 'read_committed')).lastStableOffset).toBe(0n);
    // The coordinator bumps the epoch when it aborts (KIP-890): the marker carries the new one.
    expect(await writeMarker(broker, { producerId: 5n, producerEpoch: 4, committed: false, coordinatorEpoch: 7 })).toEqual({ partition: 0 });
    expect(await writeMarker(broker, { producerId: 5n, producerEpoch: 4, committed: true, coordinatorEpoch: 6 })).toMatchObject({ error: { type: 'TRANSACTION_COORDINATOR_FENCED' } });
    expect(await produce(broker, await txnBatch(['old'], 5n, 1, 3))).toMatchObject({ error: { type: 'INVALID_PRODUCER_EPOCH' } });
    // After the marker, a transactional batch of the new epoch starts at sequence 0 and opens a new transaction.
    expect(await produce(broker, await txnBatch(['new'], 5n, 1, 4))).toMatchObject({ error: { type: 'OUT_OF_ORDER_SEQUENCE_NUMBER' } });
    expect(await produce(broker, await txnBatch(['new'], 5n, 0, 4))).toMatchObject({ baseOffset: 2n });
    const after = await fetchFrom(broker, 'read_committed');
    expect(after).toMatchObject({ lastStableOffset: 2n, abortedTransactions: [{ producerId: 5n, firstOffset: 0n }] });
    expect(await listLatest(broker, 'read_uncommitted')).toBe(3n);
  });

  it('answers UNKNOWN_TOPIC_OR_PARTITION and NOT_LEADER_OR_FOLLOWER per partition, INVALID_REQUEST for a malformed request', async () => {
    cluster = await startTestCluster(2, UNVERIFIED);
    const [b0, b1] = cluster.brokers;
    await b0.createTopics({ topics: [{ topic: 't', replicaAssignment: [{ partition: 0, replicas: [0] }] }] });
    expect(await writeMarker(b0, { producerId: 5n, producerEpoch: 0, committed: true, topic: 'nope' })).toMatchObject({ error: { type: 'UNKNOWN_TOPIC_OR_PARTITION' } });
    expect(await writeMarker(b0, { producerId: 5n, producerEpoch: 0, committed: true, partition: 3 })).toMatchObject({ error: { type: 'UNKNOWN_TOPIC_OR_PARTITION' } });
    expect(await writeMarker(b1, { producerId: 5n, producerEpoch: 0, committed: true })).toMatchObject({ error: { type: 'NOT_LEADER_OR_FOLLOWER' } });
    await expect(b0.writeTxnMarkers({ markers: [{ producerId: 5, producerEpoch: 0, committed: true, coordinatorEpoch: 0, topics: [] }] } as never)).rejects.toMatchObject({ type: 'INVALID_REQUEST' });
    await expect(b0.writeTxnMarkers({ markers: [{ producerId: 5n, producerEpoch: 0, committed: 'yes', coordinatorEpoch: 0, topics: [] }] } as never)).rejects.toMatchObject({ type: 'INVALID_REQUEST' });
    const many = Array.from({ length: 1001 }, () => ({ producerId: 5n, producerEpoch: 0, committed: true, coordinatorEpoch: 0, topics: [] }));
    await expect(b0.writeTxnMarkers({ markers: many })).rejects.toMatchObject({ type: 'INVALID_REQUEST' });
    // A marker of a producer the partition never saw is written (an empty transaction): nothing changes for readers.
    expect(await writeMarker(b0, { producerId: 9n, producerEpoch: 0, committed: false })).toEqual({ partition: 0 });
    expect(await fetchFrom(b0, 'read_committed')).toMatchObject({ lastStableOffset: 1n, abortedTransactions: [] });
  });

  it('a client may not send a control batch', async () => {
    const broker = await oneBroker();
    const { encodeEndTransactionMarker } = await import('../../src/core/index.ts');
    const marker = encodeEndTransactionMarker({ type: 1, coordinatorEpoch: 0 }, { producerId: 5n, producerEpoch: 0 });
    expect((await produce(broker, concat(marker), 'tx')).error).toMatchObject({ type: 'INVALID_RECORD' });
    expect((await produce(broker, concat(marker), null)).error).toMatchObject({ type: 'INVALID_RECORD' });
    expect(await listLatest(broker, 'read_uncommitted')).toBe(0n);
  });
});

describe('retention and transactions', () => {
  it('retention trims aborted transactions below the new log start; a snapshot is written after the roll; ListOffsets by time stops at the LSO under read_committed', async () => {
    cluster = await startTestCluster(1, UNVERIFIED);
    const broker = cluster.brokers[0];
    await broker.createTopics({ topics: [{ topic: 't', configEntries: [{ name: 'segment.bytes', value: '1024' }, { name: 'retention.bytes', value: '2048' }] }] });
    const big = 'r'.repeat(300);
    await produce(broker, await txnBatch([big], 5n, 0)); // 0
    await writeMarker(broker, { producerId: 5n, producerEpoch: 0, committed: false }); // 1
    expect((await fetchFrom(broker, 'read_committed')).abortedTransactions).toEqual([{ producerId: 5n, firstOffset: 0n }]);
    for (let i = 0; i < 12; i++) await produce(broker, await batchOf([big]), null); // 2..13
    await produce(broker, await encodeBatch([{ key: null, value: 'open', timestamp: 9_000_000_000_000 }], { producerId: 6n, producerEpoch: 0, baseSequence: 0, isTransactional: true })); // 14
    await broker.runMaintenance();
    const start = (await broker.listOffsets({ isolationLevel: 'read_committed', topics: [{ topic: 't', partitions: [{ partition: 0, timestamp: -2n }] }] })).topics[0].partitions[0].offset;
    expect(start).toBeGreaterThan(1n);
    const replica = [...(broker as unknown as { describeReplicas(): { logStartOffset: bigint }[] }).describeReplicas()][0];
    expect(replica.logStartOffset).toBe(start);
    const fromStart = await fetchFrom(broker, 'read_committed', start);
    expect(fromStart).toMatchObject({ lastStableOffset: 14n, abortedTransactions: [] });
    // The snapshot written after the roll holds the trimmed index: no entry below the log start.
    const file = await cluster.backends[0].openFile('t-0/producer-state-snapshot', { create: false });
    const snapshot = decodeProducerSnapshot(await file.read(0, file.size));
    await file.close();
    expect(snapshot).toMatchObject({ logStartOffset: start, aborted: [] });
    expect(snapshot!.producers.map((p) => [p.producerId, p.currentTxnFirstOffset])).toEqual([[5n, null], [6n, 14n]]);
    // The open transaction's record is the only one that recent: past the LSO, read_committed finds none.
    const byTime = async (isolationLevel: IsolationLevel) => (await broker.listOffsets({ isolationLevel, topics: [{ topic: 't', partitions: [{ partition: 0, timestamp: 8_000_000_000_000n }] }] })).topics[0].partitions[0].offset;
    expect(await byTime('read_uncommitted')).toBe(14n);
    expect(await byTime('read_committed')).toBe(-1n);
  });
});

