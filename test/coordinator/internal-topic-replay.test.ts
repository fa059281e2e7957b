// The replay a new coordinator loads an internal topic's partition with: it ends only once the log's tail is
// committed, so a record the previous leader appended but never committed is not served.
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeBatchSync, loadCore } from '../../src/core/index.ts';
import { replayInternalPartition, type InternalLogReader } from '../../src/coordinator/internal-topic-replay.ts';
import { WafkaError } from '../../src/errors.ts';

const text = new TextEncoder();
const words = new TextDecoder();

/** A log of one single-record batch per value, offsets 0.., whose committed() the test settles. */
function logOf(values: string[]) {
  const batches = values.map((v, i) => encodeBatchSync([{ key: text.encode(`k${i}`), value: text.encode(v) }], { baseOffset: i }));
  const asked: bigint[] = [];
  let settle: { resolve: () => void; reject: (error: Error) => void } | undefined;
  const reader: InternalLogReader = {
    logStartOffset: () => 0n,
    logEndOffset: () => BigInt(values.length),
    async read(offset, _maxBytes, upTo) {
      const picked = batches.slice(Number(offset), Number(upTo));
      const bytes = new Uint8Array(picked.reduce((n, b) => n + b.byteLength, 0));
      let at = 0;
      for (const b of picked) { bytes.set(b, at); at += b.byteLength; }
      return bytes;
    },
    committed(offset) {
      asked.push(offset);
      return new Promise<void>((resolve, reject) => { settle = { resolve, reject }; });
    },
  };
  return { reader, asked, settle: () => settle! };
}

async function drain(log: InternalLogReader, seen: string[]): Promise<void> {
  for await (const chunk of replayInternalPartition(log, (r) => words.decode(r.value!))) seen.push(...chunk);
}

describe('replayInternalPartition', () => {
  beforeAll(() => loadCore());

  it('reads to the log end as it began, then ends only once the high watermark reaches it', async () => {
    const log = logOf(['a', 'b', 'c']);
    const seen: string[] = [];
    let ended = false;
    const done = drain(log.reader, seen).then(() => { ended = true; });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(log.asked).toEqual([3n]);
    expect(ended).toBe(false);
    log.settle().resolve();
    await done;
    expect(ended).toBe(true);
  });

  it('fails when the log stops being led here before its tail commits', async () => {
    const log = logOf(['a', 'b']);
    const done = drain(log.reader, []);
    await new Promise((resolve) => setTimeout(resolve, 10));
    log.settle().reject(new WafkaError('NOT_LEADER_OR_FOLLOWER', 'leadership moved'));
    await expect(done).rejects.toMatchObject({ type: 'NOT_LEADER_OR_FOLLOWER' });
  });

  it('an empty log waits for nothing past its start', async () => {
    const log = logOf([]);
    const done = drain(log.reader, []);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(log.asked).toEqual([0n]);
    log.settle().resolve();
    await done;
  });
});
