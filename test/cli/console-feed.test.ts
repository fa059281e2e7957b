// The CLI's console feed over real HTTP on 127.0.0.1: snapshots as server-sent events (each within the
// byte bound, topics cut to fit; never more often than the snapshot interval), calls answered as JSON,
// loopback names and the server's own origin only, bounded streams and bodies, and a clean close.
import { createServer, request, type Server } from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { consoleFeed, snapshotEvent, type ConsoleFeed } from '../../src/cli/console-feed.ts';
import { clusterSource } from '../../src/console/cluster-source.ts';
import { fromWire, type WireTailRecord } from '../../src/console/feed-protocol.ts';
import { SNAPSHOT_INTERVAL_MS } from '../../src/console/limits.ts';
import type { ConsoleSnapshot } from '../../src/console/types.ts';
import { startCluster, type Cluster } from '../../src/index.ts';

let cluster: Cluster | undefined;
let server: Server | undefined;
let feed: ConsoleFeed | undefined;
afterEach(async () => {
  feed?.close();
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await cluster?.stop();
  cluster = server = feed = undefined;
});

type Source = ReturnType<typeof clusterSource>;

async function serveFeed(options: Parameters<typeof consoleFeed>[1] = {}, wrap: (source: Source) => Source = (source) => source): Promise<string> {
  cluster = await startCluster({ storage: 'memory', brokers: 2 });
  feed = consoleFeed(wrap(clusterSource(cluster)), options);
  const f = feed;
  server = createServer((req, res) => { if (!f.handle(req, res)) res.writeHead(404).end(); });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

/** Reads `count` snapshot events from the stream (with the bytes of each), then stops reading. */
async function readEvents(url: string, count: number): Promise<{ snapshots: ConsoleSnapshot[]; sizes: number[] }> {
  const response = await fetch(`${url}/console/feed`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/event-stream');
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  const snapshots: ConsoleSnapshot[] = [];
  const sizes: number[] = [];
  while (snapshots.length < count) {
    const { value, done } = await reader.read();
    if (done) throw new Error('the stream ended early');
    buffered += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const event = buffered.slice(0, end + 2);
      buffered = buffered.slice(end + 2);
      const data = /^event: snapshot\ndata: (.*)\n\n$/s.exec(event);
      if (!data) continue;
      sizes.push(Buffer.byteLength(event));
      snapshots.push(JSON.parse(data[1]) as ConsoleSnapshot);
    }
  }
  await reader.cancel();
  return { snapshots, sizes };
}

/** A raw request, so the Host and Origin headers can be set as another site's page would. */
function raw(url: string, path: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers }, (res) => {
      let text = '';
      res.on('data', (d) => { text += String(d); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const call = async (url: string, name: string, args: unknown[]) => {
  const response = await fetch(`${url}/console/api/${name}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(args) });
  return { status: response.status, body: await response.json() as { ok: boolean; result?: unknown; error?: { type: string; message: string } } };
};

describe('the console feed', () => {
  test("keeps the interval between snapshots' own times when the source takes them late", async () => {
    // Every other snapshot is taken 60 ms after the feed asks for it.
    let asked = 0;
    const url = await serveFeed({}, (real) => {
      const source = Object.create(real) as Source;
      source.snapshot = async () => {
        if (asked++ % 2 === 0) await new Promise((r) => setTimeout(r, 60));
        return real.snapshot();
      };
      return source;
    });
    const { snapshots } = await readEvents(url, 4);
    for (let i = 1; i < snapshots.length; i++) expect(snapshots[i].atMs - snapshots[i - 1].atMs).toBeGreaterThanOrEqual(SNAPSHOT_INTERVAL_MS - 5);
  });

  test('snapshots stream at most once per interval; calls produce, tail and administer; close ends the streams', async () => {
    const url = await serveFeed();
    expect((await call(url, 'createTopic', ['feed-topic', 2, 2])).body).toEqual({ ok: true, result: null });
    const sent = await call(url, 'produce', [{ topic: 'feed-topic', partition: 1, key: 'k', value: 'hello', headers: [{ key: 'h', value: 'v' }] }]);
    expect(sent.body).toEqual({ ok: true, result: { partition: 1, offset: '0' } });

    const { snapshots } = await readEvents(url, 3);
    for (const s of snapshots) {
      expect(s.brokers.map((b) => [b.nodeId, b.state])).toEqual([[0, 'up'], [1, 'up']]);
      expect(s.topics.map((t) => t.name)).toEqual(['feed-topic']);
    }
    expect(snapshots.at(-1)!.topics[0].partitions[1]).toMatchObject({ logEndOffset: '1', highWatermark: '1', segmentCount: 1 });
    // The rate bound: the loop waits the interval between the starts of two snapshots (atMs is a snapshot's start).
    for (let i = 1; i < snapshots.length; i++) expect(snapshots[i].atMs - snapshots[i - 1].atMs).toBeGreaterThanOrEqual(SNAPSHOT_INTERVAL_MS - 5);

    const start = await call(url, 'tailStart', ['feed-topic', [1], { from: 'earliest' }]);
    expect(start.body).toEqual({ ok: true, result: [{ partition: 1, offset: '0' }] });
    const tail = await call(url, 'tail', ['feed-topic', start.body.result]);
    const result = tail.body.result as { records: WireTailRecord[]; positions: unknown };
    expect(result.positions).toEqual([{ partition: 1, offset: '1' }]);
    const [record] = result.records.map(fromWire);
    expect(new TextDecoder().decode(record.value!)).toBe('hello');
    expect(new TextDecoder().decode(record.key!)).toBe('k');
    expect(record.headers.map((h) => [h.key, new TextDecoder().decode(h.value!)])).toEqual([['h', 'v']]);

    // A group's offsets reset from outside it (it has no members): the snapshots then show the group and its lag.
    expect((await call(url, 'resetGroupOffsets', ['feed-group', 'feed-topic', 'earliest'])).body).toEqual({ ok: true, result: null });
    expect((await call(url, 'resetGroupOffsets', ['feed-group', 'feed-topic', 'sideways'])).body.error?.type).toBe('INVALID_REQUEST');
    const withGroup = (await readEvents(url, 2)).snapshots.at(-1)!;
    expect(withGroup.groups?.map((g) => [g.groupId, g.state, g.members.length])).toEqual([['feed-group', 'Empty', 0]]);
    expect(withGroup.groups![0].offsets.map((o) => [o.partition, o.committed, o.lag])).toEqual([[0, '0', '0'], [1, '0', '1']]);
    expect(withGroup.groups![0].totalLag).toBe('1');

    // Bad calls are typed errors, not crashes.
    expect((await call(url, 'tail', ['feed-topic', [{ partition: 1, offset: 'x' }]])).body.error?.type).toBe('INVALID_REQUEST');
    expect((await call(url, 'deleteTopic', ['nope'])).body.error?.type).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect((await call(url, 'produce', [{ topic: 'feed-topic', key: null, value: 'x'.repeat(70_000), headers: [] }])).body.error?.type).toBe('MESSAGE_TOO_LARGE');
    expect((await raw(url, '/console/api/snapshotEverything', 'POST', { 'content-type': 'application/json' }, '[]')).status).toBe(404);

    // close() ends an open stream: its reader sees the end.
    const open = await fetch(`${url}/console/feed`);
    const reader = open.body!.getReader();
    await reader.read();
    expect(feed!.clients).toBe(1);
    feed!.close();
    for (;;) if ((await reader.read()).done) break;
    expect(feed!.clients).toBe(0);
    expect((await fetch(`${url}/console/feed`)).status).toBe(503);
  });

  test('loopback only: another host name, another origin, a non-JSON call and a large body are refused', async () => {
    const url = await serveFeed();
    const port = new URL(url).port;
    expect((await raw(url, '/console/feed', 'GET', { host: `evil.example:${port}` })).status).toBe(403);
    expect((await raw(url, '/console/api/deleteTopic', 'POST', { 'content-type': 'application/json', origin: 'http://evil.example' }, '["t"]')).status).toBe(403);
    expect((await raw(url, '/console/api/deleteTopic', 'POST', { 'content-type': 'text/plain' }, '["t"]')).status).toBe(403);
    expect((await raw(url, '/console/api/deleteTopic', 'POST', { 'content-type': 'application/json', origin: url }, '["t"]')).status).toBe(400);
    expect((await raw(url, '/console/api/produce', 'POST', { 'content-type': 'application/json' }, JSON.stringify(['x'.repeat(200_000)]))).status).toBe(413);
    expect((await raw(url, '/console/feed', 'POST', {})).status).toBe(405);
  });

  test('streams are bounded in number, and events in bytes (topics cut to fit, counted as left out)', async () => {
    const url = await serveFeed({ clientsMax: 2, messageBytesMax: 8192 });
    for (let i = 0; i < 12; i++) expect((await call(url, 'createTopic', [`topic-${String(i).padStart(2, '0')}`, 4, 1])).body.ok).toBe(true);
    const first = await fetch(`${url}/console/feed`);
    const second = await fetch(`${url}/console/feed`);
    expect((await fetch(`${url}/console/feed`)).status).toBe(503);
    await first.body!.cancel();
    await second.body!.cancel();
    // Both streams ended: a new one is taken.
    for (let i = 0; i < 100 && feed!.clients > 0; i++) await new Promise((r) => setTimeout(r, 10));
    const { snapshots, sizes } = await readEvents(url, 2);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(8192);
    const s = snapshots.at(-1)!;
    expect(s.topics.length).toBeGreaterThan(0);
    expect(s.topics.length + s.topicsLeftOut).toBe(12);
  });

  test('snapshotEvent cuts topics until the event fits, and refuses what cannot fit', () => {
    const snapshot: ConsoleSnapshot = {
      atMs: 1, clusterId: 'c', metadataVersion: 1, controllerId: 0, controllerEpoch: 1, brokers: [{ nodeId: 0, state: 'up' }], topicsLeftOut: 0,
      topics: Array.from({ length: 100 }, (_, i) => ({ name: `t${i}`, partitions: [{ partition: 0, leader: 0, leaderEpoch: 0, replicas: [0], isr: [0] }] })),
    };
    const event = snapshotEvent(snapshot, 2000);
    expect(Buffer.byteLength(event)).toBeLessThanOrEqual(2000);
    const cut = JSON.parse(event.slice(event.indexOf('data: ') + 6)) as ConsoleSnapshot;
    expect(cut.topics.length + cut.topicsLeftOut).toBe(100);
    expect(() => snapshotEvent(snapshot, 50)).toThrow(RangeError);
  });
});
