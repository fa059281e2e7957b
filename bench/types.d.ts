// Peers without their own type declarations.
declare module 'lz4js' {
  export function compress(src: Uint8Array, maxSize?: number): Uint8Array;
  export function decompress(src: Uint8Array, maxSize?: number): Uint8Array;
  const lz4js: { compress: typeof compress; decompress: typeof decompress };
  export default lz4js;
}
declare module 'snappyjs' {
  export function compress(src: Uint8Array | ArrayBuffer): Uint8Array;
  export function uncompress(src: Uint8Array | ArrayBuffer, maxLength?: number): Uint8Array;
  const snappyjs: { compress: typeof compress; uncompress: typeof uncompress };
  export default snappyjs;
}
