/**
 * The primitive types of Kafka's binary protocol
 * (https://kafka.apache.org/protocol#protocol_types), read from and written
 * to bytes. Everything is big-endian. "Compact" forms (flexible versions,
 * KIP-482) prefix lengths with an unsigned varint of length + 1, where 0
 * means null; the classic forms use int16 (strings) or int32 (bytes, arrays)
 * with -1 for null.
 *
 * Reader checks every length against the bytes left before it allocates or
 * slices anything, so a frame cannot make it read past its end or ask for
 * more memory than the frame itself holds. A failed check is a WireFormatError
 * (the connection that sent the frame is closed).
 *
 * Writer builds a response as a list of chunks: the bytes it encodes, and
 * record sets it was handed, which it keeps as they are (zero copy: stored
 * batches go to the socket without being copied or re-encoded).
 */

/**
 * A frame that does not follow the protocol; the listener closes its
 * connection. It has no stack: the message says where in the frame, and a
 * peer sending garbage should not make the broker capture traces.
 */
export class WireFormatError extends Error {
  override readonly name = 'WireFormatError';

  constructor(message: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

export class Reader {
  readonly bytes: Uint8Array;
  readonly #view: DataView;
  #at: number;

  constructor(bytes: Uint8Array, at = 0) {
    // A plain Uint8Array view, even of a Node Buffer: whoever gets a field's bytes may slice() them and expect a copy.
    this.bytes = Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#at = at;
  }

  get position(): number { return this.#at; }
  get remaining(): number { return this.bytes.byteLength - this.#at; }

  #take(n: number, what: string): number {
    if (n > this.remaining) throw new WireFormatError(`${what}: needs ${n} bytes at ${this.#at}, ${this.remaining} left`);
    const at = this.#at;
    this.#at += n;
    return at;
  }

  int8(): number { return this.#view.getInt8(this.#take(1, 'int8')); }
  int16(): number { return this.#view.getInt16(this.#take(2, 'int16')); }
  uint16(): number { return this.#view.getUint16(this.#take(2, 'uint16')); }
  int32(): number { return this.#view.getInt32(this.#take(4, 'int32')); }
  uint32(): number { return this.#view.getUint32(this.#take(4, 'uint32')); }
  int64(): bigint { return this.#view.getBigInt64(this.#take(8, 'int64')); }
  float64(): number { return this.#view.getFloat64(this.#take(8, 'float64')); }
  bool(): boolean { return this.int8() !== 0; }

  /** Unsigned varint of at most 5 bytes (32 bits), as lengths and tags are. */
  uvarint(): number {
    let value = 0;
    for (let i = 0; i < 5; i++) {
      const byte = this.bytes[this.#take(1, 'varint')];
      value += (byte & 0x7f) * 2 ** (7 * i);
      if ((byte & 0x80) === 0) return value;
    }
    throw new WireFormatError(`varint longer than 5 bytes at ${this.#at - 5}`);
  }

  /** The count of a tagged-field section (a plain varint; each field takes ≥ 2 bytes: tag and size). */
  taggedFieldCount(): number {
    const n = this.uvarint();
    if (n * 2 > this.remaining) throw new WireFormatError(`${n} tagged fields, ${this.remaining} bytes left`);
    return n;
  }

  raw(n: number, what: string): Uint8Array {
    const at = this.#take(n, what);
    return this.bytes.subarray(at, at + n);
  }

  uuid(): Uint8Array { return this.raw(16, 'uuid'); }

  /** A string of either form; null only where the schema allows it (the caller checks). */
  string(compact: boolean): string | null {
    const n = compact ? this.uvarint() - 1 : this.int16();
    if (n < 0) {
      if (n !== -1) throw new WireFormatError(`string length ${n}`);
      return null;
    }
    try {
      return utf8Decoder.decode(this.raw(n, 'string'));
    } catch (error) {
      if (error instanceof WireFormatError) throw error;
      throw new WireFormatError(`string at ${this.#at - n} is not UTF-8`);
    }
  }

  bytesField(compact: boolean): Uint8Array | null {
    const n = compact ? this.uvarint() - 1 : this.int32();
    if (n < 0) {
      if (n !== -1) throw new WireFormatError(`bytes length ${n}`);
      return null;
    }
    return this.raw(n, 'bytes');
  }

  /**
   * An array's element count (null: -1). Every element takes at least
   * `elementBytesMin` bytes, so a count larger than the bytes left allow is a
   * lie, refused before anything is allocated for it.
   */
  arrayCount(compact: boolean, elementBytesMin: number): number | null {
    const n = compact ? this.uvarint() - 1 : this.int32();
    if (n < 0) {
      if (n !== -1) throw new WireFormatError(`array count ${n}`);
      return null;
    }
    if (n * Math.max(1, elementBytesMin) > this.remaining) {
      throw new WireFormatError(`array of ${n} elements of ≥ ${elementBytesMin} bytes, ${this.remaining} bytes left`);
    }
    return n;
  }
}

/** A response under construction: encoded bytes, and record sets kept by reference. */
export class Writer {
  readonly #chunks: Uint8Array[] = [];
  #buffer: Uint8Array;
  #view: DataView;
  /** Where the current buffer's unflushed bytes start, and where the next byte goes. */
  #start = 0;
  #at = 0;
  #flushedBytes = 0;

  constructor(initialBytes = 256) {
    this.#buffer = new Uint8Array(initialBytes);
    this.#view = new DataView(this.#buffer.buffer);
  }

  /** Bytes written so far, encoded and referenced. */
  get byteLength(): number { return this.#flushedBytes + this.#at - this.#start; }

  #room(n: number): number {
    if (this.#at + n > this.#buffer.byteLength) {
      this.#flush();
      this.#buffer = new Uint8Array(Math.max(n, this.#buffer.byteLength * 2));
      this.#view = new DataView(this.#buffer.buffer);
      this.#start = 0;
      this.#at = 0;
    }
    const at = this.#at;
    this.#at += n;
    return at;
  }

  #flush(): void {
    if (this.#at > this.#start) {
      this.#chunks.push(this.#buffer.subarray(this.#start, this.#at));
      this.#flushedBytes += this.#at - this.#start;
    }
    this.#start = this.#at;
  }

  int8(v: number): void { const at = this.#room(1); this.#view.setInt8(at, v); }
  int16(v: number): void { const at = this.#room(2); this.#view.setInt16(at, v); }
  uint16(v: number): void { const at = this.#room(2); this.#view.setUint16(at, v); }
  int32(v: number): void { const at = this.#room(4); this.#view.setInt32(at, v); }
  uint32(v: number): void { const at = this.#room(4); this.#view.setUint32(at, v); }
  int64(v: bigint): void { const at = this.#room(8); this.#view.setBigInt64(at, v); }
  float64(v: number): void { const at = this.#room(8); this.#view.setFloat64(at, v); }
  bool(v: boolean): void { this.int8(v ? 1 : 0); }

  uvarint(v: number): void {
    // #room() may move to a new buffer: it runs before the buffer is read.
    while (v >= 0x80) {
      const at = this.#room(1);
      this.#buffer[at] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    const at = this.#room(1);
    this.#buffer[at] = v;
  }

  /** Copies `bytes` in (small fields: uuids, strings). */
  raw(bytes: Uint8Array): void {
    const at = this.#room(bytes.byteLength);
    this.#buffer.set(bytes, at);
  }

  /** Keeps `bytes` by reference as its own chunk (record sets): no copy. */
  reference(bytes: Uint8Array): void {
    if (bytes.byteLength < 64) return this.raw(bytes);
    this.#flush();
    this.#chunks.push(bytes);
    this.#flushedBytes += bytes.byteLength;
  }

  string(v: string | null, compact: boolean): void {
    if (v === null) {
      if (compact) this.uvarint(0);
      else this.int16(-1);
      return;
    }
    const encoded = utf8Encoder.encode(v);
    if (compact) this.uvarint(encoded.byteLength + 1);
    else this.int16(encoded.byteLength);
    this.raw(encoded);
  }

  bytesField(v: Uint8Array | null, compact: boolean, byReference: boolean): void {
    if (v === null) {
      if (compact) this.uvarint(0);
      else this.int32(-1);
      return;
    }
    if (compact) this.uvarint(v.byteLength + 1);
    else this.int32(v.byteLength);
    if (byReference) this.reference(v);
    else this.raw(v);
  }

  arrayCount(n: number | null, compact: boolean): void {
    if (n === null) {
      if (compact) this.uvarint(0);
      else this.int32(-1);
      return;
    }
    if (compact) this.uvarint(n + 1);
    else this.int32(n);
  }

  /** The chunks written, in order; the writer is done. */
  finish(): Uint8Array[] {
    this.#flush();
    return this.#chunks;
  }
}

/** Bytes an unsigned varint of `v` takes. */
export function uvarintBytes(v: number): number {
  let n = 1;
  while (v >= 0x80) { v = Math.floor(v / 0x80); n++; }
  return n;
}
