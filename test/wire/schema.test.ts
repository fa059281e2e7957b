// The schema-driven encoder/decoder of Kafka's wire protocol (src/wire/schema.ts, src/wire/codec.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Reader, WireFormatError, Writer } from '../../src/wire/codec.ts';
import { decode, encode, schema } from '../../src/wire/schema.ts';
import { concatBytes } from '../../src/bytes.ts';

const SAMPLE = schema(`
id int32 0+
name string 0+
note string 1+ null:1+ default:null
big int64 0+
flag bool 2+ default:true
items [] 0+
  index int16 0+
  payload records 0+ null:0+
  tags []string 0+
extra int32 3+ tag:1 default:-1
inner {} 3+ tag:0
  epoch int32 3+ default:-1
`, 3);

const bytesOf = (s: typeof SAMPLE, value: Record<string, unknown>, version: number, initialBytes: number) => {
  const w = new Writer(initialBytes);
  encode(s, w, value, version);
  return concatBytes(w.finish());
};

describe('wire schema', () => {
  it('decode(encode(v)) is v in every version, classic and flexible, whatever the writer has to grow through', () => {
    const item = fc.record({
      index: fc.integer({ min: -32768, max: 32767 }),
      payload: fc.option(fc.uint8Array({ maxLength: 200 }), { nil: null }),
      tags: fc.array(fc.string({ maxLength: 20 }), { maxLength: 4 }),
    });
    const value = fc.record({
      id: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      name: fc.string({ maxLength: 300 }),
      note: fc.option(fc.string({ maxLength: 50 }), { nil: null }),
      big: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      flag: fc.boolean(),
      items: fc.array(item, { maxLength: 5 }),
      extra: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      inner: fc.option(fc.record({ epoch: fc.integer({ min: 0, max: 1000 }) }), { nil: null }),
    });
    fc.assert(fc.property(value, fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 64 }), (v, version, initialBytes) => {
      const decoded = decode(SAMPLE, new Reader(bytesOf(SAMPLE, v, version, initialBytes)), version);
      const expected = {
        ...v,
        note: version >= 1 ? v.note : null,
        flag: version >= 2 ? v.flag : true,
        extra: version >= 3 ? v.extra : -1,
        inner: version >= 3 ? v.inner : null,
        items: v.items.map((i) => ({ ...i, payload: i.payload === null ? null : new Uint8Array(i.payload) })),
      };
      expect(decoded).toEqual(expected);
    }), { numRuns: 300 });
  });

  it("writes Kafka's bytes: classic int16/int32 lengths below the flexible versions, compact varints and tagged fields from them", () => {
    const s = schema(`
name string 0+
list []int32 0+
extra int32 1+ tag:2 default:-1
`, 1);
    expect([...bytesOf(s, { name: 'ab', list: [7] }, 0, 8)]).toEqual([0, 2, 97, 98, 0, 0, 0, 1, 0, 0, 0, 7]);
    // compact string (len+1), compact array (n+1), tagged fields: count 1, tag 2, size 4, value
    expect([...bytesOf(s, { name: 'ab', list: [7], extra: 5 }, 1, 8)]).toEqual([3, 97, 98, 2, 0, 0, 0, 7, 1, 2, 4, 0, 0, 0, 5]);
    // a tagged field at its default is left out
    expect([...bytesOf(s, { name: 'ab', list: [], extra: -1 }, 1, 8)]).toEqual([3, 97, 98, 1, 0]);
  });

  it('refuses truncated frames, lying lengths and array counts, trailing bytes and unknown-tag disorder with WireFormatError, before allocating', () => {
    const s = schema(`
name string 0+
list []int64 0+
`, 1);
    const good = bytesOf(s, { name: 'topic', list: [1n, 2n] }, 0, 64);
    for (let n = 0; n < good.length; n++) expect(() => decode(s, new Reader(good.subarray(0, n)), 0)).toThrow(WireFormatError);
    expect(() => decode(s, new Reader(concatBytes([good, new Uint8Array([0])])), 0)).toThrow(/after the end/);
    const hugeCount = new Uint8Array([0, 1, 97, 0x7f, 0xff, 0xff, 0xff]);
    expect(() => decode(s, new Reader(hugeCount), 0)).toThrow(/array of 2147483647 elements/);
    expect(() => decode(s, new Reader(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x01])), 1)).toThrow(/varint longer/);
    expect(() => decode(s, new Reader(new Uint8Array([0xff, 0xff]), 0), 0)).toThrow(WireFormatError); // null where not nullable
    const badTags = new Uint8Array([1, 1, 2, 5, 0, 1, 0]); // two tags: 5 then 1
    expect(() => decode(s, new Reader(badTags), 1)).toThrow(WireFormatError);
  });
});
