/**
 * wafka's side of the storage suite: a PartitionLog over a backend, used as a
 * broker uses it (append whole batches as leader, read by offset).
 */
import { openPartitionLog, type LogConfig, type StorageBackend } from '../../src/storage/index.ts';
import { encodeBatchSync, loadCore } from '../../src/core/index.ts';
import type { AppendStore, ReadStore } from './storage-cases.ts';

/** PartitionLog.append per batch (awaited), default log config unless given (no flush: Kafka's default). */
export function logAppendStore(backend: StorageBackend, note: string, config: Partial<LogConfig> = {}): AppendStore {
  return {
    name: 'wafka',
    role: 'wafka',
    note,
    async open(id) {
      const log = await openPartitionLog({ backend, dir: id, config });
      // A fresh log's first append writes its leader-epoch checkpoint with one fsync, as
      // Kafka's does: once per log, like the raw peer's file creation, so it is done here, untimed.
      await loadCore();
      await log.append(encodeBatchSync([{ value: 'open' }]), { leaderEpoch: 0 });
      return {
        append: (b: Uint8Array) => log.append(b, { leaderEpoch: 0 }),
        // delete(): close without the final flush and remove the directory (untimed cleanup)
        close: () => log.delete(),
      };
    },
    async remove() {},
  };
}

/** Writes the batches through the log, then reads by offset from the first: read(offset, maxBytes) → nextOffset. */
export function logReadStore(backend: StorageBackend, note: string, config: Partial<LogConfig> = {}): ReadStore {
  return {
    name: 'wafka',
    role: 'wafka',
    note,
    async prepare(id, batches) {
      const log = await openPartitionLog({ backend, dir: id, config });
      for (const b of batches) await log.append(b, { leaderEpoch: 0 });
      await log.flush();
      return {
        async readAll(maxBytes) {
          let n = 0;
          let offset = log.logStartOffset;
          const end = log.logEndOffset;
          while (offset < end) {
            const r = await log.read(offset, maxBytes);
            if (r.bytes.length === 0) break;
            n += r.bytes.length;
            offset = r.nextOffset;
          }
          return n;
        },
        close: () => log.delete(),
      };
    },
    async remove() {},
  };
}
