/**
 * Broker ownership in the browser: whoever holds the Web Lock
 * `wafka:<cluster>:broker:<id>` owns that broker's storage. The browser frees
 * the lock when its holder's worker is terminated or its tab closes (4-35 ms),
 * so a restarted broker waits briefly for its predecessor's lock rather than
 * failing. (A lock is no fence against a frozen holder: the controller issue
 * adds leases and epochs.)
 */
import { WafkaError } from '../errors.ts';

export function brokerLockName(clusterId: string, nodeId: number): string {
  return `wafka:${clusterId}:broker:${nodeId}`;
}

/** Takes the lock, waiting at most waitMs; resolves to its release function. */
export async function acquireWebLock(name: string, waitMs: number): Promise<() => void> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (!locks) throw new WafkaError('BROKER_NOT_AVAILABLE', `Web Locks are not available here; cannot take ${name}`);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), waitMs);
  let release!: () => void;
  const held = new Promise<void>((resolve) => { release = resolve; });
  await new Promise<void>((acquired, failed) => {
    locks.request(name, { signal: abort.signal }, () => {
      clearTimeout(timer);
      acquired();
      return held; // the lock is ours until release()
    }).catch((error: unknown) => {
      clearTimeout(timer);
      failed((error as Error)?.name === 'AbortError'
        ? new WafkaError('BROKER_NOT_AVAILABLE', `${name} is held by another context (waited ${waitMs} ms): that context owns this broker's storage`)
        : error);
    });
  });
  return release;
}
