// The cluster simulation with an idempotent producer that keeps up to 5 batches of each partition in flight while
// the network reorders and loses requests and the nemesis moves leaders: every batch is stored once, in sequence
// order, at the offset its answer gave, and the leader refuses a batch's sequence only while one before it is missing.
import { describe, expect, it } from 'vitest';
import { replayCommand, runClusterSimulation } from '../../src/sim/cluster.ts';

const SEEDS = Array.from({ length: 20 }, (_, i) => 1 + i);

describe('cluster simulation with 5 requests in flight per partition', () => {
  it(`0 duplicates, order kept, acknowledged offsets right, seeds ${SEEDS[0]}..${SEEDS.at(-1)}`, async () => {
    const failures: string[] = [];
    let acknowledged = 0;
    let refusedGaps = 0;
    for (const seed of SEEDS) {
      const report = await runClusterSimulation({ seed, faultyPhaseMs: 2_000, inFlight: true });
      acknowledged += report.acknowledged;
      refusedGaps += report.failures.OUT_OF_ORDER_SEQUENCE_NUMBER ?? 0;
      if (report.violations.length > 0) failures.push(`seed ${seed}: ${report.violations.slice(0, 3).join('; ')} — replay: ${replayCommand(seed, { faultyPhaseMs: 2_000, inFlight: true })}`);
    }
    expect(failures).toEqual([]);
    expect(acknowledged).toBeGreaterThan(0);
    // The reordering network did put later batches ahead of earlier ones.
    expect(refusedGaps).toBeGreaterThan(0);
  }, 300_000);
});
