/**
 * Kafka's wire protocol over TCP (node:net, which Node, Deno and Bun all
 * have): one listener per broker, so any Kafka client (KafkaJS, librdkafka,
 * kafka-python, @platformatic/kafka) produces to and consumes from wafka.
 * Each listener answers for its broker; Metadata advertises every broker at
 * its own listener, so clients go straight to partition leaders, as with
 * Kafka.
 *
 * Per connection: frames are read by their int32 size; requests are served
 * concurrently but answered in the order they came (Kafka's rule, on which
 * clients match responses to requests); at most `inFlightRequestsMax` are
 * open at once (reading pauses until one is answered); a connection idle for
 * `idleTimeoutMs` with nothing open is closed. A frame larger than
 * `socketRequestMaxBytes`, or one that breaks the protocol, closes that
 * connection with a logged reason; the broker and its other connections go
 * on, and nothing stored changes (a request is only served once it was read
 * whole and decoded). At most `connectionsMax` connections per listener; one
 * more is closed at once, with a logged reason.
 *
 * Responses are written as chunks: record sets from the broker are written
 * as they are, by reference (zero copy out).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createLogger, logLevel, type Logger } from '../client/logger.ts';
import { WafkaError } from '../errors.ts';
import type { BrokerApi } from '../protocol/types.ts';
import type { Endpoint, WireContext } from './api.ts';
import { failureReason, handleFrame, REQUEST_HEADER_BYTES_MIN } from './frame-handler.ts';

export interface WireLimits {
  /** Largest request frame accepted (Kafka's socket.request.max.bytes; default 100 MiB). */
  socketRequestMaxBytes?: number;
  /** Connections open at once per listener (default 1,000). */
  connectionsMax?: number;
  /** Requests read but not yet answered, per connection (default 100). */
  inFlightRequestsMax?: number;
  /** A connection with nothing open for this long is closed (Kafka's connections.max.idle.ms; default 10 min). */
  idleTimeoutMs?: number;
}

export interface ListenOptions extends WireLimits {
  /** The first broker's port; broker i listens on port + i. 0: each gets a free port of the system's. */
  port: number;
  /** The address to bind (default 127.0.0.1: loopback only). */
  host?: string;
  /** The host name Metadata gives clients (default: `host`, or 127.0.0.1 when bound to every address). */
  advertisedHost?: string;
  /** Where connection failures are logged (default: warnings to the console). */
  logger?: Logger;
}

export const DEFAULT_WIRE_LIMITS: Readonly<Required<WireLimits>> = Object.freeze({
  socketRequestMaxBytes: 100 * 1024 * 1024,
  connectionsMax: 1_000,
  inFlightRequestsMax: 100,
  idleTimeoutMs: 600_000,
});

/** The brokers of a cluster, as the listeners reach them (the current one of each id, across worker restarts). */
export interface ListenedCluster {
  readonly bootstrap: { nodeIds: number[] };
  broker(nodeId: number): BrokerApi;
}

export interface WireListener extends Endpoint {
  nodeId: number;
  /** Connections open now. */
  readonly connections: number;
}

export interface WireListeners {
  readonly listeners: readonly WireListener[];
  /** Stops accepting, closes every connection. Idempotent. */
  close(): Promise<void>;
}

/** Starts one listener per broker of `cluster` (ports port..port+N-1). */
export async function listenCluster(cluster: ListenedCluster, options: ListenOptions): Promise<WireListeners> {
  const limits = resolveLimits(options);
  const host = options.host ?? '127.0.0.1';
  if (!Number.isInteger(options.port) || options.port < 0 || options.port + (options.port === 0 ? 0 : cluster.bootstrap.nodeIds.length - 1) > 65_535) {
    throw new RangeError(`listen port ${options.port}: expected 0..65535 for each of ${cluster.bootstrap.nodeIds.length} brokers`);
  }
  const advertisedHost = options.advertisedHost ?? (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
  const log = options.logger ?? createLogger({ level: logLevel.WARN });
  const endpoints = new Map<number, Endpoint>();
  const started: BrokerListener[] = [];
  try {
    for (const [i, nodeId] of cluster.bootstrap.nodeIds.entries()) {
      const context: WireContext = {
        get broker() { return cluster.broker(nodeId); },
        nodeId,
        endpoints: () => endpoints,
        log: log.namespace(`wire:${nodeId}`),
      };
      const listener = new BrokerListener(context, limits);
      started.push(listener);
      const port = await listener.listen(host, options.port === 0 ? 0 : options.port + i);
      endpoints.set(nodeId, { host: advertisedHost, port });
    }
  } catch (error) {
    await Promise.all(started.map((l) => l.close()));
    throw new WafkaError('NETWORK_EXCEPTION', `cannot listen on ${host}:${options.port}: ${(error as Error).message}`, { cause: error });
  }
  let closing: Promise<void> | undefined;
  return {
    listeners: started.map((l) => ({
      nodeId: l.context.nodeId, host: advertisedHost, port: endpoints.get(l.context.nodeId)!.port,
      get connections() { return l.connections; },
    })),
    close: () => (closing ??= Promise.all(started.map((l) => l.close())).then(() => {})),
  };
}

function resolveLimits(options: WireLimits): Required<WireLimits> {
  const limits = { ...DEFAULT_WIRE_LIMITS };
  for (const key of Object.keys(limits) as (keyof WireLimits)[]) {
    const value = options[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${key} = ${value}: expected a whole number ≥ 1`);
    limits[key] = value;
  }
  if (limits.socketRequestMaxBytes > 0x7fffffff) throw new RangeError(`socketRequestMaxBytes = ${limits.socketRequestMaxBytes}: at most 2^31 - 1`);
  return limits;
}

class BrokerListener {
  readonly context: WireContext;
  readonly #limits: Required<WireLimits>;
  readonly #server: Server;
  readonly #open = new Set<WireConnection>();

  constructor(context: WireContext, limits: Required<WireLimits>) {
    this.context = context;
    this.#limits = limits;
    this.#server = createServer({ noDelay: true }, (socket) => this.#accept(socket));
  }

  get connections(): number { return this.#open.size; }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host, port }, () => {
        this.#server.off('error', reject);
        this.#server.on('error', (error) => this.context.log.error(`listener error: ${error.message}`));
        resolve((this.#server.address() as { port: number }).port);
      });
    });
  }

  #accept(socket: Socket): void {
    if (this.#open.size >= this.#limits.connectionsMax) {
      this.context.log.warn(`connection from ${remoteOf(socket)} refused: ${this.#open.size} connections open, connectionsMax is ${this.#limits.connectionsMax}`);
      socket.destroy();
      return;
    }
    const connection = new WireConnection(socket, this.context, this.#limits, () => this.#open.delete(connection));
    this.#open.add(connection);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const connection of [...this.#open]) connection.close(null);
    if (this.#server.listening) await closed;
  }
}

const EMPTY = new Uint8Array(0);
const remoteOf = (socket: Socket) => `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;

/** One client connection: framing, in-order answers, limits. */
export class WireConnection {
  readonly #socket: Socket;
  readonly #context: WireContext;
  readonly #limits: Required<WireLimits>;
  readonly #onClose: () => void;
  readonly #remote: string;
  /** Bytes received and not yet framed. */
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** Requests read and not yet answered, in arrival order. */
  #inFlight = 0;
  /** Answers are written one after another, in request order. */
  #answered: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(socket: Socket, context: WireContext, limits: Required<WireLimits>, onClose: () => void) {
    this.#socket = socket;
    this.#context = Object.create(context, { clientHost: { value: socket.remoteAddress ?? '' } });
    this.#limits = limits;
    this.#onClose = onClose;
    this.#remote = remoteOf(socket);
    socket.on('data', (data: Uint8Array) => this.#receive(data));
    socket.on('error', (error) => this.close(`socket error: ${error.message}`));
    socket.on('close', () => this.close(null));
    socket.setTimeout(limits.idleTimeoutMs, () => {
      if (this.#inFlight === 0) this.close(`idle for ${limits.idleTimeoutMs} ms`);
    });
  }

  #receive(data: Uint8Array): void {
    if (this.#closed) return;
    if (data.byteLength > 0) {
      this.#pending.push(data);
      this.#pendingBytes += data.byteLength;
    }
    // Frames already received wait too while the connection has inFlightRequestsMax open.
    while (!this.#closed && this.#pendingBytes >= 4 && this.#inFlight < this.#limits.inFlightRequestsMax) {
      const size = this.#peekSize();
      if (size < REQUEST_HEADER_BYTES_MIN + 2 || size > this.#limits.socketRequestMaxBytes) {
        this.close(size < 0 || size < REQUEST_HEADER_BYTES_MIN + 2
          ? `malformed request: frame size ${size}`
          : `request of ${size} bytes is larger than socketRequestMaxBytes (${this.#limits.socketRequestMaxBytes})`);
        return;
      }
      if (this.#pendingBytes < 4 + size) return;
      this.#serve(this.#take(4 + size).subarray(4));
    }
  }

  #peekSize(): number {
    const head = this.#pending[0].byteLength >= 4 ? this.#pending[0] : this.#take(4, true);
    return new DataView(head.buffer, head.byteOffset, 4).getInt32(0);
  }

  /** The next `n` pending bytes, as one array (a view when they lie in one chunk); `peek` leaves them pending. */
  #take(n: number, peek = false): Uint8Array {
    const first = this.#pending[0];
    if (first.byteLength >= n) {
      if (peek) return first;
      this.#pending[0] = first.subarray(n);
      if (this.#pending[0].byteLength === 0) this.#pending.shift();
      this.#pendingBytes -= n;
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let at = 0;
    let i = 0;
    while (at < n) {
      const chunk = this.#pending[i];
      const part = Math.min(chunk.byteLength, n - at);
      out.set(chunk.subarray(0, part), at);
      at += part;
      if (peek) { i++; continue; }
      if (part === chunk.byteLength) this.#pending.shift();
      else this.#pending[0] = chunk.subarray(part);
    }
    if (!peek) this.#pendingBytes -= n;
    return out;
  }

  #serve(frame: Uint8Array): void {
    let response: Promise<Uint8Array[] | null>;
    try {
      response = handleFrame(frame, this.#context).response;
    } catch (error) {
      this.close(failureReason(error));
      return;
    }
    // A rejection is handled in order below; this keeps it from counting as unhandled meanwhile.
    response.catch(() => {});
    this.#inFlight++;
    if (this.#inFlight >= this.#limits.inFlightRequestsMax) this.#socket.pause();
    this.#answered = this.#answered.then(async () => {
      let chunks: Uint8Array[] | null;
      try {
        chunks = await response;
      } catch (error) {
        this.close(failureReason(error));
        return;
      }
      if (this.#closed) return;
      if (chunks) await this.#write(chunks);
      this.#inFlight--;
      if (this.#inFlight < this.#limits.inFlightRequestsMax && !this.#closed) {
        this.#socket.resume();
        this.#receive(EMPTY);
      }
    });
  }

  /** Writes one response; waits for the socket to drain when its buffer is full (memory stays bounded). */
  #write(chunks: Uint8Array[]): Promise<void> {
    this.#socket.cork();
    let flushed = true;
    for (const chunk of chunks) flushed = this.#socket.write(chunk);
    this.#socket.uncork();
    if (flushed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => { this.#socket.off('drain', done); this.#socket.off('close', done); resolve(); };
      this.#socket.on('drain', done);
      this.#socket.on('close', done);
    });
  }

  /** Closes the connection; `reason` (null: the peer or the listener closed it) is logged. */
  close(reason: string | null): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = [];
    this.#pendingBytes = 0;
    if (reason !== null) this.#context.log.warn(`closing connection from ${this.#remote}: ${reason}`);
    this.#socket.destroy();
    this.#onClose();
  }
}
