// Replication across dedicated broker workers in real Chromium, on OPFS and IndexedDB: the leader's worker is
// terminated (its Web Lock freed), or shut down cleanly, five times under acks=-1; it starts again and nothing
// acknowledged is lost.
import { afterEach, describe, test } from 'vitest';
import { removeClusterStorage } from './browser-cluster-storage.ts';
import { startCluster } from '../../src/cluster/start-cluster.ts';
import { loadCore } from '../../src/core/index.ts';
import { killTheLeader } from './kill-the-leader.ts';

const BROKERS = 3;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

describe.each(['opfs', 'indexeddb'] as const)('replication across broker workers on %s', (storage) => {
  test.each([
    ['terminations', 'terminate'],
    ['clean shutdowns and restarts', 'clean-shutdown'],
  ] as const)('RF=3, minInsyncReplicas 2, acks=-1: five %s of the leader\'s worker lose nothing acknowledged', async (_what, how) => {
    await loadCore();
    const clusterId = `repl-${storage}-${crypto.randomUUID().slice(0, 8)}`;
    cleanups.push(() => removeClusterStorage(clusterId, BROKERS));
    const cluster = await startCluster({ brokers: BROKERS, storage, clusterId, brokerSessionTimeoutMs: 1_000, restartBrokers: how === 'terminate' });
    cleanups.push(() => cluster.stop());
    await killTheLeader(cluster, 5, how);
  }, 240_000);
});
