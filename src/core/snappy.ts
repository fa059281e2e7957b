/**
 * Snappy (Kafka's compression.type=snappy) through the Wasm core
 * (assembly/snappy.ts): compression writes the xerial framing Kafka's Java
 * client writes; decompression takes xerial or raw snappy. Call
 * `await loadCore()` once before using these; they are synchronous.
 */
import { WafkaError } from '../errors.ts';
import { coreSync } from './wasm.ts';

/** The default limit on decompressed size. */
export const SNAPPY_MAX_BYTES_DEFAULT = 64 * 1024 * 1024;

const align16 = (n: number) => (n + 15) & ~15;

/** Compresses `bytes` in the xerial framing (32 KiB chunks). */
export function snappyCompress(bytes: Uint8Array): Uint8Array {
  const arena = coreSync();
  const x = arena.exports;
  const n = bytes.length;
  const bound = x.snappyXerialBound(n);
  if (bound < 0) throw new WafkaError('MESSAGE_TOO_LARGE', `snappy compress: ${n} B input is over the codec's limit`);
  const dstOff = align16(n);
  arena.reserve(dstOff + bound);
  const src = arena.base;
  const dst = src + dstOff;
  arena.u8.set(bytes, src);
  const written = x.snappyXerialCompress(src, n, dst, bound);
  if (written < 0) throw codecError('compress', written);
  return arena.u8.slice(dst, dst + written);
}

/**
 * Decompresses xerial-framed or raw snappy. Throws WafkaError CORRUPT_MESSAGE
 * for malformed input and MESSAGE_TOO_LARGE when the content is over `maxBytes`.
 */
export function snappyDecompress(bytes: Uint8Array, maxBytes = SNAPPY_MAX_BYTES_DEFAULT): Uint8Array {
  const arena = coreSync();
  const x = arena.exports;
  const n = bytes.length;
  const dstOff = align16(n);
  arena.reserve(dstOff);
  const src = arena.base;
  arena.u8.set(bytes, src);
  // The lengths are declared up front (raw preamble, or one per xerial chunk).
  const declared = x.snappyUncompressedLength(src, n);
  if (declared > BigInt(maxBytes)) {
    throw new WafkaError('MESSAGE_TOO_LARGE', `snappy decompress: content ${declared} B over the ${maxBytes} B limit`);
  }
  const cap = declared < 0n ? 0 : Number(declared);
  arena.reserve(dstOff + cap);
  const written = x.snappyDecompress(src, n, src + dstOff, cap);
  if (written < 0) throw codecError('decompress', written);
  return arena.u8.slice(src + dstOff, src + dstOff + written);
}

// assembly/errors.ts
const ERR_NAMES: Record<number, string> = {
  [-1]: 'corrupt', [-2]: 'checksum mismatch', [-3]: 'bad magic', [-4]: 'out of space',
  [-5]: 'too large', [-6]: 'unsupported', [-7]: 'truncated',
};

function codecError(op: string, code: number): WafkaError {
  const x = coreSync().exports;
  const d = [x.errorDetail(0), x.errorDetail(1), x.errorDetail(2)];
  return new WafkaError('CORRUPT_MESSAGE', `snappy ${op}: ${ERR_NAMES[code] ?? `error ${code}`} (${d.join(', ')})`);
}
