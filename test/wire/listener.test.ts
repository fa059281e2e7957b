// The listener's framing, ordering and limits (src/wire/listener.ts), over raw TCP sockets against an in-process cluster.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { concatBytes } from '../../src/bytes.ts';
import { createLogger, logLevel, type LogEntry } from '../../src/client/logger.ts';
import { startCluster, type Cluster } from '../../src/index.ts';
import { WIRE_APIS_BY_KEY } from '../../src/wire/apis/index.ts';
import { Reader, Writer } from '../../src/wire/codec.ts';
import { decode, encode, type Struct } from '../../src/wire/schema.ts';
import { sleep } from '../client/wait.ts';

let cluster: Cluster | undefined;
afterEach(async () => { await cluster?.stop(); cluster = undefined; });

async function start(limits: Record<string, number> = {}) {
  const logged: string[] = [];
  const logger = createLogger({ level: logLevel.WARN, logCreator: () => (entry: LogEntry) => { logged.push(entry.log.message); } });
  cluster = await startCluster({ storage: 'memory', brokers: 1, clusterId: 'wire-listener', listen: { port: 0, logger, ...limits } });
  return { port: cluster.listeners[0].port, logged };
}

/** A size-prefixed request frame. */
function request(apiKey: number, version: number, correlationId: number, body: Struct): Uint8Array {
  const api = WIRE_APIS_BY_KEY.get(apiKey)!;
  const w = new Writer(64);
  w.int32(0);
  w.int16(apiKey); w.int16(version); w.int32(correlationId); w.string('listener-test', false);
  if (version >= api.request.flexibleFrom) w.uvarint(0);
  encode(api.request, w, body, version);
  const frame = concatBytes(w.finish());
  new DataView(frame.buffer).setInt32(0, frame.length - 4);
  return frame;
}

/** A client that collects response frames (correlation id and body bytes) as they arrive. */
async function client(port: number) {
  const socket = await new Promise<Socket>((resolve, reject) => { const s = connect(port, '127.0.0.1', () => resolve(s)); s.on('error', reject); });
  const responses: { correlationId: number; body: Uint8Array }[] = [];
  let buffered: Uint8Array = new Uint8Array(0);
  let closed = false;
  socket.on('data', (d: Uint8Array) => {
    buffered = concatBytes([buffered, d]);
    while (buffered.length >= 4) {
      const size = new DataView(buffered.buffer, buffered.byteOffset).getInt32(0);
      if (buffered.length < 4 + size) break;
      const frame = buffered.subarray(4, 4 + size);
      responses.push({ correlationId: new DataView(frame.buffer, frame.byteOffset).getInt32(0), body: frame.subarray(4) });
      buffered = buffered.subarray(4 + size);
    }
  });
  socket.on('close', () => { closed = true; });
  socket.on('error', () => {});
  return { socket, responses, get closed() { return closed; } };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1500 && !check(); i++) await sleep(10);
  if (!check()) throw new Error(`never happened: ${what}`);
}

const FETCH_V4 = (partitions: { topic: string; maxWaitMs: number }) => ({
  replicaId: -1, maxWaitMs: partitions.maxWaitMs, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0,
  topics: [{ topic: partitions.topic, partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
});

describe('wire listener', () => {
  it('answers pipelined requests in the order they came, even when an earlier one long-polls', async () => {
    const { port } = await start();
    await cluster!.broker(0).createTopics({ topics: [{ topic: 'quiet', numPartitions: 1 }] });
    const c = await client(port);
    c.socket.write(concatBytes([
      request(1, 4, 1, FETCH_V4({ topic: 'quiet', maxWaitMs: 300 })), // waits: the partition is empty
      request(18, 0, 2, {}),
      request(3, 1, 3, { topics: null }),
    ]));
    await until(() => c.responses.length === 3, 'three answers');
    expect(c.responses.map((r) => r.correlationId)).toEqual([1, 2, 3]);
    const versions = decode(WIRE_APIS_BY_KEY.get(18)!.response, new Reader(c.responses[1].body), 0);
    expect(versions.errorCode).toBe(0);
    expect(versions.apiKeys.map((k: { apiKey: number }) => k.apiKey)).toContain(1);
    c.socket.destroy();
  });

  it('ApiVersions of a version newer than served: UNSUPPORTED_VERSION in the v0 format with the served ranges (KIP-511)', async () => {
    const { port } = await start();
    const c = await client(port);
    const frame = request(18, 3, 7, { clientSoftwareName: 'x', clientSoftwareVersion: '1' });
    new DataView(frame.buffer).setInt16(6, 99); // api_version 99
    c.socket.write(frame);
    await until(() => c.responses.length === 1, 'an answer');
    const answer = decode(WIRE_APIS_BY_KEY.get(18)!.response, new Reader(c.responses[0].body), 0);
    expect(answer.errorCode).toBe(35);
    expect(answer.apiKeys.find((k: { apiKey: number }) => k.apiKey === 18)).toEqual({ apiKey: 18, minVersion: 0, maxVersion: 3 });
    c.socket.destroy();
  });

  it('with inFlightRequestsMax 2, ten pipelined requests are all answered, in order', async () => {
    const { port } = await start({ inFlightRequestsMax: 2 });
    const c = await client(port);
    c.socket.write(concatBytes(Array.from({ length: 10 }, (_, i) => request(18, 1, 100 + i, {}))));
    await until(() => c.responses.length === 10, 'ten answers');
    expect(c.responses.map((r) => r.correlationId)).toEqual(Array.from({ length: 10 }, (_, i) => 100 + i));
    c.socket.destroy();
  });

  it('a frame over socketRequestMaxBytes, a malformed frame, an unknown API key: that connection closes with a logged reason; another keeps being served', async () => {
    const { port, logged } = await start({ socketRequestMaxBytes: 1024 });
    const good = await client(port);
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array([0, 0, 0x10, 0]), /request of 4096 bytes is larger than socketRequestMaxBytes \(1024\)/],
      [new Uint8Array([0, 0, 0, 2, 0, 18]), /malformed request: frame size 2/],
      [(() => { const f = request(18, 0, 1, {}); new DataView(f.buffer).setInt16(4, 200); return f; })(), /unknown API key 200/],
      [(() => { const f = request(18, 1, 1, {}); new DataView(f.buffer).setInt32(0, f.length - 3); return f; })(), /malformed request: 1 bytes after the end/],
      [(() => { const f = request(3, 1, 1, { topics: null }); new DataView(f.buffer).setInt16(6, 200); return f; })(), /Metadata v200 is not served/],
    ];
    for (const [bytes, reason] of cases) {
      const bad = await client(port);
      bad.socket.write(bytes);
      if (reason.source.includes('after the end')) bad.socket.write(new Uint8Array([0])); // completes the frame whose size lies
      await until(() => bad.closed, `the listener closing on ${reason}`);
      expect(logged.at(-1)).toMatch(reason);
      good.socket.write(request(18, 2, logged.length, {}));
      await until(() => good.responses.length === logged.length, 'the good connection answered');
    }
    expect(good.closed).toBe(false);
    good.socket.destroy();
  });

  it('connectionsMax: one connection more is closed at once and logged; idleTimeoutMs closes a connection with nothing open', async () => {
    const { port, logged } = await start({ connectionsMax: 2, idleTimeoutMs: 200 });
    const a = await client(port);
    const b = await client(port);
    const c = await client(port);
    await until(() => c.closed, 'the third connection closed');
    expect(logged.some((l) => /refused: 2 connections open, connectionsMax is 2/.test(l))).toBe(true);
    await until(() => a.closed && b.closed, 'idle connections closed');
    expect(logged.filter((l) => /idle for 200 ms/.test(l))).toHaveLength(2);
  });
});
