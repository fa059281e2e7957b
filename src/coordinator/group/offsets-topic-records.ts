/**
 * The records of the internal topic __consumer_offsets, with Kafka's key and
 * value schemas (apache/kafka group-coordinator/src/main/resources/common/
 * message/*.json), so the bytes are the ones a Kafka broker writes:
 *
 *   key   => version:int16 ...
 *     version 0 or 1: OffsetCommitKey    => group:string topic:string partition:int32
 *     version 2:      GroupMetadataKey   => group:string
 *   value => version:int16 ...  (null value: a tombstone, the key is deleted)
 *     OffsetCommitValue v3  => offset:int64 leaderEpoch:int32 metadata:string commitTimestamp:int64
 *     GroupMetadataValue v3 => protocolType:string generation:int32 protocol:nullable string
 *                              leader:nullable string currentStateTimestamp:int64
 *                              members:[memberId:string groupInstanceId:nullable string clientId:string
 *                                       clientHost:string rebalanceTimeout:int32 sessionTimeout:int32
 *                                       subscription:bytes assignment:bytes]
 *
 * Readers accept the older value versions (0-3) as Kafka's do; a record of a
 * kind this coordinator does not know (the new consumer protocol's, share
 * groups') is skipped on replay.
 */
import { WafkaError } from '../../errors.ts';
import { SchemaReader, SchemaWriter } from '../../protocol/schema-bytes.ts';
import { coordinatorPartition } from '../coordinator-partition.ts';

export const OFFSETS_TOPIC = '__consumer_offsets';

const OFFSET_COMMIT_KEY_VERSION = 1;
const GROUP_METADATA_KEY_VERSION = 2;
const OFFSET_COMMIT_VALUE_VERSION = 3;
const GROUP_METADATA_VALUE_VERSION = 3;

export interface CommittedOffset {
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
  commitTimestampMs: bigint;
}

export interface StoredMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  subscription: Uint8Array;
  assignment: Uint8Array;
}

export interface StoredGroup {
  protocolType: string;
  generationId: number;
  protocolName: string | null;
  leaderId: string | null;
  currentStateTimestampMs: bigint;
  members: StoredMember[];
}

/**
 * One record as replay reads it: `logOffset` where it is in the log, and for
 * an offset written in a transaction (a TxnOffsetCommit batch) the
 * producer id of that transaction; `marker`: a transaction's COMMIT/ABORT
 * control record on this partition.
 */
export type OffsetsTopicRecord =
  | { kind: 'offset'; groupId: string; topic: string; partition: number; value: CommittedOffset | null; logOffset?: bigint; transactionalProducerId?: bigint | null }
  | { kind: 'group'; groupId: string; value: StoredGroup | null; logOffset?: bigint }
  | { kind: 'marker'; producerId: bigint; committed: boolean }
  | { kind: 'other' };

export function offsetCommitKey(groupId: string, topic: string, partition: number): Uint8Array {
  return new SchemaWriter().int16(OFFSET_COMMIT_KEY_VERSION).string(groupId).string(topic).int32(partition).finish();
}

export function offsetCommitValue(v: CommittedOffset): Uint8Array {
  return new SchemaWriter().int16(OFFSET_COMMIT_VALUE_VERSION)
    .int64(v.offset).int32(v.leaderEpoch).string(v.metadata).int64(v.commitTimestampMs).finish();
}

export function groupMetadataKey(groupId: string): Uint8Array {
  return new SchemaWriter().int16(GROUP_METADATA_KEY_VERSION).string(groupId).finish();
}

export function groupMetadataValue(g: StoredGroup): Uint8Array {
  const w = new SchemaWriter().int16(GROUP_METADATA_VALUE_VERSION)
    .string(g.protocolType).int32(g.generationId).string(g.protocolName).string(g.leaderId).int64(g.currentStateTimestampMs);
  w.array(g.members, (m) => {
    w.string(m.memberId).string(m.groupInstanceId).string(m.clientId).string(m.clientHost)
      .int32(m.rebalanceTimeoutMs).int32(m.sessionTimeoutMs).bytes(m.subscription).bytes(m.assignment);
  });
  return w.finish();
}

/** Decodes one record of the offsets topic; CORRUPT_MESSAGE when a known kind does not parse. */
export function decodeOffsetsTopicRecord(key: Uint8Array | null, value: Uint8Array | null): OffsetsTopicRecord {
  if (!key) throw new WafkaError('CORRUPT_MESSAGE', `${OFFSETS_TOPIC}: a record without a key`);
  const k = new SchemaReader(key, `${OFFSETS_TOPIC} key`);
  const keyVersion = k.int16();
  if (keyVersion === 0 || keyVersion === 1) {
    const groupId = k.string();
    const topic = k.string();
    const partition = k.int32();
    return { kind: 'offset', groupId, topic, partition, value: value ? decodeOffsetValue(value) : null };
  }
  if (keyVersion === 2) {
    const groupId = k.string();
    return { kind: 'group', groupId, value: value ? decodeGroupValue(value) : null };
  }
  return { kind: 'other' };
}

function decodeOffsetValue(bytes: Uint8Array): CommittedOffset {
  const r = new SchemaReader(bytes, 'OffsetCommitValue');
  const version = r.int16();
  if (version < 0 || version > 4) throw new WafkaError('CORRUPT_MESSAGE', `OffsetCommitValue version ${version}`);
  const offset = r.int64();
  const leaderEpoch = version >= 3 ? r.int32() : -1;
  // Version 4 is Kafka's first flexible version: compact strings; read the common prefix only.
  const metadata = version >= 4 ? '' : r.string();
  const commitTimestampMs = version >= 4 ? 0n : r.int64();
  return { offset, leaderEpoch, metadata, commitTimestampMs };
}

function decodeGroupValue(bytes: Uint8Array): StoredGroup {
  const r = new SchemaReader(bytes, 'GroupMetadataValue');
  const version = r.int16();
  if (version < 0 || version > 3) throw new WafkaError('CORRUPT_MESSAGE', `GroupMetadataValue version ${version}`);
  const protocolType = r.string();
  const generationId = r.int32();
  const protocolName = r.nullableString();
  const leaderId = r.nullableString();
  const currentStateTimestampMs = version >= 2 ? r.int64() : -1n;
  const members = r.array(() => ({
    memberId: r.string(),
    groupInstanceId: version >= 3 ? r.nullableString() : null,
    clientId: r.string(),
    clientHost: r.string(),
    rebalanceTimeoutMs: version >= 1 ? r.int32() : -1,
    sessionTimeoutMs: r.int32(),
    subscription: r.bytes(),
    assignment: r.bytes(),
  }), 20);
  for (const m of members) if (m.rebalanceTimeoutMs < 0) m.rebalanceTimeoutMs = m.sessionTimeoutMs;
  return { protocolType, generationId, protocolName, leaderId, currentStateTimestampMs, members };
}

/** The partition of __consumer_offsets that holds a group (see ../coordinator-partition.ts). */
export function groupPartition(groupId: string, offsetsTopicNumPartitions: number): number {
  return coordinatorPartition(groupId, offsetsTopicNumPartitions);
}
