// Consumer groups in real Chromium: every member in a dedicated worker of its own, brokers in dedicated workers on
// OPFS and IndexedDB.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { removeClusterStorage } from '../cluster/browser-cluster-storage.ts';
import { startCluster, type Cluster } from '../../src/cluster/start-cluster.ts';
import { loadCore } from '../../src/core/index.ts';
import { cleanBounce, cooperativeJoin, hardBounce, shareTwelvePartitions, staticRestart, type GroupEnv, type MemberWorker } from './group-cases.ts';
import type { GroupMemberReport } from './group-member-protocol.ts';

function browserMember(name: string): MemberWorker {
  const worker = new Worker(new URL('./fixtures/group-member.worker.ts', import.meta.url), { type: 'module', name });
  return {
    post: (message, transfer) => worker.postMessage(message, transfer ?? []),
    onReport: (listener) => { worker.addEventListener('message', (e: MessageEvent<GroupMemberReport>) => listener(e.data)); },
    terminate: async () => { worker.terminate(); },
  };
}

describe.each(['opfs', 'indexeddb'] as const)('consumer groups, members in dedicated workers, brokers on %s', (storage) => {
  let cluster: Cluster;
  let env: GroupEnv;
  const clusterId = `groups-${storage}-${crypto.randomUUID().slice(0, 8)}`;
  beforeAll(async () => {
    await loadCore();
    cluster = await startCluster({ brokers: 3, storage, clusterId, brokerConfig: { offsetsTopicNumPartitions: 3 } });
    env = { cluster, spawnWorker: browserMember };
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
    await removeClusterStorage(clusterId, 3);
  });

  it.each(storage === 'opfs' ? [1, 2, 3, 4, 5] : [3])('%i members share 12 partitions: each message handled by exactly one', (n) => shareTwelvePartitions(env, n), 120_000);
  it('clean bounce of a member: no duplicates, nothing skipped', () => cleanBounce(env), 120_000);
  it('hard bounce (worker terminated): at least once, no skipped offset', () => hardBounce(env), 120_000);
  if (storage === 'opfs') {
    it('a static member restarting within its session: same partitions, no revocation', () => staticRestart(env), 120_000);
    it('cooperative-sticky: partitions that stay keep delivering while a member joins', () => cooperativeJoin(env), 120_000);
  }
});
