// The transaction requests served by real brokers over their replicated __transaction_state (in-process, memory storage).
import { afterEach, describe, expect, it } from 'vitest';
import { replicatedCluster, until, type ReplicatedCluster } from '../broker/replicated-cluster.ts';
import { TRANSACTION_STATE_TOPIC } from '../../src/coordinator/transaction/transaction-log-records.ts';
import { COORDINATOR_KEY_TYPE_TRANSACTION, type BrokerApi, type GroupApi, type TransactionApi } from '../../src/protocol/types.ts';

let cluster: ReplicatedCluster | undefined;
afterEach(async () => { await cluster?.close(); cluster = undefined; });

type Api = BrokerApi & GroupApi & TransactionApi;
const api = (c: ReplicatedCluster, id: number) => c.apis[id] as Api;

async function coordinatorOf(c: ReplicatedCluster, transactionalId: string, excluding = -1): Promise<number> {
  let nodeId = -1;
  await until(async () => {
    for (let id = 0; id < c.brokers.length; id++) {
      if (id === excluding || !c.brokers[id]) continue;
      const found = (await api(c, id).findCoordinator({ keyType: COORDINATOR_KEY_TYPE_TRANSACTION, coordinatorKeys: [transactionalId] })).coordinators[0];
      if (found.error || found.nodeId === excluding) return false;
      nodeId = found.nodeId;
      return c.brokers[nodeId]?.transactions.activePartitions().includes(c.brokers[nodeId]!.transactions.partitionFor(transactionalId)) ?? false;
    }
    return false;
  });
  return nodeId;
}

describe('transaction requests on a replicated cluster', () => {
  it('FindCoordinator (key type 1) creates __transaction_state: compacted, RF min(3, brokers), min ISR 2; InitProducerId and AddPartitionsToTxn through the coordinator; others answer NOT_COORDINATOR', async () => {
    cluster = await replicatedCluster(3, { transactionStateTopicNumPartitions: 3 });
    await api(cluster, 0).createTopics({ topics: [{ topic: 'out', numPartitions: 2, replicationFactor: 3 }] });
    const coordinatorId = await coordinatorOf(cluster, 'tx-a');
    const topic = (await api(cluster, 0).metadata({ topics: [TRANSACTION_STATE_TOPIC] })).topics[0];
    expect(topic.partitions).toHaveLength(3);
    expect(topic.partitions.every((p) => p.replicas.length === 3)).toBe(true);
    const config = await api(cluster, 0).describeConfigs({ resources: [{ type: 'topic', name: TRANSACTION_STATE_TOPIC, configNames: ['cleanupPolicy', 'minInsyncReplicas'] }] });
    expect(Object.fromEntries(config.resources[0].configEntries.map((e) => [e.name, e.value]))).toEqual({ cleanupPolicy: 'compact', minInsyncReplicas: '2' });

    const coordinator = api(cluster, coordinatorId);
    const { producerId, producerEpoch } = await coordinator.initProducerId({ transactionalId: 'tx-a', transactionTimeoutMs: 30_000 });
    expect(producerEpoch).toBe(0);
    const other = api(cluster, (coordinatorId + 1) % 3);
    await expect(other.initProducerId({ transactionalId: 'tx-a', transactionTimeoutMs: 30_000 })).rejects.toMatchObject({ type: 'NOT_COORDINATOR' });
    expect((await other.addPartitionsToTxn({ transactionalId: 'tx-a', producerId, producerEpoch, topics: [{ topic: 'out', partitions: [0] }] })).error?.type).toBe('NOT_COORDINATOR');

    // A partition that does not exist fails the request; nothing is added.
    const unknown = await coordinator.addPartitionsToTxn({ transactionalId: 'tx-a', producerId, producerEpoch, topics: [{ topic: 'out', partitions: [0, 7] }] });
    expect(unknown.results[0].partitions.map((p) => p.error?.type)).toEqual(['OPERATION_NOT_ATTEMPTED', 'UNKNOWN_TOPIC_OR_PARTITION']);
    const added = await coordinator.addPartitionsToTxn({ transactionalId: 'tx-a', producerId, producerEpoch, topics: [{ topic: 'out', partitions: [0, 1] }] });
    expect(added.error).toBeUndefined();
    const offsets = await coordinator.addOffsetsToTxn({ transactionalId: 'tx-a', producerId, producerEpoch, groupId: 'g' });
    expect(offsets.error).toBeUndefined();
    const described = (await coordinator.describeTransactions({ transactionalIds: ['tx-a'] })).transactionStates[0];
    expect(described.state).toBe('Ongoing');
    expect(described.topics.map((t) => t.topic)).toEqual(['__consumer_offsets', 'out']);
    // Clients may not write the internal topic.
    const produced = await coordinator.produce({ acks: 1, timeoutMs: 1000, topics: [{ topic: TRANSACTION_STATE_TOPIC, partitions: [{ partition: 0, records: new Uint8Array(70) }] }] });
    expect(produced.topics[0].partitions[0].error?.type).toBe('INVALID_TOPIC_EXCEPTION');
    await expect(coordinator.initProducerId({ transactionalId: 'tx-b', transactionTimeoutMs: 10_000_000 })).rejects.toMatchObject({ type: 'INVALID_TRANSACTION_TIMEOUT' });
  });

  it('the coordinator\'s broker stops: the new coordinator replays the state (acknowledged means on the ISR) and fences the old epoch', async () => {
    cluster = await replicatedCluster(3, { transactionStateTopicNumPartitions: 1 });
    await api(cluster, 0).createTopics({ topics: [{ topic: 'out', numPartitions: 1, replicationFactor: 3 }] });
    const first = await coordinatorOf(cluster, 'tx-a');
    const { producerId, producerEpoch } = await api(cluster, first).initProducerId({ transactionalId: 'tx-a', transactionTimeoutMs: 30_000 });
    expect((await api(cluster, first).addPartitionsToTxn({ transactionalId: 'tx-a', producerId, producerEpoch, topics: [{ topic: 'out', partitions: [0] }] })).error).toBeUndefined();
    await cluster.stop(first);
    const second = await coordinatorOf(cluster, 'tx-a', first);
    expect(second).not.toBe(first);
    const described = (await api(cluster, second).describeTransactions({ transactionalIds: ['tx-a'] })).transactionStates[0];
    expect(described).toMatchObject({ state: 'Ongoing', producerId, producerEpoch, topics: [{ topic: 'out', partitions: [0] }] });
    // A new holder: the open transaction is aborted first; until that is done the answer is CONCURRENT_TRANSACTIONS.
    await expect(api(cluster, second).initProducerId({ transactionalId: 'tx-a', transactionTimeoutMs: 30_000 })).rejects.toMatchObject({ type: 'CONCURRENT_TRANSACTIONS' });
    expect((await api(cluster, second).describeTransactions({ transactionalIds: ['tx-a'] })).transactionStates[0]).toMatchObject({ state: 'PrepareAbort', producerEpoch: producerEpoch + 2 });
    expect((await api(cluster, second).addPartitionsToTxn({ transactionalId: 'tx-a', producerId, producerEpoch, topics: [{ topic: 'out', partitions: [0] }] })).error?.type).toBe('PRODUCER_FENCED');
  });
});
