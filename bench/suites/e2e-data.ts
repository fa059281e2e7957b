/** The e2e events: 100-byte JSON strings, as an app would produce them. */
import { jsonValue, rng } from '../lib/data.ts';

export function e2eValues(n: number, seed = 7): string[] {
  const r = rng(seed);
  const out: string[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = jsonValue(r, i, 100);
  return out;
}
