/**
 * The CLI's console feed, as both ends speak it (./feed-source.ts in the page,
 * src/cli/console-feed.ts on Node), all on the server's loopback origin:
 *
 *   GET  /console/feed          server-sent events: `event: snapshot`, data a ConsoleSnapshot
 *                               as JSON, at most every SNAPSHOT_INTERVAL_MS and at most
 *                               FEED_MESSAGE_BYTES_MAX bytes (topics cut to fit, counted in topicsLeftOut)
 *   POST /console/api/<call>    JSON body: the call's arguments as an array (at most
 *                               FEED_REQUEST_BYTES_MAX bytes); answer { ok: true, result } or
 *                               { ok: false, error: { type, message } }
 *
 * Tail records cross as JSON with keys, values and header values in base64.
 */
import type { TailRecord } from './types.ts';

export const FEED_PATH = '/console/feed';
export const API_PATH = '/console/api/';
export const FEED_MESSAGE_BYTES_MAX = 1024 * 1024;
export const FEED_REQUEST_BYTES_MAX = 128 * 1024;
/** Event streams one server keeps open; more are refused (503). */
export const FEED_CLIENTS_MAX = 8;

/** The calls a feed serves: ConsoleSource's methods besides snapshot. */
export const API_CALLS = ['tailStart', 'tail', 'produce', 'createTopic', 'deleteTopic', 'createPartitions', 'describeTopicConfigs'] as const;
export type ApiCall = (typeof API_CALLS)[number];

export interface WireTailRecord {
  partition: number;
  offset: string;
  timestampMs: number;
  key: string | null;
  value: string | null;
  headers: { key: string; value: string | null }[];
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export const toWire = (r: TailRecord): WireTailRecord => ({
  partition: r.partition, offset: r.offset, timestampMs: r.timestampMs,
  key: r.key && toBase64(r.key), value: r.value && toBase64(r.value),
  headers: r.headers.map((h) => ({ key: h.key, value: h.value && toBase64(h.value) })),
});

export const fromWire = (r: WireTailRecord): TailRecord => ({
  partition: r.partition, offset: r.offset, timestampMs: r.timestampMs,
  key: r.key === null ? null : fromBase64(r.key), value: r.value === null ? null : fromBase64(r.value),
  headers: r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : fromBase64(h.value) })),
});
