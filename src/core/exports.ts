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

  // --- assembly/crc32c.ts: CRC32C (Castagnoli); results are u32 returned as signed i32 (use >>> 0)
  crc32c(ptr: number, len: number): number;
  /** Continues a CRC32C from a previous result (0 to start). */
  crc32cUpdate(crc: number, ptr: number, len: number): number;
  crc32cCombine(crcA: number, crcB: number, lenB: number): number;

  // --- assembly/varint.ts: zig-zag varints as Kafka writes them
  varintWrite(value: number, dst: number): number;
  varlongWrite(value: bigint, dst: number): number;
  /** Bytes read, or < 0 (-7 truncated, -1 overflow); the value is varintValue(). */
  varintRead(src: number, len: number): number;
  varlongRead(src: number, len: number): number;
  varintValue(): bigint;
  varintSize(value: number): number;
  varlongSize(value: bigint): number;

  // --- assembly/murmur2.ts: Kafka's Utils.murmur2 (signed result)
  murmur2(ptr: number, len: number): number;

  // --- assembly/batch.ts: RecordBatch v2 (layouts of the tables are documented there)
  batchRecordsBound(codec: number, recordsBytes: number): number;
  /** One batch from a record table; header fields prefilled at dst. Size, or < 0. */
  batchBuild(table: number, count: number, bytesBase: number, dst: number, dstCap: number, scratch: number, scratchCap: number): number;
  /** Writes Length, Magic and CRC of a batch of `size` bytes. */
  batchSeal(dst: number, size: number): number;
  /** Size of the valid batch at src, or < 0. */
  batchValidate(src: number, srcLen: number, verifyCrc: number): number;
  /** Record count, or < 0; result block, decompressed records and tables in [work, work + workCap). */
  batchRead(src: number, srcLen: number, work: number, workCap: number, maxDecompressedBytes: number, flags: number): number;
  batchDecodeRecords(records: number, recordsLen: number, count: number, work: number, workCap: number): number;
  /** Kafka's append checks of one batch (flags: 1 CRC, 2 producer rules, 4 keys required); record count, or < 0. */
  batchCheck(src: number, srcLen: number, work: number, workCap: number, maxDecompressedBytes: number, flags: number): number;
  /** batchCheck's record checks for records decompressed outside the core. */
  batchCheckRecords(records: number, recordsLen: number, count: number, attributes: number, baseTimestamp: bigint, flags: number): number;
  /** The most bytes compressedLen bytes of a codec can decompress to. */
  decompressedBound(codec: number, compressedLen: number): bigint;

  // --- assembly/index_scan.ts: segment scan and index lookups
  scanSegment(
    src: number, len: number, startPosition: number, baseOffset: bigint, indexIntervalBytes: number, bytesSinceLastEntry: number,
    maxTimestampSoFar: bigint, offsetOfMaxTimestampSoFar: bigint, lastTimeEntryTimestamp: bigint,
    flags: number, out: number, maxEntries: number,
  ): number;
  offsetIndexLookup(entries: number, count: number, target: number): number;
  timeIndexLookup(timestamps: number, count: number, target: bigint): number;
  timeIndexFloor(timestamps: number, count: number, target: bigint): number;

  [name: string]: unknown;
}
