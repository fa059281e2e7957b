/**
 * Ownership in the browser is a Web Lock:
 *   `wafka:<cluster>:broker:<id>`  whoever holds it owns that broker's storage;
 *   `wafka:<cluster>:controller`   whoever holds it may claim the controller epoch
 *                                  (../controller/controller-lease.ts);
 *   `wafka:<cluster>:host:<id>`    the tab that hosts broker <id> of a shared cluster
 *                                  (./shared-cluster.ts).
 * The browser frees a lock when its holder's worker is terminated or its tab
 * closes (4-35 ms), so a successor waits briefly for its predecessor's lock
 * rather than failing. A lock is no fence against a frozen or hung holder
 * (the browser keeps its locks): heartbeats and epochs are.
 */
import { WafkaError } from '../errors.ts';

export function brokerLockName(clusterId: string, nodeId: number): string {
  return `wafka:${clusterId}:broker:${nodeId}`;
}

export interface WebLockRequest {
  /** Give up after this long (Infinity: wait as long as it takes, until `signal` aborts). */
  waitMs: number;
  /** What the holder owns, for the error a waiter that gives up gets. */
  heldBy?: string;
  signal?: AbortSignal;
  /** Take it only if nobody holds it now: resolves to null otherwise. */
  ifAvailable?: boolean;
}

export function webLocks(): LockManager {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (!locks) throw new WafkaError('BROKER_NOT_AVAILABLE', 'Web Locks are not available here');
  return locks;
}

/** Takes the lock, waiting at most waitMs; resolves to its release function. */
export async function acquireWebLock(name: string, waitMs: number): Promise<() => void> {
  return (await requestWebLock(name, { waitMs, heldBy: "that context owns this broker's storage" }))!;
}

/** Takes the lock as `request` says; resolves to its release function (null: ifAvailable and held elsewhere). */
export async function requestWebLock(name: string, request: WebLockRequest): Promise<(() => void) | null> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (!locks) throw new WafkaError('BROKER_NOT_AVAILABLE', `Web Locks are not available here; cannot take ${name}`);
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  request.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = !request.ifAvailable && Number.isFinite(request.waitMs) ? setTimeout(() => abort.abort(), request.waitMs) : undefined;
  let release!: () => void;
  const held = new Promise<void>((resolve) => { release = resolve; });
  const options: LockOptions = request.ifAvailable ? { ifAvailable: true } : { signal: abort.signal };
  try {
    return await new Promise<(() => void) | null>((acquired, failed) => {
      locks.request(name, options, (lock) => {
        if (!lock) {
          acquired(null);
          return undefined;
        }
        acquired(release);
        return held; // the lock is ours until release()
      }).catch((error: unknown) => {
        failed((error as Error)?.name === 'AbortError'
          ? new WafkaError('BROKER_NOT_AVAILABLE', request.signal?.aborted
            ? `gave up waiting for ${name}`
            : `${name} is held by another context (waited ${request.waitMs} ms)${request.heldBy ? `: ${request.heldBy}` : ''}`)
          : error);
      });
    });
  } finally {
    clearTimeout(timer);
    request.signal?.removeEventListener('abort', onAbort);
  }
}
