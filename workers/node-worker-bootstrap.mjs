// Entry of every wafka Node worker thread: makes TypeScript entries loadable,
// then imports the real entry named in workerData.wafkaEntry (a file: URL).
//
// Why: on Node 20, `new Worker(x.ts, { execArgv: ['--import', 'tsx'] })` does
// not apply tsx's hooks to the worker's entry (ERR_UNKNOWN_FILE_EXTENSION).
// Registering tsx from inside the thread does work. Where tsx is absent (a
// compiled build, or Node ≥ 23.6 that strips types itself) we import as is.
import { workerData } from 'node:worker_threads';

const entry = workerData?.wafkaEntry;
if (typeof entry !== 'string') throw new Error('wafka worker bootstrap: workerData.wafkaEntry (a file: URL) is missing');
if (entry.endsWith('.ts')) {
  try {
    const { register } = await import('tsx/esm/api');
    register();
  } catch {
    // No tsx: rely on the runtime's own TypeScript support.
  }
}
await import(entry);
