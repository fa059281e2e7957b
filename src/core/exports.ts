/**
 * The raw exports of build/wafka.wasm, typed. Pointers and lengths are byte
 * positions in the core's memory; i64 parameters and results are bigint.
 * Negative results are error codes (src/core/errors.ts mirrors assembly/errors.ts).
 */
export interface CoreExports {
  readonly memory: WebAssembly.Memory;
  heapBase(): number;
  errorDetail(slot: number): bigint;

  // --- assembly/lz4.ts: LZ4 frame format (magic 0x184D2204), as Kafka's clients write it
  /** Worst-case frame size for srcLen input bytes. */
  lz4FrameBound(srcLen: number): number;
  /** Compresses into one frame (64 KiB independent blocks, no content checksum written). Bytes written or < 0. */
  lz4FrameCompress(src: number, srcLen: number, dst: number, dstCap: number): number;
  /** Decompresses a frame (checks header checksum; content/block checksums if flagged). Bytes written or < 0 (-4: dstCap too small). */
  lz4FrameDecompress(src: number, srcLen: number, dst: number, dstCap: number): number;
  /** Content size from the frame header, or -1n when the frame does not carry one. */
  lz4FrameContentSize(src: number, srcLen: number): bigint;

  // --- assembly/snappy.ts: Snappy, xerial framing as Kafka's Java client writes it
  snappyXerialBound(srcLen: number): number;
  snappyXerialCompress(src: number, srcLen: number, dst: number, dstCap: number): number;
  /** Decompresses xerial-framed or raw snappy (detected by the xerial magic). Bytes written or < 0. */
  snappyDecompress(src: number, srcLen: number, dst: number, dstCap: number): number;
  /** Total uncompressed length (sum over xerial chunks, or the raw preamble), or -1n if malformed. */
  snappyUncompressedLength(src: number, srcLen: number): bigint;

  // --- assembly/crc32c.ts, varint.ts, murmur2.ts, batch.ts, index_scan.ts: see those files
  [name: string]: unknown;
}
