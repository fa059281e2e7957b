/**
 * Kafka's consumer protocol: what a consumer puts in JoinGroup's member
 * metadata and what the leader's assignment for it holds (protocol type
 * "consumer"). Schemas as Kafka's ConsumerProtocolSubscription.json and
 * ConsumerProtocolAssignment.json; KafkaJS writes the same bytes (version 0).
 *
 *   Subscription => version:int16 topics:[string] userData:nullable bytes
 *                   ownedPartitions:[topic:string partitions:[int32]]  (v1+)
 *                   generationId:int32                                  (v2+)
 *                   rackId:nullable string                              (v3+)
 *   Assignment   => version:int16 assignedPartitions:[topic:string partitions:[int32]]
 *                   userData:nullable bytes
 *
 * Decoding reads the fields of the versions it knows and ignores what a
 * newer version appends, as Kafka's readers do.
 */
import { SchemaReader, SchemaWriter } from './schema-bytes.ts';

export const CONSUMER_PROTOCOL_TYPE = 'consumer';

export interface TopicPartitionList { topic: string; partitions: number[] }

export interface ConsumerSubscription {
  topics: string[];
  userData: Uint8Array | null;
  /** What the member consumes now (cooperative assignors keep these where they can). */
  ownedPartitions: TopicPartitionList[];
  generationId: number;
  rackId: string | null;
}

export interface ConsumerAssignment {
  assignedPartitions: TopicPartitionList[];
  userData: Uint8Array | null;
}

/** Partitions per list and topics per subscription a decoder accepts. */
const ITEMS_MAX = 1_000_000;

export function encodeSubscription(s: Partial<ConsumerSubscription> & { topics: string[] }, version = 1): Uint8Array {
  const w = new SchemaWriter().int16(version);
  w.array(s.topics, (t) => w.string(t));
  w.bytes(s.userData ?? null);
  if (version >= 1) writePartitions(w, s.ownedPartitions ?? []);
  if (version >= 2) w.int32(s.generationId ?? -1);
  if (version >= 3) w.string(s.rackId ?? null);
  return w.finish();
}

export function decodeSubscription(bytes: Uint8Array): ConsumerSubscription {
  const r = new SchemaReader(bytes, 'consumer subscription');
  const version = r.int16();
  const topics = r.array(() => r.string(), 2, ITEMS_MAX);
  const userData = r.nullableBytes();
  const ownedPartitions = version >= 1 && r.remaining > 0 ? readPartitions(r) : [];
  const generationId = version >= 2 && r.remaining > 0 ? r.int32() : -1;
  const rackId = version >= 3 && r.remaining > 0 ? r.nullableString() : null;
  return { topics, userData, ownedPartitions, generationId, rackId };
}

export function encodeAssignment(a: Partial<ConsumerAssignment> & { assignedPartitions: TopicPartitionList[] }, version = 1): Uint8Array {
  const w = new SchemaWriter().int16(version);
  writePartitions(w, a.assignedPartitions);
  w.bytes(a.userData ?? null);
  return w.finish();
}

/** An empty buffer (what Kafka sends a member the leader gave nothing) decodes as no partitions. */
export function decodeAssignment(bytes: Uint8Array): ConsumerAssignment {
  if (bytes.byteLength === 0) return { assignedPartitions: [], userData: null };
  const r = new SchemaReader(bytes, 'consumer assignment');
  r.int16();
  const assignedPartitions = readPartitions(r);
  const userData = r.remaining > 0 ? r.nullableBytes() : null;
  return { assignedPartitions, userData };
}

function writePartitions(w: SchemaWriter, lists: readonly TopicPartitionList[]): void {
  w.array(lists, (l) => {
    w.string(l.topic);
    w.array(l.partitions, (p) => w.int32(p));
  });
}

function readPartitions(r: SchemaReader): TopicPartitionList[] {
  return r.array(() => ({ topic: r.string(), partitions: r.array(() => r.int32(), 4, ITEMS_MAX) }), 6, ITEMS_MAX);
}
