import { afterEach, describe, expect, test } from 'vitest';
import type { Worker } from 'node:worker_threads';
import { WafkaError } from '../../src/errors.ts';
import { BrokerClient } from '../../src/transport/broker-client.ts';
import { startNodeWorker } from '../../src/transport/node-worker.ts';
import type { ProduceRequest } from '../../src/protocol/types.ts';
import { pooledBufferBytes, takeBuffer, giveBuffer, holdBytes } from '../../src/buffer-pool.ts';

let worker: Worker | undefined;
afterEach(async () => {
  await worker?.terminate();
  worker = undefined;
});

function connect(): BrokerClient {
  worker = startNodeWorker(new URL('./fixtures/stub-broker.node-worker.ts', import.meta.url));
  return new BrokerClient(worker);
}

const produceOf = (records: Uint8Array): ProduceRequest => ({ acks: 1, timeoutMs: 1000, topics: [{ topic: 't', partitions: [{ partition: 0, records }] }] });

describe('comlink transport through a real Node worker thread', () => {
  test('a WafkaError keeps type, code and retriable across the boundary', async () => {
    const client = connect();
    const error = await client.metadata({}).catch((e) => e);
    expect(error).toBeInstanceOf(WafkaError);
    expect(error.type).toBe('NOT_LEADER_OR_FOLLOWER');
    expect(error.code).toBe(6);
    expect(error.retriable).toBe(true);
    expect(error.message).toContain('leaderEpoch 3');
  });

  test('a plain Error still arrives as an Error (comlink default)', async () => {
    const error = await connect().metrics().catch((e) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(WafkaError);
    expect(error.message).toContain('a plain bug');
  });

  test('produce records are transferred: the source buffer is detached after sending', async () => {
    const client = connect();
    const records = new Uint8Array(64 * 1024).fill(42);
    const sourceBuffer = records.buffer;
    const pending = client.produce(produceOf(records));
    // Detached synchronously by postMessage, before any answer.
    expect(sourceBuffer.byteLength).toBe(0);
    expect(records.byteLength).toBe(0);
    const response = await pending;
    expect(response.topics[0].partitions[0].baseOffset).toBe(65536n);
    expect(response.topics[0].partitions[0].logAppendTimeMs).toBe(42n);
    expect(client.bytesCopiedForTransfer).toBe(0);
  });

  test('an answered produce hands its record buffers back to the pool, where the next request takes one', async () => {
    const client = connect();
    const before = pooledBufferBytes();
    const records = new Uint8Array(48 * 1024).fill(5);
    await client.produce(produceOf(records));
    expect(pooledBufferBytes()).toBe(before + 48 * 1024);
    const reused = takeBuffer(40 * 1024);
    expect(reused.byteLength).toBe(48 * 1024);
    // The very buffer came back, bytes and all (this stub broker does not write into what it is sent).
    expect(new Uint8Array(reused).every((b) => b === 5)).toBe(true);
  });

  test('acks=0 is answered before its appends run: its buffers are not handed back', async () => {
    const client = connect();
    const before = pooledBufferBytes();
    await client.produce({ ...produceOf(new Uint8Array(40 * 1024).fill(1)), acks: 0 });
    expect(pooledBufferBytes()).toBe(before);
  });

  test('a pooled buffer larger than the request it holds is transferred whole, without a copy', async () => {
    const client = connect();
    const buffer = takeBuffer(1000);
    giveBuffer(buffer);
    const pooled = takeBuffer(700);
    expect(pooled).toBe(buffer);
    holdBytes(pooled, 700);
    const records = new Uint8Array(pooled, 0, 700).fill(3);
    const response = await client.produce(produceOf(records));
    expect(response.topics[0].partitions[0].baseOffset).toBe(700n);
    expect(client.bytesCopiedForTransfer).toBe(0);
    expect(pooled.byteLength).toBe(0);
  });

  test('a subarray payload is copied once and the larger buffer stays intact', async () => {
    const client = connect();
    const big = new Uint8Array(1000).fill(9);
    const records = big.subarray(100, 300);
    const response = await client.produce(produceOf(records));
    expect(big.buffer.byteLength).toBe(1000);
    expect(records.byteLength).toBe(200);
    expect(response.topics[0].partitions[0].baseOffset).toBe(200n);
    expect(client.bytesCopiedForTransfer).toBe(200);
  });

  test('fetch records arrive as bytes (transferred whole buffer) and pending calls settle on close', async () => {
    const client = connect();
    const response = await client.fetch({
      maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 'read_uncommitted',
      topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 100 }, { partition: 1, fetchOffset: 0n, partitionMaxBytes: 50 }] }],
    });
    const [p0, p1] = response.topics[0].partitions;
    expect(p0.records!.byteLength).toBe(100);
    expect(p1.records!.byteLength).toBe(50);
    expect(p0.records!.every((b) => b === 7)).toBe(true);
    // The whole read window came along, not a copy of the view.
    expect(p0.records!.buffer.byteLength).toBe(200);

    await worker!.terminate();
    const pending = client.metadata({});
    client.close();
    await expect(pending).rejects.toMatchObject({ type: 'BROKER_NOT_AVAILABLE' });
    await expect(client.metrics()).rejects.toMatchObject({ type: 'BROKER_NOT_AVAILABLE' });
  });
});
