/**
 * CRC32C, murmur2 and varints from TypeScript, computed by the core.
 */
import { WafkaError } from '../errors.ts';
import { coreSync, type Arena } from './wasm.ts';

const encoder = new TextEncoder();

/** Copies bytes (or the UTF-8 of a string) to arena.base; returns the length. */
function copyIn(arena: Arena, data: Uint8Array | string): number {
  if (typeof data === 'string') {
    arena.reserve(data.length * 3);
    return encoder.encodeInto(data, arena.u8.subarray(arena.base, arena.base + data.length * 3)).written;
  }
  arena.reserve(data.byteLength);
  arena.u8.set(data, arena.base);
  return data.byteLength;
}

/** CRC32C (Castagnoli) of bytes, as an unsigned 32-bit number. `seed` is a previous result to continue from. */
export function crc32c(bytes: Uint8Array, seed = 0): number {
  const arena = coreSync();
  const len = copyIn(arena, bytes);
  return arena.exports.crc32cUpdate(seed | 0, arena.base, len) >>> 0;
}

/** Kafka's Utils.murmur2 of the bytes (strings as UTF-8): a signed 32-bit number, like Java's. */
export function murmur2(key: Uint8Array | string): number {
  const arena = coreSync();
  const len = copyIn(arena, key);
  return arena.exports.murmur2(arena.base, len);
}

/** Kafka's Utils.toPositive: clears the sign bit. */
export const toPositive = (n: number): number => n & 0x7fffffff;

/** The default partitioner's choice for a keyed record: toPositive(murmur2(key)) % numPartitions. */
export function defaultPartition(key: Uint8Array | string, numPartitions: number): number {
  if (!(numPartitions > 0)) throw new WafkaError('INVALID_PARTITIONS', `numPartitions ${numPartitions} must be positive`);
  return toPositive(murmur2(key)) % numPartitions;
}

/** The zig-zag varint of an i32, as Kafka writes it (1 to 5 bytes). */
export function encodeVarint(value: number): Uint8Array {
  const arena = coreSync();
  arena.reserve(16);
  const n = arena.exports.varintWrite(value | 0, arena.base);
  return arena.u8.slice(arena.base, arena.base + n);
}

/** The zig-zag varlong of an i64, as Kafka writes it (1 to 10 bytes). */
export function encodeVarlong(value: bigint): Uint8Array {
  const arena = coreSync();
  arena.reserve(16);
  const n = arena.exports.varlongWrite(BigInt.asIntN(64, value), arena.base);
  return arena.u8.slice(arena.base, arena.base + n);
}

function read(bytes: Uint8Array, position: number, long: boolean): { value: bigint; size: number } {
  const arena = coreSync();
  const len = Math.max(0, Math.min(bytes.byteLength - position, long ? 10 : 5));
  arena.reserve(16);
  arena.u8.set(bytes.subarray(position, position + len), arena.base);
  const n = long ? arena.exports.varlongRead(arena.base, len) : arena.exports.varintRead(arena.base, len);
  if (n < 0) {
    const what = long ? 'varlong' : 'varint';
    throw new WafkaError('CORRUPT_MESSAGE', n === -7 ? `${what} at position ${position} is truncated` : `${what} at position ${position} is longer than ${long ? 10 : 5} bytes`);
  }
  return { value: arena.exports.varintValue(), size: n };
}

/** Reads a zig-zag varint at position: its value and its size in bytes. Throws CORRUPT_MESSAGE on overflow or truncation. */
export function decodeVarint(bytes: Uint8Array, position = 0): { value: number; size: number } {
  const r = read(bytes, position, false);
  return { value: Number(r.value), size: r.size };
}

/** Reads a zig-zag varlong at position. */
export function decodeVarlong(bytes: Uint8Array, position = 0): { value: bigint; size: number } {
  return read(bytes, position, true);
}

export const sizeOfVarint = (value: number): number => coreSync().exports.varintSize(value | 0);
export const sizeOfVarlong = (value: bigint): number => coreSync().exports.varlongSize(BigInt.asIntN(64, value));
