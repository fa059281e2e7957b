// What a page loads when it imports the client and starts its brokers in workers: the modules
// reachable by static imports from `import { Wafka, startCluster } from 'wafka'`, as a bundler
// with code splitting (esbuild) lays them out. The brokers' code (src/broker/, src/storage/) runs
// in the broker workers, and in this realm only for in-process clusters, loaded on demand.
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { expect, test } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The source files in the chunks an entry loads before it runs (static imports only), relative to the repository. */
function staticInputs(metafile: Metafile, entry: string): string[] {
  const outputs = metafile.outputs;
  const start = Object.keys(outputs).find((name) => outputs[name].entryPoint?.endsWith(entry));
  if (!start) throw new Error(`no output for ${entry}`);
  const seen = new Set<string>();
  const stack = [start];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    for (const i of outputs[name].imports) if (i.kind === 'import-statement' && outputs[i.path]) stack.push(i.path);
  }
  return [...seen].flatMap((name) => Object.keys(outputs[name].inputs));
}

test("a page's client entry loads no broker or storage code until an in-process cluster starts", async () => {
  const result = await build({
    stdin: { contents: "import { Wafka, startCluster } from './src/index.ts'; globalThis.used = [Wafka, startCluster];", resolveDir: ROOT, sourcefile: 'page.ts', loader: 'ts' },
    absWorkingDir: ROOT,
    bundle: true, splitting: true, format: 'esm', platform: 'browser', write: false, metafile: true, outdir: 'out', logLevel: 'silent',
    external: ['*.wasm', '*.worker.ts'],
  });
  const loaded = staticInputs(result.metafile, 'page.ts');
  expect(loaded.some((f) => f.startsWith('src/client/'))).toBe(true);
  expect(loaded.filter((f) => f.startsWith('src/broker/') || f.startsWith('src/storage/'))).toEqual([]);
  // The in-process starter is there, as its own chunk.
  const all = Object.values(result.metafile.outputs).flatMap((o) => Object.keys(o.inputs));
  expect(all).toContain('src/broker/broker.ts');
});
