// Builds build/wafka.wasm when it is missing or older than a source in assembly/: what `npm start`,
// `npm run sim` and `npm run fuzz` load in a clone (installing runs no build script).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const wasm = join(root, 'build', 'wafka.wasm');
const sources = readdirSync(join(root, 'assembly')).filter((f) => f.endsWith('.ts')).map((f) => join(root, 'assembly', f));
const builtMs = existsSync(wasm) ? statSync(wasm).mtimeMs : -1;
if (sources.some((f) => statSync(f).mtimeMs > builtMs)) {
  execFileSync(join(root, 'node_modules', '.bin', 'asc'), ['assembly/index.ts', '--target', 'release'], { cwd: root, stdio: 'inherit' });
}
