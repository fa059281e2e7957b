// What the console's tail and produce forms make of text: keys and values as text, JSON or hex (bounded),
// partition lists, header lines; and what the produce check refuses before anything is sent.
import { describe, expect, test } from 'vitest';
import { checkProduceInput } from '../../src/console/cluster-source.ts';
import { PRODUCE_BYTES_MAX, PRODUCE_HEADERS_MAX } from '../../src/console/limits.ts';
import { parseHeaders } from '../../src/console/ui/produce-view.ts';
import { parsePartitions, show } from '../../src/console/ui/tail-view.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('the tail shows', () => {
  test('text, JSON (compacted, or marked when it is not JSON) and hex; null as null', () => {
    expect(show(bytes('héllo'), 'text')).toBe('héllo');
    expect(show(bytes('{ "a": [1, 2] }'), 'json')).toBe('{"a":[1,2]}');
    expect(show(bytes('plain'), 'json')).toBe('(not JSON) plain');
    expect(show(new Uint8Array([0, 15, 255]), 'hex')).toBe('00 0f ff');
    expect(show(null, 'text')).toBe('null');
  });

  test('a long value cut to 300 characters (hex to 300 bytes)', () => {
    expect(show(bytes('x'.repeat(5000)), 'text')).toBe(`${'x'.repeat(300)}…`);
    expect(show(new Uint8Array(1000), 'hex').split(' ').length).toBe(301);
  });

  test('partitions: all, or a list of numbers; anything else is refused', () => {
    expect(parsePartitions('all')).toBeNull();
    expect(parsePartitions(' ')).toBeNull();
    expect(parsePartitions('0, 2 2')).toEqual([0, 2]);
    expect(() => parsePartitions('0,x')).toThrow(/'all' or numbers/);
    expect(() => parsePartitions('-1')).toThrow();
  });
});

describe('the produce form', () => {
  test('headers are key=value lines; a line without = is refused', () => {
    expect(parseHeaders('a=1\n\n b = x=y \n')).toEqual([{ key: 'a', value: '1' }, { key: 'b', value: ' x=y' }]);
    expect(() => parseHeaders('oops')).toThrow(/expected key=value/);
  });

  test('the check refuses oversized messages, too many headers and bad partitions, typed', () => {
    const ok = { topic: 't', key: null, value: 'v', headers: [] };
    expect(checkProduceInput(ok)).toBe(ok);
    expect(() => checkProduceInput({ ...ok, value: 'x'.repeat(PRODUCE_BYTES_MAX + 1) })).toThrow(expect.objectContaining({ type: 'MESSAGE_TOO_LARGE' }));
    expect(() => checkProduceInput({ ...ok, headers: Array.from({ length: PRODUCE_HEADERS_MAX + 1 }, (_, i) => ({ key: `h${i}`, value: '' })) })).toThrow(expect.objectContaining({ type: 'INVALID_REQUEST' }));
    expect(() => checkProduceInput({ ...ok, partition: -1 })).toThrow(expect.objectContaining({ type: 'INVALID_REQUEST' }));
    expect(() => checkProduceInput({ ...ok, topic: '' })).toThrow(expect.objectContaining({ type: 'INVALID_REQUEST' }));
  });
});
