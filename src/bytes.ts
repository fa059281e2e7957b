/** Byte helpers shared by the core, storage and client. */

/** The parts laid end to end in one new array (always a copy). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let totalBytes = 0;
  for (const p of parts) totalBytes += p.byteLength;
  const out = new Uint8Array(totalBytes);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
