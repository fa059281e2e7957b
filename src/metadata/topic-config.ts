/**
 * Topic configs: Kafka's names, one to one, units last (retention.ms →
 * retentionMs). Requests may use either form; answers use the form asked for
 * (DescribeConfigs with configNames) or the camelCase one.
 *
 * Values arrive as strings (as in Kafka's protocol) and are parsed and checked
 * here; a bad name or value is INVALID_CONFIG naming the value and the range.
 * Overrides are stored in the cluster metadata; defaults come from the broker
 * config (Kafka's `log.*` broker settings play the same role).
 */
import { WafkaError } from '../errors.ts';
import type { TopicConfig } from '../protocol/types.ts';

export type TopicConfigName = keyof TopicConfig;
export type ResolvedTopicConfig = Required<TopicConfig>;

type Spec = { kafkaName: string; kind: 'int'; min: number; max: number } | { kafkaName: string; kind: 'policy' } | { kafkaName: string; kind: 'boolean' };

/** Ranges as the storage engine enforces them (src/storage/config.ts), plus minInsyncReplicas. */
const SEGMENT_BYTES_MAX = 1024 * 1024 * 1024;
const BATCH_BYTES_MAX = 64 * 1024 * 1024;
const INT_MAX = Number.MAX_SAFE_INTEGER;

export const TOPIC_CONFIG_SPECS: Readonly<Record<TopicConfigName, Spec>> = {
  cleanupPolicy: { kafkaName: 'cleanup.policy', kind: 'policy' },
  retentionMs: { kafkaName: 'retention.ms', kind: 'int', min: -1, max: INT_MAX },
  retentionBytes: { kafkaName: 'retention.bytes', kind: 'int', min: -1, max: INT_MAX },
  segmentBytes: { kafkaName: 'segment.bytes', kind: 'int', min: 64, max: SEGMENT_BYTES_MAX },
  segmentMs: { kafkaName: 'segment.ms', kind: 'int', min: 1, max: INT_MAX },
  indexIntervalBytes: { kafkaName: 'index.interval.bytes', kind: 'int', min: 0, max: SEGMENT_BYTES_MAX },
  deleteRetentionMs: { kafkaName: 'delete.retention.ms', kind: 'int', min: 0, max: INT_MAX },
  minCompactionLagMs: { kafkaName: 'min.compaction.lag.ms', kind: 'int', min: 0, max: INT_MAX },
  flushMessages: { kafkaName: 'flush.messages', kind: 'int', min: 1, max: INT_MAX },
  flushMs: { kafkaName: 'flush.ms', kind: 'int', min: 0, max: INT_MAX },
  maxMessageBytes: { kafkaName: 'max.message.bytes', kind: 'int', min: 61, max: BATCH_BYTES_MAX },
  minInsyncReplicas: { kafkaName: 'min.insync.replicas', kind: 'int', min: 1, max: 1000 },
  uncleanLeaderElectionEnable: { kafkaName: 'unclean.leader.election.enable', kind: 'boolean' },
};

export const TOPIC_CONFIG_NAMES = Object.keys(TOPIC_CONFIG_SPECS) as TopicConfigName[];

/** Kafka's defaults, except segmentBytes (64 MiB rather than 1 GiB: browser storage quotas). */
export const DEFAULT_TOPIC_CONFIG: Readonly<ResolvedTopicConfig> = Object.freeze({
  cleanupPolicy: 'delete',
  retentionMs: 7 * 24 * 3600 * 1000,
  retentionBytes: -1,
  segmentBytes: 64 * 1024 * 1024,
  segmentMs: 7 * 24 * 3600 * 1000,
  indexIntervalBytes: 4096,
  deleteRetentionMs: 24 * 3600 * 1000,
  minCompactionLagMs: 0,
  flushMessages: INT_MAX,
  flushMs: INT_MAX,
  maxMessageBytes: 1048588,
  minInsyncReplicas: 1,
  uncleanLeaderElectionEnable: false,
});

const BY_KAFKA_NAME = new Map(TOPIC_CONFIG_NAMES.map((name) => [TOPIC_CONFIG_SPECS[name].kafkaName, name]));

/** 'retention.ms' or 'retentionMs' → 'retentionMs'; undefined for an unknown name. */
export function canonicalConfigName(name: string): TopicConfigName | undefined {
  if (Object.hasOwn(TOPIC_CONFIG_SPECS, name)) return name as TopicConfigName;
  return BY_KAFKA_NAME.get(name);
}

/** Config entries in one request: each name once (twice counting both spellings) is all a request can mean. */
export const CONFIG_ENTRIES_MAX = 64;
/** Longest config name or value accepted (every valid one is far shorter). */
export const CONFIG_TEXT_LENGTH_MAX = 256;

/**
 * Parses and checks name/value string pairs into overrides; throws INVALID_CONFIG
 * (INVALID_REQUEST for a list that is not an array of { name, value } or is longer than CONFIG_ENTRIES_MAX).
 */
export function parseTopicConfigEntries(entries: readonly { name: string; value: string | null }[] | undefined | null): TopicConfig {
  const config: TopicConfig = {};
  if (entries === undefined || entries === null) return config;
  if (!Array.isArray(entries)) throw new WafkaError('INVALID_REQUEST', 'configEntries must be an array of { name, value }');
  if (entries.length > CONFIG_ENTRIES_MAX) throw new WafkaError('INVALID_REQUEST', `${entries.length} config entries, over the ${CONFIG_ENTRIES_MAX} limit`);
  for (const [i, entry] of entries.entries()) {
    if (typeof entry !== 'object' || entry === null) throw new WafkaError('INVALID_REQUEST', `configEntries[${i}] must be { name, value }`);
    const { name, value } = entry;
    if (typeof name !== 'string' || name.length > CONFIG_TEXT_LENGTH_MAX) throw new WafkaError('INVALID_CONFIG', `configEntries[${i}].name must be a string of at most ${CONFIG_TEXT_LENGTH_MAX} chars`);
    const key = canonicalConfigName(name);
    if (!key) throw new WafkaError('INVALID_CONFIG', `unknown topic config '${name}'`);
    if (value === null) continue; // null = back to default, as in Kafka
    if ((typeof value !== 'string' && typeof value !== 'number') || String(value).length > CONFIG_TEXT_LENGTH_MAX) {
      throw new WafkaError('INVALID_CONFIG', `${key}: the value must be a string of at most ${CONFIG_TEXT_LENGTH_MAX} chars or null`);
    }
    (config as Record<string, unknown>)[key] = parseValue(key, String(value));
  }
  return config;
}

function parseValue(key: TopicConfigName, text: string): number | string | boolean {
  const spec = TOPIC_CONFIG_SPECS[key];
  if (spec.kind === 'boolean') {
    // As Kafka's ConfigDef reads a BOOLEAN: 'true' or 'false', any case.
    const word = text.trim().toLowerCase();
    if (word === 'true' || word === 'false') return word === 'true';
    throw new WafkaError('INVALID_CONFIG', `${key} = '${text}': expected 'true' or 'false'`);
  }
  if (spec.kind === 'policy') {
    const policy = text.split(',').map((s) => s.trim()).sort().join(',');
    if (policy === 'delete' || policy === 'compact') return policy;
    if (policy === 'compact,delete') return 'compact,delete';
    throw new WafkaError('INVALID_CONFIG', `${key} = '${text}': expected 'delete', 'compact' or 'compact,delete'`);
  }
  // A decimal integer, as Kafka's Long.parseLong reads it: no '0x10', '1e3' or '' taken for a number.
  const value = /^[+-]?\d{1,20}$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(value) || value < spec.min || value > spec.max) {
    throw new WafkaError('INVALID_CONFIG', `${key} = '${text}': expected an integer in [${spec.min}, ${spec.max}]`);
  }
  return value;
}

/** Checks overrides that arrive already typed (broker config defaults, stored metadata). */
export function checkTopicConfig(config: TopicConfig): void {
  for (const [name, value] of Object.entries(config)) {
    const key = canonicalConfigName(name);
    if (!key) throw new WafkaError('INVALID_CONFIG', `unknown topic config '${name}'`);
    if (value !== undefined) parseValue(key, String(value));
  }
}

export function resolveTopicConfig(defaults: ResolvedTopicConfig, overrides: TopicConfig): ResolvedTopicConfig {
  const resolved = { ...defaults };
  for (const key of TOPIC_CONFIG_NAMES) {
    if (overrides[key] !== undefined) (resolved as Record<string, unknown>)[key] = overrides[key];
  }
  return resolved;
}

/** DescribeConfigs entries: every config, or those asked for (in the form asked for). */
export function describeTopicConfig(
  defaults: ResolvedTopicConfig,
  overrides: TopicConfig,
  configNames: readonly string[] | null | undefined,
): { name: string; value: string | null; isDefault: boolean; readOnly: boolean; isSensitive: boolean }[] {
  const asked = configNames ?? TOPIC_CONFIG_NAMES;
  const entries = [];
  for (const name of asked) {
    const key = canonicalConfigName(name);
    if (!key) continue; // Kafka leaves unknown names out of the answer
    const override = overrides[key];
    entries.push({ name, value: String(override ?? defaults[key]), isDefault: override === undefined, readOnly: false, isSensitive: false });
  }
  return entries;
}
