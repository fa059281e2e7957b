import { beforeAll, describe, expect, it } from 'vitest';
import { CompressionTypes, TimestampTypes, encodeBatchSync, loadCore } from '../../src/core/index.ts';
import { loadBatchCodec } from '../../src/client/core-codec.ts';
import { appendMessages } from '../../src/client/consumer.ts';
import type { BatchCodec } from '../../src/client/codec.ts';
import type { KafkaMessage } from '../../src/client/types.ts';
import { text } from './wait.ts';

let codec: BatchCodec;
beforeAll(async () => { await loadCore(); codec = await loadBatchCodec(); });

async function messagesOf(bytes: Uint8Array, fromOffset: bigint): Promise<KafkaMessage[]> {
  const out: KafkaMessage[] = [];
  const { batches, failure } = await codec.decodeBatches(bytes);
  if (failure) throw failure.error;
  for (const batch of batches) appendMessages(batch, fromOffset, out);
  return out;
}

describe('consumer messages from a record table', () => {
  const records = [
    { key: 'a', value: 'one', timestamp: 1_700_000_000_000, headers: { h: 'x', r: ['1', '2'] } },
    { key: null, value: 'two', timestamp: 1_700_000_000_000 },
    { key: 'c', value: null, timestamp: 1_700_000_000_007 },
    { key: 'd', value: 'four', timestamp: 1_699_999_999_999 },
  ];

  for (const [name, baseOffset] of [['small offsets', 5n], ['offsets crossing 2^31', 2n ** 31n - 2n], ['offsets past 2^53', 2n ** 53n + 10n]] as const) {
    for (const compression of [CompressionTypes.None, CompressionTypes.LZ4]) {
      it(`${name}, compression ${compression}: every field as KafkaJS has it, from a position inside the batch`, async () => {
        const bytes = encodeBatchSync(records, { baseOffset, compression });
        const all = await messagesOf(bytes, baseOffset);
        expect(all.map((m) => m.offset)).toEqual([0n, 1n, 2n, 3n].map((d) => String(baseOffset + d)));
        expect(all.map((m) => m.timestamp)).toEqual(records.map((r) => String(r.timestamp)));
        expect(all.map((m) => text(m.key))).toEqual(['a', null, 'c', 'd']);
        expect(all.map((m) => text(m.value))).toEqual(['one', 'two', null, 'four']);
        expect(all.map((m) => m.size)).toEqual([8 + 1 + 3, 8 + 3, 8 + 1, 8 + 1 + 4]);
        expect(text(all[0].headers.h as Uint8Array)).toBe('x');
        expect((all[0].headers.r as Uint8Array[]).map(text)).toEqual(['1', '2']);
        expect(all[1].headers).toEqual({});
        for (const m of all) expect(m).toMatchObject({ attributes: 0, isControlRecord: false });
        const tail = await messagesOf(bytes, baseOffset + 2n);
        expect(tail.map((m) => m.offset)).toEqual([String(baseOffset + 2n), String(baseOffset + 3n)]);
        expect({ ...tail[1], key: text(tail[1].key), value: text(tail[1].value) }).toEqual({
          key: 'd', value: 'four', timestamp: '1699999999999', attributes: 0, offset: String(baseOffset + 3n), headers: {}, size: 13, isControlRecord: false,
        });
      });
    }
  }

  it('LogAppendTime batches: every message has the batch max timestamp', async () => {
    const bytes = encodeBatchSync(records, { timestampType: TimestampTypes.LOG_APPEND_TIME });
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    const maxTs = dv.getBigInt64(35);
    const all = await messagesOf(bytes, 0n);
    expect(all.map((m) => m.timestamp)).toEqual(records.map(() => String(maxTs)));
  });
});
