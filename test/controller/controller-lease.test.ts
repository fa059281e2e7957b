// The controller's lease on Node: a lock file kept by a heartbeat. A controller process that is stopped
// (SIGSTOP: alive, holding its lease, silent) loses the lease once its heartbeat has stopped for
// leaseMs; the successor claims the next controller epoch, and the old controller, woken, cannot write.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { systemClock } from '../../src/clock.ts';
import { FileMetadataStore } from '../../src/cluster/file-metadata-store.ts';
import { LocalMetadataHub } from '../../src/metadata/metadata-watch.ts';
import { Controller } from '../../src/controller/controller.ts';
import { acquireControllerLease } from '../../src/controller/controller-lease.ts';

const LEASE_MS = 600;
const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function controllerProcess(dir: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fixtures/stale-controller.ts', import.meta.url)), dir, String(LEASE_MS)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += String(d); });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  cleanups.push(() => { child.kill('SIGKILL'); });
  return {
    child,
    async next(): Promise<Record<string, unknown>> {
      const { value, done } = await lines.next();
      if (done) throw new Error(`controller process ended: ${stderr}`);
      return JSON.parse(value);
    },
    write() { child.stdin!.write('write\n'); },
  };
}

describe('controller lease (lock file with a heartbeat)', () => {
  test('a stopped controller loses its lease; woken, its write is refused by the successor\'s epoch and changes nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wafka-lease-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const old = controllerProcess(dir);
    expect(await old.next()).toEqual({ epoch: 1 });
    old.write();
    expect(await old.next()).toEqual({ ok: 1 });

    // While its holder heartbeats, the lease is not taken.
    await expect(acquireControllerLease({ kind: 'file', dir, waitMs: 2 * LEASE_MS, leaseMs: LEASE_MS })).rejects.toMatchObject({ type: 'KAFKA_STORAGE_ERROR' });

    old.child.kill('SIGSTOP');
    cleanups.push(() => { old.child.kill('SIGCONT'); });
    const lease = await acquireControllerLease({ kind: 'file', dir, waitMs: 30_000, leaseMs: LEASE_MS });
    cleanups.push(() => lease.release());
    const store = new FileMetadataStore(dir);
    const successor = await Controller.activate({
      nodeId: 1_001, clusterId: 'lease-test', store, watch: new LocalMetadataHub().handle(), clock: systemClock, brokerSessionTimeoutMs: 60_000,
    });
    cleanups.push(() => successor.close());
    expect(successor.epoch).toBe(2);
    const before = await store.read();

    old.child.kill('SIGCONT');
    old.write();
    const refused = await old.next();
    expect(refused).toMatchObject({ error: 'NOT_CONTROLLER' });
    expect(refused.message).toContain('superseded by epoch 2');
    expect(await store.read()).toEqual(before);
    expect(before!.brokers.find((b) => b.nodeId === 9)?.brokerEpoch).toBe(1);

    await expect(successor.registerBroker({ nodeId: 9, host: 'successor' })).resolves.toEqual({ brokerEpoch: 2 });
  });
});
