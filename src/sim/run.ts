/**
 * `npm run sim -- --seeds N [--from S] [--ms T]` runs N seeded cluster
 * simulations (seeds S..S+N-1) and prints a line per failing seed with the
 * command that replays it; `--seed S` runs one seed and prints its report.
 * `--groups` adds the group workload (offset commits through the group
 * coordinator while the faults move it); `--transactions` adds the
 * transaction workload (a transactional producer committing and aborting,
 * read_committed consumers; ./transaction-workload.ts); `--in-flight` adds
 * an idempotent producer with up to 5 batches of each partition in flight;
 * `--netsplits` adds partial network partitions to the faults; `--disk-faults`
 * adds torn and short writes, quota refusals and failed flushes.
 */
import { parseArgs } from 'node:util';
import { replayCommand, runClusterSimulation } from './cluster.ts';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '100' },
    from: { type: 'string', default: '1' },
    seed: { type: 'string' },
    ms: { type: 'string', default: '3000' },
    groups: { type: 'boolean', default: false },
    transactions: { type: 'boolean', default: false },
    'in-flight': { type: 'boolean', default: false },
    netsplits: { type: 'boolean', default: false },
    'disk-faults': { type: 'boolean', default: false },
  },
});
const faultyPhaseMs = Number(values.ms);
const workloads = { groups: values.groups, transactions: values.transactions, inFlight: values['in-flight'], netsplits: values.netsplits, diskFaults: values['disk-faults'] };
if (!Number.isSafeInteger(faultyPhaseMs) || faultyPhaseMs < 0) throw new RangeError(`--ms ${values.ms}`);

if (values.seed !== undefined) {
  const report = await runClusterSimulation({ seed: Number(values.seed), faultyPhaseMs, ...workloads });
  console.log(JSON.stringify(report, null, 2));
  process.exit(report.violations.length === 0 ? 0 : 1);
}

const count = Number(values.seeds);
const from = Number(values.from);
let failed = 0;
let acknowledged = 0;
let faults = 0;
let committed = 0;
let aborted = 0;
let storageFaults = 0;
const startedMs = Date.now();
for (let seed = from; seed < from + count; seed++) {
  const report = await runClusterSimulation({ seed, faultyPhaseMs, ...workloads });
  acknowledged += report.acknowledged;
  faults += report.faults.length;
  committed += report.transactionsCommitted;
  aborted += report.transactionsAborted;
  storageFaults += report.storageFaults;
  if (report.violations.length > 0) {
    failed++;
    console.log(`seed ${seed}: ${report.violations[0]} (${report.violations.length} violations) — replay: ${replayCommand(seed, { faultyPhaseMs, ...workloads })}`);
  }
}
console.log(`${count} seeds, ${failed} failing, ${faults} faults injected, ${acknowledged} acknowledged records checked${values['disk-faults'] ? `, ${storageFaults} storage faults` : ''}${values.transactions ? `, ${committed} transactions committed, ${aborted} aborted` : ''}, ${((Date.now() - startedMs) / 1000).toFixed(1)} s`);
process.exit(failed === 0 ? 0 : 1);
