// KIP-890 part 1 on the produce path: before the first transactional batch of a producer id and epoch on a
// partition, its leader asks the transaction coordinator whether the partition is in the producer's ongoing
// transaction; one never added, or a late write of a transaction that has ended, is INVALID_TXN_STATE and nothing
// is stored (the "hanging transaction" Jepsen found: a late batch would open a transaction no marker ever closes).
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Broker } from '../../src/broker/broker.ts';
import { COORDINATOR_KEY_TYPE_TRANSACTION } from '../../src/protocol/types.ts';
import { replicatedCluster, type ReplicatedCluster } from './replicated-cluster.ts';
import { fetchFrom, produce, txnBatch } from './transactions.ts';

let cluster: ReplicatedCluster | undefined;
afterEach(async () => { await cluster?.close(); cluster = undefined; });

const CONFIG = { transactionStateTopicNumPartitions: 1 };

const logEnd = (broker: Broker, partition = 0) => broker.describeReplicas().find((r) => r.topic === 't' && r.partition === partition)!.logEndOffset;

/** The transactional id's coordinator (its __transaction_state partition created and loaded) and InitProducerId from it. */
async function initProducerId(c: ReplicatedCluster, transactionalId: string) {
  for (let attempt = 0; ; attempt++) {
    try {
      const found = (await c.brokers[0]!.findCoordinator({ keyType: COORDINATOR_KEY_TYPE_TRANSACTION, coordinatorKeys: [transactionalId] })).coordinators[0];
      if (!found.error && found.nodeId >= 0) {
        const coordinator = c.brokers[found.nodeId]!;
        return { coordinator: found.nodeId, ...(await coordinator.initProducerId({ transactionalId, transactionTimeoutMs: 60_000 })) };
      }
    } catch (error) {
      if (attempt > 200) throw error;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function setUp(transactionalId: string) {
  cluster = await replicatedCluster(1, CONFIG);
  const broker = cluster.brokers[0]!;
  await broker.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
  const { producerId, producerEpoch } = await initProducerId(cluster, transactionalId);
  return { broker, producerId, producerEpoch };
}

/** EndTxn is answered once the Prepare state is stored: waits for the markers and the Complete state. */
async function completed(broker: Broker, transactionalId: string, state: 'CompleteCommit' | 'CompleteAbort') {
  await vi.waitFor(() => expect(broker.transactions.describe(transactionalId)?.state).toBe(state), { timeout: 5_000, interval: 5 });
}

async function produceTo(broker: Broker, records: Uint8Array, partition: number, transactionalId: string) {
  return (await broker.produce({ acks: -1, timeoutMs: 5_000, transactionalId, topics: [{ topic: 't', partitions: [{ partition, records }] }] })).topics[0].partitions[0];
}

describe('transactional produce verified with the coordinator (KIP-890)', () => {
  it('refuses a partition never added to the transaction with INVALID_TXN_STATE and stores nothing; an added one goes through', async () => {
    const { broker, producerId, producerEpoch } = await setUp('tx');
    const added = await broker.addPartitionsToTxn({ transactionalId: 'tx', producerId, producerEpoch, topics: [{ topic: 't', partitions: [0] }] });
    expect(added.results[0].partitions[0].error).toBeUndefined();

    const refused = await produceTo(broker, await txnBatch(['not-added'], producerId, 0, producerEpoch), 1, 'tx');
    expect(refused.error).toMatchObject({ type: 'INVALID_TXN_STATE', retriable: false });
    expect(refused.error!.message).toMatch(/not added to the transaction/);
    expect(logEnd(broker, 1)).toBe(0n);

    expect(await produceTo(broker, await txnBatch(['a'], producerId, 0, producerEpoch), 0, 'tx')).toMatchObject({ baseOffset: 0n });
    // The transaction is open on the partition now: later batches need no new question.
    expect(await produceTo(broker, await txnBatch(['b'], producerId, 1, producerEpoch), 0, 'tx')).toMatchObject({ baseOffset: 1n });
    expect(logEnd(broker, 0)).toBe(2n);
  });

  it('refuses a late write of an ended transaction: at the epoch it kept (INVALID_TXN_STATE) and at the old one (INVALID_PRODUCER_EPOCH)', async () => {
    const { broker, producerId, producerEpoch } = await setUp('late');
    await broker.addPartitionsToTxn({ transactionalId: 'late', producerId, producerEpoch, topics: [{ topic: 't', partitions: [0] }] });
    expect(await produceTo(broker, await txnBatch(['in-txn'], producerId, 0, producerEpoch), 0, 'late')).toMatchObject({ baseOffset: 0n });
    // An EndTxn below version 5 keeps the epoch: only the coordinator can tell that a batch at it is late.
    const ended = await broker.endTxn({ transactionalId: 'late', producerId, producerEpoch, committed: true, keepsEpoch: true });
    expect(ended.error).toBeUndefined();
    await completed(broker, 'late', 'CompleteCommit');
    const afterMarker = logEnd(broker);
    const late = await produceTo(broker, await txnBatch(['late'], producerId, 1, ended.producerEpoch), 0, 'late');
    expect(late.error).toMatchObject({ type: 'INVALID_TXN_STATE' });
    expect(logEnd(broker)).toBe(afterMarker);

    // The next transaction, bumping the epoch (KIP-890 part 2): a write at the epoch before it is fenced.
    await broker.addPartitionsToTxn({ transactionalId: 'late', producerId, producerEpoch: ended.producerEpoch, topics: [{ topic: 't', partitions: [0] }] });
    expect((await produceTo(broker, await txnBatch(['next'], producerId, 1, ended.producerEpoch), 0, 'late')).error).toBeUndefined();
    const bumped = await broker.endTxn({ transactionalId: 'late', producerId, producerEpoch: ended.producerEpoch, committed: false });
    expect(bumped.producerEpoch).toBe(ended.producerEpoch + 1);
    await completed(broker, 'late', 'CompleteAbort');
    const end = logEnd(broker);
    const stale = await produceTo(broker, await txnBatch(['stale'], producerId, 2, ended.producerEpoch), 0, 'late');
    expect(stale.error).toMatchObject({ type: 'INVALID_PRODUCER_EPOCH' });
    expect(logEnd(broker)).toBe(end);
    // Nothing is left open: read_committed reaches the end of the log.
    const read = await fetchFrom(broker, 'read_committed');
    expect(read.lastStableOffset).toBe(end);
    expect(read.values).toEqual(['in-txn', 'next']);
  });

  it('answers NOT_ENOUGH_REPLICAS (retriable) while the coordinator cannot be asked', async () => {
    // One replica of __transaction_state: with its broker down nobody can answer for the transactional id.
    cluster = await replicatedCluster(2, { ...CONFIG, transactionStateTopicReplicationFactor: 1 });
    const { coordinator, producerId, producerEpoch } = await initProducerId(cluster, 'away');
    const leader = cluster.brokers[1 - coordinator]!;
    await leader.createTopics({ topics: [{ topic: 't', replicaAssignment: [{ partition: 0, replicas: [1 - coordinator] }] }] });
    await cluster.brokers[coordinator]!.addPartitionsToTxn({ transactionalId: 'away', producerId, producerEpoch, topics: [{ topic: 't', partitions: [0] }] });
    await cluster.stop(coordinator);
    const answer = await produce(leader, await txnBatch(['x'], producerId, 0, producerEpoch), 'away');
    expect(answer.error).toMatchObject({ type: 'NOT_ENOUGH_REPLICAS', retriable: true });
    expect(logEnd(leader)).toBe(0n);
  });
});
