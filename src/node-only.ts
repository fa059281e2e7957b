/**
 * Node-only code (the 'files' storage and metadata store, worker threads, the
 * `node:` built-ins) is imported here, at the point of use, by a specifier in
 * a variable: bundlers follow only literal `import('...')`, so a browser
 * bundle of wafka never contains these modules and needs no stubs for `node:`.
 * On Node (and Deno, Bun) the import resolves as written. webpack is told by
 * its magic comment, Vite by its own, to leave these imports alone.
 *
 * The package's build (scripts/build.mjs) emits each of these modules as its
 * own file in dist/ and rewrites the specifiers below to those files.
 */

/** wafka's Node-only modules, by specifiers relative to this file. */
const NODE_ONLY_MODULES = {
  nodeFs: './storage/node-fs.ts',
  fileMetadataStore: './cluster/file-metadata-store.ts',
  nodeBrokerWorker: './cluster/node-broker-worker.ts',
  dataDirLock: './cluster/data-dir-lock.ts',
  fileControllerLease: './controller/file-controller-lease.ts',
  wireListener: './wire/listener.ts',
} as const;

interface NodeBuiltins {
  'node:fs': typeof import('node:fs');
  'node:fs/promises': typeof import('node:fs/promises');
  'node:path': typeof import('node:path');
}

/**
 * Loads one of NODE_ONLY_MODULES. The caller names the module's type
 * (`importNodeOnly<typeof import('./x.ts')>('x')`), so this file, below every
 * layer that uses it, names no module of theirs.
 */
export function importNodeOnly<Module>(name: keyof typeof NODE_ONLY_MODULES): Promise<Module> {
  const specifier: string = NODE_ONLY_MODULES[name];
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier);
}

export function importNodeBuiltin<K extends keyof NodeBuiltins>(name: K): Promise<NodeBuiltins[K]> {
  const specifier: string = name;
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier);
}
