/**
 * Kafka's fixed-size schema types (non-flexible versions), big-endian:
 * int8, int16, int32, int64; string = int16 length + UTF-8 (-1: null);
 * bytes = int32 length + bytes (-1: null); array = int32 count + items.
 * Used for the records of __consumer_offsets and the consumer protocol's
 * subscription and assignment bytes, and those of __transaction_state. The reader checks every length against
 * what is left and throws CORRUPT_MESSAGE, never reads past the end.
 */
import { WafkaError } from '../errors.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export class SchemaWriter {
  #bytes = new Uint8Array(64);
  #view = new DataView(this.#bytes.buffer);
  #length = 0;

  #ensure(extra: number): void {
    if (this.#length + extra <= this.#bytes.byteLength) return;
    const next = new Uint8Array(Math.max(this.#bytes.byteLength * 2, this.#length + extra));
    next.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = next;
    this.#view = new DataView(next.buffer);
  }

  int8(value: number): this { this.#ensure(1); this.#view.setInt8(this.#length, value); this.#length += 1; return this; }
  int16(value: number): this { this.#ensure(2); this.#view.setInt16(this.#length, value); this.#length += 2; return this; }
  int32(value: number): this { this.#ensure(4); this.#view.setInt32(this.#length, value); this.#length += 4; return this; }
  int64(value: bigint): this { this.#ensure(8); this.#view.setBigInt64(this.#length, value); this.#length += 8; return this; }

  string(value: string | null): this {
    if (value === null) return this.int16(-1);
    const bytes = encoder.encode(value);
    if (bytes.byteLength > 0x7fff) throw new WafkaError('INVALID_REQUEST', `a string of ${bytes.byteLength} B over Kafka's 32767 B limit`);
    return this.int16(bytes.byteLength).raw(bytes);
  }

  bytes(value: Uint8Array | null): this {
    if (value === null) return this.int32(-1);
    return this.int32(value.byteLength).raw(value);
  }

  array<T>(items: readonly T[], write: (item: T) => void): this {
    this.int32(items.length);
    for (const item of items) write(item);
    return this;
  }

  raw(bytes: Uint8Array): this { this.#ensure(bytes.byteLength); this.#bytes.set(bytes, this.#length); this.#length += bytes.byteLength; return this; }

  /** The bytes written (a copy of exactly that length). */
  finish(): Uint8Array { return this.#bytes.slice(0, this.#length); }
}

export class SchemaReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #what: string;
  #at = 0;

  constructor(bytes: Uint8Array, what: string) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#what = what;
  }

  get remaining(): number { return this.#bytes.byteLength - this.#at; }

  #need(n: number): void {
    if (n < 0 || this.#at + n > this.#bytes.byteLength) {
      throw new WafkaError('CORRUPT_MESSAGE', `${this.#what}: ${n} B needed at position ${this.#at} of ${this.#bytes.byteLength}`);
    }
  }

  int8(): number { this.#need(1); const v = this.#view.getInt8(this.#at); this.#at += 1; return v; }
  int16(): number { this.#need(2); const v = this.#view.getInt16(this.#at); this.#at += 2; return v; }
  int32(): number { this.#need(4); const v = this.#view.getInt32(this.#at); this.#at += 4; return v; }
  int64(): bigint { this.#need(8); const v = this.#view.getBigInt64(this.#at); this.#at += 8; return v; }

  nullableString(): string | null {
    const length = this.int16();
    if (length === -1) return null;
    this.#need(length);
    let value: string;
    try {
      value = decoder.decode(this.#bytes.subarray(this.#at, this.#at + length));
    } catch (cause) {
      throw new WafkaError('CORRUPT_MESSAGE', `${this.#what}: a string at position ${this.#at} is not UTF-8`, { cause });
    }
    this.#at += length;
    return value;
  }

  string(): string {
    const value = this.nullableString();
    if (value === null) throw new WafkaError('CORRUPT_MESSAGE', `${this.#what}: a null where a string must be`);
    return value;
  }

  nullableBytes(): Uint8Array | null {
    const length = this.int32();
    if (length === -1) return null;
    this.#need(length);
    const value = this.#bytes.slice(this.#at, this.#at + length);
    this.#at += length;
    return value;
  }

  bytes(): Uint8Array { return this.nullableBytes() ?? new Uint8Array(0); }

  /** An array of at most `countMax` items (each at least `itemBytesMin` bytes, so a bad count fails before any allocation). */
  array<T>(read: () => T, itemBytesMin = 1, countMax = 0x7fffffff): T[] {
    const count = this.int32();
    if (count === -1) return [];
    if (count < 0 || count > countMax || count * itemBytesMin > this.remaining) {
      throw new WafkaError('CORRUPT_MESSAGE', `${this.#what}: an array of ${count} items in ${this.remaining} B`);
    }
    const out: T[] = [];
    for (let i = 0; i < count; i++) out.push(read());
    return out;
  }
}
