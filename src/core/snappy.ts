/**
 * Snappy (Kafka's compression.type=snappy) through the Wasm core
 * (assembly/snappy.ts): compression writes the xerial framing Kafka's Java
 * client writes; decompression takes xerial or raw snappy. Call
 * `await loadCore()` once before using these; they are synchronous.
 */
import { WafkaError, corrupt } from '../errors.ts';
import { callOut, codecError, copyIn } from './codec-call.ts';
import { coreSync } from './wasm.ts';

const CODEC_SNAPPY = 2;

/** The default limit on decompressed size. */
export const SNAPPY_MAX_BYTES_DEFAULT = 64 * 1024 * 1024;

/** Compresses `bytes` in the xerial framing (32 KiB chunks). */
export function snappyCompress(bytes: Uint8Array): Uint8Array {
  const x = coreSync().exports;
  const bound = x.snappyXerialBound(bytes.length);
  if (bound < 0) throw new WafkaError('MESSAGE_TOO_LARGE', `snappy compress: ${bytes.length} B input is over the codec's limit`);
  try {
    const out = callOut(copyIn(bytes), bound, x.snappyXerialCompress);
    if (typeof out === 'number') throw codecError('snappy', 'compress', out);
    return out;
  } finally {
    coreSync().release();
  }
}

/**
 * Decompresses xerial-framed or raw snappy. Throws WafkaError CORRUPT_MESSAGE
 * for malformed input and MESSAGE_TOO_LARGE when the content is over `maxBytes`.
 */
export function snappyDecompress(bytes: Uint8Array, maxBytes = SNAPPY_MAX_BYTES_DEFAULT): Uint8Array {
  const input = copyIn(bytes);
  try {
    const x = input.arena.exports;
    // The lengths are declared up front (raw preamble, or one per xerial chunk): checked before memory grows.
    const declared = x.snappyUncompressedLength(input.src, input.n);
    const bound = x.decompressedBound(CODEC_SNAPPY, input.n);
    if (declared > bound) throw corrupt(`snappy decompress: content of ${declared} B declared, more than ${bytes.length} B of snappy can hold (${bound} B)`);
    if (declared > BigInt(maxBytes)) {
      throw new WafkaError('MESSAGE_TOO_LARGE', `snappy decompress: content ${declared} B over the ${maxBytes} B limit`);
    }
    const out = callOut(input, declared < 0n ? 0 : Number(declared), x.snappyDecompress);
    if (typeof out === 'number') throw codecError('snappy', 'decompress', out);
    return out;
  } finally {
    input.arena.release();
  }
}
