/**
 * Deterministic benchmark data (runtime-agnostic): JSON-ish event values,
 * 16-byte keys, and newline-delimited JSON event streams for the codecs.
 */

/** mulberry32: a small seeded PRNG so every run sees the same bytes. */
export function rng(seed = 0x5eed): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TYPES = ['page_view', 'click', 'add_to_cart', 'search', 'purchase', 'scroll', 'login', 'logout'];
const PATHS = ['/', '/products', '/products/item', '/cart', '/checkout', '/search', '/account', '/help/faq'];
const COUNTRIES = ['DE', 'FR', 'US', 'GB', 'NL', 'JP', 'BR', 'IN', 'ES', 'IT'];
const DEVICES = ['mobile', 'desktop', 'tablet'];

/** One JSON event object as an app would log it (before any padding). */
export function eventObject(r: () => number, i: number, t0 = 1_763_700_000_000): Record<string, unknown> {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  return {
    ts: t0 + i * 7 + Math.floor(r() * 5),
    type: pick(TYPES),
    user: `u${Math.floor(r() * 1e6).toString(36)}`,
    path: pick(PATHS),
    country: pick(COUNTRIES),
    device: pick(DEVICES),
    ms: Math.floor(r() * 900),
    session: Math.floor(r() * 2 ** 32).toString(16),
  };
}

/** A JSON-ish value of exactly `size` bytes (ASCII), from a realistic event. */
export function jsonValue(r: () => number, i: number, size = 100): string {
  const o = eventObject(r, i);
  let s = JSON.stringify({ ts: o.ts, type: o.type, user: o.user, path: o.path, ms: o.ms, c: o.country });
  if (s.length > size - 2) s = s.slice(0, size - 2) + '"}';
  // pad inside a trailing field so the value stays JSON-shaped
  if (s.length < size) {
    const fill = size - s.length - ',"p":""'.length;
    if (fill >= 0) {
      const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
      let p = '';
      for (let k = 0; k < fill; k++) p += alphabet[Math.floor(r() * alphabet.length)];
      s = s.slice(0, -1) + `,"p":"${p}"}`;
    } else s = s.slice(0, -1) + ' '.repeat(size - s.length) + '}';
  }
  return s.length === size ? s : (s + ' '.repeat(size)).slice(0, size);
}

/** A 16-byte ASCII key: `user-` + 11 base-36 digits. */
export function key16(r: () => number): string {
  const a = Math.floor(r() * 36 ** 6).toString(36).padStart(6, '0');
  const b = Math.floor(r() * 36 ** 5).toString(36).padStart(5, '0');
  return `user-${a}${b}`;
}

export interface BenchRecord { key: string; value: string }

/** n records of a 16 B key and a `valueSize` B JSON-ish value (strings; callers encode as they need). */
export function records(n: number, valueSize = 100, seed = 1): BenchRecord[] {
  const r = rng(seed);
  const out: BenchRecord[] = [];
  for (let i = 0; i < n; i++) out.push({ key: key16(r), value: jsonValue(r, i, valueSize) });
  return out;
}

/** Newline-delimited JSON events, exactly `bytes` long (the codecs' input). */
export function ndjson(bytes: number, seed = 2): Uint8Array {
  const r = rng(seed);
  const enc = new TextEncoder();
  const parts: string[] = [];
  let len = 0;
  for (let i = 0; len < bytes; i++) {
    const line = JSON.stringify(eventObject(r, i)) + '\n';
    parts.push(line);
    len += line.length;
  }
  return enc.encode(parts.join('')).subarray(0, bytes);
}

export const KiB = 1024;
export const MiB = 1024 * 1024;
/** Bytes → MB (10^6) for MB/s figures. */
export const MB = (bytes: number): number => bytes / 1e6;
