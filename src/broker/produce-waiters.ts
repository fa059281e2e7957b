/**
 * Where acks=-1 produce requests wait for their records to be committed
 * (Kafka's DelayedProduce purgatory): a request appended on the leader
 * waits until the partition's high watermark reaches the end of what it
 * appended, its timeout passes (REQUEST_TIMED_OUT), or the leader fails it
 * (leadership lost: NOT_LEADER_OR_FOLLOWER).
 *
 * As in Kafka, a request whose records did get committed, but by an ISR
 * that had shrunk below minInsyncReplicas, answers
 * NOT_ENOUGH_REPLICAS_AFTER_APPEND: stored, yet not as durable as asked.
 *
 * Appends to one partition are serialized, so its waiters arrive in order of
 * their required offsets and complete from the front. Bounded: at most
 * `waitingMax` requests wait; more are refused at once.
 */
import type { Clock, TimerHandle } from '../clock.ts';
import { WafkaError } from '../errors.ts';

interface Waiter {
  requiredOffset: bigint;
  resolve: () => void;
  reject: (error: WafkaError) => void;
  timer: TimerHandle;
}

export class ProduceWaiters {
  readonly #clock: Clock;
  readonly waitingMax: number;
  readonly #byPartition = new Map<string, Waiter[]>();
  #waiting = 0;

  constructor(clock: Clock, waitingMax: number) {
    this.#clock = clock;
    this.waitingMax = waitingMax;
  }

  get waiting(): number {
    return this.#waiting;
  }

  /**
   * Resolves when `highWatermarkMoved` reports `requiredOffset` (the appended
   * batch's last offset + 1) committed with enough replicas in sync.
   */
  wait(partition: string, requiredOffset: bigint, timeoutMs: number): Promise<void> {
    if (this.#waiting >= this.waitingMax) {
      return Promise.reject(new WafkaError('REQUEST_TIMED_OUT', `${this.waitingMax} produce requests already wait for replication`));
    }
    return new Promise<void>((resolve, reject) => {
      const queue = this.#byPartition.get(partition) ?? [];
      if (queue.length === 0) this.#byPartition.set(partition, queue);
      const waiter: Waiter = {
        requiredOffset,
        resolve,
        reject,
        timer: this.#clock.setTimeout(() => {
          this.#remove(partition, waiter);
          reject(new WafkaError('REQUEST_TIMED_OUT', `offset ${requiredOffset - 1n} of ${printable(partition)} not replicated to the ISR within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      queue.push(waiter);
      this.#waiting++;
    });
  }

  /** The partition's high watermark is now `highWatermark`, with `isrSize` replicas in sync. */
  highWatermarkMoved(partition: string, highWatermark: bigint, isrSize: number, minInsyncReplicas: number): void {
    const queue = this.#byPartition.get(partition);
    if (!queue) return;
    let done = 0;
    while (done < queue.length && queue[done].requiredOffset <= highWatermark) done++;
    if (done === 0) return;
    const completed = queue.splice(0, done);
    if (queue.length === 0) this.#byPartition.delete(partition);
    this.#waiting -= completed.length;
    const shortOfReplicas = isrSize < minInsyncReplicas;
    for (const w of completed) {
      this.#clock.clearTimeout(w.timer);
      if (shortOfReplicas) {
        w.reject(new WafkaError('NOT_ENOUGH_REPLICAS_AFTER_APPEND', `offset ${w.requiredOffset - 1n} of ${printable(partition)} committed by ${isrSize} in-sync replicas, fewer than minInsyncReplicas ${minInsyncReplicas}`));
      } else {
        w.resolve();
      }
    }
  }

  /** Fails every waiter of `partition` (leadership moved, partition closed). */
  failAll(partition: string, error: WafkaError): void {
    const queue = this.#byPartition.get(partition);
    if (!queue) return;
    this.#byPartition.delete(partition);
    this.#waiting -= queue.length;
    for (const w of queue) {
      this.#clock.clearTimeout(w.timer);
      w.reject(error);
    }
  }

  #remove(partition: string, waiter: Waiter): void {
    const queue = this.#byPartition.get(partition);
    const i = queue?.indexOf(waiter) ?? -1;
    if (!queue || i < 0) return;
    queue.splice(i, 1);
    if (queue.length === 0) this.#byPartition.delete(partition);
    this.#waiting--;
  }
}

/** Partition keys join topic and partition with a NUL (see fetch-waiters.ts). */
const printable = (partition: string): string => partition.replace('\u0000', '-');
