/**
 * The controller's lease on Node (reached through importNodeOnly()): the lock
 * file `<dir>/controller.lock` (../locks/owner-lock.ts), touched by its
 * holder every quarter of `leaseMs`. A lock whose holder died is broken at
 * once; one whose heartbeat stopped for `leaseMs` (its process stopped or its
 * event loop blocked) is broken too, and its holder finds out at its next
 * check (onLost). Until then it may still try to write: the controller epoch
 * refuses it (./controller.ts).
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { acquireOwnerLock, describeOwner, LockHeldError } from '../locks/owner-lock.ts';
import type { ControllerLease } from './lease.ts';

export const CONTROLLER_LOCK_FILE = 'controller.lock';

export async function acquireFileControllerLease(dir: string, options: { waitMs: number; leaseMs: number }): Promise<ControllerLease> {
  const root = resolve(dir);
  await mkdir(root, { recursive: true });
  const lock = await acquireOwnerLock(join(root, CONTROLLER_LOCK_FILE), {
    purpose: 'wafka controller', waitMs: options.waitMs, leaseMs: options.leaseMs,
    heldError: (path, owner, waitedMs) => new LockHeldError(path, owner, `the controller lease ${path} is held by ${describeOwner(owner)} (waited ${waitedMs} ms)`),
  });
  const listeners: (() => void)[] = [];
  let lost = false;
  const check = setInterval(() => {
    void lock.stillHeld().then((held) => {
      if (held || lost) return;
      lost = true;
      clearInterval(check);
      for (const listener of listeners.splice(0)) listener();
    });
  }, Math.max(1, Math.floor(options.leaseMs / 4)));
  (check as { unref?: () => void }).unref?.();
  return {
    onLost(listener) {
      if (lost) listener();
      else listeners.push(listener);
    },
    async release() {
      clearInterval(check);
      await lock.release();
    },
  };
}
