/**
 * The console's live feed, served by `wafka start` beside the pages
 * (protocol: src/console/feed-protocol.ts). Loopback only: requests must
 * come from a loopback address and name a loopback host (a page of another
 * site cannot reach it through DNS rebinding), and calls must come from the
 * server's own origin. One snapshot loop for every open stream, running
 * only while one is open; a stream that cannot keep up skips snapshots
 * rather than buffering them. close() ends every stream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { systemClock, type TimerHandle } from '../clock.ts';
import { asWafkaError } from '../protocol/error-json.ts';
import { API_CALLS, API_PATH, FEED_CLIENTS_MAX, FEED_MESSAGE_BYTES_MAX, FEED_PATH, FEED_REQUEST_BYTES_MAX, toWire, type ApiCall } from '../console/feed-protocol.ts';
import { nextSnapshotDelayMs } from '../console/limits.ts';
import type { ConsoleSnapshot, ConsoleSource, TailResult } from '../console/types.ts';

const LOOPBACK_ADDRESSES = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface ConsoleFeedOptions {
  /** Bytes of one event at most (default FEED_MESSAGE_BYTES_MAX); topics are cut to fit. */
  messageBytesMax?: number;
  clientsMax?: number;
}

export interface ConsoleFeed {
  /** Answers the request when it is the feed's (true), else leaves it (false). */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Open event streams. */
  readonly clients: number;
  close(): void;
}

/** Whether the request is from this machine, to a loopback name, and (for calls) from the page's own origin. */
export function loopbackRequest(req: IncomingMessage, call: boolean): string | null {
  if (!LOOPBACK_ADDRESSES.has(req.socket.remoteAddress ?? '')) return 'not from a loopback address';
  const host = (req.headers.host ?? '').replace(/:\d+$/, '');
  if (!LOOPBACK_HOSTS.has(host)) return `host '${host}' is not a loopback name`;
  if (call) {
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host}`) return `origin '${origin}' is not this server's`;
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return 'calls are application/json';
  }
  return null;
}

/** The snapshot as one event of at most `bytesMax` bytes: topics are dropped from the end until it fits. */
export function snapshotEvent(snapshot: ConsoleSnapshot, bytesMax: number): string {
  let s = snapshot;
  for (;;) {
    const event = `event: snapshot\ndata: ${JSON.stringify(s)}\n\n`;
    if (Buffer.byteLength(event) <= bytesMax) return event;
    if (s.topics.length === 0) {
      s = { ...s, brokers: s.brokers.map((b) => ({ nodeId: b.nodeId, state: b.state, reason: b.reason })) };
      const bare = `event: snapshot\ndata: ${JSON.stringify(s)}\n\n`;
      if (Buffer.byteLength(bare) <= bytesMax) return bare;
      throw new RangeError(`a snapshot without topics is still over ${bytesMax} B`);
    }
    const keep = Math.floor(s.topics.length / 2);
    const kept = new Set(s.topics.slice(0, keep).map((t) => t.name));
    s = {
      ...s,
      topics: s.topics.slice(0, keep),
      topicsLeftOut: s.topicsLeftOut + s.topics.length - keep,
      // The brokers' per-replica and per-topic entries go with their topics.
      brokers: s.brokers.map((b) => (b.metrics ? { ...b, metrics: { ...b.metrics, replicas: b.metrics.replicas.filter((r) => kept.has(r.topic)), topics: b.metrics.topics.filter((t) => kept.has(t.topic)) } } : b)),
    };
  }
}

export function consoleFeed(source: ConsoleSource, options: ConsoleFeedOptions = {}): ConsoleFeed {
  const bytesMax = options.messageBytesMax ?? FEED_MESSAGE_BYTES_MAX;
  const clientsMax = options.clientsMax ?? FEED_CLIENTS_MAX;
  const streams = new Set<{ res: ServerResponse; draining: boolean }>();
  let timer: TimerHandle | undefined;
  let running = false;
  let closed = false;

  async function loop(): Promise<void> {
    if (running) return;
    running = true;
    while (streams.size > 0 && !closed) {
      const askedMs = systemClock.nowMs();
      let atMs: number | undefined;
      let event: string;
      try {
        const snapshot = await source.snapshot();
        atMs = snapshot.atMs;
        event = snapshotEvent(snapshot, bytesMax);
      } catch (error) {
        event = `event: failure\ndata: ${JSON.stringify({ message: asWafkaError(error).message })}\n\n`;
      }
      for (const stream of streams) {
        if (stream.draining) continue;
        if (!stream.res.write(event)) {
          stream.draining = true;
          stream.res.once('drain', () => { stream.draining = false; });
        }
      }
      await new Promise<void>((resolve) => { timer = systemClock.setTimeout(resolve, nextSnapshotDelayMs(askedMs, systemClock.nowMs(), atMs)); });
    }
    running = false;
  }

  function openStream(req: IncomingMessage, res: ServerResponse): void {
    if (closed || streams.size >= clientsMax) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end(`the console feed serves ${clientsMax} streams at most`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write('retry: 1000\n\n');
    const stream = { res, draining: false };
    streams.add(stream);
    const drop = () => streams.delete(stream);
    req.on('close', drop);
    res.on('close', drop);
    void loop();
  }

  async function answerCall(name: ApiCall, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(text);
    };
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > FEED_REQUEST_BYTES_MAX) {
          res.setHeader('connection', 'close');
          reply(413, { ok: false, error: { type: 'MESSAGE_TOO_LARGE', message: `a call's body is ${FEED_REQUEST_BYTES_MAX} B at most` } });
          // The rest is read and dropped (nothing more is kept), so the client sees the answer rather than a reset.
          req.resume();
          return;
        }
        chunks.push(chunk as Buffer);
      }
      const args: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (!Array.isArray(args) || args.length > 4) throw new TypeError('a call\'s body is a JSON array of its arguments');
      const method = source[name] as (...a: unknown[]) => Promise<unknown>;
      let result = await method.apply(source, args);
      if (name === 'tail') result = { ...(result as TailResult), records: (result as TailResult).records.map(toWire) };
      reply(200, { ok: true, result: result ?? null });
    } catch (error) {
      const e = error instanceof SyntaxError || error instanceof TypeError ? { type: 'INVALID_REQUEST', message: error.message } : asWafkaError(error);
      reply(400, { ok: false, error: { type: e.type, message: e.message } });
    }
  }

  return {
    get clients() { return streams.size; },
    handle(req, res) {
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      const isFeed = path === FEED_PATH;
      const isCall = path.startsWith(API_PATH);
      if (!isFeed && !isCall) return false;
      const refused = loopbackRequest(req, isCall);
      if (refused) { res.writeHead(403, { 'content-type': 'text/plain' }).end(`console feed: ${refused}`); return true; }
      if (isFeed) {
        if (req.method !== 'GET') { res.writeHead(405, { allow: 'GET' }).end(); return true; }
        openStream(req, res);
        return true;
      }
      const name = path.slice(API_PATH.length) as ApiCall;
      if (req.method !== 'POST') { res.writeHead(405, { allow: 'POST' }).end(); return true; }
      if (!API_CALLS.includes(name)) { res.writeHead(404, { 'content-type': 'text/plain' }).end(`no console call '${name}'`); return true; }
      void answerCall(name, req, res);
      return true;
    },
    close() {
      closed = true;
      systemClock.clearTimeout(timer);
      for (const { res } of streams) res.end();
      streams.clear();
      source.close();
    },
  };
}
