// What a producer holds when its sends outrun the broker: live ArrayBuffer bytes measured in a child
// process with --expose-gc (fixtures/producer-memory.child.ts), while a broker holds every answer back.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { POOL_BYTES_MAX } from '../../src/buffer-pool.ts';
import { Wafka, logLevel } from '../../src/index.ts';
import { FakeCluster } from './fake-broker.ts';

const CHILD = fileURLToPath(new URL('./fixtures/producer-memory.child.ts', import.meta.url));
const MiB = 1024 * 1024;
/** What a send still appending keeps per message (its size estimate and string positions). */
const PENDING_MESSAGE_BYTES = 16;
/** One batch's staging past the bound, rounding, small buffers of the client. */
const SLACK_BYTES = 512 * 1024;

interface Result {
  heldBytes: number; afterBytes: number; poolBytes: number; wasmGrowthBytes: number; valueBytes: number;
  bufferedBytes: number; recordsAppended: number; heldRequests: number;
}

async function saturate(spec: { partitions: number; valueKind: string; valueLength: number; messagesPerSend: number; sends: number }) {
  const full = { bufferMemoryBytes: 4 * MiB, batchSizeBytes: 16384, maxRequestSizeBytes: MiB, maxInFlightRequests: 5, ...spec };
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD, JSON.stringify(full)], { timeout: 60_000 });
  const result = JSON.parse(stdout.trim().split('\n').pop()!) as Result;
  // The sends offered far more than the bound: the producer was full when measured.
  expect(spec.messagesPerSend * spec.sends * result.valueBytes).toBeGreaterThan(2 * full.bufferMemoryBytes);
  expect(result.heldRequests).toBeGreaterThanOrEqual(1);
  const boundBytes = full.bufferMemoryBytes + POOL_BYTES_MAX + result.wasmGrowthBytes + PENDING_MESSAGE_BYTES * spec.messagesPerSend * spec.sends + SLACK_BYTES;
  expect(result.bufferedBytes).toBeLessThanOrEqual(full.bufferMemoryBytes + SLACK_BYTES);
  expect(result.heldBytes).toBeLessThanOrEqual(boundBytes);
  expect(result.afterBytes).toBeLessThan(MiB);
  return result;
}

describe('producer memory: live buffers within bufferMemoryBytes plus a constant', () => {
  it('10 kB values in 16 kB batches (a batch of its own each)', async () => {
    await saturate({ partitions: 3, valueKind: 'ascii', valueLength: 10_000, messagesPerSend: 100, sends: 10 });
  });

  it('strings of two-byte characters (counted by their UTF-8 bytes)', async () => {
    await saturate({ partitions: 3, valueKind: 'utf8', valueLength: 1000, messagesPerSend: 500, sends: 10 });
  });

  it('small records over 64 partitions', async () => {
    await saturate({ partitions: 64, valueKind: 'ascii', valueLength: 100, messagesPerSend: 10_000, sends: 10 });
  });
});

describe('a send waiting for its acknowledgement', () => {
  it("holds none of the caller's messages", async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const cluster = new FakeCluster(1);
    cluster.createTopic('t', 1);
    const wafka = new Wafka({ clientId: 'test', cluster: cluster.brokers, logLevel: logLevel.NOTHING });
    // The linger keeps the send's batch open, so the send waits as it would for a slow broker.
    const producer = wafka.producer({ lingerMs: 300 });
    await producer.connect();
    let messages: { value: string }[] | undefined = Array.from({ length: 1000 }, (_, i) => ({ value: `value-${i}-`.padEnd(100, 'x') }));
    const held = new WeakRef(messages);
    const sent = producer.send({ topic: 't', messages, acks: 1 });
    messages = undefined;
    await new Promise((r) => setTimeout(r, 20));
    gc();
    await new Promise((r) => setTimeout(r, 0));
    gc();
    const retained = held.deref() !== undefined;
    const [meta] = await sent;
    await producer.disconnect();
    expect(meta.baseOffset).toBe('0');
    expect(retained).toBe(false);
  });
});
