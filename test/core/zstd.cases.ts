// Shared bodies (Node and Chromium) for the optional zstd adapter.
import { expect, test } from 'vitest';
import * as zstd from '@bokuweb/zstd-wasm';
import { CompressionTypes, decodeBatch, encodeBatch, loadCore, unregisterCodec } from '../../src/core/index.ts';
import { registerZstd, zstdFrameContentSize, zstdCodec } from '../../src/core/zstd.ts';
import { WafkaError } from '../../src/errors.ts';

export function zstdCases(): void {
  test('zstd batches round-trip once the adapter is registered, and fail typed without it', async () => {
    await loadCore();
    const records = Array.from({ length: 200 }, (_, i) => ({ key: `k${i % 7}`, value: JSON.stringify({ i, event: 'click', page: '/home' }) }));
    unregisterCodec(CompressionTypes.ZSTD);
    await expect(encodeBatch(records, { compression: CompressionTypes.ZSTD })).rejects.toMatchObject({ type: 'UNSUPPORTED_COMPRESSION_TYPE' });

    await registerZstd(zstd as never);
    const bytes = await encodeBatch(records, { compression: CompressionTypes.ZSTD });
    expect(bytes[22] & 7).toBe(CompressionTypes.ZSTD);
    const decoded = await decodeBatch(bytes);
    expect(decoded.records.map((r) => new TextDecoder().decode(r.value!))).toEqual(records.map((r) => r.value));
    unregisterCodec(CompressionTypes.ZSTD);
  });

  test('zstd decompression is bounded by the caller limit', async () => {
    await (zstd as never as { init(): Promise<void> }).init();
    const codec = zstdCodec(zstd as never);
    const big = new Uint8Array(3 << 20).fill(7);
    const frame = (await codec.compress(big)) as Uint8Array;
    expect(zstdFrameContentSize(frame)).toBe(BigInt(big.length));
    await expect(async () => codec.decompress(frame, 1 << 20)).rejects.toMatchObject({ type: 'MESSAGE_TOO_LARGE' });
    expect((await codec.decompress(frame, 4 << 20)).length).toBe(big.length);
    expect(() => zstdFrameContentSize(new Uint8Array([1, 2, 3, 4, 5]))).toThrow(WafkaError);
  });
}
