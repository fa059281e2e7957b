import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';

/** Debian's chromium; Playwright cannot download its own browser on these machines. */
const CHROMIUM = process.env.WAFKA_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export default defineConfig({
  // Localhost is a secure context: OPFS and Web Locks need one.
  server: { host: '127.0.0.1' },
  worker: { format: 'es' },
  // Pre-bundle what browser tests import, so Vite does not reload the page mid-run.
  optimizeDeps: {
    include: ['fast-check', 'lz4js', 'snappyjs', 'hash-wasm', 'idb', 'comlink/dist/esm/comlink.mjs'],
    // Loads its .wasm next to itself with new URL(..., import.meta.url): pre-bundling would move the module away from it.
    exclude: ['@bokuweb/zstd-wasm'],
  },
  test: {
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          environment: 'node',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.browser.test.ts', 'test/e2e/**', 'test/package/**'],
          testTimeout: 30_000,
        },
      },
      {
        // End to end through `npm start` and Playwright (test/e2e/, owned by the client side).
        extends: true,
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        // The packed tarball in fresh apps, runtimes and bundlers (test/package/): one pack, one install.
        extends: true,
        test: {
          name: 'package',
          environment: 'node',
          include: ['test/package/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 900_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['test/**/*.browser.test.ts'],
          testTimeout: 60_000,
          browser: {
            enabled: true,
            headless: true,
            api: { host: '127.0.0.1' },
            provider: playwright({ launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS } }),
            instances: [{ browser: 'chromium' }],
            screenshotFailures: false,
          },
        },
      },
    ],
  },
});
