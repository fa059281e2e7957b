/**
 * Loads the Wasm core (build/wafka.wasm) once per realm, in a page, a dedicated
 * worker or Node, and owns its memory.
 *
 * Memory map: [0, heapBase) holds the core's static data (CRC tables, LZ4 hash
 * table, error detail). Everything from heapBase up belongs to TypeScript and
 * is laid out afresh for each top-level call: the core is synchronous and
 * single-threaded per realm, so a call may use the whole arena as scratch.
 * `Arena.reserve()` grows memory before a call; growing detaches every view of
 * the old buffer, so views are re-created here and only here. A Wasm memory
 * cannot shrink: `Arena.release()`, called after each top-level call, swaps in
 * a fresh instance of the same module when memory grew past
 * ARENA_RETAINED_BYTES, so one outsized batch does not keep its memory.
 */
import { WafkaError } from '../errors.ts';
import { importNodeBuiltin } from '../node-only.ts';
import type { CoreExports } from './exports.ts';

const PAGE_BYTES = 65536;
/** The arena never grows beyond this; a request above it is a caller bug or bad input. */
export const ARENA_BYTES_MAX = 1 << 30;
/** Memory kept between top-level calls; above it, release() gives it back. */
export const ARENA_RETAINED_BYTES = 32 << 20;

export class Arena {
  readonly base: number;
  readonly #module: WebAssembly.Module;
  #exports: CoreExports;
  #u8: Uint8Array;
  #dv: DataView;
  #i32: Int32Array;
  /** Instances replaced by release(). */
  releases = 0;
  /** The most bytes of memory any instance had (tests and fuzz loops reset it to measure a call). */
  highWaterBytes: number;

  constructor(instance: WebAssembly.Instance, module: WebAssembly.Module) {
    this.#module = module;
    this.#exports = instance.exports as unknown as CoreExports;
    this.base = this.#exports.heapBase();
    const buffer = this.#exports.memory.buffer;
    this.#u8 = new Uint8Array(buffer);
    this.#dv = new DataView(buffer);
    this.#i32 = new Int32Array(buffer);
    this.highWaterBytes = buffer.byteLength;
  }

  get exports(): CoreExports {
    return this.#exports;
  }

  /** Makes [base, base + bytes) addressable, growing memory if needed. */
  reserve(bytes: number): void {
    if (!(bytes <= ARENA_BYTES_MAX)) throw new WafkaError('MESSAGE_TOO_LARGE', `the core's memory: ${bytes} B asked for, over the ${ARENA_BYTES_MAX} B limit`);
    const need = this.base + bytes;
    const have = this.#exports.memory.buffer.byteLength;
    if (need > have) {
      try {
        this.#exports.memory.grow(Math.ceil((need - have) / PAGE_BYTES));
      } catch (error) {
        throw new WafkaError('MESSAGE_TOO_LARGE', `the core's memory cannot grow from ${have} B to ${need} B: ${(error as Error).message}`, { cause: error });
      }
      const now = this.#exports.memory.buffer.byteLength;
      if (now > this.highWaterBytes) this.highWaterBytes = now;
    }
    this.#refresh();
  }

  /**
   * Ends a top-level call: if memory grew past ARENA_RETAINED_BYTES, replaces
   * the instance by a fresh one (its memory back to the initial size; the old
   * one is garbage once nothing refers to it). Call only when no pointer or
   * view into the arena is still needed.
   */
  release(): void {
    if (this.#exports.memory.buffer.byteLength <= ARENA_RETAINED_BYTES) return;
    this.#exports = new WebAssembly.Instance(this.#module, {}).exports as unknown as CoreExports;
    this.releases++;
    this.#refresh();
  }

  /** Bytes of the core's memory now. */
  get memoryBytes(): number {
    return this.#exports.memory.buffer.byteLength;
  }

  /** A Uint8Array over all of memory; valid until the next reserve(). */
  get u8(): Uint8Array {
    if (this.#u8.buffer !== this.#exports.memory.buffer) this.#refresh();
    return this.#u8;
  }

  get dv(): DataView {
    if (this.#dv.buffer !== this.#exports.memory.buffer) this.#refresh();
    return this.#dv;
  }

  /** An Int32Array over all of memory (index = byte position >> 2); valid until the next reserve(). */
  get i32(): Int32Array {
    if (this.#i32.buffer !== this.#exports.memory.buffer) this.#refresh();
    return this.#i32;
  }

  /** Bytes from base to the end of memory now (what a call may use without reserve()). */
  get capacity(): number {
    return this.#exports.memory.buffer.byteLength - this.base;
  }

  #refresh(): void {
    const buf = this.#exports.memory.buffer;
    if (this.#u8.buffer !== buf) {
      this.#u8 = new Uint8Array(buf);
      this.#dv = new DataView(buf);
      this.#i32 = new Int32Array(buf);
    }
  }
}

let loading: Promise<Arena> | undefined;
let loaded: Arena | undefined;

/** The default location of the core, next to the sources in this package. */
export const WASM_URL = new URL('../../build/wafka.wasm', import.meta.url);

type WasmSource = BufferSource | WebAssembly.Module | URL | Response;

async function instantiate(source: WasmSource): Promise<WebAssembly.WebAssemblyInstantiatedSource> {
  if (source instanceof WebAssembly.Module) return { module: source, instance: await WebAssembly.instantiate(source, {}) };
  if (source instanceof URL) {
    const isNode = typeof process !== 'undefined' && !!process.versions?.node;
    if (source.protocol === 'file:' && isNode) {
      const { readFile } = await importNodeBuiltin('node:fs/promises');
      return WebAssembly.instantiate(await readFile(source), {});
    }
    return instantiate(await fetch(source));
  }
  if (typeof Response !== 'undefined' && source instanceof Response) {
    if (!source.ok) throw new Error(`wafka: cannot fetch the Wasm core: HTTP ${source.status} ${source.url}`);
    return WebAssembly.instantiate(await source.arrayBuffer(), {});
  }
  return WebAssembly.instantiate(source as BufferSource, {});
}

/**
 * Loads the core (idempotent). Pass `source` where the default URL does not
 * resolve (bundlers that do not handle `new URL(..., import.meta.url)`, Deno
 * Deploy with an embedded module, ...).
 */
export function loadCore(source: WasmSource = WASM_URL): Promise<Arena> {
  loading ??= instantiate(source).then(({ instance, module }) => {
    loaded = new Arena(instance, module);
    return loaded;
  });
  return loading;
}

/** The loaded core; throws if `loadCore()` has not resolved yet. */
export function coreSync(): Arena {
  if (!loaded) throw new Error('wafka: the Wasm core is not loaded yet: await loadCore() first');
  return loaded;
}
