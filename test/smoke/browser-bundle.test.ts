// A browser bundle of wafka (Vite, no plugins) links and reaches no `node:`
// built-in: the Node-only modules come through importNodeOnly(), and the one
// wafka/storage exports (NodeFileBackend) loads node:fs through importNodeBuiltin().
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { build, type Rollup } from 'vite';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('wafka, wafka/storage and the broker worker bundle for the browser without node: modules', async () => {
  const warnings: string[] = [];
  const result = await build({
    configFile: false,
    root: ROOT,
    logLevel: 'silent',
    worker: { format: 'es' },
    build: {
      write: false,
      target: 'es2022',
      rollupOptions: {
        input: { wafka: 'src/index.ts', storage: 'src/storage/index.ts' },
        preserveEntrySignatures: 'exports-only',
        onwarn: (warning) => void warnings.push(warning.message),
      },
    },
  });
  const outputs = (Array.isArray(result) ? result : [result]) as Rollup.RollupOutput[];
  const files = outputs.flatMap((o) => o.output);
  const names = files.map((f) => f.fileName);
  expect(names.some((n) => n.includes('broker.worker'))).toBe(true); // the worker was bundled too
  for (const f of files) {
    if (f.type !== 'chunk') continue;
    const nodeOnly = f.moduleIds.filter((id) => /file-metadata-store|node-worker|node-broker-worker|__vite-browser-external/.test(id));
    expect(nodeOnly, f.fileName).toEqual([]);
    if (f.name !== 'storage') expect(f.moduleIds.filter((id) => id.endsWith('node-fs.ts')), f.fileName).toEqual([]);
    expect([...f.imports, ...f.dynamicImports].filter((i) => i.startsWith('node:')), f.fileName).toEqual([]);
  }
  expect(warnings.filter((w) => /externalized for browser compatibility/.test(w))).toEqual([]);
}, 120_000);
