/**
 * What the console reads and asks of a cluster, as JSON-friendly shapes (no
 * bigint: offsets are decimal strings, as in the KafkaJS-shaped API), so the
 * same shapes cross the CLI's live feed unchanged.
 *
 * A ConsoleSource is where a console gets them: the page's own cluster
 * (./cluster-source.ts) or a Node cluster through the CLI's feed
 * (./feed-source.ts).
 */
import type { BrokerMetrics } from '../protocol/types.ts';

export type BrokerState = 'up' | 'fenced' | 'down';

export interface BrokerView {
  nodeId: number;
  state: BrokerState;
  /** Why it is down (the metrics call's error), when it is. */
  reason?: string;
  /** Its metrics; absent while it does not answer. */
  metrics?: BrokerMetrics;
}

export interface PartitionView {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  /** The leader's log (absent while the leader does not answer): offsets as decimal strings. */
  logStartOffset?: string;
  logEndOffset?: string;
  highWatermark?: string;
  segmentCount?: number;
  sizeBytes?: number;
}

export interface TopicView { name: string; partitions: PartitionView[] }

export interface GroupMemberView {
  memberId: string;
  clientId: string;
  clientHost: string;
  /** topic → partitions assigned to this member (empty while the group rebalances). */
  assignment: { topic: string; partitions: number[] }[];
}

export interface GroupOffsetView {
  topic: string;
  partition: number;
  /** '-1' when the group has committed nothing there. */
  committed: string;
  highWatermark: string;
  lag: string;
}

export interface GroupView {
  groupId: string;
  /** Kafka's group state: Empty, PreparingRebalance, CompletingRebalance, Stable, Dead. */
  state: string;
  protocol: string;
  members: GroupMemberView[];
  offsets: GroupOffsetView[];
  totalLag: string;
  /** Why the group could not be described, when it could not. */
  error?: string;
}

export interface ConsoleSnapshot {
  /** When it was begun (ms since the epoch): rates are computed between these. */
  atMs: number;
  clusterId: string;
  metadataVersion: number;
  controllerId: number;
  controllerEpoch: number;
  brokers: BrokerView[];
  topics: TopicView[];
  /** Topics left out (over SNAPSHOT_TOPICS_MAX), so the console can say so. */
  topicsLeftOut: number;
  /** Consumer groups (at most SNAPSHOT_GROUPS_MAX); absent when the source has no view of groups. */
  groups?: GroupView[];
  /** The tab this console runs in, when it looks at the cluster this origin's tabs share (brokers there run on host 'tab:<id>'). */
  viewerTabId?: string;
  groupsLeftOut?: number;
}

export interface TailPosition { partition: number; offset: string }
export type TailStart = { from: 'latest' } | { from: 'earliest' } | { from: 'offset'; offset: string } | { from: 'timestamp'; timestampMs: number };

export interface TailRecord {
  partition: number;
  offset: string;
  timestampMs: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: { key: string; value: Uint8Array | null }[];
}

export interface TailResult { records: TailRecord[]; positions: TailPosition[] }

export interface ProduceInput {
  topic: string;
  partition?: number;
  key: string | null;
  value: string;
  headers: { key: string; value: string }[];
}

export interface TopicConfigEntry { name: string; value: string | null; isDefault: boolean }

/** Everything the console does; each call bounded (see the limits in ./limits.ts). */
export interface ConsoleSource {
  /** How the console is attached, for its header ('this page's cluster', 'node cluster at …'). */
  readonly description: string;
  snapshot(): Promise<ConsoleSnapshot>;
  /** Where a tail of `partitions` (all when null) starts. */
  tailStart(topic: string, partitions: number[] | null, start: TailStart): Promise<TailPosition[]>;
  /** Records from `positions` on, up to the limits; answers at once (no long poll). */
  tail(topic: string, positions: TailPosition[]): Promise<TailResult>;
  produce(input: ProduceInput): Promise<{ partition: number; offset: string }>;
  createTopic(topic: string, numPartitions: number, replicationFactor: number): Promise<void>;
  deleteTopic(topic: string): Promise<void>;
  createPartitions(topic: string, count: number): Promise<void>;
  describeTopicConfigs(topic: string): Promise<TopicConfigEntry[]>;
  /** Commits the earliest or latest offsets of `topic` for a group with no members (Kafka refuses NON_EMPTY_GROUP otherwise). */
  resetGroupOffsets(groupId: string, topic: string, to: 'earliest' | 'latest'): Promise<void>;
  close(): void;
}
