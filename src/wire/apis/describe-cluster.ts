/** DescribeCluster (key 60): the cluster id, the controller, and every broker at its listener. */
import type { WireApi } from '../api.ts';
import { schema } from '../schema.ts';

export const describeCluster: WireApi = {
  key: 60, name: 'DescribeCluster', minVersion: 0, maxVersion: 1,
  request: schema(`
includeClusterAuthorizedOperations bool 0+
endpointType int8 1+ default:1
`, 0),
  response: schema(`
throttleTimeMs int32 0+
errorCode int16 0+
errorMessage string 0+ null:0+ default:null
endpointType int8 1+ default:1
clusterId string 0+
controllerId int32 0+ default:-1
brokers [] 0+
  brokerId int32 0+
  host string 0+
  port int32 0+
  rack string 0+ null:0+ default:null
clusterAuthorizedOperations int32 0+ default:-2147483648
`, 0),
  async handle(_request, _version, context) {
    const answer = await context.broker.metadata({ topics: [], allowAutoTopicCreation: false });
    const endpoints = context.endpoints();
    return {
      throttleTimeMs: 0, errorCode: 0, errorMessage: null, endpointType: 1,
      clusterId: answer.clusterId, controllerId: answer.controllerId,
      brokers: answer.brokers.filter((b) => endpoints.has(b.nodeId)).map((b) => ({
        brokerId: b.nodeId, host: endpoints.get(b.nodeId)!.host, port: endpoints.get(b.nodeId)!.port, rack: b.rack ?? null,
      })),
    };
  },
};
