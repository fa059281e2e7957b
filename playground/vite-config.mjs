// How the playground page is built, by `npx wafka` from a clone (src/main.ts) and by `npm run build`
// into dist/playground/ (scripts/build.mjs): one Vite config for both.
import { fileURLToPath } from 'node:url';

/** @param {string} outDir */
export function playgroundViteConfig(outDir) {
  return {
    configFile: false,
    root: fileURLToPath(new URL('.', import.meta.url)),
    base: './',
    logLevel: 'warn',
    worker: { format: 'es' },
    build: { outDir, emptyOutDir: true, target: 'es2022', sourcemap: false, reportCompressedSize: false, chunkSizeWarningLimit: 4096 },
  };
}
