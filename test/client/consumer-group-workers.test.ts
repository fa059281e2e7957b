// Consumer groups with every member in a worker thread of its own, against brokers in worker threads on files.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/cluster/start-cluster.ts';
import { startNodeWorker } from '../../src/transport/node-worker.ts';
import { partitionState } from '../cluster/kill-the-leader.ts';
import { cleanBounce, cooperativeJoin, hardBounce, rollingRestart, shareTwelvePartitions, staticRestart, type GroupEnv, type MemberWorker } from './group-cases.ts';
import type { GroupMemberReport } from './group-member-protocol.ts';

let dir: string;
let cluster: Cluster;
let env: GroupEnv;

function nodeMember(name: string): MemberWorker {
  const worker: Worker = startNodeWorker(new URL('./fixtures/group-member.node-worker.ts', import.meta.url), {}, { name });
  return {
    post: (message, transfer) => worker.postMessage(message, transfer as never),
    onReport: (listener) => { worker.on('message', (r: GroupMemberReport) => listener(r)); },
    terminate: async () => { await worker.terminate(); },
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wafka-groups-'));
  cluster = await startCluster({ storage: 'files', dir, brokers: 3, brokerConfig: { offsetsTopicNumPartitions: 3 } });
  env = { cluster, spawnWorker: nodeMember };
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
  // A broker worker that did not stop in time is terminated, and file writes it had already issued may still land: rm retries.
  await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

describe('consumer groups, members in worker threads', () => {
  it.each([1, 2, 3, 4, 5])('%i members share 12 partitions: each message handled by exactly one', (n) => shareTwelvePartitions(env, n), 120_000);
  it('clean bounce of a member: no duplicates, nothing skipped', () => cleanBounce(env), 120_000);
  it('hard bounce (worker terminated): at least once, no skipped offset', () => hardBounce(env), 120_000);
  it('a static member restarting within its session: same partitions, no revocation', () => staticRestart(env), 120_000);
  it('cooperative-sticky: partitions that stay keep delivering while a member joins', () => cooperativeJoin(env), 120_000);
  it('a rolling restart of the brokers loses no acknowledged commit; committed offsets never go back', () => rollingRestart(env, (topic, partition) => partitionState(cluster, topic, partition)), 180_000);
});
