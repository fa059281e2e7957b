/**
 * LZ4 frames (Kafka's compression.type=lz4) through the Wasm core
 * (assembly/lz4.ts): copy the input into the arena, one call, copy the output out.
 * Call `await loadCore()` once before using these; they are synchronous.
 */
import { WafkaError, corrupt } from '../errors.ts';
import { callOut, codecError, copyIn } from './codec-call.ts';
import { ERR_OUT_OF_SPACE } from './errors.ts';
import { coreSync } from './wasm.ts';

const CODEC_LZ4 = 3;

/** The default limit on decompressed size. */
export const LZ4_MAX_BYTES_DEFAULT = 64 * 1024 * 1024;

/** Compresses `bytes` into one LZ4 frame as Kafka writes it (64 KiB independent blocks). */
export function lz4Compress(bytes: Uint8Array): Uint8Array {
  const x = coreSync().exports;
  const bound = x.lz4FrameBound(bytes.length);
  if (bound < 0) throw new WafkaError('MESSAGE_TOO_LARGE', `lz4 compress: ${bytes.length} B input is over the codec's limit`);
  try {
    const out = callOut(copyIn(bytes), bound, x.lz4FrameCompress);
    if (typeof out === 'number') throw codecError('lz4', 'compress', out);
    return out;
  } finally {
    coreSync().release();
  }
}

/**
 * Decompresses one LZ4 frame. Throws WafkaError CORRUPT_MESSAGE for malformed
 * input (bad magic, header or block checksum, length or offset out of range,
 * truncation) and MESSAGE_TOO_LARGE when the content is over `maxBytes`.
 */
export function lz4Decompress(bytes: Uint8Array, maxBytes = LZ4_MAX_BYTES_DEFAULT): Uint8Array {
  // The input stays at base across retries; only the destination grows, never past what the input can produce.
  const input = copyIn(bytes);
  try {
    const x = input.arena.exports;
    const bound = Number(x.decompressedBound(CODEC_LZ4, input.n));
    const most = Math.min(maxBytes, bound);
    let cap: number;
    const contentSize = x.lz4FrameContentSize(input.src, input.n);
    if (contentSize >= 0n) {
      if (contentSize > BigInt(bound)) throw corrupt(`lz4 decompress: content of ${contentSize} B declared, more than ${bytes.length} B of lz4 can hold (${bound} B)`);
      if (contentSize > BigInt(maxBytes)) throw tooLarge(contentSize, maxBytes);
      cap = Number(contentSize);
    } else {
      cap = Math.min(most, estimate(bytes));
    }
    for (;;) {
      const out = callOut(input, cap, x.lz4FrameDecompress);
      if (typeof out !== 'number') return out;
      if (out !== ERR_OUT_OF_SPACE) throw codecError('lz4', 'decompress', out);
      if (cap >= maxBytes) throw tooLarge(`more than ${maxBytes}`, maxBytes);
      if (cap >= most) throw corrupt(`lz4 decompress: ${bytes.length} B decompress past ${bound} B, more than lz4 can produce`);
      cap = Math.min(most, Math.max(cap * 2, 65536));
    }
  } finally {
    input.arena.release();
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

function tooLarge(size: bigint | string, maxBytes: number): WafkaError {
  return new WafkaError('MESSAGE_TOO_LARGE', `lz4 decompress: content ${size} B over the ${maxBytes} B limit`);
}
