// The client end to end against startCluster on Node: brokers in worker threads, logs in files.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'vitest';
import { startCluster } from '../../src/index.ts';
import { badInputGivesTypedErrors, lingerMakesFewBatches, roundTripAndRestart, type StartCluster } from './e2e-cases.ts';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'wafka-client-e2e-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }); });

const start: StartCluster = (options = {}) => startCluster({ brokers: 3, storage: 'files', dir, clusterId: 'client-e2e', ...options });

describe('client ↔ cluster on Node (worker threads, files)', () => {
  it('produces keyed messages over 3 partitions, consumes them in order, and again after a restart', () => roundTripAndRestart(start, 3000), 60_000);
  it('lingerMs turns 500 concurrent sends into a few batches', () => lingerMakesFewBatches(start), 60_000);
  it('bad input: typed errors, and the cluster keeps serving', () => badInputGivesTypedErrors(start), 60_000);
});
