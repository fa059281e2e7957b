/** A metadata store in one realm's memory: for tests and in-process clusters. */
import type { ClusterMetadata } from './metadata.ts';
import { assertNextVersion, type MetadataStore } from './metadata-store.ts';

export class MemoryMetadataStore implements MetadataStore {
  #stored: ClusterMetadata | null = null;

  async read(): Promise<ClusterMetadata | null> {
    // A copy, as every other store returns: callers may mutate what they read.
    return this.#stored === null ? null : structuredClone(this.#stored);
  }

  async compareAndSet(expectedVersion: number, next: ClusterMetadata): Promise<boolean> {
    assertNextVersion(expectedVersion, next);
    // No await between the compare and the set: atomic within the realm.
    if ((this.#stored?.version ?? 0) !== expectedVersion) return false;
    this.#stored = structuredClone(next);
    return true;
  }

  async close(): Promise<void> {}
}
