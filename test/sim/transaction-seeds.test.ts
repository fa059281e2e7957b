// The cluster simulation with the transaction workload: a transactional producer commits and aborts while faults
// move its coordinator and the partition leaders; read_committed reads no aborted value, loses no committed one,
// reads each transaction all or none, and nothing twice.
import { describe, expect, it } from 'vitest';
import { replayCommand, runClusterSimulation } from '../../src/sim/cluster.ts';

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

describe('cluster simulation with transactions', () => {
  it(`read_committed sees exactly the committed transactions, whole, across failovers, seeds ${SEEDS[0]}..${SEEDS.at(-1)}`, async () => {
    const failures: string[] = [];
    let committed = 0;
    let aborted = 0;
    let faults = 0;
    for (const seed of SEEDS) {
      const report = await runClusterSimulation({ seed, faultyPhaseMs: 3_000, transactions: true });
      committed += report.transactionsCommitted;
      aborted += report.transactionsAborted;
      faults += report.faults.length;
      if (report.violations.length > 0) failures.push(`seed ${seed}: ${report.violations.slice(0, 3).join('; ')} — replay: ${replayCommand(seed, { faultyPhaseMs: 3_000, transactions: true })}`);
    }
    expect(failures).toEqual([]);
    expect(committed).toBeGreaterThan(0);
    expect(aborted).toBeGreaterThan(0);
    expect(faults).toBeGreaterThan(0);
  }, 300_000);
});
