// Builds the package as users install it, into dist/:
//   dist/*.js             ESM entries (index, core, storage, zstd, console) and their shared chunks, with source maps;
//                         also the Node-only modules, reached by importNodeOnly() at './<name>.js'
//   dist/wafka/           what a page loads beside the entries: broker.worker.js, tab-relay.worker.js (self-contained files)
//                         and wafka.wasm
//   dist/types/           .d.ts per source file, relative imports ending in .js
//
// The URLs of the worker and the Wasm core are written so that a bundler finds them in both
// readings it may take: 'wafka/wafka.wasm' relative to a dist/*.js module is dist/wafka/wafka.wasm,
// and the package subpath 'wafka/wafka.wasm' (exports) is the same file. Vite's dev server moves
// the entries into node_modules/.vite/deps/, where only the package-subpath reading still works;
// Vite, webpack and unbundled runtimes take the relative one first.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const at = (path) => join(root, path);

/**
 * The Node-only modules importNodeOnly() loads (NODE_ONLY_MODULES in src/node-only.ts): each one
 * becomes its own entry, dist/<file name>.js.
 */
const NODE_ONLY = [...readFileSync(at('src/node-only.ts'), 'utf8').matchAll(/^\s+\w+: '(\.\/[\w/.-]+\.ts)',$/gm)].map(([, specifier]) => ({
  specifier, name: basename(specifier, '.ts'), source: at(join('src', specifier)),
}));
if (NODE_ONLY.length === 0 || new Set(NODE_ONLY.map((m) => m.name)).size !== NODE_ONLY.length) {
  throw new Error(`build: cannot read distinct NODE_ONLY_MODULES from src/node-only.ts: ${JSON.stringify(NODE_ONLY)}`);
}

/** Literal specifiers in the sources that point into the repository, and what they become in dist. */
function sourceUrlRewrites(wasmUrl) {
  return {
    'src/core/wasm.ts': [["'../../build/wafka.wasm'", `'${wasmUrl}'`]],
    'src/cluster/worker-brokers.ts': [["'../../workers/broker.worker.ts'", "'wafka/broker.worker.js'"]],
    'src/cluster/shared-cluster.ts': [["'../../workers/tab-relay.worker.ts'", "'wafka/tab-relay.worker.js'"]],
    'src/cluster/node-broker-worker.ts': [["'../../workers/broker.node-worker.ts'", "'./broker.node-worker.js'"]],
    'src/transport/node-worker.ts': [["'../../workers/node-worker-bootstrap.mjs'", "'./node-worker-bootstrap.mjs'"]],
    'src/node-only.ts': NODE_ONLY.map(({ specifier, name }) => [`'${specifier}'`, `'./${name}.js'`]),
  };
}

/** An esbuild plugin applying sourceUrlRewrites; a rewrite that no longer matches fails the build. */
function rewriteUrls(rewrites) {
  return {
    name: 'wafka-dist-urls',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        const path = relative(root, args.path).replaceAll('\\', '/');
        const edits = rewrites[path];
        if (!edits) return undefined;
        let code = readFileSync(args.path, 'utf8');
        for (const [from, to] of edits) {
          if (!code.includes(from)) throw new Error(`build: ${path} no longer contains ${from}`);
          code = code.replaceAll(from, to);
        }
        return { contents: code, loader: 'ts' };
      });
    },
  };
}

/**
 * `import css from 'x.css?inline'` (Vite's form, which the console's sources use): the stylesheet's
 * text, inlined into the bundle, so an app's bundler needs no CSS handling for wafka/console.
 */
function cssAsText() {
  return {
    name: 'wafka-css-inline',
    setup(b) {
      b.onResolve({ filter: /\.css\?inline$/ }, (args) => ({
        path: createRequire(join(args.resolveDir, 'x.js')).resolve(args.path.replace(/\?inline$/, '')),
        namespace: 'css-text',
      }));
      b.onLoad({ filter: /.*/, namespace: 'css-text' }, (args) => ({ contents: readFileSync(args.path, 'utf8'), loader: 'text' }));
    },
  };
}

const common = {
  bundle: true,
  format: 'esm',
  target: 'es2022',
  platform: 'neutral',
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
  // Node built-ins are reached only through importNodeBuiltin() (a variable specifier); these stay imports anyway.
  external: ['node:*'],
};

function run(command, args) {
  execFileSync(command, args, { cwd: root, stdio: 'inherit' });
}

rmSync(dist, { recursive: true, force: true });
// The release Wasm is compiled straight into dist/ (not build/, which the tests running beside a
// pack may be reading); the text form asc writes with it is not shipped.
mkdirSync(join(dist, 'wafka'), { recursive: true });
run('npx', ['asc', 'assembly/index.ts', '--target', 'release', '--outFile', 'dist/wafka/wafka.wasm', '--textFile', 'dist/wafka.wat']);
rmSync(join(dist, 'wafka.wat'));

await build({
  ...common,
  entryPoints: {
    index: at('src/index.ts'),
    core: at('src/core/index.ts'),
    storage: at('src/storage/index.ts'),
    zstd: at('src/core/zstd.ts'),
    // The console, for a page of the app (its chart library, uPlot, stays an import):
    console: at('src/console/index.ts'),
    // The `wafka` command (package.json bin):
    cli: at('src/cli.ts'),
    // Node-only, loaded by importNodeOnly() and the worker-thread spawner:
    ...Object.fromEntries(NODE_ONLY.map(({ name, source }) => [name, source])),
    'broker.node-worker': at('workers/broker.node-worker.ts'),
  },
  outdir: dist,
  splitting: true,
  chunkNames: '[name]-[hash]',
  // The app's bundler dedupes these with its own copies.
  packages: 'external',
  plugins: [rewriteUrls(sourceUrlRewrites('wafka/wafka.wasm')), cssAsText()],
});
copyFileSync(at('workers/node-worker-bootstrap.mjs'), join(dist, 'node-worker-bootstrap.mjs'));

// The browser broker: one file with everything it runs (comlink and idb included), no imports, so a
// bundler (Vite's default worker format 'iife' among them) takes it as it is. The Wasm sits beside it.
// Not minified: the app's bundler minifies, and minifying here would drop the bundlers' magic comments.
await build({
  ...common,
  entryPoints: { 'broker.worker': at('workers/broker.worker.ts'), 'tab-relay.worker': at('workers/tab-relay.worker.ts') },
  outdir: join(dist, 'wafka'),
  platform: 'browser',
  plugins: [rewriteUrls(sourceUrlRewrites('./wafka.wasm'))],
});

run('npx', ['tsc', '-p', 'tsconfig.build.json']);
rewriteDeclarationSpecifiers(join(dist, 'types'));

// The playground page `npx wafka` serves (src/cli/start.ts finds it at dist/playground/, beside itself).
// Vite bundles it from the sources, which load the Wasm core from build/.
if (!existsSync(at('build/wafka.wasm'))) run('npm', ['run', '--silent', 'asbuild']);
const { build: viteBuild } = await import('vite');
const { playgroundViteConfig } = await import('../playground/vite-config.mjs');
await viteBuild(playgroundViteConfig(join(dist, 'playground')));

/**
 * tsc keeps the sources' '.ts' specifiers in declarations; a user's NodeNext resolution wants '.js'.
 * comlink's ESM files have no .d.mts: point at its .d.ts by the '.js' name TypeScript maps to them.
 */
function rewriteDeclarationSpecifiers(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      rewriteDeclarationSpecifiers(path);
      continue;
    }
    if (!name.endsWith('.d.ts')) continue;
    const code = readFileSync(path, 'utf8')
      .replace(/((?:from|import)\s*\(?\s*')(\.{1,2}\/[^']*)\.ts'/g, "$1$2.js'")
      .replace(/'comlink\/dist\/esm\/(comlink|node-adapter)\.mjs'/g, "'comlink/dist/esm/$1.js'");
    writeFileSync(path, code);
  }
}
