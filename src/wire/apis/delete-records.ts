/** DeleteRecords (key 21): moves partitions' log start offsets forward (-1: to the high watermark). */
import type { WireApi } from '../api.ts';
import { schema } from '../schema.ts';

const FLEXIBLE_FROM = 2;

export const deleteRecords: WireApi = {
  key: 21, name: 'DeleteRecords', minVersion: 0, maxVersion: 2,
  request: schema(`
topics [] 0+
  name string 0+
  partitions [] 0+
    partitionIndex int32 0+
    offset int64 0+
timeoutMs int32 0+
`, FLEXIBLE_FROM),
  response: schema(`
throttleTimeMs int32 0+
topics [] 0+
  name string 0+
  partitions [] 0+
    partitionIndex int32 0+
    lowWatermark int64 0+
    errorCode int16 0+
`, FLEXIBLE_FROM),
  async handle(request, _version, context) {
    const answer = await context.broker.deleteRecords({
      timeoutMs: request.timeoutMs,
      topics: request.topics.map((t: { name: string; partitions: { partitionIndex: number; offset: bigint }[] }) => ({
        topic: t.name, partitions: t.partitions.map((p) => ({ partition: p.partitionIndex, offset: p.offset })),
      })),
    });
    return {
      throttleTimeMs: 0,
      topics: answer.topics.map((t) => ({
        name: t.topic,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partition, lowWatermark: p.lowWatermark, errorCode: p.error?.code ?? 0 })),
      })),
    };
  },
};
