// The README's Node examples run as written and print what their `// →` comments say.
// Each ```js block that opens with `// <name>.mjs` is written to a fresh directory and run with
// node (through tsx, on the sources: 'wafka', 'wafka/core' and 'wafka/storage' point at src/).
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeExamples, type Example } from './node-examples.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SPECIFIERS: Record<string, string> = {
  wafka: 'src/index.ts',
  'wafka/core': 'src/core/index.ts',
  'wafka/storage': 'src/storage/index.ts',
};

function run(file: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href, file], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += String(d); });
    child.stderr.on('data', (d) => { stderr += String(d); });
    child.on('error', reject);
    child.on('exit', (code) => resolveRun({ code, stdout, stderr }));
  });
}

let examples: Example[] = [];
let dir: string;
beforeAll(async () => {
  examples = nodeExamples(await readFile(join(ROOT, 'README.md'), 'utf8'));
  dir = await mkdtemp(join(tmpdir(), 'wafka-readme-'));
});
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('README.md', () => {
  it('has the Node example and the core/storage example, each promising output', () => {
    expect(examples.map((e) => e.name)).toEqual(['app.mjs', 'replicated.mjs', 'transactions.mjs', 'log.mjs', 'groups.mjs']);
    for (const e of examples) expect(e.expected.length, e.name).toBeGreaterThan(0);
  });

  it.each(['app.mjs', 'replicated.mjs', 'transactions.mjs', 'log.mjs', 'groups.mjs'])('%s runs on a fresh directory and prints what it says', async (name) => {
    const example = examples.find((e) => e.name === name)!;
    let code = example.code;
    for (const [specifier, path] of Object.entries(SPECIFIERS)) {
      code = code.replaceAll(`from '${specifier}'`, `from '${pathToFileURL(join(ROOT, path)).href}'`);
    }
    expect(code).not.toMatch(/from 'wafka/);
    const cwd = await mkdtemp(join(dir, `${name}-`));
    await writeFile(join(cwd, name), code);
    const result = await run(name, cwd);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trimEnd().split('\n')).toEqual(example.expected);
  }, 120_000);

  it('links only to files in the repository', async () => {
    const markdown = await readFile(join(ROOT, 'README.md'), 'utf8');
    const links = [...markdown.matchAll(/\]\(([^)]+)\)/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) {
      expect(link, link).not.toMatch(/^(\.\.\/|\/)/);
      if (/^[a-z]+:/.test(link)) continue;
      await expect(readFile(join(ROOT, link.split('#')[0])), link).resolves.toBeDefined();
    }
  });
});
