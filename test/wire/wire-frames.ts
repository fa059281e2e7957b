// Seeded request frames for the protocol fuzz: valid requests of every served API and version, mutations of them, and noise.
import { concatBytes } from '../../src/bytes.ts';
import { WIRE_APIS } from '../../src/wire/apis/index.ts';
import { Writer } from '../../src/wire/codec.ts';
import { encode, type Field, type Struct } from '../../src/wire/schema.ts';

/** xorshift32: small, fast, and the same frames for the same seed. */
export function seeded(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
  return {
    next,
    int: (max: number) => Math.floor(next() * max),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)],
  };
}
export type Random = ReturnType<typeof seeded>;

const INTERESTING_INTS = [0, 1, 2, 3, -1, -2, 0x7fffffff, -0x80000000, 255, 65535];
const NAMES = ['fuzz', 'fuzz-2', '', '__consumer_offsets', 'a'.repeat(300), 'bad name!', '..'];

function randomValue(f: Field, rand: Random, version: number): unknown {
  if (f.array) {
    const n = rand.int(4);
    return Array.from({ length: n }, () => randomValue({ ...f, array: false }, rand, version));
  }
  switch (f.type) {
    case 'int8': return rand.int(256) - 128;
    case 'int16': return rand.next() < 0.8 ? rand.int(4) - 1 : rand.int(65536) - 32768;
    case 'uint16': return rand.int(65536);
    case 'int32': return rand.next() < 0.7 ? rand.int(4) : rand.pick(INTERESTING_INTS);
    case 'int64': return rand.next() < 0.7 ? BigInt(rand.int(50) - 2) : rand.pick([-1n, -2n, 2n ** 63n - 1n, -(2n ** 63n)]);
    case 'float64': return rand.next();
    case 'bool': return rand.next() < 0.5;
    case 'string': return rand.pick(NAMES);
    case 'uuid': return new Uint8Array(16).map(() => rand.int(256));
    case 'bytes': case 'records': return new Uint8Array(rand.int(100)).map(() => rand.int(256));
    case 'struct': {
      const out: Struct = {};
      for (const sub of f.fields) out[sub.name] = randomValue(sub, rand, version);
      return out;
    }
  }
}

/** A well-formed request frame (header and body, without the size prefix) of a random served API and version. */
export function validFrame(rand: Random, correlationId: number): Uint8Array {
  const api = rand.pick(WIRE_APIS);
  const version = api.minVersion + rand.int(api.maxVersion - api.minVersion + 1);
  const w = new Writer(128);
  w.int16(api.key);
  w.int16(version);
  w.int32(correlationId);
  w.string(rand.next() < 0.9 ? 'fuzz-client' : null, false);
  if (version >= api.request.flexibleFrom) w.uvarint(0);
  const body: Struct = {};
  for (const f of api.request.fields) body[f.name] = randomValue(f, rand, version);
  encode(api.request, w, body, version);
  return concatBytes(w.finish());
}

/** One frame for the fuzz: a valid one (1 in 20), noise (1 in 10), or a mutation of a valid one. */
export function fuzzFrame(rand: Random, correlationId: number): Uint8Array {
  const kind = rand.next();
  if (kind < 0.05) return validFrame(rand, correlationId);
  if (kind < 0.15) return new Uint8Array(rand.int(64)).map(() => rand.int(256));
  const frame = validFrame(rand, correlationId);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  switch (rand.int(7)) {
    case 0: { // flip a few bytes
      for (let k = 0, n = 1 + rand.int(4); k < n; k++) frame[rand.int(frame.length)] ^= 1 << rand.int(8);
      return frame;
    }
    case 1: return frame.subarray(0, rand.int(frame.length)); // truncated
    case 2: return concatBytes([frame, new Uint8Array(1 + rand.int(16)).map(() => rand.int(256))]); // trailing bytes
    case 3: { // a length or count that lies (huge, negative, or off by a little)
      if (frame.length < 12) return frame;
      const at = 8 + rand.int(frame.length - 11);
      view.setInt32(at, rand.pick([0x7fffffff, -2, 0x10000, view.getInt32(at) + 1]));
      return frame;
    }
    case 4: view.setInt16(0, rand.int(200) - 10); return frame; // unknown (or another) API key
    case 5: view.setInt16(2, rand.pick([-1, 99, 0x7fff, view.getInt16(2) + 1])); return frame; // unserved version
    default: { // a varint that never ends, mid-frame
      const at = 8 + rand.int(Math.max(1, frame.length - 8));
      frame.fill(0xff, at, Math.min(frame.length, at + 6));
      return frame;
    }
  }
}
