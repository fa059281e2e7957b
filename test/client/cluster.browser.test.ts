// The client end to end in real Chromium against startCluster: broker
// dedicated workers on OPFS and on IndexedDB, the client in the page.
import { deleteDB } from 'idb';
import { afterEach, describe, it } from 'vitest';
import { indexedDbBrokerDbName } from '../../src/cluster/broker-storage.ts';
import { metadataDbName } from '../../src/cluster/indexeddb-metadata-store.ts';
import { startCluster, type StorageKind } from '../../src/index.ts';
import { badInputGivesTypedErrors, lingerMakesFewBatches, roundTripAndRestart, type StartCluster } from './e2e-cases.ts';

const BROKERS = 3;
const used: string[] = [];

async function removeClusterStorage(clusterId: string): Promise<void> {
  const root = await navigator.storage.getDirectory();
  const dir = await root.getDirectoryHandle('wafka').catch(() => null);
  await dir?.removeEntry(clusterId, { recursive: true }).catch(() => {});
  await deleteDB(metadataDbName(clusterId));
  for (let i = 0; i < BROKERS; i++) await deleteDB(indexedDbBrokerDbName(clusterId, i));
}

afterEach(async () => {
  for (const id of used.splice(0)) await removeClusterStorage(id).catch(() => {});
});

let counter = 0;
function starter(storage: StorageKind): StartCluster {
  const clusterId = `client-e2e-${storage}-${Date.now().toString(36)}-${counter++}`;
  used.push(clusterId);
  return (options = {}) => startCluster({ brokers: BROKERS, storage, clusterId, ...options });
}

for (const storage of ['opfs', 'indexeddb'] as const) {
  describe(`client ↔ cluster in Chromium (dedicated workers, ${storage})`, () => {
    it('produces keyed messages over 3 partitions, consumes them in order, and again after a restart', () => roundTripAndRestart(starter(storage), 3000), 90_000);
    it('lingerMs turns 500 concurrent sends into a few batches', () => lingerMakesFewBatches(starter(storage)), 60_000);
    it('bad input: typed errors, and the cluster keeps serving', () => badInputGivesTypedErrors(starter(storage)), 60_000);
  });
}
