/**
 * Partition assigners, in KafkaJS's shape: a factory `({ cluster, groupId,
 * logger }) => Assigner`, whose `protocol({ topics })` is what the member
 * sends in JoinGroup and whose `assign({ members, topics })` the leader runs
 * (`members[i].memberMetadata` and the result's `memberAssignment` are the
 * consumer protocol's bytes, see AssignerProtocol). Custom assigners written
 * for KafkaJS work unchanged.
 *
 * `roundRobin` and `range` are eager (KafkaJS's and Java's): every member
 * gives up all its partitions before it rejoins. `cooperativeSticky` is
 * incremental (KIP-429): members keep consuming what they own through a
 * rebalance, the assignor keeps partitions with their owner where balance
 * allows, and a partition that moves is first taken from its owner (which
 * rejoins at once) and only given to its new owner in the next round, so
 * no partition is ever consumed by two members at once.
 */
import {
  decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription, type TopicPartitionList,
} from '../../protocol/consumer-protocol.ts';
import type { Logger } from '../logger.ts';

export type RebalanceProtocol = 'eager' | 'cooperative';

export interface GroupMember { memberId: string; memberMetadata: Uint8Array }
export interface GroupMemberAssignment { memberId: string; memberAssignment: Uint8Array }

export interface AssignerCluster {
  /** The partitions of `topic` as the client's metadata knows them. */
  findTopicPartitionMetadata(topic: string): { partitionId: number; leader: number }[];
}

export interface Assigner {
  name: string;
  version: number;
  /** 'eager' when absent (every KafkaJS assigner). */
  rebalanceProtocol?: RebalanceProtocol;
  protocol(subscription: { topics: string[]; ownedPartitions?: TopicPartitionList[]; generationId?: number }): { name: string; metadata: Uint8Array };
  assign(group: { members: GroupMember[]; topics: string[]; userData?: Uint8Array }): GroupMemberAssignment[] | Promise<GroupMemberAssignment[]>;
}

export type PartitionAssigner = (config: { cluster: AssignerCluster; groupId: string; logger: Logger }) => Assigner;

/** KafkaJS's AssignerProtocol: the consumer protocol's bytes with KafkaJS's field names. */
export const AssignerProtocol = {
  MemberMetadata: {
    encode: ({ version = 0, topics, userData = null }: { version?: number; topics: string[]; userData?: Uint8Array | null }) =>
      encodeSubscription({ topics, userData }, version),
    decode: (bytes: Uint8Array) => {
      const s = decodeSubscription(bytes);
      return { version: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt16(0), topics: s.topics, userData: s.userData ?? new Uint8Array(0) };
    },
  },
  MemberAssignment: {
    encode: ({ version = 0, assignment, userData = null }: { version?: number; assignment: Record<string, number[]>; userData?: Uint8Array | null }) =>
      encodeAssignment({ assignedPartitions: Object.entries(assignment).map(([topic, partitions]) => ({ topic, partitions })), userData }, version),
    decode: (bytes: Uint8Array): { version: number; assignment: Record<string, number[]>; userData: Uint8Array } | null => {
      if (bytes.byteLength === 0) return null;
      const a = decodeAssignment(bytes);
      const assignment: Record<string, number[]> = {};
      for (const l of a.assignedPartitions) assignment[l.topic] = [...(assignment[l.topic] ?? []), ...l.partitions];
      return { version: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt16(0), assignment, userData: a.userData ?? new Uint8Array(0) };
    },
  },
};

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Each member's subscribed topics, from its metadata (members sorted by id). */
function subscriptions(members: GroupMember[]): { memberId: string; topics: Set<string>; owned: TopicPartitionList[] }[] {
  return [...members].sort((a, b) => byString(a.memberId, b.memberId)).map((m) => {
    const s = decodeSubscription(m.memberMetadata);
    return { memberId: m.memberId, topics: new Set(s.topics), owned: s.ownedPartitions };
  });
}

function toAssignments(plan: Map<string, Map<string, number[]>>, members: { memberId: string }[], version: number): GroupMemberAssignment[] {
  return members.map(({ memberId }) => {
    const topics = plan.get(memberId) ?? new Map<string, number[]>();
    const assignedPartitions = [...topics].sort(([a], [b]) => byString(a, b)).map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((x, y) => x - y) }));
    return { memberId, memberAssignment: encodeAssignment({ assignedPartitions }, version) };
  });
}

function give(plan: Map<string, Map<string, number[]>>, memberId: string, topic: string, partition: number): void {
  let topics = plan.get(memberId);
  if (!topics) plan.set(memberId, (topics = new Map()));
  let list = topics.get(topic);
  if (!list) topics.set(topic, (list = []));
  list.push(partition);
}

/** KafkaJS's round robin: every topic-partition in order, dealt to the members subscribed to its topic in turn. */
export const roundRobin: PartitionAssigner = ({ cluster }) => ({
  name: 'RoundRobinAssigner',
  version: 0,
  protocol: ({ topics }) => ({ name: 'RoundRobinAssigner', metadata: encodeSubscription({ topics }, 0) }),
  assign({ members, topics }) {
    const subs = subscriptions(members);
    const plan = new Map<string, Map<string, number[]>>();
    let turn = 0;
    for (const topic of [...topics].sort(byString)) {
      const eligible = subs.filter((s) => s.topics.has(topic));
      if (eligible.length === 0) continue;
      for (const { partitionId } of [...cluster.findTopicPartitionMetadata(topic)].sort((a, b) => a.partitionId - b.partitionId)) {
        give(plan, eligible[turn++ % eligible.length].memberId, topic, partitionId);
      }
    }
    return toAssignments(plan, subs, 0);
  },
});

/** Java's range assignor: per topic, contiguous ranges; the first members get one more when it does not divide. */
export const range: PartitionAssigner = ({ cluster }) => ({
  name: 'RangeAssigner',
  version: 0,
  protocol: ({ topics }) => ({ name: 'RangeAssigner', metadata: encodeSubscription({ topics }, 0) }),
  assign({ members, topics }) {
    const subs = subscriptions(members);
    const plan = new Map<string, Map<string, number[]>>();
    for (const topic of [...topics].sort(byString)) {
      const eligible = subs.filter((s) => s.topics.has(topic));
      if (eligible.length === 0) continue;
      const partitions = cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId).sort((a, b) => a - b);
      const per = Math.floor(partitions.length / eligible.length);
      const extra = partitions.length % eligible.length;
      let at = 0;
      eligible.forEach((s, i) => {
        const count = per + (i < extra ? 1 : 0);
        for (const p of partitions.slice(at, at + count)) give(plan, s.memberId, topic, p);
        at += count;
      });
    }
    return toAssignments(plan, subs, 0);
  },
});

/**
 * Cooperative sticky (Java's CooperativeStickyAssignor, in its essentials):
 * a balanced target where each member keeps what it owns up to its fair
 * share; a partition whose owner loses it goes to nobody this round.
 */
export const cooperativeSticky: PartitionAssigner = ({ cluster }) => ({
  name: 'cooperative-sticky',
  version: 1,
  rebalanceProtocol: 'cooperative',
  protocol: ({ topics, ownedPartitions = [], generationId = -1 }) => ({
    name: 'cooperative-sticky',
    metadata: encodeSubscription({ topics, ownedPartitions, generationId }, 2),
  }),
  assign({ members, topics }) {
    const subs = subscriptions(members);
    const target = new Map<string, Map<string, number[]>>();
    const owner = new Map<string, string>();
    for (const s of subs) {
      for (const l of s.owned) {
        for (const p of l.partitions) {
          const key = `${l.topic}\u0000${p}`;
          // Two members claiming one partition (a stale claim): neither keeps it by right.
          if (owner.has(key)) owner.set(key, '');
          else owner.set(key, s.memberId);
        }
      }
    }
    const moved = new Set<string>();
    for (const topic of [...topics].sort(byString)) {
      const eligible = subs.filter((s) => s.topics.has(topic));
      if (eligible.length === 0) continue;
      const partitions = cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId).sort((a, b) => a - b);
      // Fair shares per topic: the members that own the most keep one more when it does not divide.
      const per = Math.floor(partitions.length / eligible.length);
      let extra = partitions.length % eligible.length;
      const ownedHere = new Map<string, number[]>();
      for (const p of partitions) {
        const o = owner.get(`${topic}\u0000${p}`);
        if (o && eligible.some((s) => s.memberId === o)) ownedHere.set(o, [...(ownedHere.get(o) ?? []), p]);
      }
      const quota = new Map<string, number>();
      for (const s of [...eligible].sort((a, b) => (ownedHere.get(b.memberId)?.length ?? 0) - (ownedHere.get(a.memberId)?.length ?? 0))) {
        quota.set(s.memberId, per + (extra > 0 ? 1 : 0));
        if (extra > 0) extra--;
      }
      const free: number[] = [];
      const count = new Map<string, number>();
      for (const p of partitions) {
        const o = owner.get(`${topic}\u0000${p}`);
        if (o && quota.has(o) && (count.get(o) ?? 0) < quota.get(o)!) {
          give(target, o, topic, p);
          count.set(o, (count.get(o) ?? 0) + 1);
        } else {
          free.push(p);
          if (o) moved.add(`${topic}\u0000${p}`);
        }
      }
      for (const p of free) {
        const to = eligible.find((s) => (count.get(s.memberId) ?? 0) < quota.get(s.memberId)!)!;
        count.set(to.memberId, (count.get(to.memberId) ?? 0) + 1);
        // Taken from an owner this round: given to its new owner once the old one has let go (next rebalance).
        if (moved.has(`${topic}\u0000${p}`)) continue;
        give(target, to.memberId, topic, p);
      }
    }
    return toAssignments(target, subs, 1);
  },
});

export const PartitionAssigners = { roundRobin, range, cooperativeSticky };
