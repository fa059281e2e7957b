// wafka's Wasm core: pure, synchronous byte work. No I/O, no clock, no
// randomness, no allocation: every export takes pointers and lengths into
// linear memory that the TypeScript side (src/core/wasm.ts) owns, and returns
// a count of bytes (or records) written, or a negative error code from
// ./errors.ts. Memory above heapBase() belongs to the caller.

export { heapBase, errorDetail } from "./errors";
export * from "./crc32c";
export * from "./varint";
export * from "./murmur2";
export * from "./batch";
export * from "./lz4";
export * from "./snappy";
export * from "./index_scan";
