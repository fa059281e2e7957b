// How the playground and console pages are built, by `npx wafka` from a clone (src/cli/start.ts) and by `npm run build`
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
    build: {
      outDir, emptyOutDir: true, target: 'es2022', sourcemap: false, reportCompressedSize: false, chunkSizeWarningLimit: 4096,
      // Two pages: the playground, and the console beside it.
      rollupOptions: { input: { index: fileURLToPath(new URL('./index.html', import.meta.url)), console: fileURLToPath(new URL('./console.html', import.meta.url)) } },
    },
  };
}
