/**
 * The realm's pool of idle ArrayBuffers for batch bytes: a producer's staging
 * buffers, and the encoded request buffers that a broker worker hands back
 * once it has written them (see BrokerClient.produce). A fresh ArrayBuffer
 * costs far more than reusing one: ≈ 0.4-1.7 ms per MiB in Chromium (its
 * pages are zeroed and faulted in), against ≈ 0.03 ms to copy into a used one.
 *
 * Bounded: at most POOL_MAX buffers and POOL_BYTES_MAX bytes; what does not
 * fit is left to the garbage collector. A request takes a pooled buffer only
 * if it is at most twice the size asked for, so that a small batch never
 * holds a large buffer.
 *
 * A buffer given out larger than what it holds is recorded with the bytes it
 * holds (`holdBytes`), so that a view of those bytes still counts as the whole
 * buffer when deciding whether it can be transferred without a copy.
 */

const pool: ArrayBuffer[] = [];
let pooledBytes = 0;
const POOL_MAX = 64;
/** Bytes the pool keeps at most (idle buffers, not counted by any producer). */
export const POOL_BYTES_MAX = 2 * 1024 * 1024;
const held = new WeakMap<ArrayBuffer, number>();

/** The smallest pooled buffer of at least `bytes` and at most twice that, or a new one. */
export function takeBuffer(bytes: number): ArrayBuffer {
  let best = -1;
  for (let i = pool.length - 1; i >= 0; i--) {
    const size = pool[i].byteLength;
    if (size >= bytes && size <= 2 * bytes && (best < 0 || size < pool[best].byteLength)) best = i;
  }
  if (best < 0) return new ArrayBuffer(bytes);
  const buffer = pool.splice(best, 1)[0];
  pooledBytes -= buffer.byteLength;
  held.delete(buffer);
  return buffer;
}

/** A plain ArrayBuffer, not a SharedArrayBuffer: the only kind postMessage can transfer (checked by tag, so it holds across realms). */
export function isPlainArrayBuffer(buffer: ArrayBufferLike): buffer is ArrayBuffer {
  return Object.prototype.toString.call(buffer) === '[object ArrayBuffer]';
}

/** Gives an idle buffer back; nothing may use it afterwards. Detached, shared and oversized buffers are dropped. */
export function giveBuffer(buffer: ArrayBuffer): void {
  if (!isPlainArrayBuffer(buffer) || buffer.byteLength === 0) return;
  if (pool.length >= POOL_MAX || pooledBytes + buffer.byteLength > POOL_BYTES_MAX || pool.includes(buffer)) return;
  pool.push(buffer);
  pooledBytes += buffer.byteLength;
}

/** Records that `buffer` holds meaningful bytes only in [0, bytes): the rest is the pool's slack. */
export function holdBytes(buffer: ArrayBuffer, bytes: number): void {
  if (bytes < buffer.byteLength) held.set(buffer, bytes);
}

/** The bytes of `buffer` anyone may be using: all of it, unless holdBytes said less. */
export function heldBytes(buffer: ArrayBufferLike): number {
  return held.get(buffer as ArrayBuffer) ?? buffer.byteLength;
}

/** Bytes in the pool now (for tests). */
export function pooledBufferBytes(): number {
  return pooledBytes;
}
