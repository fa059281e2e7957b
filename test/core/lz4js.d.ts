// lz4js ships no types: the parts the codec tests use.
declare module 'lz4js' {
  export function compress(src: Uint8Array, maxSize?: number): Uint8Array;
  export function decompress(src: Uint8Array, maxSize?: number): Uint8Array;
  export function compressBound(n: number): number;
  /** Compresses src[sIndex, sIndex + sLength) into dst from 0; matches reach as far back as hashTable remembers. */
  export function compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number;
  const lz4js: { compress: typeof compress; decompress: typeof decompress; compressBound: typeof compressBound; compressBlock: typeof compressBlock };
  export default lz4js;
}
