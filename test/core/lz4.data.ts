/**
 * Test data for the codec suites (LZ4 and snappy), shared by the Node and
 * Chromium runs: deterministic from (kind, size, seed) so that a fast-check
 * counterexample prints three numbers, not 300 KiB.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { WafkaError } from '../../src/errors.ts';

export const KINDS = ['random', 'events', 'runs', 'mixed', 'zeros'] as const;
export type Kind = (typeof KINDS)[number];

export function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

const TYPES = ['click', 'view', 'purchase', 'signup', 'logout', 'search', 'add_to_cart'];
const PAGES = ['/home', '/products/123', '/cart', '/search?q=shoes', '/account'];

/** One JSON-like event per line, the shape of a Kafka topic of app events. */
export function events(size: number, seed = 1): Uint8Array {
  const r = xorshift(seed);
  const lines: string[] = [];
  let len = 0;
  for (let i = 0; len < size; i++) {
    const line = JSON.stringify({
      eventId: `${r().toString(16)}-${i}`,
      type: TYPES[r() % TYPES.length],
      userId: `user-${r() % 50000}`,
      page: PAGES[r() % PAGES.length],
      ts: 1700000000000 + i * 37 + (r() % 20),
      value: (r() % 100000) / 100,
      geo: { country: ['US', 'DE', 'FR', 'JP', 'BR'][r() % 5], city: `c${r() % 300}` },
    });
    lines.push(line);
    len += line.length + 1;
  }
  return new TextEncoder().encode(lines.join('\n')).subarray(0, size);
}

export function makeData(kind: Kind, size: number, seed: number): Uint8Array {
  const r = xorshift(seed);
  const out = new Uint8Array(size);
  switch (kind) {
    case 'random':
      for (let i = 0; i < size; i++) out[i] = r();
      return out;
    case 'events':
      return events(size, seed);
    case 'zeros':
      return out;
    case 'runs': {
      // Periodic runs of period 1..20 (the decoders' overlapping-copy paths), random gaps.
      let i = 0;
      while (i < size) {
        const period = 1 + (r() % 20);
        const len = r() % 400;
        const base = i;
        for (let k = 0; k < period && i < size; k++) out[i++] = r();
        for (let k = period; k < len && i < size; k++, i++) out[i] = out[i - period]!;
        for (let k = r() % 8; k > 0 && i < size; k--) out[i++] = r();
        if (i === base) i++;
      }
      return out;
    }
    case 'mixed': {
      // Random pieces and copies of earlier data from up to 80 KiB back (past the
      // 64 KiB window and across block boundaries), of many lengths.
      let i = 0;
      while (i < size) {
        const choice = r() % 3;
        const len = choice === 0 ? r() % 40 : choice === 1 ? 4 + (r() % 300) : r() % 3000;
        if (choice === 0 || i < 16) {
          for (let k = 0; k < len && i < size; k++) out[i++] = r() % 64;
        } else {
          const off = 1 + (r() % Math.min(i, 80 * 1024));
          for (let k = 0; k < len && i < size; k++, i++) out[i] = out[i - off]!;
        }
        if (len === 0 && i < size) out[i++] = r();
      }
      return out;
    }
  }
}

/** Sizes 0..300 KiB, weighted to the small end and to block/chunk boundaries. */
export const sizeArb = fc.oneof(
  fc.integer({ min: 0, max: 64 }),
  fc.integer({ min: 0, max: 4096 }),
  fc.integer({ min: 0, max: 300 * 1024 }),
  fc.constantFrom(12, 13, 14, 15, 16, 17, 32767, 32768, 32769, 65535, 65536, 65537, 131072, 131073, 196608 + 5),
);

export const dataArb = fc.record({ kind: fc.constantFrom(...KINDS), size: sizeArb, seed: fc.integer() });

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Byte-level damage to a valid input: flips, truncation, insertion, overwrites. */
export const mutationArb = fc.array(
  fc.record({ op: fc.constantFrom('flip', 'set', 'truncate', 'insert', 'delete'), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  { minLength: 1, maxLength: 4 },
);

export function mutate(input: Uint8Array, mutations: { op: string; at: number; value: number }[], skip = 0): Uint8Array {
  let b = Uint8Array.from(input);
  for (const { op, at, value } of mutations) {
    if (b.length <= skip) break;
    const i = skip + (at % (b.length - skip));
    if (op === 'flip') b[i] ^= 1 << (value & 7);
    else if (op === 'set') b[i] = value;
    else if (op === 'truncate') b = b.slice(0, i);
    else if (op === 'insert') b = Uint8Array.from([...b.subarray(0, i), value, ...b.subarray(i)]);
    else b = Uint8Array.from([...b.subarray(0, i), ...b.subarray(i + 1)]);
  }
  return b;
}

/** A core codec export: (src, srcLen, dst, dstCap) → bytes written or < 0. */
export type RawCodec = (src: number, srcLen: number, dst: number, dstCap: number) => number;

const GUARD = 256;

/**
 * Calls a core codec twice: once with its input ending exactly at the end of
 * Wasm memory (any read past srcLen traps) and guard bytes after dst + dstCap
 * (any write past them is seen), once with the destination ending exactly at
 * the end of memory (any write past dstCap traps). Both must agree.
 */
export function callGuarded(
  arena: { reserve(n: number): void; base: number; u8: Uint8Array; exports: { memory: WebAssembly.Memory } },
  fn: RawCodec,
  input: Uint8Array,
  cap: number,
): { code: number; out: Uint8Array } {
  arena.reserve(input.length + cap + GUARD + 64);
  const end = arena.exports.memory.buffer.byteLength;
  let u8 = arena.u8;

  const src1 = end - input.length;
  const dst1 = arena.base;
  u8.set(input, src1);
  u8.fill(0xa5, dst1 + cap, dst1 + cap + GUARD);
  const code1 = fn(src1, input.length, dst1, cap);
  u8 = arena.u8;
  for (let i = dst1 + cap; i < dst1 + cap + GUARD; i++) {
    if (u8[i] !== 0xa5) throw new Error(`codec wrote past dstCap: byte ${i - dst1} of a ${cap} B destination`);
  }
  const out1 = code1 >= 0 ? u8.slice(dst1, dst1 + code1) : new Uint8Array(0);

  const src2 = arena.base;
  const dst2 = end - cap;
  u8.set(input, src2);
  const code2 = fn(src2, input.length, dst2, cap);
  u8 = arena.u8;
  if (code2 !== code1) throw new Error(`codec result depends on placement: ${code1} vs ${code2}`);
  if (code2 >= 0 && !equalBytes(out1, u8.subarray(dst2, dst2 + code2))) throw new Error('codec output depends on placement');
  return { code: code1, out: out1 };
}

/** Runs fn, expecting a WafkaError of `type`; returns it. */
export function expectWafkaError(fn: () => unknown, type = 'CORRUPT_MESSAGE'): WafkaError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WafkaError);
    expect((e as WafkaError).type).toBe(type);
    return e as WafkaError;
  }
  throw new Error('expected a WafkaError');
}

/** Either a WafkaError or a result: anything else (a RangeError, a Wasm trap) fails. */
export function resultOrWafkaError<T>(fn: () => T): T | WafkaError {
  try {
    return fn();
  } catch (e) {
    if (e instanceof WafkaError) return e;
    throw e;
  }
}
