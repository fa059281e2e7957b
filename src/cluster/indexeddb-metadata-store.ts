/**
 * The metadata store in the browser: one value in IndexedDB, database
 * `wafka:<clusterId>:metadata`, object store `metadata`, key `cluster`.
 *
 * IndexedDB serializes readwrite transactions on the same store, so
 * "get, compare version, put" inside one readwrite transaction is an atomic
 * compare-and-set across every tab and worker of the origin. Nothing but
 * IndexedDB is awaited inside the transaction (it would auto-commit).
 * Durability 'strict': metadata writes are rare and must survive a crash.
 *
 * Importing this module touches no browser global; `idb` opens lazily.
 */
import { deleteDB, openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { ClusterMetadata } from '../metadata/metadata.ts';
import { assertNextVersion, type MetadataStore } from '../metadata/metadata-store.ts';

interface MetadataDb extends DBSchema {
  metadata: { key: string; value: ClusterMetadata };
}

const KEY = 'cluster';

export function metadataDbName(clusterId: string): string {
  return `wafka:${clusterId}:metadata`;
}

export class IndexedDbMetadataStore implements MetadataStore {
  readonly dbName: string;
  #db: Promise<IDBPDatabase<MetadataDb>> | undefined;

  constructor(clusterId: string) {
    this.dbName = metadataDbName(clusterId);
  }

  #open(): Promise<IDBPDatabase<MetadataDb>> {
    this.#db ??= openDB<MetadataDb>(this.dbName, 1, {
      upgrade(db) {
        db.createObjectStore('metadata');
      },
      // Another context wants to delete or upgrade the database: let it.
      blocking: () => void this.close(),
    });
    return this.#db;
  }

  async read(): Promise<ClusterMetadata | null> {
    const db = await this.#open();
    return (await db.get('metadata', KEY)) ?? null;
  }

  async compareAndSet(expectedVersion: number, next: ClusterMetadata): Promise<boolean> {
    assertNextVersion(expectedVersion, next);
    const db = await this.#open();
    const tx = db.transaction('metadata', 'readwrite', { durability: 'strict' });
    const current = await tx.store.get(KEY);
    if ((current?.version ?? 0) !== expectedVersion) {
      await tx.done;
      return false;
    }
    await tx.store.put(next, KEY);
    await tx.done;
    return true;
  }

  async close(): Promise<void> {
    const db = this.#db;
    this.#db = undefined;
    if (db) (await db.catch(() => null))?.close();
  }

  /** Removes the database (tests, and deleting a cluster). */
  static async destroy(clusterId: string): Promise<void> {
    await deleteDB(metadataDbName(clusterId));
  }
}
