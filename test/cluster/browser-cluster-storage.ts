// Removes what a browser cluster stored (its OPFS directory, its IndexedDB databases): tests clean up after themselves.
import { deleteDB } from 'idb';
import { indexedDbBrokerDbName } from '../../src/cluster/broker-storage.ts';
import { metadataDbName } from '../../src/cluster/indexeddb-metadata-store.ts';

export function removeClusterStorage(clusterId: string, brokers: number): Promise<unknown> {
  return Promise.all([
    (async () => {
      const root = await navigator.storage.getDirectory();
      const wafka = await root.getDirectoryHandle('wafka').catch(() => null);
      await wafka?.removeEntry(clusterId, { recursive: true }).catch(() => {});
    })(),
    deleteDB(metadataDbName(clusterId)),
    ...Array.from({ length: brokers }, (_, i) => deleteDB(indexedDbBrokerDbName(clusterId, i))),
  ]);
}
