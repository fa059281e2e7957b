/**
 * The controller's lease: a cluster has one controller, whoever holds it.
 *
 *   browser  the Web Lock `wafka:<clusterId>:controller`, freed by the browser when
 *            its holder's tab or worker goes (not while it is frozen or hung);
 *   Node     the lock file `<dir>/controller.lock`, a lease kept by a heartbeat and
 *            broken once the heartbeat has stopped for `leaseMs`, even if its
 *            process is alive (stopped, hung): ./file-controller-lease.ts.
 *
 * A lease alone is no fence (a frozen tab keeps its lock; a stopped process
 * wakes after its lease was broken and taken): the holder claims the next
 * controller epoch (Controller.activate), and every metadata write it makes is
 * a compare-and-set on that epoch, refused once a successor claimed another.
 */
import { importNodeOnly } from '../node-only.ts';
import { requestWebLock } from '../locks/web-lock.ts';
import type { ControllerLease } from './lease.ts';

export type { ControllerLease } from './lease.ts';

export function controllerLockName(clusterId: string): string {
  return `wafka:${clusterId}:controller`;
}

/** A lease on Node whose heartbeat has stopped this long is broken (default 5 s). */
export const CONTROLLER_LEASE_MS = 5_000;

export type ControllerLeaseRequest =
  | { kind: 'web-lock'; clusterId: string; waitMs: number; signal?: AbortSignal }
  | { kind: 'file'; dir: string; waitMs: number; leaseMs?: number };

/** Takes the lease, waiting at most waitMs (Infinity for a web lock: until `signal` aborts). */
export async function acquireControllerLease(request: ControllerLeaseRequest): Promise<ControllerLease> {
  if (request.kind === 'file') {
    const { acquireFileControllerLease } = await importNodeOnly<typeof import('./file-controller-lease.ts')>('fileControllerLease');
    return acquireFileControllerLease(request.dir, { waitMs: request.waitMs, leaseMs: request.leaseMs ?? CONTROLLER_LEASE_MS });
  }
  const release = (await requestWebLock(controllerLockName(request.clusterId), {
    waitMs: request.waitMs, signal: request.signal, heldBy: "that context runs this cluster's controller",
  }))!;
  return { onLost: () => {}, release: async () => release() };
}
