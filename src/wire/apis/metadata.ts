/**
 * Metadata (key 3): brokers (each at its listener's host and port), the
 * controller, and topics with their partitions' leaders, epochs, replicas and
 * ISR. Asking for a topic that does not exist creates it when the cluster
 * allows auto-creation (always asked for before version 4). Topic ids
 * (version 10+) are derived from the names (../topic-ids.ts).
 */
import type { WireApi } from '../api.ts';
import { schema } from '../schema.ts';
import { topicId } from '../topic-ids.ts';

const FLEXIBLE_FROM = 9;

export const metadata: WireApi = {
  key: 3, name: 'Metadata', minVersion: 0, maxVersion: 12,
  request: schema(`
topics [] 0+ null:1+
  topicId uuid 10+
  name string 0+ null:10+
allowAutoTopicCreation bool 4+ default:true
includeClusterAuthorizedOperations bool 8-10
includeTopicAuthorizedOperations bool 8+
`, FLEXIBLE_FROM),
  response: schema(`
throttleTimeMs int32 3+
brokers [] 0+
  nodeId int32 0+
  host string 0+
  port int32 0+
  rack string 1+ null:1+ default:null
clusterId string 2+ null:2+ default:null
controllerId int32 1+ default:-1
topics [] 0+
  errorCode int16 0+
  name string 0+ null:12+
  topicId uuid 10+
  isInternal bool 1+ default:false
  partitions [] 0+
    errorCode int16 0+
    partitionIndex int32 0+
    leaderId int32 0+
    leaderEpoch int32 7+ default:-1
    replicaNodes []int32 0+
    isrNodes []int32 0+
    offlineReplicas []int32 5+
  topicAuthorizedOperations int32 8+ default:-2147483648
clusterAuthorizedOperations int32 8-10 default:-2147483648
`, FLEXIBLE_FROM),
  async handle(request, version, context) {
    // Version 0 asks for every topic with an empty list; later versions with null.
    const names: string[] | null = request.topics === null || (version === 0 && request.topics.length === 0)
      ? null
      : request.topics.map((t: { name: string | null }) => t.name ?? '');
    const answer = await context.broker.metadata({ topics: names, allowAutoTopicCreation: request.allowAutoTopicCreation });
    const endpoints = context.endpoints();
    return {
      throttleTimeMs: 0,
      brokers: answer.brokers.filter((b) => endpoints.has(b.nodeId)).map((b) => ({
        nodeId: b.nodeId, host: endpoints.get(b.nodeId)!.host, port: endpoints.get(b.nodeId)!.port, rack: b.rack ?? null,
      })),
      clusterId: answer.clusterId,
      controllerId: answer.controllerId,
      topics: answer.topics.map((t) => ({
        errorCode: t.error?.code ?? 0,
        name: t.name,
        topicId: topicId(answer.clusterId, t.name),
        isInternal: t.name.startsWith('__'),
        partitions: t.partitions.map((p) => ({
          errorCode: p.error?.code ?? 0, partitionIndex: p.partitionId, leaderId: p.leader, leaderEpoch: p.leaderEpoch,
          replicaNodes: p.replicas, isrNodes: p.isr, offlineReplicas: p.replicas.filter((id) => !endpoints.has(id)),
        })),
      })),
    };
  },
};
