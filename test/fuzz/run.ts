/**
 * `npm run fuzz [-- --iterations N] [--seed S]`: the fuzz loops of
 * test/fuzz/loops.ts, longer than CI runs them; prints the counts per loop
 * and exits non-zero on the first failure (with the seed and iteration).
 */
import { loadCore } from '../../src/core/index.ts';
import { fuzzAppendCheck, fuzzDecoder, type FuzzCounts } from './loops.ts';

function option(name: string, fallback: number): number {
  const args = process.argv.slice(2);
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return fallback;
  const raw = args[i]!.includes('=') ? args[i]!.split('=')[1] : args[i + 1];
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} takes a non-negative integer, not ${raw}`);
  return n;
}

const iterations = option('iterations', 100_000);
const seed = option('seed', Date.now() % 0x7fffffff);

function print(c: FuzzCounts, ms: number): void {
  const refused = Object.entries(c.refused).sort((a, b) => b[1] - a[1]).map(([t, n]) => `${t} ${n}`).join(', ');
  console.log(`${c.loop}: ${c.iterations} iterations (seed ${c.seed}) in ${(ms / 1000).toFixed(1)} s: ${c.accepted} accepted; refused: ${refused || 'none'}; core memory high-water ${(c.highWaterBytesMax / 2 ** 20).toFixed(1)} MiB`);
}

await loadCore();
for (const loop of [fuzzDecoder, fuzzAppendCheck]) {
  const started = Date.now();
  print(await loop(iterations, seed), Date.now() - started);
}
