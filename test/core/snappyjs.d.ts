// snappyjs and kafkajs-snappy ship no types: the parts the codec tests use.
declare module 'snappyjs' {
  export function compress<T extends Uint8Array | ArrayBuffer>(src: T): T;
  export function uncompress<T extends Uint8Array | ArrayBuffer>(src: T, maxLength?: number): T;
  const snappyjs: { compress: typeof compress; uncompress: typeof uncompress };
  export default snappyjs;
}
declare module 'kafkajs-snappy' {
  interface Codec {
    compress(encoder: { buffer: Buffer }): Promise<Buffer>;
    decompress(buffer: Buffer): Promise<Buffer>;
  }
  const SnappyCodec: () => Codec;
  export default SnappyCodec;
}
