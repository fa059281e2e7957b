/**
 * The one shape of a codec call into the core (lz4-wasm's): copy the input to
 * the arena's base, make room for the output after it (16-byte aligned), one
 * call that returns the bytes written or a negative code, copy the output out.
 * Used by the LZ4 and Snappy wrappers.
 */
import { WafkaError } from '../errors.ts';
import { ERR_CRC, ERR_UNSUPPORTED } from './errors.ts';
import { coreSync, type Arena } from './wasm.ts';

/** The input in the arena: at `src`, `n` bytes; output goes at `dst`. */
export interface CodecInput {
  arena: Arena;
  src: number;
  n: number;
  dst: number;
}

/** Copies `input` to the arena's base (the core must be loaded). */
export function copyIn(input: Uint8Array): CodecInput {
  const arena = coreSync();
  const n = input.length;
  const dstOffset = (n + 15) & ~15;
  arena.reserve(dstOffset);
  arena.u8.set(input, arena.base);
  return { arena, src: arena.base, n, dst: arena.base + dstOffset };
}

/**
 * Makes room for `capacity` output bytes, calls `call(src, n, dst, capacity)`
 * and returns a copy of what it wrote, or its negative result code.
 */
export function callOut(at: CodecInput, capacity: number, call: (src: number, n: number, dst: number, capacity: number) => number): Uint8Array | number {
  at.arena.reserve(at.dst - at.src + capacity);
  const written = call(at.src, at.n, at.dst, capacity);
  return written < 0 ? written : at.arena.u8.slice(at.dst, at.dst + written);
}

// assembly/errors.ts
const ERR_NAMES: Record<number, string> = {
  [-1]: 'corrupt', [-2]: 'checksum mismatch', [-3]: 'bad magic', [-4]: 'out of space',
  [-5]: 'too large', [-6]: 'unsupported', [-7]: 'truncated',
};

/** The error for a codec call's negative result, with the numbers the core left in its detail area. */
export function codecError(codec: string, op: string, code: number): WafkaError {
  const x = coreSync().exports;
  const d = [x.errorDetail(0), x.errorDetail(1), x.errorDetail(2)];
  const what = ERR_NAMES[code] ?? `error ${code}`;
  const detail = code === ERR_CRC ? `stored 0x${d[0].toString(16)} vs computed 0x${d[1].toString(16)} at ${d[2]}` : `(${d.join(', ')})`;
  const type = code === ERR_UNSUPPORTED ? 'UNSUPPORTED_COMPRESSION_TYPE' : 'CORRUPT_MESSAGE';
  return new WafkaError(type, `${codec} ${op}: ${what} ${detail}`);
}
