/**
 * The controller: the one place that decides who leads each partition and who
 * is in its ISR (Kafka's KRaft QuorumController, with the metadata store in
 * the quorum's place).
 *
 * - It becomes controller by claiming the next controller epoch in the store
 *   (after winning the lease: a Web Lock, a lock file). Every write it makes
 *   afterwards is a compare-and-set that also requires the stored epoch to
 *   still be its own, so a controller that was frozen or cut off while
 *   another took over can never write again (NOT_CONTROLLER).
 * - Brokers register (getting a new broker epoch, unfenced) and heartbeat; a
 *   broker whose heartbeats stop for brokerSessionTimeoutMs, or whose lock is
 *   seen freed (`brokerGone`), is fenced: it leaves every ISR (see
 *   ./partition-change.ts) and every partition it led gets a new leader and
 *   leader epoch. A broker shutting down cleanly hands its leadership over
 *   first.
 * - Leaders ask to shrink or expand their ISR (AlterPartition), with the
 *   epochs they know; stale requests are refused.
 *
 * Each change rings the metadata doorbell; brokers apply what they read.
 */
import { WafkaError } from '../errors.ts';
import type { Clock, TimerHandle } from '../clock.ts';
import type { BrokerRegistration, ClusterMetadata, PartitionState, TopicState } from '../metadata/metadata.ts';
import { updateMetadata, type MetadataStore } from '../metadata/metadata-store.ts';
import type { MetadataWatch } from '../metadata/metadata-watch.ts';
import {
  alterIsr, fenceReplica, shutDownReplica, unfenceReplica, type AlterIsrRequest, type ElectionRules,
} from './partition-change.ts';

/** The in-realm controller's id: outside the broker id range, as a KRaft controller's own node id would be. */
export const CONTROLLER_NODE_ID = 1_000;

export interface ControllerOptions {
  /** The broker this controller runs in. */
  nodeId: number;
  clusterId: string;
  store: MetadataStore;
  watch: MetadataWatch;
  clock: Clock;
  brokerSessionTimeoutMs: number;
  /**
   * Whether topics without their own `uncleanLeaderElectionEnable` elect a
   * leader outside the ISR rather than stay offline (Kafka's broker setting
   * unclean.leader.election.enable; default false, as Kafka's).
   */
  uncleanLeaderElectionEnable?: boolean;
  /** Told when brokers were fenced (session expired or lock freed), after the metadata says so. */
  onBrokersFenced?: (nodeIds: number[]) => void;
  /** Told when a broker registered (started, or came back after being fenced). */
  onBrokerRegistered?: (nodeId: number) => void;
}

export interface BrokerRegistrationRequest {
  nodeId: number;
  host: string;
  rack?: string | null;
}

export interface AlterPartitionRequest extends AlterIsrRequest {
  topic: string;
  partition: number;
}

export class Controller {
  readonly nodeId: number;
  readonly clusterId: string;
  /** The controller epoch this controller claimed. */
  readonly epoch: number;
  readonly #options: ControllerOptions;
  /** Sessions of unfenced brokers: the registration's broker epoch and the deadline (clock ms) of the next heartbeat. */
  readonly #sessions = new Map<number, { brokerEpoch: number; deadlineMs: number }>();
  /** Brokers shutting down cleanly: not eligible to lead or join an ISR. */
  readonly #shuttingDown = new Set<number>();
  #timer: TimerHandle | undefined;
  #closed = false;
  /** Changes are made one at a time, in arrival order. */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(options: ControllerOptions, epoch: number) {
    this.#options = options;
    this.nodeId = options.nodeId;
    this.clusterId = options.clusterId;
    this.epoch = epoch;
  }

  /**
   * Claims the next controller epoch and starts deciding. Every broker
   * registered and unfenced gets a fresh session, as a new KRaft controller
   * gives them: none is fenced for heartbeats the previous controller got.
   */
  static async activate(options: ControllerOptions): Promise<Controller> {
    const { metadata, result: epoch } = await updateMetadata(options.store, options.clusterId, (m) => {
      m.controllerEpoch += 1;
      m.controllerId = options.nodeId;
      return { next: m, result: m.controllerEpoch };
    }, options.clock);
    options.watch.announce(metadata.version);
    const controller = new Controller(options, epoch);
    const nowMs = options.clock.nowMs();
    for (const b of metadata.brokers) {
      if (!b.fenced) controller.#sessions.set(b.nodeId, { brokerEpoch: b.brokerEpoch ?? 0, deadlineMs: nowMs + options.brokerSessionTimeoutMs });
    }
    controller.#scheduleSessionCheck();
    return controller;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** A broker (re)starts: new broker epoch, unfenced, and leader again of leaderless partitions whose ISR holds it. */
  registerBroker(request: BrokerRegistrationRequest): Promise<{ brokerEpoch: number }> {
    return this.#serialized(async () => {
      const brokerEpoch = await this.#change((m) => {
        const old = m.brokers.find((b) => b.nodeId === request.nodeId);
        const registration: BrokerRegistration = {
          nodeId: request.nodeId, host: request.host, rack: request.rack ?? null,
          registeredAtMs: this.#options.clock.nowMs(), brokerEpoch: (old?.brokerEpoch ?? 0) + 1, fenced: false,
        };
        m.brokers = [...m.brokers.filter((b) => b.nodeId !== request.nodeId), registration].sort((a, b) => a.nodeId - b.nodeId);
        this.#shuttingDown.delete(request.nodeId);
        this.#forEachPartition(m, (p, rules) => unfenceReplica(p, request.nodeId, rules));
        return registration.brokerEpoch!;
      });
      this.#sessions.set(request.nodeId, { brokerEpoch, deadlineMs: this.#options.clock.nowMs() + this.#options.brokerSessionTimeoutMs });
      this.#options.onBrokerRegistered?.(request.nodeId);
      return { brokerEpoch };
    });
  }

  /**
   * Renews a broker's session. A broker the controller fenced (or never
   * registered, or registered again since: another broker epoch) is told so
   * and must register again.
   */
  async heartbeat(nodeId: number, brokerEpoch: number): Promise<{ fenced: boolean }> {
    this.#checkOpen();
    const session = this.#sessions.get(nodeId);
    if (!session || session.brokerEpoch !== brokerEpoch) return { fenced: true };
    session.deadlineMs = this.#options.clock.nowMs() + this.#options.brokerSessionTimeoutMs;
    return { fenced: false };
  }

  /** The broker's lock was freed (its worker or tab is gone): fence it now rather than at session expiry. */
  brokerGone(nodeId: number): Promise<void> {
    return this.#serialized(() => this.#fence([nodeId]));
  }

  /** A clean shutdown: leadership moves to other ISR members, and the broker leaves the ISRs it can leave. */
  controlledShutdown(nodeId: number): Promise<void> {
    return this.#serialized(async () => {
      this.#shuttingDown.add(nodeId);
      await this.#change((m) => { this.#forEachPartition(m, (p, rules) => shutDownReplica(p, nodeId, rules)); });
    });
  }

  /** A leader's ISR change (Kafka's AlterPartition). Returns the partition as stored. */
  alterPartition(request: AlterPartitionRequest): Promise<PartitionState> {
    return this.#serialized(() => this.#change((m) => {
      const topic = Object.hasOwn(m.topics, request.topic) ? m.topics[request.topic] : undefined;
      const p = topic?.partitions[request.partition];
      if (!topic || !p) throw new WafkaError('UNKNOWN_TOPIC_OR_PARTITION', `${request.topic}-${request.partition} does not exist`);
      const next = alterIsr(p, request, this.#rules(m, topic));
      topic.partitions[request.partition] = next;
      return next;
    }));
  }

  close(): void {
    this.#closed = true;
    this.#options.clock.clearTimeout(this.#timer);
  }

  /**
   * Every brokerSessionTimeoutMs / 4, fences the brokers past their deadline.
   * A check that runs late (the controller's own thread was blocked: a long
   * task, a GC) looks again once, a moment later: the heartbeats sent
   * meanwhile may still be queued behind its timer, and are read first.
   */
  #scheduleSessionCheck(delayMs?: number): void {
    if (this.#closed) return;
    const intervalMs = Math.max(1, Math.floor(this.#options.brokerSessionTimeoutMs / 4));
    const again = delayMs !== undefined;
    const dueMs = this.#options.clock.nowMs() + (delayMs ?? intervalMs);
    this.#timer = this.#options.clock.setTimeout(() => {
      const nowMs = this.#options.clock.nowMs();
      if (!again && nowMs - dueMs > intervalMs) {
        this.#scheduleSessionCheck(1);
        return;
      }
      const expired = [...this.#sessions].filter(([, session]) => session.deadlineMs < nowMs).map(([id]) => id);
      const check = expired.length > 0 ? this.#serialized(() => this.#fence(expired)) : Promise.resolve();
      void check.catch(() => {}).finally(() => this.#scheduleSessionCheck());
    }, delayMs ?? intervalMs);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  async #fence(nodeIds: number[]): Promise<void> {
    for (const id of nodeIds) this.#sessions.delete(id);
    await this.#change((m) => {
      let fencedAny = false;
      for (const b of m.brokers) {
        if (nodeIds.includes(b.nodeId) && !b.fenced) { b.fenced = true; fencedAny = true; }
      }
      for (const id of nodeIds) this.#forEachPartition(m, (p, rules) => fenceReplica(p, id, rules));
      return fencedAny;
    });
    this.#options.onBrokersFenced?.(nodeIds);
  }

  /** Applies `mutate` to every partition, keeping what it returns (null: unchanged). */
  #forEachPartition(m: ClusterMetadata, mutate: (p: PartitionState, rules: ElectionRules) => PartitionState | null): void {
    for (const topic of Object.values(m.topics)) {
      const rules = this.#rules(m, topic);
      topic.partitions = topic.partitions.map((p) => mutate(p, rules) ?? p);
    }
  }

  #rules(m: ClusterMetadata, topic: TopicState): ElectionRules {
    const registered = new Map(m.brokers.map((b) => [b.nodeId, b]));
    return {
      eligible: (id) => { const b = registered.get(id); return !!b && !b.fenced && !this.#shuttingDown.has(id); },
      uncleanLeaderElectionEnable: topic.configs.uncleanLeaderElectionEnable ?? this.#options.uncleanLeaderElectionEnable ?? false,
    };
  }

  /**
   * One compare-and-set of the metadata, only while the stored controller
   * epoch is still ours; `mutate` changes the copy it gets and returns the
   * result. Nothing is written when the document comes out unchanged.
   */
  async #change<T>(mutate: (m: ClusterMetadata) => T): Promise<T> {
    this.#checkOpen();
    const { metadata, result, changed } = await updateMetadata(this.#options.store, this.clusterId, (m) => {
      // Superseded: this controller stops for good (the lease holder that took over decides from now on).
      if (m.controllerEpoch !== this.epoch) {
        this.close();
        throw new WafkaError('NOT_CONTROLLER', `controller epoch ${this.epoch} of broker ${this.nodeId} was superseded by epoch ${m.controllerEpoch} (broker ${m.controllerId})`);
      }
      const before = JSON.stringify(m);
      const value = mutate(m);
      return { next: JSON.stringify(m) === before ? null : m, result: value };
    }, this.#options.clock);
    if (changed) this.#options.watch.announce(metadata.version);
    return result;
  }

  #serialized<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(work, work);
    this.#queue = result.catch(() => {});
    return result;
  }

  #checkOpen(): void {
    if (this.#closed) throw new WafkaError('NOT_CONTROLLER', `the controller on broker ${this.nodeId} (epoch ${this.epoch}) is closed`);
  }
}
