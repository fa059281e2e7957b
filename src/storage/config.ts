/**
 * Log configuration: Kafka's topic configs, one to one, units last
 * (segment.bytes → segmentBytes, retention.ms → retentionMs), and the hard
 * limits that bound every buffer and loop of the storage engine.
 */
import { WafkaError } from '../errors.ts';

export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete';

export interface LogConfig {
  /** Roll the active segment when an append would take it past this size. Kafka: segment.bytes. */
  segmentBytes: number;
  /** Roll the active segment when its first batch is this old. Kafka: segment.ms. */
  segmentMs: number;
  /** Bytes of batches between two sparse offset/time index entries. Kafka: index.interval.bytes. */
  indexIntervalBytes: number;
  /** Delete closed segments whose newest timestamp is older than this; -1 keeps forever. Kafka: retention.ms. */
  retentionMs: number;
  /** Delete oldest closed segments while the log is larger than this; -1 unbounded. Kafka: retention.bytes. */
  retentionBytes: number;
  /** Kafka: cleanup.policy. */
  cleanupPolicy: CleanupPolicy;
  /** Tombstones older than this are dropped by compaction. Kafka: delete.retention.ms. */
  deleteRetentionMs: number;
  /** Segments whose newest timestamp is younger than this are not compacted. Kafka: min.compaction.lag.ms. */
  minCompactionLagMs: number;
  /** Flush after this many records since the last flush. Kafka: flush.messages. */
  flushMessages: number;
  /** Flush when the last flush is this old (checked on append and by a timer). Kafka: flush.ms. */
  flushMs: number;
  /** Largest batch accepted by append. Kafka: max.message.bytes. */
  maxMessageBytes: number;
}

/** Kafka never flushes on its own by default (Long.MAX_VALUE): the OS page cache and replication carry durability. */
export const FLUSH_NEVER = Number.MAX_SAFE_INTEGER;

export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = Object.freeze({
  segmentBytes: 64 * 1024 * 1024,
  segmentMs: 7 * 24 * 3600 * 1000,
  indexIntervalBytes: 4096,
  retentionMs: 7 * 24 * 3600 * 1000,
  retentionBytes: -1,
  cleanupPolicy: 'delete',
  deleteRetentionMs: 24 * 3600 * 1000,
  minCompactionLagMs: 0,
  flushMessages: FLUSH_NEVER,
  flushMs: FLUSH_NEVER,
  maxMessageBytes: 1048588,
});

/** Positions are int32 (as in Kafka's index files): a segment never exceeds this. */
export const SEGMENT_BYTES_MAX = 1024 * 1024 * 1024;
/** A batch (or a follower's batch) larger than this is corrupt whatever the config says. */
export const BATCH_BYTES_MAX = 64 * 1024 * 1024;
/** The hard limit on one read: maxBytes above it is refused (INVALID_FETCH_SIZE). */
export const READ_BYTES_MAX = 64 * 1024 * 1024;
/** Segments per log; a roll beyond this fails with KAFKA_STORAGE_ERROR. */
export const SEGMENT_COUNT_MAX = 100_000;
/** Distinct keys held in memory by one compaction pass; segments beyond are left for the next pass. */
export const COMPACTION_KEYS_MAX = 1_000_000;
/** Window of bytes read at a time by recovery and compaction scans. */
export const SCAN_WINDOW_BYTES = 8 * 1024 * 1024;

export function resolveLogConfig(partial: Partial<LogConfig> = {}): LogConfig {
  const config: LogConfig = { ...DEFAULT_LOG_CONFIG, ...partial };
  const int = (name: keyof LogConfig, min: number, max: number) => {
    const v = config[name] as number;
    if (!Number.isSafeInteger(v) || v < min || v > max) {
      throw new WafkaError('INVALID_CONFIG', `${name} = ${v} outside [${min}, ${max}]`);
    }
  };
  int('segmentBytes', 64, SEGMENT_BYTES_MAX);
  int('segmentMs', 1, Number.MAX_SAFE_INTEGER);
  int('indexIntervalBytes', 0, SEGMENT_BYTES_MAX);
  int('retentionMs', -1, Number.MAX_SAFE_INTEGER);
  int('retentionBytes', -1, Number.MAX_SAFE_INTEGER);
  int('deleteRetentionMs', 0, Number.MAX_SAFE_INTEGER);
  int('minCompactionLagMs', 0, Number.MAX_SAFE_INTEGER);
  int('flushMessages', 1, Number.MAX_SAFE_INTEGER);
  int('flushMs', 0, Number.MAX_SAFE_INTEGER);
  int('maxMessageBytes', 61, BATCH_BYTES_MAX);
  if (!['delete', 'compact', 'compact,delete', 'delete,compact'].includes(config.cleanupPolicy)) {
    throw new WafkaError('INVALID_CONFIG', `cleanupPolicy = ${JSON.stringify(config.cleanupPolicy)}: expected 'delete', 'compact' or 'compact,delete'`);
  }
  if ((config.cleanupPolicy as string) === 'delete,compact') config.cleanupPolicy = 'compact,delete';
  return config;
}
