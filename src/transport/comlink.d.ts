/**
 * Types for comlink's ESM entry points, which the transport imports by path
 * (see endpoint.ts: on Node the bare 'comlink' is the UMD build, and two copies
 * would not share transfer handlers). TypeScript looks for `.d.mts` next to an
 * `.mjs` and comlink ships only `.d.ts`, so these re-export comlink's own types.
 */
declare module 'comlink/dist/esm/comlink.mjs' {
  export * from 'comlink/dist/esm/comlink';
}

declare module 'comlink/dist/esm/node-adapter.mjs' {
  export * from 'comlink/dist/esm/node-adapter';
  export { default } from 'comlink/dist/esm/node-adapter';
}
