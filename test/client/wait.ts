// Small helpers shared by the client tests.

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** UTF-8 text of bytes, or null. */
export const text = (b: Uint8Array | null | undefined): string | null => (b ? new TextDecoder().decode(b) : null);

/** Polls `check` every 5 ms until it holds; throws after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(5);
  }
}
