import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lastSequenceOf, ProducerState, PRODUCER_BATCHES_KEPT, type IdempotentBatch } from '../../src/broker/producer-state.ts';

const batch = (baseSequence: number, records: number, baseOffset: bigint, producerEpoch = 0, producerId = 7n): IdempotentBatch =>
  ({ producerId, producerEpoch, baseSequence, lastOffsetDelta: records - 1, baseOffset, maxTimestampMs: 0 });

describe('producer state (Kafka’s ProducerStateManager)', () => {
  it('appends in sequence, answers a retry of any of the last five batches with its offsets, refuses gaps and old epochs', () => {
    const state = new ProducerState();
    let offset = 0n;
    let sequence = 0;
    const stored: { sequence: number; offset: bigint }[] = [];
    for (let i = 0; i < 8; i++) {
      const b = batch(sequence, 3, offset);
      expect(state.check(b)).toEqual({ kind: 'append' });
      state.apply(b, 0);
      stored.push({ sequence, offset });
      sequence += 3;
      offset += 3n;
    }
    for (const [i, s] of stored.entries()) {
      if (i >= stored.length - PRODUCER_BATCHES_KEPT) expect(state.check(batch(s.sequence, 3, -1n))).toEqual({ kind: 'duplicate', firstOffset: s.offset, lastOffset: s.offset + 2n });
      else expect(() => state.check(batch(s.sequence, 3, -1n))).toThrow(/OUT_OF_ORDER_SEQUENCE_NUMBER/);
    }
    expect(() => state.check(batch(sequence + 1, 1, -1n))).toThrow(/OUT_OF_ORDER_SEQUENCE_NUMBER/);
    state.apply(batch(0, 1, offset, 1), 0);
    expect(() => state.check(batch(1, 1, -1n, 0))).toThrow(/INVALID_PRODUCER_EPOCH/);
    expect(() => state.check(batch(5, 1, -1n, 2))).toThrow(/OUT_OF_ORDER_SEQUENCE_NUMBER/);
    expect(state.check(batch(0, 1, -1n, 2))).toEqual({ kind: 'append' });
  });

  it('a producer it never saw must start at sequence 0 (else UNKNOWN_PRODUCER_ID)', () => {
    const state = new ProducerState();
    expect(() => state.check(batch(4, 1, 0n))).toThrow(/UNKNOWN_PRODUCER_ID/);
    expect(state.check(batch(0, 1, 0n))).toEqual({ kind: 'append' });
  });

  it('sequences wrap past 2^31 - 1 to 0, as Kafka’s', () => {
    const max = 0x7fffffff;
    expect(lastSequenceOf(max - 1, 3)).toBe(1);
    const state = new ProducerState();
    state.apply(batch(0, 1, 0n), 0);
    // Jump the state near the top by applying a batch the broker took (as a follower would).
    state.apply(batch(1, max, 1n), 0);
    expect(state.check(batch(0, 2, -1n))).toEqual({ kind: 'append' });
  });

  it('property: after truncation to an offset, a retry is a duplicate exactly when its batch lies below that offset', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 5 }), fc.nat(), (sizes, cutSeed) => {
      const state = new ProducerState();
      let offset = 0n;
      let sequence = 0;
      const stored = sizes.map((n) => {
        const b = batch(sequence, n, offset);
        state.apply(b, 0);
        const s = { sequence, n, offset };
        sequence += n;
        offset += BigInt(n);
        return s;
      });
      const cut = BigInt(cutSeed % (Number(offset) + 1));
      state.truncateTo(cut);
      for (const s of stored) {
        const kept = s.offset + BigInt(s.n) - 1n < cut;
        let answer: unknown;
        try { answer = state.check(batch(s.sequence, s.n, -1n)); } catch (error) { answer = (error as Error).message.split(':')[0]; }
        if (kept) expect(answer).toEqual({ kind: 'duplicate', firstOffset: s.offset, lastOffset: s.offset + BigInt(s.n) - 1n });
        else expect(answer).not.toMatchObject({ kind: 'duplicate' });
      }
    }));
  });
});
