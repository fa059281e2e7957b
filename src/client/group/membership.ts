/**
 * One consumer's membership in its group: finds the coordinator, joins
 * (MEMBER_ID_REQUIRED → join again with the given id), runs the assigner
 * when it is the leader, syncs, and heartbeats every heartbeatInterval on a
 * loop of its own, apart from message handling, so a slow eachMessage does
 * not get the member removed (only rebalanceTimeout bounds how long a
 * rebalance waits for it).
 *
 * What the assignment means for fetching is the consumer's (MembershipHost):
 * with an eager assigner it gives up every partition (committing first)
 * before each join; with a cooperative one it keeps consuming through the
 * rebalance, gives up only what the new assignment takes away, and then
 * joins once more so those partitions can go to their new owner.
 */
import { WafkaError } from '../../errors.ts';
import { CONSUMER_PROTOCOL_TYPE, decodeAssignment, decodeSubscription, type TopicPartitionList } from '../../protocol/consumer-protocol.ts';
import type { ClusterClient } from '../connection.ts';
import { CONSUMER_EVENTS, type InstrumentationEmitter } from '../instrumentation.ts';
import type { Logger } from '../logger.ts';
import { backoffMs, type RetryOptions } from '../retry.ts';
import { Wakeup } from '../wakeup.ts';
import type { Assigner, AssignerCluster, RebalanceProtocol } from './assigners.ts';
import { COORDINATOR_MOVED, findCoordinators, groupCall } from './group-requests.ts';

export interface MembershipHost {
  /** Topics the consumer subscribes to now (patterns matched). */
  subscribedTopics(): string[];
  /** What it consumes now. */
  ownedPartitions(): TopicPartitionList[];
  /** Before an eager join: stop delivering everything, commit, give it up. */
  revokeAll(): Promise<void>;
  /** After SyncGroup: the partitions assigned in `generationId`; cooperative: revoke what is no longer there first. */
  assigned(partitions: TopicPartitionList[], protocol: RebalanceProtocol): Promise<void>;
  /** The membership is gone (session expired, fenced generation): drop everything, commit nothing. */
  lost(): void;
}

export interface MembershipOptions {
  groupId: string;
  clientId: string;
  groupInstanceId: string | null;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  assigners: Assigner[];
  retry: Required<RetryOptions>;
}

export interface GroupGeneration { memberId: string; generationId: number; groupInstanceId: string | null }

/** Errors that end the consumer (Kafka's fatal ones for a member). */
const FATAL = new Set(['FENCED_INSTANCE_ID', 'INCONSISTENT_GROUP_PROTOCOL', 'INVALID_SESSION_TIMEOUT', 'GROUP_MAX_SIZE_REACHED', 'INVALID_GROUP_ID', 'UNSUPPORTED_VERSION', 'INVALID_REQUEST', 'MESSAGE_TOO_LARGE', 'POLICY_VIOLATION']);

export class GroupMembership {
  readonly options: MembershipOptions;
  readonly #cluster: ClusterClient;
  readonly #host: MembershipHost;
  readonly #instrumentation: InstrumentationEmitter;
  readonly #logger: Logger;
  readonly #assignerCluster: AssignerCluster;
  #coordinatorId = -1;
  memberId = '';
  generationId = -1;
  protocolName: string | null = null;
  leaderId = '';
  #running = false;
  #rejoinNeeded = true;
  /** Rung when a rejoin is needed or the membership stops. */
  readonly #changed = new Wakeup();
  #stopSignal = new Wakeup({ latched: true });
  #loop: Promise<void> | null = null;
  #heartbeats: Promise<void> | null = null;
  /** Set while JoinGroup or SyncGroup is in flight (heartbeats pause; the coordinator keeps the member alive meanwhile). */
  #joining = false;
  /** Set from the moment a rebalance starts here (revocation included) until its assignment is in. */
  #rebalancing = false;
  /**
   * Set from this member's JoinGroup answer until its SyncGroup answer: the group completes the rebalance
   * (CompletingRebalance) and its coordinator refuses offset commits with REBALANCE_IN_PROGRESS.
   */
  #syncing = false;
  /**
   * The leader's: the partition count of each topic of the group's subscriptions when it last assigned
   * (Kafka's assignmentSnapshot); null when this member did not compute the current assignment.
   */
  #assignmentSnapshot: Map<string, number> | null = null;
  #onFatal: (error: WafkaError) => void = () => {};

  constructor(options: MembershipOptions, context: { cluster: ClusterClient; host: MembershipHost; instrumentation: InstrumentationEmitter; logger: Logger }) {
    if (options.assigners.length === 0) throw new TypeError('wafka: a consumer group needs at least one partition assigner');
    this.options = options;
    this.#cluster = context.cluster;
    this.#host = context.host;
    this.#instrumentation = context.instrumentation;
    this.#logger = context.logger;
    this.#assignerCluster = { findTopicPartitionMetadata: (topic) => this.#cluster.partitions(topic).map((p) => ({ partitionId: p.partitionId, leader: p.leader })) };
  }

  get protocol(): RebalanceProtocol {
    return this.#assigner(this.protocolName)?.rebalanceProtocol ?? this.options.assigners[0].rebalanceProtocol ?? 'eager';
  }

  get generation(): GroupGeneration {
    return { memberId: this.memberId, generationId: this.generationId, groupInstanceId: this.options.groupInstanceId };
  }

  get coordinatorId(): number { return this.#coordinatorId; }
  /** True from the moment a rebalance starts here (revocation included) until its assignment is in. */
  get rebalancing(): boolean { return this.#rebalancing; }
  /** True between this member's JoinGroup answer and its SyncGroup answer (commits would be refused). */
  get syncing(): boolean { return this.#syncing; }
  get isLeader(): boolean { return this.memberId !== '' && this.leaderId === this.memberId; }

  /** Joins the group (resolves once the first assignment is in), then keeps the membership in the background. */
  async start(onFatal: (error: WafkaError) => void): Promise<void> {
    this.#onFatal = onFatal;
    this.#running = true;
    this.#stopSignal = new Wakeup({ latched: true });
    this.#rejoinNeeded = true;
    await this.#joinUntilAssigned();
    this.#loop = this.#maintain().catch((error) => this.#fatal(error));
    this.#heartbeats = this.#heartbeatLoop().catch((error) => this.#fatal(error));
  }

  /** Stops heartbeating; leaves the group unless static (a static member keeps its place for one session timeout). */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#stopSignal.ring();
    this.#changed.ring();
    await Promise.allSettled([this.#loop, this.#heartbeats]);
    if (this.memberId && this.options.groupInstanceId === null) {
      try {
        await groupCall(this.#cluster, this.#coordinatorId, 'LeaveGroup', (api) => api.leaveGroup({ groupId: this.options.groupId, members: [{ memberId: this.memberId, reason: 'the consumer stopped' }] }));
      } catch (error) {
        this.#logger.warn('LeaveGroup failed (the coordinator removes the member after its session timeout)', { error: String(error) });
      }
      this.memberId = '';
    }
    this.generationId = -1;
  }

  /** The topics whose partitions the leader assigned (empty unless this member leads): its metadata refreshes cover them. */
  assignedTopics(): string[] {
    return this.#assignmentSnapshot ? [...this.#assignmentSnapshot.keys()] : [];
  }

  /**
   * After a metadata refresh, as Kafka's ConsumerCoordinator: when the leader sees a topic of the group's
   * subscriptions with another partition count than it assigned (partitions were added, or the topic was
   * deleted), the group rebalances so the assignment covers what exists now.
   */
  metadataRefreshed(): void {
    const snapshot = this.#assignmentSnapshot;
    if (!snapshot || !this.#running || this.generationId < 0) return;
    for (const [topic, count] of snapshot) {
      const now = this.#cluster.partitions(topic).length;
      if (now === count) continue;
      this.#logger.info(`topic ${topic} of group ${this.options.groupId} has ${now} partitions, ${count} when assigned: rejoining`);
      this.#assignmentSnapshot = null;
      this.requestRejoin();
      return;
    }
  }

  /** A rejoin is wanted (a subscription changed, a rebalance is in progress). */
  requestRejoin(): void {
    this.#rejoinNeeded = true;
    this.#changed.ring();
  }

  #fatal(error: unknown): void {
    if (!this.#running) return;
    this.#running = false;
    this.#stopSignal.ring();
    this.#changed.ring();
    this.#onFatal(error instanceof WafkaError ? error : new WafkaError('UNKNOWN_SERVER_ERROR', String(error), { cause: error }));
  }

  async #maintain(): Promise<void> {
    while (this.#running) {
      if (!this.#rejoinNeeded) {
        await this.#changed.sleep(60_000);
        continue;
      }
      await this.#joinUntilAssigned();
    }
  }

  /** Join and sync rounds until one gives this member an assignment it keeps. */
  async #joinUntilAssigned(): Promise<void> {
    for (let attempt = 0; this.#running && this.#rejoinNeeded; attempt++) {
      this.#rebalancing = true;
      try {
        this.#rejoinNeeded = false;
        await this.#joinAndSync();
        attempt = -1;
      } catch (error) {
        const e = error instanceof WafkaError ? error : new WafkaError('UNKNOWN_SERVER_ERROR', String(error), { cause: error });
        if (FATAL.has(e.type) || !this.#running) throw e;
        this.#rejoinNeeded = true;
        if (COORDINATOR_MOVED.has(e.type) || e.retriable) this.#coordinatorId = -1;
        this.#logger.debug(`join of group ${this.options.groupId} failed, trying again`, { error: e.message });
        if (attempt >= 0) await this.#stopSignal.sleep(backoffMs(this.options.retry, Math.min(attempt, 6)));
      } finally {
        this.#rebalancing = false;
        this.#joining = false;
        this.#syncing = false;
      }
    }
  }

  async #coordinator(): Promise<number> {
    if (this.#coordinatorId < 0) this.#coordinatorId = (await findCoordinators(this.#cluster, [this.options.groupId])).get(this.options.groupId)!;
    return this.#coordinatorId;
  }

  #assigner(name: string | null): Assigner | undefined {
    return this.options.assigners.find((a) => a.name === name);
  }

  async #joinAndSync(): Promise<void> {
    const startedMs = Date.now();
    const { groupId, groupInstanceId } = this.options;
    this.#instrumentation.emit(CONSUMER_EVENTS.REBALANCING, { groupId, memberId: this.memberId });
    // Eager: nothing is consumed through a rebalance. Cooperative members keep theirs.
    // Heartbeats go on while the handlers finish, so a slow one does not cost the member its session.
    if ((this.options.assigners[0].rebalanceProtocol ?? 'eager') === 'eager') await this.#host.revokeAll();
    this.#joining = true;
    const coordinatorId = await this.#coordinator();
    const topics = this.#host.subscribedTopics();
    const owned = this.#host.ownedPartitions();
    const protocols = this.options.assigners.map((a) => a.protocol({ topics, ownedPartitions: owned, generationId: this.generationId }));
    const join = () => groupCall(this.#cluster, coordinatorId, 'JoinGroup', (api) => api.joinGroup({
      groupId, sessionTimeoutMs: this.options.sessionTimeoutMs, rebalanceTimeoutMs: this.options.rebalanceTimeoutMs,
      memberId: this.memberId, groupInstanceId, protocolType: CONSUMER_PROTOCOL_TYPE, protocols, clientId: this.options.clientId,
    }));
    let joined = await join();
    if (joined.error?.type === 'MEMBER_ID_REQUIRED') {
      this.memberId = joined.memberId;
      joined = await join();
    }
    if (joined.error) {
      const e = WafkaError.fromJSON(joined.error);
      if (e.type === 'UNKNOWN_MEMBER_ID' || e.type === 'ILLEGAL_GENERATION') this.#reset();
      throw e;
    }
    this.#syncing = true;
    this.memberId = joined.memberId;
    this.generationId = joined.generationId;
    this.protocolName = joined.protocolName;
    this.leaderId = joined.leader;
    const assigner = this.#assigner(joined.protocolName);
    if (!assigner) throw new WafkaError('INCONSISTENT_GROUP_PROTOCOL', `the group chose assigner '${joined.protocolName}', which this consumer does not have`);
    let assignments: { memberId: string; assignment: Uint8Array }[] = [];
    if (joined.leader === joined.memberId && !joined.skipAssignment) {
      const members = joined.members.map((m) => ({ memberId: m.memberId, memberMetadata: m.metadata }));
      const allTopics = [...new Set(members.flatMap((m) => decodeSubscription(m.memberMetadata).topics))].sort();
      // The leader assigns topics other members subscribe to as well: it needs their partitions.
      await this.#cluster.refresh([...new Set([...this.#cluster.knownTopics(), ...allTopics])], false);
      this.#assignmentSnapshot = new Map(allTopics.map((t) => [t, this.#cluster.partitions(t).length]));
      const planned = await assigner.assign({ members, topics: allTopics });
      assignments = planned.map((a) => ({ memberId: a.memberId, assignment: a.memberAssignment }));
    } else if (!joined.skipAssignment) {
      this.#assignmentSnapshot = null;
    }
    const synced = await groupCall(this.#cluster, coordinatorId, 'SyncGroup', (api) => api.syncGroup({
      groupId, generationId: this.generationId, memberId: this.memberId, groupInstanceId,
      protocolType: CONSUMER_PROTOCOL_TYPE, protocolName: joined.protocolName, assignments,
    }));
    this.#syncing = false;
    if (synced.error) {
      const e = WafkaError.fromJSON(synced.error);
      if (e.type === 'UNKNOWN_MEMBER_ID' || e.type === 'ILLEGAL_GENERATION') this.#reset();
      throw e;
    }
    const assignment = decodeAssignment(synced.assignment);
    const protocol = assigner.rebalanceProtocol ?? 'eager';
    const before = new Set(owned.flatMap((l) => l.partitions.map((p) => `${l.topic}\u0000${p}`)));
    const after = new Set(assignment.assignedPartitions.flatMap((l) => l.partitions.map((p) => `${l.topic}\u0000${p}`)));
    await this.#host.assigned(assignment.assignedPartitions, protocol);
    // Cooperative: a partition taken away goes to its new owner in one more round.
    if (protocol === 'cooperative' && [...before].some((k) => !after.has(k))) this.#rejoinNeeded = true;
    this.#instrumentation.emit(CONSUMER_EVENTS.GROUP_JOIN, {
      duration: Date.now() - startedMs, groupId, isLeader: this.isLeader, leaderId: this.leaderId, groupProtocol: this.protocolName,
      memberId: this.memberId, memberAssignment: Object.fromEntries(assignment.assignedPartitions.map((l) => [l.topic, l.partitions])),
    });
  }

  /** The member id and generation are no longer valid: partitions are lost (nothing is committed for them). */
  #reset(): void {
    this.#assignmentSnapshot = null;
    this.memberId = '';
    this.generationId = -1;
    this.#host.lost();
  }

  async #heartbeatLoop(): Promise<void> {
    let failures = 0;
    while (this.#running) {
      await this.#stopSignal.sleep(this.options.heartbeatIntervalMs);
      if (!this.#running) return;
      if (this.#joining || this.generationId < 0 || this.memberId === '') continue;
      await this.heartbeat().then(() => { failures = 0; }, async (error) => {
        const e = error as WafkaError;
        if (FATAL.has(e.type)) throw e;
        if (++failures > 1) await this.#stopSignal.sleep(backoffMs(this.options.retry, Math.min(failures, 6)));
      });
    }
  }

  /** One heartbeat (also what eachMessage's `heartbeat()` sends); an answer that asks for a rejoin schedules one. */
  async heartbeat(): Promise<void> {
    if (this.#joining || this.generationId < 0 || this.memberId === '') return;
    const { groupId, groupInstanceId } = this.options;
    const generationId = this.generationId;
    let response;
    try {
      response = await groupCall(this.#cluster, await this.#coordinator(), 'Heartbeat', (api) => api.heartbeat({ groupId, generationId, memberId: this.memberId, groupInstanceId }));
    } catch (error) {
      this.#coordinatorId = -1;
      throw error;
    }
    if (!response.error) {
      this.#instrumentation.emit(CONSUMER_EVENTS.HEARTBEAT, { groupId, memberId: this.memberId, groupGenerationId: generationId });
      return;
    }
    const e = WafkaError.fromJSON(response.error);
    if (generationId !== this.generationId) return; // a rejoin happened meanwhile
    if (e.type === 'REBALANCE_IN_PROGRESS') { if (!this.#rebalancing) this.requestRejoin(); return; }
    if (e.type === 'UNKNOWN_MEMBER_ID' || e.type === 'ILLEGAL_GENERATION') { this.#reset(); this.requestRejoin(); return; }
    if (COORDINATOR_MOVED.has(e.type)) { this.#coordinatorId = -1; throw e; }
    throw e;
  }

  /** Sends a group request to the coordinator, looking it up again once if it moved. */
  async call<T>(apiName: string, send: (nodeId: number) => Promise<T>): Promise<T> {
    try {
      return await send(await this.#coordinator());
    } catch (error) {
      if (!(error instanceof WafkaError) || !COORDINATOR_MOVED.has(error.type)) throw error;
      this.#coordinatorId = -1;
      this.#logger.debug(`${apiName}: the coordinator moved, looking it up again`);
      return send(await this.#coordinator());
    }
  }

  markCoordinatorUnknown(): void { this.#coordinatorId = -1; }
}
