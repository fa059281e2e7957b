/**
 * One seeded run of a whole wafka cluster under faults, as Jepsen runs a
 * database: real Broker and Controller code, on memory storage that can lose
 * what was not flushed, over the simulated network, all on one SimScheduler.
 * Producers send acks=-1 records with unique values (one of them an
 * idempotent producer that retries each batch until it is acknowledged),
 * consumers read what is committed, and a nemesis kills, crashes, pauses and isolates brokers and
 * the controller. Kafka's invariants are checked after every step, and the
 * history at the end:
 *
 * - at most one broker leads a partition in any one leader epoch;
 * - leader epochs and partition epochs in the metadata never go back, nor
 *   does any replica's high watermark (per broker incarnation);
 * - replicas agree below their high watermarks;
 * - every record acknowledged with acks=-1 is in the log, at its offset;
 * - an offset, once consumed, never changes value;
 * - the idempotent producer's records are stored once each, in the order it
 *   sent them per partition, however often it retried;
 * - with `groups`: a client commits ever larger offsets for a group (through
 *   its coordinator, the leader of a partition of __consumer_offsets, which
 *   the faults move), and what the coordinator answers for the group never
 *   goes back, nor falls below a commit acknowledged before the question;
 * - with `transactions` (./transaction-workload.ts): a transactional producer
 *   commits and aborts transactions over 1..3 partitions while the faults
 *   move its coordinator and the partitions' leaders, and read_committed
 *   consumers read them: no value of an aborted transaction is read, every
 *   value of a committed one is (after the final heal), a transaction is read
 *   all or none, and nothing is read twice or at or above the last stable
 *   offset. The read_uncommitted consumers skip the control batches.
 *
 * Faults come one broker at a time, and a broker is faulted again only once
 * every ISR is full (Kafka's assumption with replicationFactor 3 and
 * minInsyncReplicas 2: one replica may fail at a time).
 */
import { Broker, type ControllerLink } from '../broker/broker.ts';
import { StorageReplicaLogs } from '../broker/storage-logs.ts';
import type { ClusterMetadata } from '../metadata/metadata.ts';
import { MemoryMetadataStore } from '../metadata/memory-metadata-store.ts';
import type { MetadataStore } from '../metadata/metadata-store.ts';
import { LocalMetadataHub, type MetadataWatch } from '../metadata/metadata-watch.ts';
import { Controller } from '../controller/controller.ts';
import { decodeBatchSync, encodeBatchSync, loadCore } from '../core/index.ts';
import type { WafkaError } from '../errors.ts';
import type { BrokerApi, GroupApi, ProduceResponse, TransactionApi } from '../protocol/types.ts';
import { FaultInjectingBackend, MemoryBackend, type StorageBackend } from '../storage/index.ts';
import { SimNetwork } from './network.ts';
import { SimNode } from './node.ts';
import { SimScheduler } from './scheduler.ts';
import { TransactionWorkload } from './transaction-workload.ts';

export interface SimClusterOptions {
  seed: number;
  brokers?: number;
  partitions?: number;
  replicationFactor?: number;
  minInsyncReplicas?: number;
  /** Simulated time with producers, consumers and faults running (default 20 s). */
  faultyPhaseMs?: number;
  /** Turn the nemesis off (a run that must then see no failed produce at all). */
  faults?: boolean;
  /** Probability that a network message is lost (default 0.01). */
  dropProbability?: number;
  /** Also run the group workload: offset commits and fetches through the group coordinator (default false). */
  groups?: boolean;
  /** Also run the transaction workload: a transactional producer and read_committed consumers (default false). */
  transactions?: boolean;
  /** Also run an idempotent producer with up to 5 batches of each partition in flight (default false). */
  inFlight?: boolean;
  /**
   * Add Jepsen's partial network partitions to the nemesis (default false): a broker cut
   * from the other brokers only (it still reaches the controller and the client), one
   * broker-to-broker link cut, and the brokers and the controller split in two halves.
   */
  netsplits?: boolean;
  /**
   * Storage faults during the faulty phase (default false): torn and short writes, a quota
   * refusal and failed flushes, each with a small probability per call, on every broker's files.
   */
  diskFaults?: boolean;
}

export interface SimReport {
  seed: number;
  steps: number;
  simulatedMs: number;
  acknowledged: number;
  failedOrUnknown: number;
  /** Failed or unknown produce outcomes by error type. */
  failures: Record<string, number>;
  consumed: number;
  /** Offset commits acknowledged by a group coordinator (the group workload). */
  commitsAcknowledged: number;
  /** Transactions whose commit, and whose abort, the producer learnt (the transaction workload). */
  transactionsCommitted: number;
  transactionsAborted: number;
  /** Storage faults injected (diskFaults): torn, short and refused writes, failed flushes. */
  storageFaults: number;
  faults: string[];
  violations: string[];
}

const TOPIC = 'sim';
const GROUP = 'sim-group';
const REQUEST_TIMEOUT_MS = 1_000;
const SESSION_TIMEOUT_MS = 600;

interface BrokerSlot {
  id: number;
  node: SimNode;
  broker: Broker | null;
  backend: MemoryBackend;
  incarnation: number;
}

interface Acked { partition: number; offset: bigint; value: string }

export async function runClusterSimulation(options: SimClusterOptions): Promise<SimReport> {
  await loadCore();
  const sim = new SimCluster(options);
  return sim.run();
}

/** The one-line command that replays a seed. */
/** The command that replays one seed with the same workloads and faulty phase. */
export const replayCommand = (seed: number, w: Pick<SimClusterOptions, 'faultyPhaseMs' | 'groups' | 'transactions' | 'inFlight' | 'netsplits' | 'diskFaults'> = {}) =>
  `npm run sim -- --seed ${seed}${w.faultyPhaseMs !== undefined ? ` --ms ${w.faultyPhaseMs}` : ''}` +
  `${w.groups ? ' --groups' : ''}${w.transactions ? ' --transactions' : ''}${w.inFlight ? ' --in-flight' : ''}` +
  `${w.netsplits ? ' --netsplits' : ''}${w.diskFaults ? ' --disk-faults' : ''}`;

/** The nemesis's faults; each comes alone, on one broker or the controller (see #nemesisLoop). */
const FAULTS = ['kill', 'crash-lossy', 'pause', 'isolate-from-controller', 'isolate', 'kill-controller', 'pause-controller'] as const;
/** The partial partitions added with `netsplits`. */
const NETSPLITS = ['isolate-from-brokers', 'cut-link', 'halves'] as const;

/** Kafka's limit on an idempotent producer's requests in flight (max.in.flight.requests.per.connection). */
const IN_FLIGHT_MAX = 5;

class SimCluster {
  readonly options: Required<SimClusterOptions>;
  readonly scheduler: SimScheduler;
  readonly network: SimNetwork;
  readonly store: CheckedStore;
  readonly hub = new LocalMetadataHub();
  readonly slots: BrokerSlot[] = [];
  readonly clientNode: SimNode;
  readonly nemesisNode: SimNode;
  controller: { node: SimNode; instance: Controller | null } | null = null;
  #controllerGeneration = 0;
  readonly violations: string[] = [];
  readonly faults: string[] = [];
  readonly acked: Acked[] = [];
  /** The idempotent producers' acknowledged batches: `producer` names the producer whose sequence it is. */
  readonly idempotentAcked: (Acked & { sequence: number; producer: string })[] = [];
  failedOrUnknown = 0;
  /** Why produce requests failed, by error type. */
  readonly failures = new Map<string, number>();
  /** partition → offset → value, as consumed. */
  readonly consumed = new Map<number, Map<bigint, string>>();
  /** Highest high watermark seen per (broker incarnation, partition). */
  readonly #highWatermarks = new Map<string, bigint>();
  #valueSeq = 0;
  #producing = true;
  /** The group workload: per partition, the highest commit acknowledged, and the last offset the coordinator answered. */
  readonly #commitAcked = new Map<number, bigint>();
  readonly #commitSeen = new Map<number, bigint>();
  #commitsAcknowledged = 0;
  #transactions: TransactionWorkload | null = null;
  /** With diskFaults: every broker incarnation's faulty view of its storage, armed only in the faulty phase. */
  readonly #faultyBackends: FaultInjectingBackend[] = [];
  #diskFaultsOn = false;

  constructor(options: SimClusterOptions) {
    this.options = {
      brokers: 3, partitions: 3, replicationFactor: 3, minInsyncReplicas: 2, faultyPhaseMs: 20_000, faults: true, dropProbability: 0.01, groups: false, transactions: false, inFlight: false, netsplits: false, diskFaults: false,
      ...options,
    };
    this.scheduler = new SimScheduler(this.options.seed);
    // The network loses messages once the faulty phase starts (setup is not under test).
    this.network = new SimNetwork(this.scheduler, { dropProbability: 0 });
    this.store = new CheckedStore(this.violations);
    this.clientNode = new SimNode(this.scheduler, 'client');
    this.nemesisNode = new SimNode(this.scheduler, 'nemesis');
    this.scheduler.afterStep = () => this.#checkStep();
  }

  async run(): Promise<SimReport> {
    const { scheduler } = this;
    try {
      await this.#startController();
      for (let id = 0; id < this.options.brokers; id++) {
        const slot: BrokerSlot = { id, node: new SimNode(this.scheduler, `broker-${id}`), broker: null, backend: new MemoryBackend(), incarnation: 0 };
        this.slots.push(slot);
      }
      await scheduler.settle(Promise.all(this.slots.map((s) => this.#startBroker(s))), 30_000);
      await scheduler.settle(this.#createTopic(), 30_000);
      if (this.options.groups) await scheduler.settle(this.#createOffsetsTopic(), 30_000);
      if (this.options.transactions) {
        this.#transactions = this.#transactionWorkload();
        await scheduler.settle(this.#transactions.setUp(this.clientNode.clock.nowMs() + 30_000), 40_000);
      }
      this.network.dropProbability = this.options.dropProbability;
      this.#armDiskFaults(true);

      const endMs = scheduler.nowMs() + this.options.faultyPhaseMs;
      const work = [
        ...Array.from({ length: 3 }, () => this.#produceLoop(endMs)),
        this.#idempotentProduceLoop(endMs),
        ...(this.options.inFlight ? [this.#inFlightProduceLoop(endMs)] : []),
        ...Array.from({ length: this.options.partitions }, (_, p) => this.#consumeLoop(p, endMs)),
        this.options.faults ? this.#nemesisLoop(endMs) : Promise.resolve(),
        this.#agreementLoop(endMs),
        ...(this.options.groups ? [this.#commitLoop(endMs), this.#offsetCheckLoop(endMs)] : []),
        ...(this.#transactions ? [
          this.#transactions.produceLoop(endMs),
          ...Array.from({ length: this.options.partitions }, (_, p) => this.#transactions!.consumeLoop(p, endMs)),
        ] : []),
      ];
      await scheduler.settle(Promise.all(work), this.options.faultyPhaseMs + 60_000);
      this.#producing = false;
      await scheduler.settle(this.#healAll(), 30_000);
      await scheduler.settle(this.#waitUntilSettled(), 60_000);
      await scheduler.settle(this.#finalChecks(), 60_000);
      if (this.options.groups) await scheduler.settle(this.#finalOffsetCheck(), 60_000);
      if (this.#transactions) {
        await scheduler.settle(this.#transactions.drain(this.#logEnds(), this.clientNode.clock.nowMs() + 30_000), 40_000);
        this.#transactions.finalChecks();
      }
    } catch (error) {
      this.violations.push(`run failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      for (const slot of this.slots) slot.node.kill();
      this.controller?.node.kill();
    }
    for (const error of scheduler.errors) this.violations.push(`a timer callback threw: ${String(error)}`);
    return {
      seed: this.options.seed, steps: scheduler.steps, simulatedMs: scheduler.nowMs() - Date.UTC(2026, 0, 1),
      acknowledged: this.acked.length, failedOrUnknown: this.failedOrUnknown, failures: Object.fromEntries(this.failures),
      consumed: [...this.consumed.values()].reduce((n, m) => n + m.size, 0), commitsAcknowledged: this.#commitsAcknowledged,
      transactionsCommitted: this.#transactions?.committed ?? 0, transactionsAborted: this.#transactions?.aborted ?? 0,
      storageFaults: this.#faultyBackends.reduce((n, f) => n + f.injected.length, 0),
      faults: this.faults, violations: this.violations,
    };
  }

  // ------------------------------------------------------------------ processes

  async #startController(): Promise<void> {
    const node = new SimNode(this.scheduler, `controller-${this.#controllerGeneration++}`);
    const entry: { node: SimNode; instance: Controller | null } = { node, instance: null };
    this.controller = entry;
    entry.instance = await Controller.activate({
      nodeId: 1000 + this.#controllerGeneration, clusterId: 'sim', store: this.store, watch: this.#watchFor(node),
      clock: node.clock, brokerSessionTimeoutMs: SESSION_TIMEOUT_MS,
    });
  }

  async #startBroker(slot: BrokerSlot): Promise<void> {
    const node = slot.node;
    const sharedStore: MetadataStore = { read: () => this.store.read(), compareAndSet: (v, m) => this.store.compareAndSet(v, m), close: async () => {} };
    const controllerLink = this.network.remoteOf<ControllerLink>(node, () => {
      const c = this.controller;
      return c?.instance && !c.instance.closed ? { node: c.node, target: c.instance } : null;
    }, REQUEST_TIMEOUT_MS);
    const peers = new Map<number, BrokerApi>();
    const broker = await Broker.start({
      nodeId: slot.id, clusterId: 'sim', host: node.name, clock: node.clock,
      config: {
        replicaLagTimeMaxMs: 1_000, brokerHeartbeatIntervalMs: 100, replicaFetchWaitMaxMs: 200, replicaFetchBackoffMs: 50,
        offsetsTopicNumPartitions: 3, offsetsCommitTimeoutMs: REQUEST_TIMEOUT_MS / 2,
        logMaintenanceIntervalMs: 3_600_000, topicDefaults: { minInsyncReplicas: this.options.minInsyncReplicas, segmentBytes: 16 * 1024 },
        // The transaction coordinator's waits fit in the client's request timeout; timed-out transactions abort soon.
        ...(this.options.transactions ? {
          transactionStateTopicNumPartitions: 3, transactionStateWriteTimeoutMs: REQUEST_TIMEOUT_MS / 2, transactionEndWaitMs: REQUEST_TIMEOUT_MS / 2,
          transactionAbortTimedOutTransactionCleanupIntervalMs: 200,
        } : {}),
      },
      metadataStore: sharedStore, metadataWatch: this.#watchFor(node), storage: new StorageReplicaLogs(this.#storageOf(slot), 'memory'),
      controller: () => controllerLink,
      peer: (id) => {
        let api = peers.get(id);
        if (!api) peers.set(id, api = this.#brokerApi(node, id));
        return api;
      },
    });
    if (node.state === 'dead') {
      void broker.close().catch(() => {});
      return;
    }
    slot.broker = broker;
  }

  /** How `from` reaches broker `id` (whichever incarnation runs now). */
  #brokerApi(from: SimNode, id: number): BrokerApi {
    return this.network.remoteOf<BrokerApi>(from, () => {
      const slot = this.slots[id];
      return slot?.broker && slot.node.state !== 'dead' ? { node: slot.node, target: slot.broker } : null;
    }, REQUEST_TIMEOUT_MS);
  }

  /** The doorbell as a node hears it: held while it is paused, never after it died. */
  #watchFor(node: SimNode): MetadataWatch {
    const handle = this.hub.handle();
    return {
      announce: (version) => handle.announce(version),
      subscribe: (listener) => handle.subscribe((version) => node.run(() => listener(version))),
      close: () => handle.close(),
    };
  }

  /** Creates the topic once every broker is registered and unfenced, and waits until every replica hosts it. */
  async #createTopic(): Promise<void> {
    const api = this.#brokerApi(this.clientNode, 0);
    for (let attempt = 0; ; attempt++) {
      const m = await this.store.read();
      if ((m?.brokers.filter((b) => !b.fenced).length ?? 0) >= this.options.brokers) {
        const { topics } = await api.createTopics({ topics: [{ topic: TOPIC, numPartitions: this.options.partitions, replicationFactor: this.options.replicationFactor }] });
        if (!topics[0].error || topics[0].error.type === 'TOPIC_ALREADY_EXISTS') break;
        if (attempt > 50) throw new Error(`createTopics: ${topics[0].error.message}`);
      }
      await sleep(this.clientNode, 50);
    }
    const hosted = () => this.slots.every((s) => (s.broker?.describeReplicas().filter((r) => r.topic === TOPIC && r.logEndOffset >= 0n).length ?? 0) === this.options.partitions);
    while (!hosted()) await sleep(this.clientNode, 10);
  }

  // ------------------------------------------------------------------ clients

  #transactionWorkload(): TransactionWorkload {
    return new TransactionWorkload({
      scheduler: this.scheduler, topic: TOPIC, partitions: this.options.partitions, brokers: this.options.brokers,
      nowMs: () => this.clientNode.clock.nowMs(), sleep: (ms) => sleep(this.clientNode, ms),
      api: (id) => this.#brokerApi(this.clientNode, id) as BrokerApi & GroupApi & TransactionApi,
      leaderOf: (p) => this.#leaderOf(p), violations: this.violations,
      acknowledged: (partition, offset, value) => { this.acked.push({ partition, offset, value }); },
      failed: (type) => this.#failed(type),
    });
  }

  /** Each partition's log end at its leader (once settled, every replica's). */
  #logEnds(): Map<number, bigint> {
    const ends = new Map<number, bigint>();
    for (const slot of this.slots) {
      for (const r of slot.broker?.describeReplicas() ?? []) {
        if (r.topic === TOPIC && r.role === 'leader') ends.set(r.partition, r.logEndOffset);
      }
    }
    return ends;
  }

  async #leaderOf(partition: number): Promise<number> {
    const m = await this.store.read();
    return m?.topics[TOPIC]?.partitions[partition]?.leader ?? -1;
  }

  async #produceLoop(endMs: number): Promise<void> {
    const clock = this.clientNode.clock;
    while (clock.nowMs() < endMs) {
      await sleep(this.clientNode, this.scheduler.int(1, 20));
      const partition = this.scheduler.int(0, this.options.partitions - 1);
      const value = `v${this.#valueSeq++}`;
      // The client's metadata: what some broker would answer. The store is what every broker reads.
      const leader = await this.#leaderOf(partition);
      if (leader < 0) { this.#failed('LEADER_NOT_AVAILABLE'); continue; }
      const records = encodeBatchSync([{ key: null, value, timestamp: clock.nowMs() }], { baseTimestamp: clock.nowMs() });
      let response: ProduceResponse;
      try {
        response = await this.#brokerApi(this.clientNode, leader).produce({
          acks: -1, timeoutMs: REQUEST_TIMEOUT_MS / 2, topics: [{ topic: TOPIC, partitions: [{ partition, records }] }],
        });
      } catch (error) {
        this.#failed((error as WafkaError).type ?? 'UNKNOWN');
        continue;
      }
      const answer = response.topics[0]?.partitions[0];
      if (!answer || answer.error) { this.#failed(answer?.error?.type ?? 'NO_ANSWER'); continue; }
      this.acked.push({ partition, offset: answer.baseOffset, value });
    }
  }

  /**
   * An idempotent producer: a producer id, a sequence per partition, and each
   * batch sent again (same sequence) after any failure until it is
   * acknowledged; only then does the partition's next batch take the next
   * sequence. A refusal of its sequences is a violation: nothing it did
   * warrants one.
   */
  async #idempotentProduceLoop(endMs: number): Promise<void> {
    const clock = this.clientNode.clock;
    let producerId = -1n;
    while (producerId < 0n && clock.nowMs() < endMs) {
      const id = this.scheduler.int(0, this.slots.length - 1);
      try {
        producerId = (await this.#brokerApi(this.clientNode, id).initProducerId({ transactionalId: null })).producerId;
      } catch {
        await sleep(this.clientNode, this.scheduler.int(5, 50));
      }
    }
    const sequences = new Map<number, number>();
    while (clock.nowMs() < endMs) {
      await sleep(this.clientNode, this.scheduler.int(1, 20));
      const partition = this.scheduler.int(0, this.options.partitions - 1);
      const baseSequence = sequences.get(partition) ?? 0;
      const value = `i${this.#valueSeq++}`;
      const records = encodeBatchSync([{ key: null, value, timestamp: clock.nowMs() }], { baseTimestamp: clock.nowMs(), producerId, producerEpoch: 0, baseSequence });
      for (;;) {
        const leader = await this.#leaderOf(partition);
        let error: string | undefined;
        if (leader < 0) error = 'LEADER_NOT_AVAILABLE';
        else {
          try {
            const answer = (await this.#brokerApi(this.clientNode, leader).produce({
              acks: -1, timeoutMs: REQUEST_TIMEOUT_MS / 2, topics: [{ topic: TOPIC, partitions: [{ partition, records }] }],
            })).topics[0]?.partitions[0];
            if (answer && !answer.error) {
              this.acked.push({ partition, offset: answer.baseOffset, value });
              this.idempotentAcked.push({ partition, offset: answer.baseOffset, value, sequence: baseSequence, producer: 'one-at-a-time' });
              sequences.set(partition, baseSequence + 1);
              break;
            }
            error = answer?.error?.type ?? 'NO_ANSWER';
          } catch (e) {
            error = (e as WafkaError).type ?? 'UNKNOWN';
          }
        }
        this.#failed(error);
        if (['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH', 'INVALID_RECORD'].includes(error)) {
          this.violations.push(`idempotent batch ${value} (partition ${partition}, sequence ${baseSequence}) refused with ${error}`);
          return;
        }
        // Retried even past the end of the faulty phase: the batch's fate must be known before the next one.
        if (clock.nowMs() > endMs + 20_000) return;
        await sleep(this.clientNode, this.scheduler.int(5, 50));
      }
    }
  }

  /**
   * An idempotent producer with up to five batches of each partition in
   * flight (Kafka's max.in.flight.requests.per.connection 5 with
   * enable.idempotence), as the client's sender keeps them: each batch is
   * sent in a request of its own as soon as it is made, with the next
   * sequence; a batch that failed is sent again, with its sequence, once
   * every batch before it is acknowledged (the lowest pending batch first);
   * a new batch joins while the window from the lowest unacknowledged one
   * has room. The simulated network reorders requests and answers, so the
   * leader sees gaps: a batch refused OUT_OF_ORDER_SEQUENCE_NUMBER or
   * UNKNOWN_PRODUCER_ID that was sent while one before it was unacknowledged
   * waits for it. Such a refusal of a batch sent with all its predecessors
   * acknowledged is a violation.
   */
  async #inFlightProduceLoop(endMs: number): Promise<void> {
    const clock = this.clientNode.clock;
    let producerId = -1n;
    while (producerId < 0n && clock.nowMs() < endMs) {
      try {
        producerId = (await this.#brokerApi(this.clientNode, this.scheduler.int(0, this.slots.length - 1)).initProducerId({ transactionalId: null })).producerId;
      } catch {
        await sleep(this.clientNode, this.scheduler.int(5, 50));
      }
    }
    if (producerId < 0n) return;
    const window = async (partition: number) => {
      /** Batches made and not acknowledged, in sequence order. */
      const pending: { sequence: number; value: string; sent: Promise<void> }[] = [];
      let next = 0;
      let changed: () => void = () => {};
      let turn = new Promise<void>((resolve) => { changed = resolve; });
      const advance = () => { const wake = changed; turn = new Promise<void>((resolve) => { changed = resolve; }); wake(); };
      let stop = false;
      const sendUntilAcknowledged = async (batch: { sequence: number; value: string }) => {
        const records = encodeBatchSync([{ key: null, value: batch.value, timestamp: clock.nowMs() }], { baseTimestamp: clock.nowMs(), producerId, producerEpoch: 0, baseSequence: batch.sequence });
        for (let attempt = 0; ; attempt++) {
          if (attempt > 0) {
            // Sent again only as the lowest pending batch.
            while (pending[0]?.sequence !== batch.sequence) await turn;
          }
          const leader = await this.#leaderOf(partition);
          let error: string | undefined;
          // Every batch before it acknowledged when it goes: a refusal of its sequence is then a real gap.
          let first = false;
          if (leader < 0) error = 'LEADER_NOT_AVAILABLE';
          else {
            try {
              first = pending[0]?.sequence === batch.sequence;
              const answer = (await this.#brokerApi(this.clientNode, leader).produce({
                acks: -1, timeoutMs: REQUEST_TIMEOUT_MS / 2, topics: [{ topic: TOPIC, partitions: [{ partition, records }] }],
              })).topics[0]?.partitions[0];
              if (answer && !answer.error) {
                this.acked.push({ partition, offset: answer.baseOffset, value: batch.value });
                this.idempotentAcked.push({ partition, offset: answer.baseOffset, value: batch.value, sequence: batch.sequence, producer: 'in-flight' });
                pending.splice(pending.findIndex((b) => b.sequence === batch.sequence), 1);
                advance();
                return;
              }
              error = answer?.error?.type ?? 'NO_ANSWER';
            } catch (e) {
              error = (e as WafkaError).type ?? 'UNKNOWN';
            }
          }
          this.#failed(error);
          if (['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH', 'INVALID_RECORD'].includes(error) && first) {
            this.violations.push(`in-flight idempotent batch ${batch.value} (partition ${partition}, sequence ${batch.sequence}, sent with every batch before it acknowledged) refused with ${error}`);
            stop = true;
            advance();
            return;
          }
          if (clock.nowMs() > endMs + 20_000) { stop = true; advance(); return; }
          await sleep(this.clientNode, this.scheduler.int(5, 50));
          if (stop) return;
        }
      };
      while (clock.nowMs() < endMs && !stop) {
        await sleep(this.clientNode, this.scheduler.int(0, 5));
        if (pending.length > 0 && next - pending[0].sequence >= IN_FLIGHT_MAX) { await turn; continue; }
        const batch = { sequence: next++, value: `iw${this.#valueSeq++}` };
        pending.push({ ...batch, sent: sendUntilAcknowledged(batch) });
      }
      await Promise.all(pending.map((b) => b.sent));
    };
    await Promise.all(Array.from({ length: this.options.partitions }, (_, p) => window(p)));
  }

  #failed(type: string): void {
    this.failedOrUnknown++;
    this.failures.set(type, (this.failures.get(type) ?? 0) + 1);
  }

  async #consumeLoop(partition: number, endMs: number): Promise<void> {
    const clock = this.clientNode.clock;
    let position = 0n;
    const seen = new Map<bigint, string>();
    this.consumed.set(partition, seen);
    while (clock.nowMs() < endMs + 2_000) {
      await sleep(this.clientNode, this.scheduler.int(5, 50));
      const leader = await this.#leaderOf(partition);
      if (leader < 0) continue;
      try {
        const response = await this.#brokerApi(this.clientNode, leader).fetch({
          maxWaitMs: 100, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 'read_uncommitted',
          topics: [{ topic: TOPIC, partitions: [{ partition, fetchOffset: position, partitionMaxBytes: 1 << 20 }] }],
        });
        const r = response.topics[0]?.partitions[0];
        if (!r || r.error || !r.records) continue;
        for (const { offset, value, isControl } of decodeRecords(r.records)) {
          if (offset < position) continue;
          position = offset + 1n;
          if (isControl) continue;
          const before = seen.get(offset);
          if (before !== undefined && before !== value) this.violations.push(`partition ${partition} offset ${offset} was consumed as ${before}, now ${value}`);
          seen.set(offset, value);
        }
      } catch {
        // A timeout or an unreachable leader: try again.
      }
    }
  }

  // ------------------------------------------------------------------ the group workload

  #groupApi(from: SimNode, id: number): GroupApi {
    return this.#brokerApi(from, id) as unknown as GroupApi;
  }

  /** The group's coordinator as a random broker names it; -1 when none answers. */
  async #coordinator(): Promise<number> {
    try {
      const { coordinators } = await this.#groupApi(this.clientNode, this.scheduler.int(0, this.options.brokers - 1)).findCoordinator({ coordinatorKeys: [GROUP] });
      return coordinators[0]?.error ? -1 : coordinators[0]?.nodeId ?? -1;
    } catch {
      return -1;
    }
  }

  /** The first FindCoordinator creates __consumer_offsets; waits until its leaders have loaded their groups. */
  async #createOffsetsTopic(): Promise<void> {
    for (;;) {
      const coordinator = await this.#coordinator();
      if (coordinator >= 0) {
        const r = await this.#groupApi(this.clientNode, coordinator).offsetFetch({ groupId: GROUP, topics: null }).catch(() => null);
        if (r && !r.error) return;
      }
      await sleep(this.clientNode, 50);
    }
  }

  /** Commits ever larger offsets (one counter over all partitions) from outside the group, as admin.setOffsets does. */
  async #commitLoop(endMs: number): Promise<void> {
    let next = 1n;
    while (this.clientNode.clock.nowMs() < endMs) {
      await sleep(this.clientNode, this.scheduler.int(5, 40));
      const partition = this.scheduler.int(0, this.options.partitions - 1);
      const offset = next++;
      const coordinator = await this.#coordinator();
      if (coordinator < 0) continue;
      try {
        const r = await this.#groupApi(this.clientNode, coordinator).offsetCommit({
          groupId: GROUP, generationId: -1, memberId: '', topics: [{ topic: TOPIC, partitions: [{ partition, committedOffset: offset }] }],
        });
        if (r.topics[0]?.partitions[0]?.error) continue;
        this.#commitsAcknowledged++;
        if (offset > (this.#commitAcked.get(partition) ?? -1n)) this.#commitAcked.set(partition, offset);
      } catch {
        // Lost or timed out: not acknowledged, so it may or may not have been stored.
      }
    }
  }

  /** Asks the coordinator for the group's offsets: none below what was acknowledged before the question, none lower than last answered. */
  async #offsetCheckLoop(endMs: number): Promise<void> {
    while (this.clientNode.clock.nowMs() < endMs + 2_000) {
      await sleep(this.clientNode, this.scheduler.int(20, 100));
      await this.#checkOffsets('');
    }
  }

  async #checkOffsets(when: string): Promise<boolean> {
    const floor = new Map(this.#commitAcked);
    const coordinator = await this.#coordinator();
    if (coordinator < 0) return false;
    const partitions = Array.from({ length: this.options.partitions }, (_, p) => p);
    let r;
    try {
      r = await this.#groupApi(this.clientNode, coordinator).offsetFetch({ groupId: GROUP, topics: [{ topic: TOPIC, partitions }] });
    } catch {
      return false;
    }
    if (r.error) return false;
    for (const p of r.topics[0]?.partitions ?? []) {
      const acked = floor.get(p.partition) ?? -1n;
      const seen = this.#commitSeen.get(p.partition) ?? -1n;
      if (p.committedOffset < acked) this.violations.push(`${when}group offset of ${TOPIC}-${p.partition} is ${p.committedOffset} at broker ${coordinator}, below the acknowledged commit ${acked}`);
      if (p.committedOffset < seen) this.violations.push(`${when}group offset of ${TOPIC}-${p.partition} went back from ${seen} to ${p.committedOffset} (broker ${coordinator})`);
      if (p.committedOffset > seen) this.#commitSeen.set(p.partition, p.committedOffset);
    }
    return true;
  }

  /** After the faults: the coordinator answers, with every acknowledged commit. */
  async #finalOffsetCheck(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if (await this.#checkOffsets('after the faults: ')) return;
      await sleep(this.clientNode, 100);
    }
    this.violations.push('after the faults: no group coordinator answered OffsetFetch within 10 s');
  }

  /** A broker's storage: its memory backend, seen through injected faults with diskFaults. */
  #storageOf(slot: BrokerSlot): StorageBackend {
    if (!this.options.diskFaults) return slot.backend;
    const faulty = new FaultInjectingBackend(slot.backend, {
      seed: this.scheduler.int(1, 0x7fffffff),
      tornWriteProbability: 0.002, shortWriteProbability: 0.002, quotaProbability: 0.002, failedFlushProbability: 0.01,
    });
    faulty.enabled = this.#diskFaultsOn;
    this.#faultyBackends.push(faulty);
    return faulty;
  }

  #armDiskFaults(on: boolean): void {
    this.#diskFaultsOn = on;
    for (const faulty of this.#faultyBackends) faulty.enabled = on;
  }

  // ------------------------------------------------------------------ nemesis

  async #nemesisLoop(endMs: number): Promise<void> {
    const s = this.scheduler;
    const node = this.nemesisNode;
    while (node.clock.nowMs() < endMs) {
      await sleep(node, s.int(200, 1_500));
      await this.#waitForFullIsrs(5_000);
      if (node.clock.nowMs() >= endMs) break;
      // Without netsplits the list (and so every seed's draws) is what it was before they existed.
      const kind = s.pick(this.options.netsplits ? [...FAULTS, ...NETSPLITS] : FAULTS);
      const slot = s.pick(this.slots);
      const durationMs = s.int(100, 2_500);
      this.faults.push(`${Math.round(node.clock.nowMs() - Date.UTC(2026, 0, 1))}ms ${kind}${kind.endsWith('-controller') && !kind.startsWith('isolate') ? '' : ` broker-${slot.id}`} for ${durationMs}ms`);
      switch (kind) {
        case 'kill':
        case 'crash-lossy': {
          const lockFreed = s.chance(0.5);
          this.#kill(slot, kind === 'crash-lossy');
          if (lockFreed) void this.#controllerApi().brokerGone(slot.id).catch(() => {});
          await sleep(node, durationMs);
          await this.#restart(slot);
          break;
        }
        case 'pause':
          slot.node.pause();
          await sleep(node, durationMs);
          slot.node.resume();
          break;
        case 'isolate-from-controller':
        case 'isolate': {
          const others = kind === 'isolate' ? [this.clientNode, this.controller!.node, ...this.slots.map((x) => x.node)] : [this.controller!.node];
          this.network.isolate(slot.node, others);
          await sleep(node, durationMs);
          this.network.heal(slot.node);
          break;
        }
        case 'isolate-from-brokers':
          this.network.isolate(slot.node, this.slots.map((x) => x.node));
          await sleep(node, durationMs);
          this.network.heal(slot.node);
          break;
        case 'cut-link': {
          const other = s.pick(this.slots.filter((x) => x !== slot));
          this.faults[this.faults.length - 1] += ` and broker-${other.id}`;
          this.network.partition([slot.node], [other.node]);
          await sleep(node, durationMs);
          this.network.heal(slot.node);
          break;
        }
        case 'halves': {
          // The faulted broker, with or without the controller, against the rest; the client reaches all.
          const withController = s.chance(0.5);
          const controllerNode = this.controller!.node;
          const side = withController ? [slot.node, controllerNode] : [slot.node];
          const rest = [...this.slots.filter((x) => x !== slot).map((x) => x.node), ...(withController ? [] : [controllerNode])];
          this.faults[this.faults.length - 1] += withController ? ' with the controller' : ' against the controller';
          this.network.partition(side, rest);
          await sleep(node, durationMs);
          this.network.heal();
          break;
        }
        case 'kill-controller': {
          const old = this.controller!;
          old.node.kill();
          old.instance?.close();
          await sleep(node, Math.min(durationMs, 500));
          await this.#startController();
          break;
        }
        case 'pause-controller': {
          // A zombie controller: it wakes after another took over, and must not write.
          const old = this.controller!;
          old.node.pause();
          await sleep(node, Math.min(durationMs, 500));
          await this.#startController();
          await sleep(node, durationMs);
          old.node.resume();
          break;
        }
      }
    }
  }

  #controllerApi(): Controller {
    return this.network.remoteOf<Controller>(this.nemesisNode, () => {
      const c = this.controller;
      return c?.instance && !c.instance.closed ? { node: c.node, target: c.instance } : null;
    }, REQUEST_TIMEOUT_MS);
  }

  #kill(slot: BrokerSlot, loseUnflushed: boolean): void {
    slot.node.kill();
    slot.broker = null;
    slot.backend = slot.backend.crashImage(loseUnflushed ? () => this.scheduler.random() : undefined);
  }

  async #restart(slot: BrokerSlot): Promise<void> {
    slot.node = new SimNode(this.scheduler, `broker-${slot.id}`);
    slot.incarnation++;
    await this.#startBroker(slot);
  }

  async #waitForFullIsrs(timeoutMs: number): Promise<void> {
    const node = this.nemesisNode;
    const deadline = node.clock.nowMs() + timeoutMs;
    while (node.clock.nowMs() < deadline) {
      const m = await this.store.read();
      const partitions = m?.topics[TOPIC]?.partitions ?? [];
      if (partitions.every((p) => p.leader >= 0 && p.isr.length === p.replicas.length)) return;
      await sleep(node, 50);
    }
  }

  async #healAll(): Promise<void> {
    this.network.heal();
    this.network.dropProbability = 0;
    this.#armDiskFaults(false);
    if (!this.controller?.instance || this.controller.instance.closed || this.controller.node.state !== 'running') {
      this.controller?.node.resume();
      if (!this.controller?.instance || this.controller.instance.closed) await this.#startController();
    }
    for (const slot of this.slots) {
      if (slot.node.state === 'paused') slot.node.resume();
      if (slot.node.state === 'dead' || !slot.broker) await this.#restart(slot);
    }
  }

  /** Until every ISR is full and every replica's high watermark is its leader's log end. */
  async #waitUntilSettled(): Promise<void> {
    const node = this.nemesisNode;
    for (let i = 0; i < 600; i++) {
      const snapshots = this.slots.flatMap((s) => s.broker?.describeReplicas() ?? []);
      const m = await this.store.read();
      const partitions = m?.topics[TOPIC]?.partitions ?? [];
      const settled = partitions.length > 0 && partitions.every((p) => {
        if (p.leader < 0 || p.isr.length !== p.replicas.length) return false;
        const replicas = snapshots.filter((r) => r.topic === TOPIC && r.partition === p.partition);
        const leader = replicas.find((r) => r.role === 'leader' && r.leaderEpoch === p.leaderEpoch);
        return !!leader && replicas.length === p.replicas.length && replicas.every((r) => r.logEndOffset === leader.logEndOffset && r.highWatermark === leader.logEndOffset);
      });
      if (settled) return;
      await sleep(node, 100);
    }
    const m = await this.store.read();
    const state = (m?.topics[TOPIC]?.partitions ?? []).map((p) => `p${p.partition} leader ${p.leader}@${p.leaderEpoch} isr [${p.isr}]`).join('; ');
    const replicas = this.slots.flatMap((s) => (s.broker?.describeReplicas() ?? []).map((r) => `b${s.id}:p${r.partition} ${r.role}@${r.leaderEpoch} leo ${r.logEndOffset} hw ${r.highWatermark}`)).join('; ');
    const brokers = (m?.brokers ?? []).map((b) => `b${b.nodeId}${b.fenced ? ' fenced' : ''} epoch ${b.brokerEpoch}`).join(', ');
    this.violations.push(`the cluster did not settle (full ISRs, equal logs) within 60 s after the faults healed: ${state} | ${replicas} | ${brokers}`);
  }

  // ------------------------------------------------------------------ checks

  /** After every step: one leader per epoch; high watermarks never back. */
  #checkStep(): void {
    const leaders = new Map<string, number>();
    for (const slot of this.slots) {
      if (!slot.broker || slot.node.state === 'dead') continue;
      for (const r of slot.broker.describeReplicas()) {
        if (r.role === 'leader') {
          const key = `${r.topic}-${r.partition}@${r.leaderEpoch}`;
          const other = leaders.get(key);
          if (other !== undefined && other !== slot.id && this.violations.length < 100) this.violations.push(`step ${this.scheduler.steps}: brokers ${other} and ${slot.id} both lead ${key}`);
          leaders.set(key, slot.id);
        }
        const hwKey = `${slot.id}.${slot.incarnation}:${r.topic}-${r.partition}`;
        const before = this.#highWatermarks.get(hwKey) ?? -1n;
        if (r.highWatermark >= 0n && r.highWatermark < before) {
          this.violations.push(`step ${this.scheduler.steps}: broker ${slot.id} high watermark of ${r.topic}-${r.partition} went back from ${before} to ${r.highWatermark}`);
        }
        if (r.highWatermark >= 0n && r.highWatermark !== before) this.#highWatermarks.set(hwKey, r.highWatermark);
      }
    }
  }

  /** Every simulated second: the replicas agree on every record below both their high watermarks. */
  async #agreementLoop(endMs: number): Promise<void> {
    while (this.nemesisNode.clock.nowMs() < endMs) {
      await sleep(this.nemesisNode, 1_000);
      await this.#checkAgreement(false);
    }
  }

  async #checkAgreement(final: boolean): Promise<Map<number, Map<bigint, string>>> {
    const logs = new Map<number, Map<bigint, string>>();
    for (let p = 0; p < this.options.partitions; p++) {
      const replicas: { id: number; hw: bigint; records: Map<bigint, string> }[] = [];
      for (const slot of this.slots) {
        const broker = slot.broker;
        const snapshot = broker?.describeReplicas().find((r) => r.topic === TOPIC && r.partition === p);
        if (!broker || !snapshot || slot.node.state === 'dead') continue;
        replicas.push({ id: slot.id, hw: snapshot.highWatermark, records: await readAll(broker, p, snapshot.logStartOffset, snapshot.highWatermark) });
      }
      for (let i = 1; i < replicas.length; i++) {
        const a = replicas[0];
        const b = replicas[i];
        const below = a.hw < b.hw ? a.hw : b.hw;
        for (const [offset, value] of a.records) {
          if (offset >= below) continue;
          const other = b.records.get(offset);
          if (other !== undefined && other !== value) this.violations.push(`${final ? 'final' : `step ${this.scheduler.steps}`}: partition ${p} offset ${offset} is ${value} on broker ${a.id}, ${other} on broker ${b.id}`);
        }
      }
      if (replicas[0]) logs.set(p, replicas[0].records);
    }
    return logs;
  }

  async #finalChecks(): Promise<void> {
    const logs = await this.#checkAgreement(true);
    for (const a of this.acked) {
      const value = logs.get(a.partition)?.get(a.offset);
      if (value !== a.value) this.violations.push(`acknowledged ${a.value} at partition ${a.partition} offset ${a.offset} is ${value === undefined ? 'lost' : `now ${value}`}`);
    }
    // The idempotent producer's records: once each, in sequence order, per partition.
    for (const [p, log] of logs) {
      const offsets = new Map<string, bigint>();
      for (const [offset, value] of log) {
        if (!value.startsWith('i')) continue;
        const earlier = offsets.get(value);
        if (earlier !== undefined) this.violations.push(`idempotent record ${value} is stored twice in partition ${p}: offsets ${earlier} and ${offset}`);
        offsets.set(value, offset);
      }
      for (const producer of new Set(this.idempotentAcked.map((a) => a.producer))) {
        const sent = this.idempotentAcked.filter((a) => a.partition === p && a.producer === producer).sort((a, b) => a.sequence - b.sequence);
        for (let i = 1; i < sent.length; i++) {
          if (sent[i].offset <= sent[i - 1].offset) this.violations.push(`${producer} idempotent records out of order in partition ${p}: sequence ${sent[i].sequence} at ${sent[i].offset}, ${sent[i - 1].sequence} at ${sent[i - 1].offset}`);
        }
      }
    }
    for (const [p, seen] of this.consumed) {
      for (const [offset, value] of seen) {
        const now = logs.get(p)?.get(offset);
        if (now !== value) this.violations.push(`consumed ${value} at partition ${p} offset ${offset} is ${now === undefined ? 'gone' : `now ${now}`}`);
      }
    }
  }
}

/** A store that checks every write: leader and partition epochs never go back. */
class CheckedStore extends MemoryMetadataStore {
  readonly #violations: string[];
  #last: ClusterMetadata | null = null;

  constructor(violations: string[]) {
    super();
    this.#violations = violations;
  }

  override async compareAndSet(expectedVersion: number, next: ClusterMetadata): Promise<boolean> {
    const ok = await super.compareAndSet(expectedVersion, next);
    if (!ok) return false;
    const last = this.#last;
    if (last) {
      if (next.controllerEpoch < last.controllerEpoch) this.#violations.push(`controller epoch went back from ${last.controllerEpoch} to ${next.controllerEpoch}`);
      for (const [name, topic] of Object.entries(next.topics)) {
        const before = last.topics[name];
        if (!before || before.topicId !== topic.topicId) continue;
        for (const p of topic.partitions) {
          const q = before.partitions[p.partition];
          if (!q) continue;
          if (p.leaderEpoch < q.leaderEpoch) this.#violations.push(`${name}-${p.partition}: leader epoch went back from ${q.leaderEpoch} to ${p.leaderEpoch}`);
          if ((p.partitionEpoch ?? 0) < (q.partitionEpoch ?? 0)) this.#violations.push(`${name}-${p.partition}: partition epoch went back`);
          if (p.leader !== q.leader && p.leaderEpoch === q.leaderEpoch) this.#violations.push(`${name}-${p.partition}: leader changed from ${q.leader} to ${p.leader} within leader epoch ${p.leaderEpoch}`);
        }
      }
    }
    this.#last = structuredClone(next);
    return true;
  }
}

function sleep(node: SimNode, ms: number): Promise<void> {
  return new Promise((resolve) => { node.clock.setTimeout(resolve, ms); });
}

/** The records of whole batches; a control batch's (a transaction marker's) are marked. */
function decodeRecords(bytes: Uint8Array): { offset: bigint; value: string; isControl: boolean }[] {
  const out: { offset: bigint; value: string; isControl: boolean }[] = [];
  const td = new TextDecoder();
  for (let pos = 0; pos < bytes.length;) {
    const batch = decodeBatchSync(bytes, { position: pos });
    for (const r of batch.records) out.push({ offset: r.offset, value: r.value ? td.decode(r.value) : '', isControl: batch.isControlBatch });
    pos += batch.sizeInBytes;
  }
  return out;
}

/** Every record of a replica's log in [from, upTo). */
async function readAll(broker: Broker, partition: number, from: bigint, upTo: bigint): Promise<Map<bigint, string>> {
  const out = new Map<bigint, string>();
  let offset = from;
  for (let i = 0; i < 10_000 && offset < upTo; i++) {
    const bytes = await broker.readReplica(TOPIC, partition, offset, 1 << 20);
    if (!bytes || bytes.length === 0) break;
    let next = offset;
    for (const r of decodeRecords(bytes)) {
      if (r.offset < upTo) out.set(r.offset, r.value);
      if (r.offset >= next) next = r.offset + 1n;
    }
    if (next === offset) break;
    offset = next;
  }
  return out;
}

