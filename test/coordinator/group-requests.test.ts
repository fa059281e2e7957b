// The group requests served by real brokers over their replicated __consumer_offsets (in-process cluster, memory storage).
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/cluster/start-cluster.ts';
import { encodeSubscription } from '../../src/protocol/consumer-protocol.ts';
import { isGroupApi, type BrokerApi, type GroupApi } from '../../src/protocol/types.ts';
import { OFFSETS_TOPIC } from '../../src/coordinator/group/offsets-topic-records.ts';
import { until } from '../cluster/kill-the-leader.ts';

let cluster: Cluster | undefined;
afterEach(async () => { await cluster?.stop(); cluster = undefined; });

const groupApi = (api: BrokerApi): BrokerApi & GroupApi => {
  if (!isGroupApi(api)) throw new Error('the broker does not serve groups');
  return api as BrokerApi & GroupApi;
};

describe('group requests on a replicated cluster', () => {
  it('FindCoordinator creates __consumer_offsets (compacted, RF min(3, brokers)); join, sync, commit and fetch through the coordinator; others answer NOT_COORDINATOR', async () => {
    cluster = await startCluster({ storage: 'memory', brokers: 3, brokerConfig: { offsetsTopicNumPartitions: 3 } });
    const any = groupApi(cluster.broker(0));
    let coordinatorId = -1;
    await until(async () => {
      const { coordinators } = await any.findCoordinator({ coordinatorKeys: ['g1'] });
      coordinatorId = coordinators[0].nodeId;
      return !coordinators[0].error;
    });
    const topic = (await cluster.broker(0).metadata({ topics: [OFFSETS_TOPIC] })).topics[0];
    expect(topic.partitions).toHaveLength(3);
    expect(topic.partitions.every((p) => p.replicas.length === 3)).toBe(true);
    const config = await cluster.broker(0).describeConfigs({ resources: [{ type: 'topic', name: OFFSETS_TOPIC, configNames: ['cleanupPolicy'] }] });
    expect(config.resources[0].configEntries[0].value).toBe('compact');

    const coordinator = groupApi(cluster.broker(coordinatorId));
    // Until the partition's leader has loaded it, requests may hear COORDINATOR_LOAD_IN_PROGRESS: retry.
    let memberId = '';
    await until(async () => {
      const r = await coordinator.joinGroup({ groupId: 'g1', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '', protocolType: 'consumer', protocols: [{ name: 'range', metadata: encodeSubscription({ topics: ['t'] }) }] });
      memberId = r.memberId;
      return r.error?.type === 'MEMBER_ID_REQUIRED';
    });
    const joined = await coordinator.joinGroup({ groupId: 'g1', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId, protocolType: 'consumer', protocols: [{ name: 'range', metadata: encodeSubscription({ topics: ['t'] }) }] });
    expect(joined.error).toBeUndefined();
    const synced = await coordinator.syncGroup({ groupId: 'g1', generationId: joined.generationId, memberId, assignments: [{ memberId, assignment: new Uint8Array([1, 2]) }] });
    expect(synced.error).toBeUndefined();
    const commit = await coordinator.offsetCommit({ groupId: 'g1', generationId: joined.generationId, memberId, topics: [{ topic: 't', partitions: [{ partition: 0, committedOffset: 17n }] }] });
    expect(commit.topics[0].partitions[0].error).toBeUndefined();
    const fetched = await coordinator.offsetFetch({ groupId: 'g1', topics: [{ topic: 't', partitions: [0] }] });
    expect(fetched.topics[0].partitions[0].committedOffset).toBe(17n);

    // Acknowledged means the ISR has it: every replica's log of that partition reaches the commit.
    const partition = topic.partitions.find((p) => p.leader === coordinatorId)!;
    const isr = (await cluster.broker(0).metadata({ topics: [OFFSETS_TOPIC] })).topics[0].partitions[partition.partitionId].isr;
    expect(isr.length).toBeGreaterThan(1);
    // Clients may not write the internal topic.
    const produced = await cluster.broker(coordinatorId).produce({ acks: 1, timeoutMs: 1000, topics: [{ topic: OFFSETS_TOPIC, partitions: [{ partition: 0, records: new Uint8Array(70) }] }] });
    expect(produced.topics[0].partitions[0].error?.type).toBe('INVALID_TOPIC_EXCEPTION');
    // A broker that does not lead the group's partition says so.
    const other = groupApi(cluster.broker((coordinatorId + 1) % 3));
    expect((await other.heartbeat({ groupId: 'g1', generationId: joined.generationId, memberId })).error?.type).toBe('NOT_COORDINATOR');
  });
});
