import { expect, test } from 'vitest';

test('a dedicated worker gets an OPFS sync access handle', async () => {
  const worker = new Worker(new URL('./opfs-worker.ts', import.meta.url), { type: 'module' });
  const result = await new Promise<string>((resolve, reject) => {
    worker.onmessage = (e) => resolve(e.data);
    worker.onerror = (e) => reject(new Error(e.message));
  });
  worker.terminate();
  expect(result).toBe('5');
});
