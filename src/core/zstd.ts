/**
 * Optional zstd adapter for the codec registry, over `@bokuweb/zstd-wasm`
 * (zstd compiled to Wasm; browsers, workers, Node, Deno). wafka does not depend
 * on it: install it and register it once per realm:
 *
 *     import * as zstd from '@bokuweb/zstd-wasm';
 *     await registerZstd(zstd);              // or registerZstd() to import it lazily
 *
 * Decompression is bounded: Kafka's Java client writes zstd with a streaming
 * encoder, so frames usually carry no content size; the output buffer then
 * starts at 1 MiB and doubles until the data fits or `maxBytes` is reached.
 */
import { WafkaError, corrupt } from '../errors.ts';
import { CompressionTypes, registerCodec, type CompressionCodec } from './codecs.ts';

/** The part of @bokuweb/zstd-wasm this adapter uses. */
export interface ZstdModule {
  init(path?: string): Promise<void>;
  compress(data: Uint8Array, level?: number): Uint8Array;
  decompress(data: Uint8Array, opts?: { defaultHeapSize: number }): Uint8Array;
}

const ZSTD_MAGIC = 0xfd2fb528;
const FIRST_GUESS_BYTES = 1 << 20;

/**
 * Reads Frame_Content_Size from a zstd frame header (RFC 8878 §3.1.1.1):
 * a bigint, or null when the frame does not record it.
 */
export function zstdFrameContentSize(data: Uint8Array): bigint | null {
  if (data.length < 5) throw corrupt(`zstd frame of ${data.length} B is shorter than its header`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const magic = view.getUint32(0, true);
  if (magic !== ZSTD_MAGIC) throw corrupt(`zstd magic is 0x${magic.toString(16)}, expected 0x${ZSTD_MAGIC.toString(16)}`);
  const descriptor = data[4];
  const fcsFlag = descriptor >> 6;
  const singleSegment = (descriptor >> 5) & 1;
  const dictionaryIdBytes = [0, 1, 2, 4][descriptor & 3];
  const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag];
  if (fcsBytes === 0) return null;
  const at = 5 + (singleSegment ? 0 : 1) + dictionaryIdBytes;
  if (at + fcsBytes > data.length) throw corrupt(`zstd frame header needs ${at + fcsBytes} B, has ${data.length} B`);
  switch (fcsBytes) {
    case 1: return BigInt(data[at]);
    case 2: return BigInt(view.getUint16(at, true) + 256);
    case 4: return BigInt(view.getUint32(at, true));
    default: return view.getBigUint64(at, true);
  }
}

/** A CompressionCodec over an initialised zstd module. */
export function zstdCodec(zstd: ZstdModule, { level = 3 }: { level?: number } = {}): CompressionCodec {
  return {
    compress: (data) => zstd.compress(data, level),
    decompress(data, maxBytes) {
      const contentSize = zstdFrameContentSize(data);
      if (contentSize !== null && contentSize > BigInt(maxBytes)) {
        throw new WafkaError('MESSAGE_TOO_LARGE', `zstd frame declares ${contentSize} B, over the ${maxBytes} B limit`);
      }
      let capacity = contentSize !== null ? Math.max(1, Number(contentSize)) : Math.min(FIRST_GUESS_BYTES, maxBytes);
      for (;;) {
        try {
          return zstd.decompress(data, { defaultHeapSize: capacity });
        } catch (error) {
          // The module reports "destination too small" and corrupt input alike; grow while the limit allows.
          if (contentSize === null && capacity < maxBytes) {
            capacity = Math.min(capacity * 2, maxBytes);
            continue;
          }
          throw corrupt(`zstd records cannot be decompressed within ${capacity} B: ${(error as Error).message}`, error);
        }
      }
    },
  };
}

/** Initialises `zstd` (imported lazily when omitted) and registers it for CompressionTypes.ZSTD. */
export async function registerZstd(zstd?: ZstdModule, options?: { level?: number }): Promise<void> {
  const module = zstd ?? ((await import(/* @vite-ignore */ '@bokuweb/zstd-wasm')) as unknown as ZstdModule);
  await module.init();
  registerCodec(CompressionTypes.ZSTD, zstdCodec(module, options));
}
