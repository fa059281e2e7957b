/**
 * LZ4 frames (Kafka's compression.type=lz4) through the Wasm core
 * (assembly/lz4.ts): copy the input into the arena, one call, copy the output out.
 * Call `await loadCore()` once before using these; they are synchronous.
 */
import { WafkaError } from '../errors.ts';
import { coreSync } from './wasm.ts';

/** The default limit on decompressed size. */
export const LZ4_MAX_BYTES_DEFAULT = 64 * 1024 * 1024;

const align16 = (n: number) => (n + 15) & ~15;

/** Compresses `bytes` into one LZ4 frame as Kafka writes it (64 KiB independent blocks). */
export function lz4Compress(bytes: Uint8Array): Uint8Array {
  const arena = coreSync();
  const x = arena.exports;
  const n = bytes.length;
  const bound = x.lz4FrameBound(n);
  if (bound < 0) throw new WafkaError('MESSAGE_TOO_LARGE', `lz4 compress: ${n} B input is over the codec's limit`);
  const dstOff = align16(n);
  arena.reserve(dstOff + bound);
  const src = arena.base;
  const dst = src + dstOff;
  arena.u8.set(bytes, src);
  const written = x.lz4FrameCompress(src, n, dst, bound);
  if (written < 0) throw codecError('compress', written);
  return arena.u8.slice(dst, dst + written);
}

/**
 * Decompresses one LZ4 frame. Throws WafkaError CORRUPT_MESSAGE for malformed
 * input (bad magic, header or block checksum, length or offset out of range,
 * truncation) and MESSAGE_TOO_LARGE when the content is over `maxBytes`.
 */
export function lz4Decompress(bytes: Uint8Array, maxBytes = LZ4_MAX_BYTES_DEFAULT): Uint8Array {
  const arena = coreSync();
  const x = arena.exports;
  const n = bytes.length;
  const dstOff = align16(n);
  // The input stays at base across retries; only the destination grows.
  arena.reserve(dstOff);
  const src = arena.base;
  arena.u8.set(bytes, src);

  let cap: number;
  const contentSize = x.lz4FrameContentSize(src, n);
  if (contentSize >= 0n) {
    if (contentSize > BigInt(maxBytes)) throw tooLarge(contentSize, maxBytes);
    cap = Number(contentSize);
  } else {
    cap = Math.min(maxBytes, estimate(bytes));
  }
  for (;;) {
    arena.reserve(dstOff + cap);
    const written = x.lz4FrameDecompress(src, n, src + dstOff, cap);
    if (written >= 0) return arena.u8.slice(src + dstOff, src + dstOff + written);
    if (written !== ERR_OUT_OF_SPACE) throw codecError('decompress', written);
    if (cap >= maxBytes) throw tooLarge(`more than ${maxBytes}`, maxBytes);
    cap = Math.min(maxBytes, Math.max(cap * 2, 65536));
  }
}

/**
 * An upper bound on the decompressed size from the block headers (LZ4 expands
 * at most 255:1, and a block at most to the frame's block size), so that one
 * call usually suffices. The core checks everything again; on a wrong guess the
 * caller grows the destination.
 */
function estimate(b: Uint8Array): number {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length < 7) return 0;
  const flg = b[4]!;
  const blockMax = 1 << (((b[5]! >> 4) & 7) * 2 + 8);
  let p = 7 + (flg & 0x08 ? 8 : 0) + (flg & 0x01 ? 4 : 0);
  let total = 0;
  while (p + 4 <= b.length) {
    const bs = dv.getUint32(p, true);
    if (bs === 0) return total;
    const size = bs & 0x7fffffff;
    total += bs & 0x80000000 ? size : Math.min(blockMax, size * 255 + 32);
    p += 4 + size + (flg & 0x10 ? 4 : 0);
  }
  return total;
}

// assembly/errors.ts
const ERR_CRC = -2;
const ERR_OUT_OF_SPACE = -4;
const ERR_UNSUPPORTED = -6;
const ERR_NAMES: Record<number, string> = {
  [-1]: 'corrupt', [-2]: 'checksum mismatch', [-3]: 'bad magic', [-4]: 'out of space',
  [-5]: 'too large', [-6]: 'unsupported', [-7]: 'truncated',
};

function codecError(op: string, code: number): WafkaError {
  const x = coreSync().exports;
  const d = [x.errorDetail(0), x.errorDetail(1), x.errorDetail(2)];
  const what = ERR_NAMES[code] ?? `error ${code}`;
  const detail = code === ERR_CRC ? `stored 0x${d[0].toString(16)} vs computed 0x${d[1].toString(16)} at ${d[2]}` : `(${d.join(', ')})`;
  const type = code === ERR_UNSUPPORTED ? 'UNSUPPORTED_COMPRESSION_TYPE' : 'CORRUPT_MESSAGE';
  return new WafkaError(type, `lz4 ${op}: ${what} ${detail}`);
}

function tooLarge(size: bigint | string, maxBytes: number): WafkaError {
  return new WafkaError('MESSAGE_TOO_LARGE', `lz4 decompress: content ${size} B over the ${maxBytes} B limit`);
}
