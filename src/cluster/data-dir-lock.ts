/**
 * One owner per data directory ('files' storage; Node-only, reached through
 * importNodeOnly()): a running cluster holds `<dir>/.lock` and, for each of its
 * brokers, `<dir>/broker-<id>/.lock` (as Kafka holds a `.lock` in each log
 * directory). The locks die with the process that holds them
 * (./owner-lock.ts), so a restart after a crash takes them over at once, while
 * a second cluster on the same directory, in this process or another, gets a
 * KAFKA_STORAGE_ERROR naming the directory and its owner.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { acquireOwnerLock, describeOwner, LockHeldError, type OwnerLock } from '../locks/owner-lock.ts';

export const DATA_DIR_LOCK_FILE = '.lock';

/** Takes the data directory's lock and each broker's; resolves to the function that releases them all. */
export async function lockDataDir(dir: string, nodeIds: readonly number[]): Promise<() => Promise<void>> {
  const root = resolve(dir);
  const held: OwnerLock[] = [];
  const releaseAll = async () => {
    for (const lock of held.splice(0).reverse()) await lock.release();
  };
  try {
    await mkdir(root, { recursive: true });
    held.push(await acquireOwnerLock(join(root, DATA_DIR_LOCK_FILE), {
      purpose: 'wafka data directory',
      heldError: (path, owner) => new LockHeldError(path, owner, `data directory ${root} is in use by ${describeOwner(owner)}: one cluster per data directory (lock ${path})`),
    }));
    for (const nodeId of nodeIds) {
      const brokerDir = join(root, `broker-${nodeId}`);
      await mkdir(brokerDir, { recursive: true });
      held.push(await acquireOwnerLock(join(brokerDir, DATA_DIR_LOCK_FILE), {
        purpose: `storage of broker ${nodeId}`,
        heldError: (path, owner) => new LockHeldError(path, owner, `broker ${nodeId}'s storage ${brokerDir} is in use by ${describeOwner(owner)} (lock ${path})`),
      }));
    }
  } catch (error) {
    await releaseAll();
    throw error;
  }
  return releaseAll;
}
