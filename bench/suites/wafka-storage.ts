/**
 * wafka's side of the storage suite: PartitionLog over each backend, used as
 * a broker uses it. Parts are null until src/storage has them.
 */
import type { AppendStore, ReadStore } from './storage-cases.ts';

export interface WafkaStorage {
  opfs?: { append: AppendStore; read: ReadStore };
  idb?: { append: AppendStore };
  nodeFs?: { append: AppendStore; read: ReadStore };
  memory?: { append: AppendStore; read: ReadStore };
}

export async function loadWafkaStorage(log: (s: string) => void): Promise<WafkaStorage | null> {
  log('wafka storage: PartitionLog not available yet: wafka not measured');
  return null;
}
