// EndTxn across brokers: the coordinator answers once PrepareCommit is stored, as Kafka does; the COMMIT marker is
// written by the partition's leader after, and a read_committed fetch sees the records once it is. The leader here
// holds WriteTxnMarkers (a hung broker), so the commit is answered while its marker cannot be written yet.
import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.ts';
import { COORDINATOR_KEY_TYPE_TRANSACTION, type WriteTxnMarkersRequest, type WriteTxnMarkersResponse } from '../../src/protocol/types.ts';
import { replicatedCluster, until, type ReplicatedCluster } from './replicated-cluster.ts';
import { fetchFrom, produce, txnBatch } from './transactions.ts';

let cluster: ReplicatedCluster | undefined;
afterEach(async () => { await cluster?.close(); cluster = undefined; });

/** The broker coordinating `transactionalId` (its __transaction_state partition created and loaded) and InitProducerId from it. */
async function initProducerId(c: ReplicatedCluster, transactionalId: string) {
  for (let attempt = 0; ; attempt++) {
    try {
      const found = (await c.brokers[0]!.findCoordinator({ keyType: COORDINATOR_KEY_TYPE_TRANSACTION, coordinatorKeys: [transactionalId] })).coordinators[0];
      if (!found.error && found.nodeId >= 0) {
        return { coordinator: found.nodeId, ...(await c.brokers[found.nodeId]!.initProducerId({ transactionalId, transactionTimeoutMs: 60_000 })) };
      }
    } catch (error) {
      if (attempt > 200) throw error;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Makes `broker` hold every WriteTxnMarkers request until the returned release is called. */
function holdMarkers(broker: Broker): () => void {
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const write = broker.writeTxnMarkers.bind(broker);
  (broker as unknown as { writeTxnMarkers: (r: WriteTxnMarkersRequest) => Promise<WriteTxnMarkersResponse> }).writeTxnMarkers = async (request) => {
    await gate;
    return write(request);
  };
  return release;
}

const within = <T>(p: Promise<T>, ms: number) => Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not answered within ${ms} ms`)), ms))]);

describe('EndTxn answered at PrepareCommit', () => {
  it('commits while the partition leader cannot write the marker; the marker lands once it can, then read_committed sees the records', async () => {
    cluster = await replicatedCluster(2, { transactionStateTopicNumPartitions: 1, transactionStateTopicReplicationFactor: 1 });
    const { coordinator, producerId, producerEpoch } = await initProducerId(cluster, 'end');
    const c = cluster.brokers[coordinator]!;
    const leader = cluster.brokers[1 - coordinator]!;
    await leader.createTopics({ topics: [{ topic: 't', replicaAssignment: [{ partition: 0, replicas: [1 - coordinator] }] }] });
    const added = await c.addPartitionsToTxn({ transactionalId: 'end', producerId, producerEpoch, topics: [{ topic: 't', partitions: [0] }] });
    expect(added.results[0].partitions[0].error).toBeUndefined();
    expect((await produce(leader, await txnBatch(['a', 'b'], producerId, 0, producerEpoch), 'end')).error).toBeUndefined();

    const release = holdMarkers(leader);
    const ended = await within(c.endTxn({ transactionalId: 'end', producerId, producerEpoch, committed: true }), 2_000);
    expect(ended).toEqual({ producerId, producerEpoch: producerEpoch + 1 });
    expect(c.transactions.describe('end')?.state).toBe('PrepareCommit');
    // Decided, not yet visible: the transaction is still open on the partition.
    const before = await fetchFrom(leader, 'read_committed');
    expect(before.lastStableOffset).toBe(0n);
    expect(before.values).toEqual([]);

    // The next transaction's first request waits for the previous one to complete.
    let next: Awaited<ReturnType<Broker['addPartitionsToTxn']>> | undefined;
    const adding = c.addPartitionsToTxn({ transactionalId: 'end', producerId, producerEpoch: ended.producerEpoch, topics: [{ topic: 't', partitions: [0] }] });
    void adding.then((r) => { next = r; });
    await new Promise((r) => setTimeout(r, 200));
    expect(next).toBeUndefined();

    release();
    await until(() => c.transactions.describe('end')?.state !== 'PrepareCommit', 5_000);
    expect((await within(adding, 5_000)).results[0].partitions[0].error).toBeUndefined();
    expect(c.transactions.describe('end')?.state).toBe('Ongoing');
    const after = await fetchFrom(leader, 'read_committed');
    expect(after.lastStableOffset).toBe(3n);
    expect(after.values).toEqual(['a', 'b']);
    expect(after.markers).toEqual([2n]);
  });
});
