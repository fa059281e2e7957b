/**
 * The TypeScript side repeats the core's RecordBatch v2 header layout
 * (src/core/batch.ts) so that the log can read headers without a Wasm call.
 * The Wasm module exports each of its layout constants as a global: every name
 * both sides define must hold the same value, and the header's names must be
 * defined on both sides.
 */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import * as core from '../../src/core/index.ts';

const HEADER_LAYOUT = [
  'BASE_OFFSET_OFFSET', 'LENGTH_OFFSET', 'PARTITION_LEADER_EPOCH_OFFSET', 'MAGIC_OFFSET', 'CRC_OFFSET',
  'ATTRIBUTES_OFFSET', 'LAST_OFFSET_DELTA_OFFSET', 'BASE_TIMESTAMP_OFFSET', 'MAX_TIMESTAMP_OFFSET',
  'PRODUCER_ID_OFFSET', 'PRODUCER_EPOCH_OFFSET', 'BASE_SEQUENCE_OFFSET', 'RECORDS_COUNT_OFFSET', 'RECORDS_OFFSET',
  'LOG_OVERHEAD', 'RECORD_BATCH_OVERHEAD',
];

async function wasmGlobals(): Promise<Map<string, number>> {
  const module = await WebAssembly.compile(readFileSync(new URL('../../build/wafka.wasm', import.meta.url)));
  const instance = await WebAssembly.instantiate(module, { env: { abort() {}, seed: () => 0 } });
  const globals = new Map<string, number>();
  for (const { name, kind } of WebAssembly.Module.exports(module)) {
    if (kind !== 'global') continue;
    globals.set(name, Number((instance.exports[name] as WebAssembly.Global).value));
  }
  return globals;
}

test('the header layout the TypeScript side reads is the one the Wasm core writes', async () => {
  const globals = await wasmGlobals();
  const ts = core as unknown as Record<string, unknown>;
  for (const name of HEADER_LAYOUT) {
    expect(globals.has(name), `core exports ${name}`).toBe(true);
    expect(ts[name], name).toBe(globals.get(name));
  }
  const shared = [...globals.keys()].filter((name) => typeof ts[name] === 'number');
  expect(shared.length).toBeGreaterThanOrEqual(HEADER_LAYOUT.length);
  for (const name of shared) expect(ts[name], name).toBe(globals.get(name));
});
