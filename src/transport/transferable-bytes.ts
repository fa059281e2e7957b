/**
 * Batch bytes cross worker boundaries as transferred ArrayBuffers (a pointer
 * move, ≈ 40 µs for 64 KiB in Chromium), never structured-cloned (≈ 260 µs).
 *
 * Transfer moves a whole ArrayBuffer and detaches it on the sender's side. A
 * Uint8Array that views only part of its buffer cannot be transferred alone:
 * transferring its buffer would also take the bytes around it away from
 * whoever else uses them. Such views are copied once into a buffer of their
 * own, and the copy is transferred. A SharedArrayBuffer cannot be transferred
 * and is copied too. (A view of a WebAssembly.Memory is always partial in
 * practice, so it is copied; a view of a whole Wasm memory would fail to
 * detach, which is why the core hands out copies, never its memory.)
 *
 * A buffer from the realm's pool may be larger than the bytes it holds
 * (src/buffer-pool.ts): views of all it holds count as the whole buffer.
 */
import { heldBytes, isPlainArrayBuffer } from '../buffer-pool.ts';

/** Whether `bytes` views all of a plain ArrayBuffer, so transferring that buffer gives away nothing else. */
export function ownsWholeBuffer(bytes: Uint8Array): boolean {
  return isPlainArrayBuffer(bytes.buffer) && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
}

/**
 * Collects the buffers to transfer for a list of payloads.
 * - 'copy-partial' (for bytes the caller got from elsewhere, e.g. a producer's
 *   batches): views of part of a buffer are replaced by an owned copy.
 * - 'whole-buffer' (for bytes the sender owns entirely, e.g. a broker's fresh
 *   storage reads): the underlying buffer is transferred as it is, even if the
 *   view covers only part of it; no copy.
 * Returns the (possibly replaced) payloads, in order, and the de-duplicated
 * transfer list (a buffer listed twice is a DataCloneError).
 */
export function prepareTransfer(
  payloads: readonly Uint8Array[],
  policy: 'copy-partial' | 'whole-buffer',
): { payloads: Uint8Array[]; transfer: ArrayBuffer[]; bytesCopied: number } {
  const transfer = new Set<ArrayBuffer>();
  const out: Uint8Array[] = [];
  let bytesCopied = 0;
  const owned = policy === 'copy-partial' ? coveredBuffers(payloads) : undefined;
  for (const bytes of payloads) {
    const buffer = bytes.buffer;
    const transferable = isPlainArrayBuffer(buffer) && buffer.byteLength > 0;
    if (transferable && (policy === 'whole-buffer' || owned!.has(buffer))) {
      transfer.add(buffer);
      out.push(bytes);
    } else if (bytes.byteLength === 0) {
      out.push(bytes);
    } else {
      // Uint8Array's slice, not the view's own: a Node Buffer's slice() shares memory (it is subarray()).
      const copy = Uint8Array.prototype.slice.call(bytes);
      bytesCopied += copy.byteLength;
      transfer.add(copy.buffer);
      out.push(copy);
    }
  }
  return { payloads: out, transfer: [...transfer], bytesCopied };
}

/**
 * Buffers that the payloads view all of, together and without overlap (e.g.
 * one view of a whole buffer, or a producer request's partitions cut from one
 * buffer): transferring such a buffer gives away nothing but the payloads.
 */
function coveredBuffers(payloads: readonly Uint8Array[]): Set<ArrayBufferLike> {
  const views = new Map<ArrayBufferLike, Uint8Array[]>();
  for (const bytes of payloads) {
    if (bytes.byteLength === 0) continue;
    const list = views.get(bytes.buffer);
    if (list) list.push(bytes);
    else views.set(bytes.buffer, [bytes]);
  }
  const out = new Set<ArrayBufferLike>();
  for (const [buffer, list] of views) {
    if (list.length > 1) list.sort((a, b) => a.byteOffset - b.byteOffset);
    let at = 0;
    for (const v of list) {
      if (v.byteOffset !== at) break;
      at += v.byteLength;
    }
    if (at === heldBytes(buffer)) out.add(buffer);
  }
  return out;
}
