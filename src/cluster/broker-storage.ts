/**
 * Where a broker keeps its partition logs and how brokers share metadata, per
 * storage kind. Backends are imported lazily: Node never loads OPFS code, and
 * the 'files' modules come through importNodeOnly(), so a browser bundle does
 * not even contain them.
 *
 *   kind        logs (one directory per broker)             metadata store + doorbell
 *   memory      MemoryBackend (lost on stop)                 memory + in-process hub (in-process only)
 *   files       <dir>/broker-<id>/ via node:fs               <dir>/metadata.json + BroadcastChannel
 *   opfs        OPFS wafka/<cluster>/broker-<id>/            IndexedDB + BroadcastChannel (dedicated worker)
 *   indexeddb   IndexedDB database wafka:<cluster>:broker-<id>  IndexedDB + BroadcastChannel
 */
import { importNodeOnly } from '../node-only.ts';
import type { ReplicaLogStorage } from '../broker/replica-log.ts';
import type { MetadataStore } from '../metadata/metadata-store.ts';
import { BroadcastChannelMetadataWatch, type MetadataWatch } from '../metadata/metadata-watch.ts';

export type StorageKind = 'opfs' | 'indexeddb' | 'files' | 'memory';

export interface BrokerStorageLocation {
  clusterId: string;
  nodeId: number;
  /** 'files' only: the cluster's data directory. */
  dir?: string;
}

export function opfsBrokerDir(clusterId: string, nodeId: number): string {
  return `wafka/${clusterId}/broker-${nodeId}`;
}

export function indexedDbBrokerDbName(clusterId: string, nodeId: number): string {
  return `wafka:${clusterId}:broker-${nodeId}`;
}

export async function openBrokerLogs(kind: Exclude<StorageKind, 'memory'>, where: BrokerStorageLocation): Promise<ReplicaLogStorage> {
  // Lazily, as the backends: a page that only hosts the controller (openSharedMetadata) loads no log code.
  const { StorageReplicaLogs } = await import('../broker/storage-logs.ts');
  switch (kind) {
    case 'files': {
      if (!where.dir) throw new TypeError("storage 'files' needs a dir");
      const { NodeFileBackend } = await importNodeOnly<typeof import('../storage/node-fs.ts')>('nodeFs');
      return new StorageReplicaLogs(await NodeFileBackend.create(`${where.dir}/broker-${where.nodeId}`), 'files');
    }
    case 'opfs': {
      const { OpfsBackend } = await import('../storage/opfs.ts');
      return new StorageReplicaLogs(await OpfsBackend.create(opfsBrokerDir(where.clusterId, where.nodeId)), 'opfs');
    }
    case 'indexeddb': {
      const { IndexedDbBackend } = await import('../storage/indexeddb.ts');
      const backend = await IndexedDbBackend.open(indexedDbBrokerDbName(where.clusterId, where.nodeId));
      return new StorageReplicaLogs(backend, 'indexeddb', async () => backend.close());
    }
    default:
      throw new TypeError(`unknown storage kind '${String(kind)}'`);
  }
}

/** The shared metadata store and doorbell for brokers in separate contexts (workers, tabs, threads). */
export async function openSharedMetadata(kind: Exclude<StorageKind, 'memory'>, clusterId: string, dir?: string): Promise<{ store: MetadataStore; watch: MetadataWatch }> {
  const watch = new BroadcastChannelMetadataWatch(clusterId);
  if (kind === 'files') {
    if (!dir) throw new TypeError("storage 'files' needs a dir");
    const { FileMetadataStore } = await importNodeOnly<typeof import('./file-metadata-store.ts')>('fileMetadataStore');
    return { store: new FileMetadataStore(dir), watch };
  }
  const { IndexedDbMetadataStore } = await import('./indexeddb-metadata-store.ts');
  return { store: new IndexedDbMetadataStore(clusterId), watch };
}
