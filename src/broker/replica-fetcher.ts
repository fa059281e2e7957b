/**
 * A follower's pull from one leader (Kafka's ReplicaFetcherThread): one loop
 * per leader broker, fetching every partition this broker follows from it
 * in one request, as Kafka's followers do.
 *
 * Each fetch names the follower (replicaId), its log end as the fetch offset,
 * the leader epoch it knows (a leader of another epoch refuses with
 * FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH) and the epoch of its last batch.
 * The leader answers with batches, which the follower appends byte for byte
 * (offsets and epochs as the leader wrote them; nothing decoded), or with a
 * diverging epoch, on which the follower truncates (./log-divergence.ts) and
 * fetches again. The leader's high watermark comes with every answer.
 *
 * A fetch long-polls on the leader; an error backs off replicaFetchBackoffMs.
 * When this broker starts following another partition from the leader (a
 * topic created, a leadership moved here) while a fetch is out, a new fetch
 * with it goes out at once rather than after the long-poll: the one out is
 * left to settle unheard (at most ABANDONED_FETCHES_MAX of them at a time), so
 * a new partition's first acks=-1 write does not wait replicaFetchWaitMaxMs.
 * Everything waits on the injected clock.
 */
import type { Clock } from '../clock.ts';
import { WafkaError } from '../errors.ts';
import type { BrokerApi, FetchPartitionResponse, FetchRequest } from '../protocol/types.ts';
import { partitionKey } from './fetch-waiters.ts';
import { truncationPoint } from './log-divergence.ts';
import { hasProducerBatches } from './partition-producers.ts';
import type { Partition } from './partition.ts';

/** How much longer than its long-poll a follower waits for an answer before it takes the leader for gone (a dead worker answers nothing). */
const REPLICA_ANSWER_GRACE_MS = 2_000;
/** Fetches left unheard because the partitions changed while they were out, not yet settled; past it a change waits for the fetch out. */
const ABANDONED_FETCHES_MAX = 2;

export interface ReplicaFetcherSettings {
  replicaFetchWaitMaxMs: number;
  replicaFetchMaxBytes: number;
  replicaFetchResponseMaxBytes: number;
  replicaFetchBackoffMs: number;
}

export interface ReplicaFetcherHost {
  readonly nodeId: number;
  readonly clock: Clock;
  readonly settings: ReplicaFetcherSettings;
  /** The partitions this broker follows from `leaderId` now (open logs only). */
  followedFrom(leaderId: number): Partition[];
  /** The leader broker as this broker reaches it; null when there is no way to it now. */
  peer(leaderId: number): BrokerApi | null;
  /** Runs `work` in the partition's append order. */
  runInOrder<T>(partition: Partition, work: () => Promise<T>): Promise<T>;
  /** The leader answered with an epoch or leadership error: this broker's metadata is behind or ahead. */
  metadataMayBeStale(): void;
  /** Records appended as follower (metrics, parked fetches). */
  appended(partition: Partition, batches: number, records: number, bytes: number): void;
  countError(type: string): void;
}

export class ReplicaFetcher {
  readonly leaderId: number;
  readonly #host: ReplicaFetcherHost;
  #stopped = false;
  #running: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  /** While a fetch is out: looks whether the partitions followed changed, and if so stops waiting for it. */
  #recheck: (() => void) | null = null;
  #abandoned = 0;
  /** Fetch rounds completed (for tests and metrics). */
  rounds = 0;

  constructor(host: ReplicaFetcherHost, leaderId: number) {
    this.#host = host;
    this.leaderId = leaderId;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  /** Something changed (a partition to follow, an epoch): look again now if idle or backing off. */
  wake(): void {
    this.#wake?.();
    this.#recheck?.();
  }

  /** Stops after the fetch in flight; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.wake();
    await this.#running;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const partitions = this.#host.followedFrom(this.leaderId);
      const leader = this.#host.peer(this.leaderId);
      if (partitions.length === 0 || !leader) {
        await this.#pause(partitions.length === 0 ? 60_000 : this.#host.settings.replicaFetchBackoffMs);
        continue;
      }
      let backOff = false;
      try {
        const sent = new Map(partitions.map((p) => [p.key, { partition: p, leaderEpoch: p.leaderEpoch, fetchOffset: p.log!.logEndOffset }]));
        const call = this.#withTimeout(leader.fetch(this.#request(partitions)), this.#host.settings.replicaFetchWaitMaxMs + REPLICA_ANSWER_GRACE_MS);
        const response = await this.#unlessPartitionsChange(call, sent);
        if (!response) continue;
        this.rounds++;
        for (const t of response.topics) {
          for (const r of t.partitions) {
            const asked = sent.get(partitionKey(t.topic, r.partition));
            if (!asked) continue;
            backOff = (await this.#handle(asked.partition, asked.leaderEpoch, asked.fetchOffset, r)) || backOff;
          }
        }
      } catch (error) {
        this.#host.countError(error instanceof WafkaError ? error.type : 'UNKNOWN_SERVER_ERROR');
        backOff = true;
      }
      if (backOff) await this.#pause(this.#host.settings.replicaFetchBackoffMs);
    }
  }

  #request(partitions: Partition[]): FetchRequest {
    const byTopic = new Map<string, FetchRequest['topics'][number]>();
    for (const p of partitions) {
      const log = p.log!;
      let topic = byTopic.get(p.ref.topic);
      if (!topic) byTopic.set(p.ref.topic, topic = { topic: p.ref.topic, partitions: [] });
      topic.partitions.push({
        partition: p.ref.partition,
        fetchOffset: log.logEndOffset,
        partitionMaxBytes: this.#host.settings.replicaFetchMaxBytes,
        currentLeaderEpoch: p.leaderEpoch,
        lastFetchedEpoch: log.latestEpoch,
      });
    }
    return {
      replicaId: this.#host.nodeId,
      maxWaitMs: this.#host.settings.replicaFetchWaitMaxMs,
      minBytes: 1,
      maxBytes: this.#host.settings.replicaFetchResponseMaxBytes,
      isolationLevel: 'read_uncommitted',
      topics: [...byTopic.values()],
    };
  }

  /** Applies one partition's answer; true when the fetcher should back off before the next round. */
  async #handle(p: Partition, sentEpoch: number, fetchOffset: bigint, r: FetchPartitionResponse): Promise<boolean> {
    // The partition moved on while the fetch was out (new epoch, now leader, closed): its answer is stale.
    if (p.closed || p.leaderEpoch !== sentEpoch || p.role !== 'follower' || !p.log) return false;
    if (r.error?.type === 'OFFSET_OUT_OF_RANGE' && r.logEndOffset !== undefined) {
      this.#host.countError(r.error.type);
      await this.#outOfRange(p, sentEpoch, fetchOffset, r.logStartOffset, r.logEndOffset);
      return false;
    }
    if (r.error) {
      this.#host.countError(r.error.type);
      if (['FENCED_LEADER_EPOCH', 'UNKNOWN_LEADER_EPOCH', 'NOT_LEADER_OR_FOLLOWER', 'UNKNOWN_TOPIC_OR_PARTITION'].includes(r.error.type)) {
        this.#host.metadataMayBeStale();
      }
      return true;
    }
    return this.#host.runInOrder(p, async () => {
      const log = p.log;
      if (p.closed || p.leaderEpoch !== sentEpoch || !log || log.logEndOffset !== fetchOffset) return false;
      if (r.divergingEpoch) {
        await p.producers.truncateLog(log, truncationPoint(log, r.divergingEpoch).offset);
        return false;
      }
      if (r.records && r.records.byteLength > 0) {
        const result = await log.appendAsFollower(r.records);
        // A follower keeps the producer state as the leader does once producers write here (loading reads what was just appended too).
        if (p.producers.loaded) p.producers.appended(r.records, this.#host.clock.nowMs());
        else if (hasProducerBatches(r.records)) await p.producers.load(log, this.#host.clock.nowMs());
        this.#host.appended(p, result.batchCount, result.recordCount, result.sizeBytes);
      }
      p.followHighWatermark(r.highWatermark);
      return false;
    });
  }

  /**
   * The leader's log no longer holds this follower's fetch offset (Kafka's
   * fetchOffsetAndTruncate): past the leader's end (only after an unclean
   * election) the follower truncates to it; below the leader's log start
   * (records deleted or expired while this follower was away) it empties its
   * log and starts over at the leader's log start.
   */
  #outOfRange(p: Partition, sentEpoch: number, fetchOffset: bigint, leaderStartOffset: bigint, leaderEndOffset: bigint): Promise<void> {
    return this.#host.runInOrder(p, async () => {
      const log = p.log;
      if (p.closed || p.leaderEpoch !== sentEpoch || !log || log.logEndOffset !== fetchOffset) return;
      if (leaderEndOffset < log.logEndOffset) await p.producers.truncateLog(log, leaderEndOffset);
      else if (leaderStartOffset > log.logEndOffset) await p.producers.restartLogAt(log, leaderStartOffset);
    });
  }

  #withTimeout<T>(call: Promise<T>, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.#host.clock.setTimeout(() => {
        reject(new WafkaError('REQUEST_TIMED_OUT', `no fetch answer from broker ${this.leaderId} within ${timeoutMs} ms`));
      }, timeoutMs);
      call.then(
        (value) => { this.#host.clock.clearTimeout(timer); resolve(value); },
        (error) => { this.#host.clock.clearTimeout(timer); reject(error); },
      );
    });
  }

  /**
   * The answer to `call`, or null as soon as this broker follows a partition
   * from the leader that `sent` lacks (or at another leader epoch): the loop
   * then fetches again with it, and `call` settles unheard.
   */
  #unlessPartitionsChange<T>(call: Promise<T>, sent: ReadonlyMap<string, { leaderEpoch: number }>): Promise<T | null> {
    return new Promise<T | null>((resolve, reject) => {
      let settled = false;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        this.#recheck = null;
        return true;
      };
      this.#recheck = () => {
        if (this.#stopped || this.#abandoned >= ABANDONED_FETCHES_MAX) return;
        const changed = this.#host.followedFrom(this.leaderId).some((p) => sent.get(p.key)?.leaderEpoch !== p.leaderEpoch);
        if (!changed || !settle()) return;
        this.#abandoned++;
        call.then(() => { this.#abandoned--; }, () => { this.#abandoned--; });
        resolve(null);
      };
      call.then((value) => { if (settle()) resolve(value); }, (error) => { if (settle()) reject(error); });
    });
  }

  #pause(ms: number): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.#host.clock.setTimeout(() => { this.#wake = null; resolve(); }, ms);
      this.#wake = () => {
        this.#wake = null;
        this.#host.clock.clearTimeout(timer);
        resolve();
      };
    });
  }
}
