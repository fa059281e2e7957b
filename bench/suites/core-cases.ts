/**
 * The core suite's cases, runtime-agnostic: the Node suite (core.ts) and the
 * Chromium worker (core.worker.ts) fill in the implementations they have.
 */
import type { Case, Contender, Role } from '../lib/measure.ts';
import { KiB, MB, MiB, ndjson, records, type BenchRecord } from '../lib/data.ts';

export interface Impl<F> { name: string; role: Role; fn: F; note?: string }

export type Crc = (b: Uint8Array) => number;
export type Encode = (msgs: BenchRecord[]) => Uint8Array | Promise<Uint8Array>;
export type Decode = (batch: Uint8Array) => unknown;
export type Compress = (b: Uint8Array) => Uint8Array;
/** Decompress; `n` is the known uncompressed size (all real callers know it or read it from the frame). */
export type Decompress = (c: Uint8Array, n: number) => Uint8Array;

export interface CoreImpls {
  crc32c: Impl<Crc>[];
  encode: Impl<Encode>[];
  /** Decoders get a batch in their own format; `encodeFor` makes one per decoder name. */
  decode: (Impl<Decode> & { batch: Uint8Array })[];
  lz4: (Impl<{ compress: Compress; decompress: Decompress }>)[];
  snappy: (Impl<{ compress: Compress; decompress: Decompress }>)[];
}

export const RECORDS = 1000;
export const KEY_BYTES = 16;
export const VALUE_BYTES = 100;

export function coreData() {
  return {
    records: records(RECORDS, VALUE_BYTES),
    json64k: ndjson(64 * KiB),
    json1m: ndjson(MiB),
  };
}

const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

function contender<F>(impl: Impl<F>, op: () => unknown, setup?: () => unknown): Contender {
  return { name: impl.name, role: impl.role, op, setup, note: impl.note };
}

export function crcCases(impls: Impl<Crc>[], d: ReturnType<typeof coreData>): Case[] {
  const mk = (label: string, buf: Uint8Array): Case => {
    const expect = impls[impls.length - 1].fn(buf); // any; all must agree
    let sink = 0;
    return {
      metric: `crc32c-${label}`,
      unit: 'MB/s',
      higherIsBetter: true,
      work: MB(buf.length),
      goal: { peer: 'hash-wasm', ratio: 2.5 },
      note: `CRC32C (Castagnoli) of ${label} of JSON event data, one call per buffer`,
      contenders: impls.map((i) =>
        contender(i, () => (sink ^= i.fn(buf)), () => {
          const got = i.fn(buf) >>> 0;
          if (got !== expect >>> 0) throw new Error(`${i.name}: crc32c ${got.toString(16)} != ${(expect >>> 0).toString(16)}`);
        }),
      ),
      extra: undefined,
    };
  };
  return [mk('64KiB', d.json64k), mk('1MiB', d.json1m)];
}

export function encodeCases(impls: Impl<Encode>[], d: ReturnType<typeof coreData>, check?: (name: string, b: Uint8Array) => unknown): Case[] {
  return [
    {
      metric: `encode-batch-${RECORDS}x${KEY_BYTES}+${VALUE_BYTES}B`,
      unit: 'records/s',
      higherIsBetter: true,
      work: RECORDS,
      goal: { peer: 'kafkajs', ratio: 10 },
      note: `JS message objects {key: string, value: string} (16 B key, 100 B JSON value) → one sealed RecordBatch v2 (uncompressed) with its CRC32C`,
      contenders: impls.map((i) =>
        contender(i, () => i.fn(d.records), async () => {
          const b = await i.fn(d.records);
          await check?.(i.name, b);
        }),
      ),
    },
  ];
}

export function decodeCases(impls: (Impl<Decode> & { batch: Uint8Array })[], check?: (name: string, out: unknown) => unknown): Case[] {
  return [
    {
      metric: `decode-batch-${RECORDS}x${KEY_BYTES}+${VALUE_BYTES}B`,
      unit: 'records/s',
      higherIsBetter: true,
      work: RECORDS,
      goal: { peer: 'kafkajs', ratio: 5 },
      note: 'one RecordBatch v2 → records (key/value as byte views, not strings), CRC32C verified',
      contenders: impls.map((i) =>
        contender(i, () => i.fn(i.batch), async () => await check?.(i.name, await i.fn(i.batch))),
      ),
    },
  ];
}

type CodecImpl = Impl<{ compress: Compress; decompress: Decompress }>;

export function codecCases(
  codec: 'lz4' | 'snappy',
  impls: CodecImpl[],
  d: ReturnType<typeof coreData>,
  goalPeer: string,
  goalRatio: number,
): Case[] {
  const out: Case[] = [];
  for (const [label, input] of [['64KiB', d.json64k], ['1MiB', d.json1m]] as const) {
    const compressed = new Map<string, Uint8Array>();
    for (const i of impls) {
      const c = i.fn.compress(input);
      const back = i.fn.decompress(c, input.length);
      if (!equalBytes(back, input)) throw new Error(`${codec}/${i.name}: round trip failed at ${label}`);
      compressed.set(i.name, c.slice());
    }
    const ratios = Object.fromEntries(impls.map((i) => [i.name, +(input.length / compressed.get(i.name)!.length).toFixed(3)]));
    out.push({
      metric: `${codec}-compress-${label}`,
      unit: 'MB/s',
      higherIsBetter: true,
      work: MB(input.length),
      goal: { peer: goalPeer, ratio: goalRatio },
      note: `${label} of newline-delimited JSON events; MB/s of input`,
      contenders: impls.map((i) => contender(i, () => i.fn.compress(input))),
    });
    out.push({
      metric: `${codec}-decompress-${label}`,
      unit: 'MB/s',
      higherIsBetter: true,
      work: MB(input.length),
      goal: { peer: goalPeer, ratio: goalRatio },
      note: `${label} of newline-delimited JSON events, each contender decompressing its own output; MB/s of output`,
      contenders: impls.map((i) => {
        const c = compressed.get(i.name)!;
        return contender(i, () => i.fn.decompress(c, input.length));
      }),
    });
    out.push(ratioCase(`${codec}-ratio-${label}`, impls, ratios, codec === 'lz4' ? { peer: goalPeer, ratio: 0.95 } : undefined));
  }
  return out;
}

/** A computed (not timed) figure: the compression ratio, one sample each. */
function ratioCase(metric: string, impls: CodecImpl[], ratios: Record<string, number>, goal?: { peer: string; ratio: number }): Case {
  return {
    metric,
    unit: 'input/output',
    higherIsBetter: true,
    rounds: 1,
    warmupMs: 0,
    goal,
    note: 'compression ratio (input bytes / compressed bytes, framing included); goal: within 5% of the peer',
    contenders: impls.map((i) => ({ name: i.name, role: i.role, sample: () => ratios[i.name], note: i.note })),
  };
}
