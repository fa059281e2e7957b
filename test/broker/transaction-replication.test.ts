// Transactions across a leader change and a restart: followers copy transactional batches and markers with the
// state they carry, so a new leader answers the same last stable offset and aborted transactions at once.
import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.ts';
import { batchOf } from './helpers.ts';
import { replicatedCluster, until, type ReplicatedCluster } from './replicated-cluster.ts';
import { fetchFrom, produce, txnBatch, writeMarker } from './transactions.ts';

let cluster: ReplicatedCluster | undefined;
afterEach(async () => { await cluster?.close(); cluster = undefined; });

const logEnd = (broker: Broker) => broker.describeReplicas().find((r) => r.topic === 't')!.logEndOffset;
const leaderIs = async (id: number) => (await cluster!.store.read())!.topics.t.partitions[0].leader === id;

describe('transactions across replicas', () => {
  it('a new leader has the open transactions and the aborted index of the old one (from the log it copied); so does a restarted one', async () => {
    cluster = await replicatedCluster(2, { transactionPartitionVerificationEnable: false });
    const [b0, b1] = cluster.brokers as Broker[];
    await b0.createTopics({ topics: [{ topic: 't', replicaAssignment: [{ partition: 0, replicas: [0, 1] }] }] });
    await produce(b0, await batchOf(['p0']), null); // 0
    await produce(b0, await txnBatch(['aborted-1'], 5n, 0)); // 1
    await produce(b0, await txnBatch(['open-2'], 6n, 0)); // 2
    expect(await writeMarker(b0, { producerId: 5n, producerEpoch: 0, committed: false })).toEqual({ partition: 0 }); // 3
    await produce(b0, await batchOf(['p4']), null); // 4
    const before = await fetchFrom(b0, 'read_committed');
    expect(before).toMatchObject({ highWatermark: 5n, lastStableOffset: 2n, abortedTransactions: [{ producerId: 5n, firstOffset: 1n }] });
    expect(before.values).toEqual(['p0', 'aborted-1']);
    await until(() => logEnd(b1) === 5n);

    await cluster.stop(0);
    await until(() => leaderIs(1));
    await until(async () => (await fetchFrom(b1, 'read_committed')).error === undefined);
    const after = await fetchFrom(b1, 'read_committed');
    expect(after).toMatchObject({ lastStableOffset: 2n, abortedTransactions: [{ producerId: 5n, firstOffset: 1n }] });
    expect(after.values).toEqual(before.values);
    // The new leader takes the open transaction's marker.
    expect(await writeMarker(b1, { producerId: 6n, producerEpoch: 0, committed: true })).toEqual({ partition: 0 }); // 5
    const committed = await fetchFrom(b1, 'read_committed');
    expect(committed).toMatchObject({ lastStableOffset: 6n, abortedTransactions: [{ producerId: 5n, firstOffset: 1n }] });
    expect(committed.values).toEqual(['p0', 'aborted-1', 'open-2', 'p4']);
    expect(committed.markers).toEqual([3n, 5n]);

    // Restarted, the broker rebuilds the same state from its log.
    await cluster.stop(1);
    const again = await cluster.start(1);
    await until(async () => (await leaderIs(1)) && (await fetchFrom(again, 'read_committed')).error === undefined);
    expect(await fetchFrom(again, 'read_committed')).toMatchObject({ lastStableOffset: 6n, abortedTransactions: [{ producerId: 5n, firstOffset: 1n }] });
    expect((await fetchFrom(again, 'read_committed', 4n)).abortedTransactions).toEqual([]);
  }, 30_000);
});
