/**
 * Message schemas: a request or response body described once, for every
 * version, and read or written from that description. Kafka describes its
 * messages the same way (clients/src/main/resources/common/message/*.json);
 * the facts here (field order, types, the versions each field exists in,
 * which versions are flexible) come from those descriptions.
 *
 * A schema is written as indented lines, one field a line:
 *
 *   name type versions [null:V+] [tag:N] [default:VALUE]
 *
 *   type      int8 int16 uint16 int32 int64 float64 bool string bytes
 *             records uuid, an array of one of them ([]int32, []string), or
 *             a struct: [] (an array of structs) or {} (one struct), whose
 *             fields follow, indented two more spaces
 *   versions  0+ (from 0 on), 3-7, or 4 (that one alone)
 *   null:V+   nullable from version V on
 *   tag:N     a tagged field (KIP-482) of the flexible versions
 *   default   the value a version without the field reads as, and below
 *             which a tagged field is not written (numbers, true/false, null,
 *             or any other word as a string)
 *
 * Decoded values: numbers for int8..int32 and float64, bigint for int64,
 * string, boolean, Uint8Array for bytes, records and uuid (views of the
 * frame, not copies), arrays, and plain objects for structs. Encoding takes
 * the same shapes; a field left undefined is written as its default; records
 * are written by reference (see Writer.reference).
 */
import { Reader, WireFormatError, Writer } from './codec.ts';

type Primitive = 'int8' | 'int16' | 'uint16' | 'int32' | 'int64' | 'float64' | 'bool' | 'string' | 'bytes' | 'records' | 'uuid';
const PRIMITIVES = new Set<string>(['int8', 'int16', 'uint16', 'int32', 'int64', 'float64', 'bool', 'string', 'bytes', 'records', 'uuid']);

export interface Field {
  name: string;
  /** A primitive, or 'struct' (fields), with `array` set for arrays of either. */
  type: Primitive | 'struct';
  array: boolean;
  versionMin: number;
  versionMax: number;
  nullableFrom: number;
  tag: number | null;
  default: unknown;
  fields: Field[];
}

export interface Schema {
  fields: Field[];
  /** The first flexible version (compact types, tagged fields); Infinity when none is. */
  flexibleFrom: number;
}

/** A decoded message: field name → value. */
export type Struct = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ZERO_UUID = new Uint8Array(16);

/** Parses a schema text (see the module comment). Throws on a malformed description: a programmer error. */
export function schema(text: string, flexibleFrom = Infinity): Schema {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const indentOf = (line: string) => line.length - line.trimStart().length;
  let i = 0;
  const parseLevel = (indent: number): Field[] => {
    const fields: Field[] = [];
    while (i < lines.length && indentOf(lines[i]) >= indent) {
      const line = lines[i];
      if (indentOf(line) !== indent) throw new Error(`schema: bad indent at '${line}'`);
      i++;
      const [name, rawType, versions, ...options] = line.trim().split(/\s+/);
      const array = rawType.startsWith('[]');
      const base = array ? rawType.slice(2) : rawType;
      const struct = base === '' || base === '{}';
      if (!struct && !PRIMITIVES.has(base)) throw new Error(`schema: unknown type '${rawType}' at '${line}'`);
      const range = /^(\d+)(\+|-(\d+))?$/.exec(versions ?? '');
      if (!range) throw new Error(`schema: bad versions '${versions}' at '${line}'`);
      const field: Field = {
        name, type: struct ? 'struct' : (base as Primitive), array,
        versionMin: Number(range[1]),
        versionMax: range[2] === '+' ? Infinity : range[3] !== undefined ? Number(range[3]) : Number(range[1]),
        nullableFrom: Infinity, tag: null, default: undefined, fields: [],
      };
      for (const option of options) {
        const [key, value] = option.split(':');
        if (key === 'null') field.nullableFrom = Number.parseInt(value, 10);
        else if (key === 'tag') field.tag = Number(value);
        else if (key === 'default') field.default = parseDefault(value, field);
        else throw new Error(`schema: unknown option '${option}' at '${line}'`);
      }
      if (struct) field.fields = parseLevel(indent + 2);
      fields.push(field);
    }
    return fields;
  };
  const fields = parseLevel(0);
  if (i !== lines.length) throw new Error(`schema: bad indent at '${lines[i]}'`);
  return { fields, flexibleFrom };
}

function parseDefault(value: string, field: Field): unknown {
  if (value === 'null') return null;
  if (value === 'true' || value === 'false') return value === 'true';
  if (field.type === 'int64') return BigInt(value);
  if (field.type === 'string') return value;
  return Number(value);
}

const inVersion = (f: Field, version: number) => version >= f.versionMin && version <= f.versionMax;

/** What a field reads as in a version that lacks it. */
function defaultOf(f: Field): unknown {
  if (f.default !== undefined) return f.default;
  if (f.array) return [];
  switch (f.type) {
    case 'int64': return 0n;
    case 'bool': return false;
    case 'string': return '';
    case 'uuid': return ZERO_UUID;
    case 'bytes': return new Uint8Array(0);
    case 'records': return null;
    case 'struct': return null;
    default: return 0;
  }
}

// ------------------------------------------------------------------ decode

/** Reads a message body of `version` from `reader`; the frame must end with it. */
export function decode(s: Schema, reader: Reader, version: number): Struct {
  const value = readStruct(s.fields, reader, version, version >= s.flexibleFrom);
  if (reader.remaining !== 0) throw new WireFormatError(`${reader.remaining} bytes after the end of the message`);
  return value;
}

function readStruct(fields: Field[], r: Reader, version: number, flexible: boolean): Struct {
  const out: Struct = {};
  for (const f of fields) {
    // Tagged fields come after the others, in the tagged section; until then (or without one) they read as their default.
    out[f.name] = f.tag === null && inVersion(f, version) ? readField(f, r, version, flexible) : defaultOf(f);
  }
  if (flexible) readTaggedFields(fields, r, version, out);
  return out;
}

function readTaggedFields(fields: Field[], r: Reader, version: number, out: Struct): void {
  const count = r.taggedFieldCount();
  let lastTag = -1;
  for (let k = 0; k < count; k++) {
    const tag = r.uvarint();
    if (tag <= lastTag) throw new WireFormatError(`tagged field ${tag} after ${lastTag}: tags must ascend`);
    lastTag = tag;
    const size = r.uvarint();
    const body = r.raw(size, `tagged field ${tag}`);
    const f = fields.find((field) => field.tag === tag && inVersion(field, version));
    if (!f) continue; // Unknown tags are skipped, as KIP-482 says.
    const sub = new Reader(body);
    out[f.name] = readField(f, sub, version, true);
    if (sub.remaining !== 0) throw new WireFormatError(`tagged field ${tag}: ${sub.remaining} bytes left over`);
  }
}

function readField(f: Field, r: Reader, version: number, flexible: boolean): unknown {
  const nullable = version >= f.nullableFrom;
  if (f.array) {
    const count = r.arrayCount(flexible, elementBytesMin(f, version, flexible));
    if (count === null) {
      if (!nullable) throw new WireFormatError(`${f.name}: null where the schema allows no null`);
      return null;
    }
    const items = new Array<unknown>(count);
    for (let k = 0; k < count; k++) items[k] = readOne(f, r, version, flexible, false);
    return items;
  }
  return readOne(f, r, version, flexible, nullable);
}

function readOne(f: Field, r: Reader, version: number, flexible: boolean, nullable: boolean): unknown {
  let value: unknown;
  switch (f.type) {
    case 'int8': return r.int8();
    case 'int16': return r.int16();
    case 'uint16': return r.uint16();
    case 'int32': return r.int32();
    case 'int64': return r.int64();
    case 'float64': return r.float64();
    case 'bool': return r.bool();
    case 'uuid': return r.uuid();
    case 'struct': return readStruct(f.fields, r, version, flexible);
    case 'string': value = r.string(flexible); break;
    case 'bytes': case 'records': value = r.bytesField(flexible); break;
  }
  if (value === null && !nullable) throw new WireFormatError(`${f.name}: null where the schema allows no null`);
  return value;
}

/** The fewest bytes one element of an array field can take (so a count can be checked against what is left). */
function elementBytesMin(f: Field, version: number, flexible: boolean): number {
  switch (f.type) {
    case 'int8': case 'bool': return 1;
    case 'int16': case 'uint16': return 2;
    case 'int32': return 4;
    case 'int64': case 'float64': return 8;
    case 'uuid': return 16;
    case 'string': return flexible ? 1 : 2;
    case 'bytes': case 'records': return flexible ? 1 : 4;
    case 'struct': {
      let n = flexible ? 1 : 0;
      for (const sub of f.fields) {
        if (!inVersion(sub, version) || (flexible && sub.tag !== null)) continue;
        n += sub.array ? (flexible ? 1 : 4) : elementBytesMin({ ...sub, array: false }, version, flexible);
      }
      return n;
    }
  }
}

// ------------------------------------------------------------------ encode

/** Writes a message body of `version`. */
export function encode(s: Schema, w: Writer, value: Struct, version: number): void {
  writeStruct(s.fields, w, value, version, version >= s.flexibleFrom);
}

function writeStruct(fields: Field[], w: Writer, value: Struct, version: number, flexible: boolean): void {
  for (const f of fields) {
    if (f.tag !== null || !inVersion(f, version)) continue;
    writeField(f, w, value[f.name], version, flexible);
  }
  if (!flexible) return;
  const tagged = fields.filter((f) => f.tag !== null && inVersion(f, version) && isSet(f, value[f.name])).sort((a, b) => a.tag! - b.tag!);
  w.uvarint(tagged.length);
  for (const f of tagged) {
    const sub = new Writer(64);
    writeField(f, sub, value[f.name], version, true);
    const chunks = sub.finish();
    w.uvarint(f.tag!);
    w.uvarint(chunks.reduce((n, c) => n + c.byteLength, 0));
    for (const c of chunks) w.raw(c);
  }
}

function isSet(f: Field, v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (f.array) return (v as unknown[]).length > 0;
  return v !== defaultOf(f);
}

function writeField(f: Field, w: Writer, v: unknown, version: number, flexible: boolean): void {
  const nullable = version >= f.nullableFrom;
  if (f.array) {
    if (v === undefined || v === null) {
      w.arrayCount(v === null && nullable ? null : 0, flexible);
      return;
    }
    const items = v as unknown[];
    w.arrayCount(items.length, flexible);
    for (const item of items) writeOne(f, w, item, version, flexible, false);
    return;
  }
  writeOne(f, w, v === undefined ? defaultOf(f) : v, version, flexible, nullable);
}

function writeOne(f: Field, w: Writer, v: unknown, version: number, flexible: boolean, nullable: boolean): void {
  switch (f.type) {
    case 'int8': return w.int8(Number(v ?? 0));
    case 'int16': return w.int16(Number(v ?? 0));
    case 'uint16': return w.uint16(Number(v ?? 0));
    case 'int32': return w.int32(Number(v ?? 0));
    case 'int64': return w.int64(BigInt((v as bigint | number | null) ?? 0n));
    case 'float64': return w.float64(Number(v ?? 0));
    case 'bool': return w.bool(Boolean(v));
    case 'uuid': return w.raw((v as Uint8Array | null) ?? ZERO_UUID);
    case 'struct': return writeStruct(f.fields, w, (v as Struct | null) ?? {}, version, flexible);
    case 'string': return w.string(v === null ? (nullable ? null : '') : String(v), flexible);
    case 'bytes': case 'records': {
      const bytes = (v as Uint8Array | null) ?? (nullable ? null : new Uint8Array(0));
      return w.bytesField(bytes, flexible, f.type === 'records');
    }
  }
}
