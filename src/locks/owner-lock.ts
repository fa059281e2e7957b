/**
 * An exclusive lock file whose ownership dies with its process (Node-only:
 * reached through importNodeOnly()). Used for the data directory and each
 * broker's storage (held while a cluster runs) and for the metadata store's
 * compare-and-set (held for milliseconds).
 *
 * The file holds its owner as JSON: pid, hostname, the process's start token
 * (Linux: the start time in /proc/<pid>/stat, so that a reused pid is not
 * taken for the owner), threadId and what it is for. It is created whole and
 * atomically: the owner is written to a private temp file which is then
 * hard-linked to the lock path (link fails with EEXIST if the lock exists),
 * so nobody ever reads a half-written lock.
 *
 * A lock is broken at once when its owner is dead (no such pid on this host,
 * or a pid whose start token differs). A lock of a live process is never
 * broken, with one exception: a lock of this same process but another thread
 * (whose liveness a process cannot see) may be broken once its file has gone
 * `sameProcessStaleMs` untouched; only short-lived locks set it. A lock from
 * another host (a shared volume, a container restarted under a new hostname)
 * cannot be checked by pid: it is broken once it has gone `otherHostStaleMs`
 * untouched. A lock taken with `leaseMs` is a lease: it is broken once it has
 * gone that long untouched whoever holds it (the controller's, whose stale
 * holder is fenced by its epoch). Holders touch their lock file (a heartbeat)
 * every quarter of the shortest of these while they hold it.
 *
 * proper-lockfile was considered: it judges staleness by an mtime that its
 * holder refreshes on a timer, so a lock of a killed process survives until
 * the stale time (≥ 2 s), and a live holder whose event loop is blocked past
 * it loses its lock to a second owner. Neither is acceptable for a data
 * directory.
 */
import { link, open, readFile, stat, unlink, utimes } from 'node:fs/promises';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { threadId } from 'node:worker_threads';
import { WafkaError } from '../errors.ts';

export interface LockOwner {
  pid: number;
  hostname: string;
  /** The owner process's start token ('' where the platform gives none). */
  processStart: string;
  threadId: number;
  /** What the lock is held for, for the error a second owner gets. */
  purpose: string;
  acquiredAtMs: number;
  /** Makes every lock's text unique. */
  nonce: string;
}

export interface AcquireOwnerLockOptions {
  purpose: string;
  /** How long to wait for a live owner to release (0: fail at once). */
  waitMs?: number;
  /**
   * Break a lock of this process held by another thread after this long without a heartbeat
   * (undefined: never). The holder touches the file every quarter of this while it holds it, so only a
   * dead thread (or one whose event loop stalls this long) loses it.
   */
  sameProcessStaleMs?: number;
  /** Break a lock taken on another host after this long without a heartbeat (default 30 s). */
  otherHostStaleMs?: number;
  /**
   * A lease: break the lock once it has gone this long without a heartbeat, whoever holds it, even a
   * live process (undefined: never). A holder that is alive but stopped (SIGSTOP, a blocked event
   * loop) loses it; whatever it writes afterwards must be refused by an epoch (the controller's).
   */
  leaseMs?: number;
  /** The error a live owner causes, given the owner (default: KAFKA_STORAGE_ERROR naming the owner). */
  heldError?: (path: string, owner: LockOwner | undefined, waitedMs: number) => Error;
}

/** A lock that another owner holds: the path and that owner (undefined if its file is unreadable). */
export class LockHeldError extends WafkaError {
  readonly path: string;
  readonly owner: LockOwner | undefined;

  constructor(path: string, owner: LockOwner | undefined, message: string) {
    super('KAFKA_STORAGE_ERROR', message, { retriable: false });
    this.path = path;
    this.owner = owner;
  }
}

export function describeOwner(owner: LockOwner | undefined): string {
  if (!owner) return 'an owner whose lock file cannot be read';
  const where = owner.pid === process.pid && owner.hostname === hostname() ? 'this process' : `process ${owner.pid}`;
  return `${where} (pid ${owner.pid} on ${owner.hostname}, thread ${owner.threadId}, ${owner.purpose}, since ${new Date(owner.acquiredAtMs).toISOString()})`;
}

/** A lock of another host, whose pid cannot be checked, untouched this long is taken as abandoned. */
const OTHER_HOST_STALE_MS = 30_000;

/** An unreadable lock file older than this is broken (a fresh one may be a lock of another format being taken). */
const UNREADABLE_STALE_MS = 2_000;

/** The text of each lock this thread holds, by path: a second acquire is refused, not mistaken for stale. */
const heldHere = new Map<string, string>();

export interface OwnerLock {
  readonly path: string;
  readonly owner: LockOwner;
  /** Whether the file is still this lock (false once another taker broke it, e.g. after its lease expired). */
  stillHeld(): Promise<boolean>;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): Promise<void>;
}

function ownerHere(purpose: string): LockOwner {
  return {
    pid: process.pid, hostname: hostname(), processStart: processStartToken(process.pid) ?? '', threadId,
    purpose, acquiredAtMs: Date.now(), nonce: randomUUID(),
  };
}

export async function acquireOwnerLock(path: string, options: AcquireOwnerLockOptions): Promise<OwnerLock> {
  const owner = ownerHere(options.purpose);
  const waitMs = options.waitMs ?? 0;
  const otherHostStaleMs = options.otherHostStaleMs ?? OTHER_HOST_STALE_MS;
  const startedMs = Date.now();
  const text = JSON.stringify(owner);
  const tempPath = `${path}.${process.pid}.${threadId}.${Math.random().toString(36).slice(2)}.tmp`;
  const temp = await open(tempPath, 'wx').catch((error) => { throw storageError(`cannot create ${tempPath}`, error); });
  try {
    // No fsync: after a machine crash the owner is dead whatever the file holds, and an unreadable lock is judged by age.
    await temp.writeFile(text, 'utf8');
  } finally {
    await temp.close();
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(tempPath, path);
        heldHere.set(path, text);
        return lockHandle(path, owner, text, Math.min(options.sameProcessStaleMs ?? Infinity, options.leaseMs ?? Infinity, otherHostStaleMs) / 4);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw storageError(`cannot create ${path}`, error);
      }
      const seen = await readLock(path);
      if (seen === null) continue; // released meanwhile
      if (isStale(path, seen, options.sameProcessStaleMs, otherHostStaleMs, options.leaseMs)) {
        await breakLock(path, seen.text);
        continue;
      }
      const waitedMs = Date.now() - startedMs;
      if (waitedMs >= waitMs) {
        throw options.heldError?.(path, seen.owner, waitedMs)
          ?? new LockHeldError(path, seen.owner, `${path} is held by ${describeOwner(seen.owner)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(waitMs - waitedMs, 1 + Math.random() * Math.min(20, 1 + attempt))));
    }
  } finally {
    await unlink(tempPath).catch(() => {});
  }
}

function lockHandle(path: string, owner: LockOwner, text: string, heartbeatMs: number): OwnerLock {
  let released: Promise<void> | undefined;
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => {});
  }, Math.max(1, heartbeatMs));
  (heartbeat as { unref?: () => void }).unref?.();
  return {
    path, owner,
    async stillHeld() {
      return released === undefined && (await readLock(path).catch(() => null))?.text === text;
    },
    release() {
      released ??= (async () => {
        clearInterval(heartbeat);
        // Only our own file: never remove a lock that someone took after ours was broken.
        const seen = await readLock(path);
        if (seen?.text === text) await unlink(path).catch(() => {});
        if (heldHere.get(path) === text) heldHere.delete(path);
      })();
      return released;
    },
  };
}

interface SeenLock { text: string; owner: LockOwner | undefined; mtimeMs: number }

async function readLock(path: string): Promise<SeenLock | null> {
  try {
    const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    return { text, owner: parseOwner(text), mtimeMs: info.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw storageError(`cannot read ${path}`, error);
  }
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as LockOwner;
    if (Number.isSafeInteger(o?.pid) && o.pid > 0 && typeof o.hostname === 'string' && typeof o.processStart === 'string'
      && Number.isSafeInteger(o.threadId) && typeof o.purpose === 'string' && Number.isFinite(o.acquiredAtMs)) return o;
  } catch {
    // not ours
  }
  return undefined;
}

/** Whether the lock's owner is gone (or, for a lock of this process held by another thread or a lease, too old). */
function isStale(path: string, seen: SeenLock, sameProcessStaleMs: number | undefined, otherHostStaleMs: number, leaseMs?: number): boolean {
  const owner = seen.owner;
  if (leaseMs !== undefined && heldHere.get(path) !== seen.text && Date.now() - seen.mtimeMs > leaseMs) return true;
  // Locks are written whole (link), so an unreadable one is outside damage or an older format: judge it by age.
  if (!owner) return Date.now() - seen.mtimeMs > UNREADABLE_STALE_MS;
  if (owner.hostname !== hostname()) return Date.now() - seen.mtimeMs > otherHostStaleMs;
  const life = processLife(owner.pid, owner.processStart);
  if (life === 'dead') return true;
  if (owner.pid !== process.pid) return false;
  if (owner.threadId === threadId) return heldHere.get(path) !== seen.text;
  return sameProcessStaleMs !== undefined && Date.now() - seen.mtimeMs > sameProcessStaleMs;
}

/** 'dead' if no process has this pid, or the one that has it started at another time than the owner. */
export function processLife(pid: number, processStart: string): 'alive' | 'dead' {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return 'dead';
    // EPERM: it exists, under another user.
  }
  const now = processStartToken(pid);
  if (processStart !== '' && now !== undefined && now !== processStart) return 'dead';
  return 'alive';
}

/** Linux: the process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat); undefined elsewhere. */
export function processStartToken(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

/**
 * Removes a stale lock. Breakers of one stale lock are serialised by a marker
 * file named after that lock's text (each lock's text is unique: it has a
 * nonce), created exclusively: only the marker's holder may remove the stale
 * lock, and only after re-reading that the lock is still the stale one. (A
 * breaker that sees the stale lock late finds a new lock there, or creates
 * the marker again after the first breaker removed it and finds a new lock.)
 * A marker left by a breaker that died is removed once its owner is dead.
 */
async function breakLock(path: string, staleText: string): Promise<void> {
  const marker = `${path}.break-${createHash('sha256').update(staleText).digest('hex').slice(0, 16)}`;
  let file;
  try {
    file = await open(marker, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw storageError(`cannot create ${marker}`, error);
    const breaker = parseOwner(await readFile(marker, 'utf8').catch(() => ''));
    if (breaker && breaker.hostname === hostname() && processLife(breaker.pid, breaker.processStart) === 'dead') await unlink(marker).catch(() => {});
    return;
  }
  try {
    await file.writeFile(JSON.stringify(ownerHere('breaking a stale lock')), 'utf8');
    await file.close();
    const now = await readLock(path);
    if (now?.text === staleText) await unlink(path).catch(() => {});
  } finally {
    await unlink(marker).catch(() => {});
  }
}

function storageError(message: string, cause: unknown): WafkaError {
  return new WafkaError('KAFKA_STORAGE_ERROR', `${message}: ${(cause as Error)?.message ?? cause}`, { cause });
}
