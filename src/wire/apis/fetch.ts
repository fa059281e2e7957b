/**
 * Fetch (key 1), versions 4 to 12: long-polls partitions for record batches.
 * Versions 4+ are the ones whose readers take RecordBatch v2 (magic 2), the
 * only format wafka stores; 13+ name topics by id, which wafka does not keep.
 * Fetch sessions (KIP-227) are not kept: every answer has session id 0,
 * which tells the client to send full fetch requests.
 *
 * Zero copy: the broker's answer carries whole stored batches as they are
 * (the first may start before the fetch offset, as Kafka's do); they are
 * written to the socket by reference, never decoded or re-encoded.
 */
import type { IsolationLevel } from '../../protocol/types.ts';
import type { WireApi } from '../api.ts';
import { schema } from '../schema.ts';

const FLEXIBLE_FROM = 12;
const INT32_MAX = 0x7fffffff;

export const fetch: WireApi = {
  key: 1, name: 'Fetch', minVersion: 4, maxVersion: 12,
  request: schema(`
clusterId string 12+ null:12+ tag:0 default:null
replicaId int32 0-14 default:-1
maxWaitMs int32 0+
minBytes int32 0+
maxBytes int32 3+ default:2147483647
isolationLevel int8 4+ default:0
sessionId int32 7+ default:0
sessionEpoch int32 7+ default:-1
topics [] 0+
  topic string 0-12
  partitions [] 0+
    partition int32 0+
    currentLeaderEpoch int32 9+ default:-1
    fetchOffset int64 0+
    lastFetchedEpoch int32 12+ default:-1
    logStartOffset int64 5+ default:-1
    partitionMaxBytes int32 0+
forgottenTopicsData [] 7+
  topic string 7-12
  partitions []int32 7+
rackId string 11+ default:
`, FLEXIBLE_FROM),
  response: schema(`
throttleTimeMs int32 1+
errorCode int16 7+
sessionId int32 7+ default:0
responses [] 0+
  topic string 0-12
  partitions [] 0+
    partitionIndex int32 0+
    errorCode int16 0+
    highWatermark int64 0+
    lastStableOffset int64 4+ default:-1
    logStartOffset int64 5+ default:-1
    divergingEpoch {} 12+ tag:0
      epoch int32 12+ default:-1
      endOffset int64 12+ default:-1
    abortedTransactions [] 4+ null:4+
      producerId int64 4+
      firstOffset int64 4+
    preferredReadReplica int32 11+ default:-1
    records records 0+ null:0+
`, FLEXIBLE_FROM),
  async handle(request, _version, context) {
    type PartitionRequest = { partition: number; currentLeaderEpoch: number; fetchOffset: bigint; logStartOffset: bigint; partitionMaxBytes: number };
    const answer = await context.broker.fetch({
      maxWaitMs: Math.max(0, request.maxWaitMs),
      minBytes: Math.max(0, request.minBytes),
      maxBytes: request.maxBytes > 0 ? request.maxBytes : INT32_MAX,
      isolationLevel: (request.isolationLevel === 1 ? 'read_committed' : 'read_uncommitted') satisfies IsolationLevel,
      topics: request.topics.map((t: { topic: string; partitions: PartitionRequest[] }) => ({
        topic: t.topic,
        partitions: t.partitions.map((p) => ({
          partition: p.partition, fetchOffset: p.fetchOffset, partitionMaxBytes: Math.max(0, p.partitionMaxBytes),
          ...(p.currentLeaderEpoch >= 0 ? { currentLeaderEpoch: p.currentLeaderEpoch } : {}),
        })),
      })),
    });
    return {
      throttleTimeMs: 0, errorCode: 0, sessionId: 0,
      responses: answer.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partition, errorCode: p.error?.code ?? 0,
          highWatermark: p.highWatermark, lastStableOffset: p.lastStableOffset, logStartOffset: p.logStartOffset,
          abortedTransactions: p.abortedTransactions ?? [], records: p.records ?? new Uint8Array(0),
        })),
      })),
    };
  },
};
