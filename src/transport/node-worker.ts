/**
 * Starts a Node worker thread on a TypeScript or JavaScript entry (a file: URL)
 * through workers/node-worker-bootstrap.mjs, which makes .ts entries loadable
 * on Node 20 (where execArgv ['--import', 'tsx'] is not applied to a worker's
 * entry). Node-only: import it dynamically from code that also runs in browsers.
 */
import { Worker } from 'node:worker_threads';

const BOOTSTRAP_URL = new URL('../../workers/node-worker-bootstrap.mjs', import.meta.url);

export function startNodeWorker(entry: URL, workerData: Record<string, unknown> = {}, options: { name?: string } = {}): Worker {
  return new Worker(BOOTSTRAP_URL, {
    workerData: { ...workerData, wafkaEntry: entry.href },
    // Not the parent's flags: under `node --import tsx` or vitest they would load loaders twice.
    execArgv: [],
    name: options.name,
  });
}
