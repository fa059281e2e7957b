import { describe, expect, it } from 'vitest';
import { replayCommand, runClusterSimulation } from '../../src/sim/cluster.ts';

/** Seeds per test: a failing test names every failing seed of its block with the command that replays it. */
const SEEDS_PER_TEST = 25;
/** Simulated time of the faulty phase per seed: short, so that CI runs a thousand seeds. */
const FAULTY_PHASE_MS = 2_000;

export function describeSeeds(first: number, count: number): void {
  describe(`cluster simulation, seeds ${first}..${first + count - 1}`, () => {
    for (let block = first; block < first + count; block += SEEDS_PER_TEST) {
      const last = Math.min(first + count, block + SEEDS_PER_TEST) - 1;
      it(`keeps Kafka's invariants under faults, seeds ${block}..${last}`, async () => {
        const failures: string[] = [];
        let faults = 0;
        let acknowledged = 0;
        for (let seed = block; seed <= last; seed++) {
          const report = await runClusterSimulation({ seed, faultyPhaseMs: FAULTY_PHASE_MS });
          faults += report.faults.length;
          acknowledged += report.acknowledged;
          if (report.violations.length > 0) failures.push(`seed ${seed}: ${report.violations.slice(0, 3).join('; ')} — replay: ${replayCommand(seed, { faultyPhaseMs: FAULTY_PHASE_MS })}`);
        }
        expect(failures).toEqual([]);
        // The runs did something: records were acknowledged and faults injected.
        expect(acknowledged).toBeGreaterThan(0);
        expect(faults).toBeGreaterThan(0);
      }, 300_000);
    }
  });
}
