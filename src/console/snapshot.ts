/**
 * One look at a cluster for the console: every broker's metrics (in
 * parallel, each bounded by BROKER_ANSWER_TIMEOUT_MS, so a dead or hung
 * broker shows as down rather than stalling the view) and the topic
 * assignments from any broker that answers. Partition offsets, segments and
 * bytes are the leader's.
 */
import { systemClock, type TimerHandle } from '../clock.ts';
import type { ClusterConnection } from '../cluster/cluster-connection.ts';
import type { BrokerMetrics, MetadataResponse } from '../protocol/types.ts';
import { BROKER_ANSWER_TIMEOUT_MS, SNAPSHOT_TOPICS_MAX } from './limits.ts';
import type { BrokerView, ConsoleSnapshot, GroupView, TopicView } from './types.ts';

/** `promise`, or a rejection after `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: TimerHandle | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = systemClock.setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms); });
  return Promise.race([promise, timeout]).finally(() => systemClock.clearTimeout(timer));
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The consumer groups, for a snapshot: at most SNAPSHOT_GROUPS_MAX of them, and how many were left out. */
export type GroupsReader = () => Promise<{ groups: GroupView[]; leftOut: number }>;

export async function takeSnapshot(connection: ClusterConnection, readGroups?: GroupsReader): Promise<ConsoleSnapshot> {
  const atMs = systemClock.nowMs();
  // Groups are read beside the brokers; a failure leaves them out of this snapshot (the view keeps the last).
  const groupsRead = readGroups ? within(readGroups(), BROKER_ANSWER_TIMEOUT_MS * 2, 'groups').catch(() => undefined) : Promise.resolve(undefined);
  const ids = connection.bootstrap.nodeIds;
  const answers = await Promise.all(ids.map(async (nodeId): Promise<{ nodeId: number; metrics?: BrokerMetrics; reason?: string }> => {
    try {
      return { nodeId, metrics: await within(connection.broker(nodeId).metrics(), BROKER_ANSWER_TIMEOUT_MS, `broker ${nodeId}`) };
    } catch (error) {
      return { nodeId, reason: message(error) };
    }
  }));
  const up = answers.filter((a) => a.metrics);
  // The freshest view of the cluster among the brokers that answered.
  const view = up.map((a) => a.metrics!.cluster).sort((a, b) => b.metadataVersion - a.metadataVersion)[0];
  let metadata: MetadataResponse | undefined;
  for (const a of up) {
    try {
      metadata = await within(connection.broker(a.nodeId).metadata({ topics: null, allowAutoTopicCreation: false }), BROKER_ANSWER_TIMEOUT_MS, `broker ${a.nodeId} metadata`);
      break;
    } catch { /* the next one */ }
  }
  const brokers: BrokerView[] = answers.map((a) => {
    if (!a.metrics) return { nodeId: a.nodeId, state: 'down', reason: a.reason };
    const fenced = view?.brokers.find((b) => b.nodeId === a.nodeId)?.fenced === true;
    return { nodeId: a.nodeId, state: fenced ? 'fenced' : 'up', metrics: a.metrics };
  });
  const names = (metadata?.topics ?? []).filter((t) => !t.error).map((t) => t.name).sort();
  const shown = new Set(names.slice(0, SNAPSHOT_TOPICS_MAX));
  const byBroker = new Map(up.map((a) => [a.nodeId, a.metrics!]));
  const topics: TopicView[] = (metadata?.topics ?? []).filter((t) => shown.has(t.name)).sort((a, b) => (a.name < b.name ? -1 : 1)).map((t) => ({
    name: t.name,
    partitions: [...t.partitions].sort((a, b) => a.partitionId - b.partitionId).map((p) => {
      const log = byBroker.get(p.leader)?.replicas.find((r) => r.topic === t.name && r.partition === p.partitionId);
      return {
        partition: p.partitionId, leader: p.leader, leaderEpoch: p.leaderEpoch, replicas: p.replicas, isr: p.isr,
        ...(log && { logStartOffset: log.logStartOffset, logEndOffset: log.logEndOffset, highWatermark: log.highWatermark, segmentCount: log.segmentCount, sizeBytes: log.sizeBytes }),
      };
    }),
  }));
  const groups = await groupsRead;
  return {
    atMs,
    clusterId: metadata?.clusterId ?? connection.clusterId,
    metadataVersion: view?.metadataVersion ?? 0,
    controllerId: view?.controllerId ?? -1,
    controllerEpoch: view?.controllerEpoch ?? 0,
    brokers,
    topics,
    topicsLeftOut: names.length - shown.size,
    ...(groups && { groups: groups.groups, groupsLeftOut: groups.leftOut }),
    ...(tabIdOf(connection) && { viewerTabId: tabIdOf(connection) }),
  };
}

/** The tab a shared cluster's handle belongs to (SharedCluster.tabId); none for other clusters. */
function tabIdOf(connection: ClusterConnection): string | undefined {
  const tabId = (connection as { tabId?: unknown }).tabId;
  return typeof tabId === 'string' ? tabId : undefined;
}
