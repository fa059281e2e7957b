/**
 * Compression types of RecordBatch v2 and the codec registry.
 *
 * Snappy (xerial framing) and LZ4 (frame format) run inside the Wasm core, in
 * the same call that builds or reads a batch. Gzip uses the platform's
 * CompressionStream / DecompressionStream (async). Zstd is a plug-in, as in
 * KafkaJS: `registerCodec(CompressionTypes.ZSTD, { compress, decompress })`.
 */
import { WafkaError, corrupt } from '../errors.ts';
import { concatBytes } from '../bytes.ts';

/** Kafka's compression type ids (attributes bits 0-2), named as KafkaJS names them. */
export const CompressionTypes = { None: 0, GZIP: 1, Snappy: 2, LZ4: 3, ZSTD: 4 } as const;
export type CompressionType = (typeof CompressionTypes)[keyof typeof CompressionTypes];

/**
 * A codec for a type the core does not do itself. Either function may be
 * synchronous (then decodeBatchSync / encodeBatchSync can use it) or async.
 * `decompress` gets the caller's limit and should stop past it; the result is
 * checked against the limit in any case.
 */
export interface CompressionCodec {
  compress(data: Uint8Array): Uint8Array | Promise<Uint8Array>;
  decompress(data: Uint8Array, maxBytes: number): Uint8Array | Promise<Uint8Array>;
}

const registry = new Map<number, CompressionCodec>();

/** Registers (or replaces) the codec for gzip (1) or zstd (4). Snappy and LZ4 are built into the core. */
export function registerCodec(type: CompressionType, codec: CompressionCodec): void {
  if (type !== CompressionTypes.GZIP && type !== CompressionTypes.ZSTD) {
    throw new WafkaError('INVALID_CONFIG', `compression type ${type} is built into the core; only gzip (1) and zstd (4) take a codec`);
  }
  registry.set(type, codec);
}

/** Removes a registered codec (gzip falls back to the platform's streams). */
export function unregisterCodec(type: CompressionType): void {
  registry.delete(type);
}

/** The codec that handles `type` outside the core, or throws UNSUPPORTED_COMPRESSION_TYPE. */
export function lookupCodec(type: number): CompressionCodec {
  const codec = registry.get(type) ?? (type === CompressionTypes.GZIP ? platformGzip() : undefined);
  if (!codec) {
    const name = type === CompressionTypes.ZSTD ? 'zstd (register a codec with registerCodec)' : `${type}`;
    throw new WafkaError('UNSUPPORTED_COMPRESSION_TYPE', `compression type ${name} is not available`);
  }
  return codec;
}

let gzip: CompressionCodec | undefined;

/** Gzip through CompressionStream / DecompressionStream (browsers, Node >= 18, Deno, Bun, workers). */
function platformGzip(): CompressionCodec | undefined {
  if (gzip) return gzip;
  if (typeof CompressionStream === 'undefined' || typeof DecompressionStream === 'undefined') return undefined;
  gzip = {
    compress: (data) => pipe(data, new CompressionStream('gzip'), Number.MAX_SAFE_INTEGER),
    decompress: async (data, maxBytes) => {
      try {
        return await pipe(data, new DecompressionStream('gzip'), maxBytes);
      } catch (error) {
        if (WafkaError.is(error)) throw error;
        throw corrupt(`gzip records cannot be decompressed: ${(error as Error).message}`, error);
      }
    },
  };
  return gzip;
}

async function pipe(data: Uint8Array, stream: CompressionStream | DecompressionStream, maxBytes: number): Promise<Uint8Array> {
  const writer = stream.writable.getWriter();
  writer.write(data as Uint8Array<ArrayBuffer>).catch(() => {});
  writer.close().catch(() => {});
  const reader = stream.readable.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      reader.cancel().catch(() => {});
      throw new WafkaError('MESSAGE_TOO_LARGE', `decompressed size over ${total} bytes, over the limit of ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? chunks[0]! : concatBytes(chunks);
}
