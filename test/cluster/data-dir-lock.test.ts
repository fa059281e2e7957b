import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { startCluster, type Cluster } from '../../src/cluster/start-cluster.ts';
import { loadCore } from '../../src/core/index.ts';
import { batchOf, produceTo, valuesAt } from '../broker/helpers.ts';
import { runFixture, type Child } from './child-process.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wafka-owner-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }));
  return dir;
}

function owner(dir: string): Child {
  const child = runFixture(new URL('./fixtures/cluster-owner.ts', import.meta.url), [dir]);
  cleanups.push(() => child.kill9());
  return child;
}

const start = (dir: string, inProcess = true) => startCluster({ brokers: 1, storage: 'files', dir, inProcess, clusterId: 'owner-test' });

describe('one owner per data directory', () => {
  test('a second startCluster in this process is refused, naming the directory and the owner; after stop the directory is free', async () => {
    await loadCore();
    const dir = await tempDir();
    const first = await start(dir);
    cleanups.push(() => first.stop());
    await first.brokers[0].createTopics({ topics: [{ topic: 't', numPartitions: 1 }] });
    for (const inProcess of [true, false]) {
      const error = await start(dir, inProcess).then((c: Cluster) => c.stop().then(() => 'started'), (e: unknown) => e);
      expect(error).toMatchObject({ type: 'KAFKA_STORAGE_ERROR', retriable: false, owner: { pid: process.pid } });
      expect((error as Error).message).toContain(`data directory ${dir}`);
      expect((error as Error).message).toContain('this process');
    }
    // The refused start changed nothing: the owner still appends at the next offset.
    await first.brokers[0].produce(produceTo('t', 0, await batchOf(['a'])));
    await first.stop();
    expect(await readdir(dir)).not.toContain('.lock');
    const second = await start(dir);
    cleanups.push(() => second.stop());
    expect(await valuesAt(second.brokers[0], 't', 0)).toEqual(['a']);
  });

  test('across processes: a cluster in another process owns the directory until that process dies (kill -9), then a restart takes over', async () => {
    await loadCore();
    const dir = await tempDir();
    const other = owner(dir);
    const otherPid = JSON.parse(await other.line()).ready as number;
    expect(otherPid).toBe(other.process.pid);

    const refused = await start(dir).then((c) => c.stop().then(() => 'started'), (e: unknown) => e);
    expect(refused).toMatchObject({ type: 'KAFKA_STORAGE_ERROR', owner: { pid: otherPid } });
    expect((refused as Error).message).toContain(`data directory ${dir} is in use by process ${otherPid}`);

    await other.kill9();
    const cluster = await start(dir);
    cleanups.push(() => cluster.stop());
    await cluster.brokers[0].createTopics({ topics: [{ topic: 't', numPartitions: 1 }] });
    await cluster.brokers[0].produce(produceTo('t', 0, await batchOf(['mine'])));

    // And now this process is the owner another process is refused by.
    const late = owner(dir);
    const answer = JSON.parse(await late.line()) as { error: { type: string; message: string; ownerPid: number } };
    expect(answer.error).toMatchObject({ type: 'KAFKA_STORAGE_ERROR', ownerPid: process.pid });
    expect(answer.error.message).toContain(`process ${process.pid}`);
    expect(await valuesAt(cluster.brokers[0], 't', 0)).toEqual(['mine']);
  });
});
