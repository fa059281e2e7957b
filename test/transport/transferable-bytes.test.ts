import { describe, expect, it } from 'vitest';
import { prepareTransfer } from '../../src/transport/transferable-bytes.ts';

describe('prepareTransfer (copy-partial)', () => {
  it('transfers a buffer that the payloads cover together without overlap (a producer request cut from one buffer), no copy', () => {
    const bytes = new Uint8Array(100).map((_, i) => i);
    const parts = [bytes.subarray(40, 100), bytes.subarray(0, 40)];
    const r = prepareTransfer(parts, 'copy-partial');
    expect(r.bytesCopied).toBe(0);
    expect(r.transfer).toEqual([bytes.buffer]);
    expect(r.payloads[0]).toBe(parts[0]);
  });

  it('copies views that leave part of their buffer uncovered, or overlap', () => {
    const bytes = new Uint8Array(100);
    const gap = prepareTransfer([bytes.subarray(0, 40), bytes.subarray(50, 100)], 'copy-partial');
    expect(gap.bytesCopied).toBe(90);
    expect(gap.transfer).not.toContain(bytes.buffer);
    const overlap = prepareTransfer([bytes.subarray(0, 60), bytes.subarray(40, 100)], 'copy-partial');
    expect(overlap.bytesCopied).toBe(120);
    const whole = prepareTransfer([bytes], 'copy-partial');
    expect([whole.bytesCopied, whole.transfer[0]]).toEqual([0, bytes.buffer]);
  });

  it('copies a partial Node Buffer into a buffer of its own (Buffer#slice is a view, not a copy): the bytes around it stay usable', () => {
    const socketChunk = Buffer.from(new Uint8Array(100).map((_, i) => i));
    const records = socketChunk.subarray(60, 100);
    const r = prepareTransfer([records], 'copy-partial');
    expect(r.bytesCopied).toBe(40);
    expect(r.transfer).not.toContain(socketChunk.buffer);
    expect(r.payloads[0].buffer.byteLength).toBe(40);
    expect([...r.payloads[0]]).toEqual([...records]);
  });
});
