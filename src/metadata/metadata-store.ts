/**
 * A metadata store holds one ClusterMetadata document and changes it only by
 * versioned compare-and-set: `compareAndSet(expectedVersion, next)` writes
 * `next` (whose version must be expectedVersion + 1) if and only if the stored
 * version is still `expectedVersion`, atomically with respect to every other
 * writer (other workers, tabs, processes). This is the ZooKeeper/KRaft part of
 * Kafka that the later controller issue builds on.
 *
 * Implementations: ./memory-metadata-store.ts (tests, in-process clusters),
 * ./file-metadata-store.ts (Node: lock file + temp file + rename),
 * ./indexeddb-metadata-store.ts (browser: one readwrite transaction).
 */
import { systemClock, sleep, type Clock } from '../clock.ts';
import { WafkaError } from '../errors.ts';
import { cloneMetadata, emptyMetadata, type ClusterMetadata } from './metadata.ts';

export interface MetadataStore {
  /** The stored document, or null if nothing was ever stored. */
  read(): Promise<ClusterMetadata | null>;
  /** True if `next` was written; false if the stored version was not `expectedVersion`. */
  compareAndSet(expectedVersion: number, next: ClusterMetadata): Promise<boolean>;
  close(): Promise<void>;
}

/** Retries of a read-modify-CAS cycle before giving up; contention is rare (admin ops, registrations). */
export const CAS_ATTEMPTS_MAX = 32;

export interface MetadataUpdate<T> {
  /** The new document (version is set by updateMetadata), or null for "no change". */
  next: ClusterMetadata | null;
  result: T;
}

/**
 * Read, apply `change` to a copy, compare-and-set; on a lost race re-read and
 * re-apply (so `change` must be a pure function of the document it is given).
 * Returns the document now stored and `change`'s result from the winning try.
 */
export async function updateMetadata<T>(
  store: MetadataStore,
  clusterId: string,
  change: (current: ClusterMetadata) => MetadataUpdate<T>,
  clock: Clock = systemClock,
): Promise<{ metadata: ClusterMetadata; result: T; changed: boolean }> {
  for (let attempt = 0; attempt < CAS_ATTEMPTS_MAX; attempt++) {
    const current = (await store.read()) ?? emptyMetadata(clusterId);
    if (current.clusterId !== clusterId) {
      throw new WafkaError('INVALID_REQUEST', `metadata store belongs to cluster '${current.clusterId}', not '${clusterId}'`);
    }
    const { next, result } = change(cloneMetadata(current));
    if (next === null) return { metadata: current, result, changed: false };
    next.version = current.version + 1;
    if (await store.compareAndSet(current.version, next)) return { metadata: next, result, changed: true };
    // Lost the race: another writer stored current.version + 1 first. Back off a little, with jitter.
    await sleep(clock, Math.min(50, 1 << attempt) * clock.random());
  }
  throw new WafkaError('REQUEST_TIMED_OUT', `metadata update lost ${CAS_ATTEMPTS_MAX} compare-and-set races in a row`);
}

export const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Checks the shape a CAS writer must respect; a violation is a programming error. */
export function assertNextVersion(expectedVersion: number, next: ClusterMetadata): void {
  if (next.version !== expectedVersion + 1) {
    throw new Error(`metadata CAS: next.version ${next.version} must be expectedVersion ${expectedVersion} + 1`);
  }
}
