/**
 * The console's source over a `wafka start` server's feed (./feed-protocol.ts):
 * snapshots from its event stream, every other call a POST. The page and the
 * feed share one origin (the server serves both).
 */
import { systemClock } from '../clock.ts';
import { WafkaError, type KafkaErrorType } from '../errors.ts';
import { API_PATH, FEED_PATH, fromWire, type ApiCall, type WireTailRecord } from './feed-protocol.ts';
import type { ConsoleSnapshot, ConsoleSource, TailResult } from './types.ts';

/** A snapshot() waits this long for the feed before it fails (the console shows the error and asks again). */
const FEED_WAIT_MS = 5_000;

export function feedSource(baseUrl = ''): ConsoleSource {
  const base = baseUrl.replace(/\/$/, '');
  const events = new EventSource(`${base}${FEED_PATH}`);
  let latest: ConsoleSnapshot | undefined;
  let delivered = -1;
  const waiting = new Set<() => void>();
  events.addEventListener('snapshot', (e) => {
    latest = JSON.parse((e as MessageEvent<string>).data) as ConsoleSnapshot;
    for (const wake of [...waiting]) wake();
  });

  async function call<T>(name: ApiCall, args: unknown[]): Promise<T> {
    const response = await fetch(`${base}${API_PATH}${name}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(args) });
    const answer = await response.json().catch(() => ({ ok: false, error: { type: 'UNKNOWN_SERVER_ERROR', message: `HTTP ${response.status}` } })) as { ok: boolean; result?: T; error?: { type: KafkaErrorType; message: string } };
    if (!answer.ok) throw new WafkaError(answer.error?.type ?? 'UNKNOWN_SERVER_ERROR', answer.error?.message ?? `HTTP ${response.status}`, { retriable: false });
    return answer.result as T;
  }

  return {
    description: `Node cluster at ${base || location.origin}`,
    snapshot() {
      // The next snapshot the console has not shown yet.
      return new Promise<ConsoleSnapshot>((resolve, reject) => {
        const check = () => {
          if (!latest || latest.atMs <= delivered) return false;
          waiting.delete(check);
          systemClock.clearTimeout(timer);
          delivered = latest.atMs;
          resolve(latest);
          return true;
        };
        const timer = systemClock.setTimeout(() => {
          waiting.delete(check);
          reject(new Error(`no snapshot from the feed in ${FEED_WAIT_MS} ms (${events.readyState === EventSource.CLOSED ? 'closed' : 'connecting'})`));
        }, FEED_WAIT_MS);
        if (!check()) waiting.add(check);
      });
    },
    tailStart: (topic, partitions, start) => call('tailStart', [topic, partitions, start]),
    async tail(topic, positions): Promise<TailResult> {
      const r = await call<{ records: WireTailRecord[]; positions: TailResult['positions'] }>('tail', [topic, positions]);
      return { records: r.records.map(fromWire), positions: r.positions };
    },
    produce: (input) => call('produce', [input]),
    createTopic: (topic, numPartitions, replicationFactor) => call('createTopic', [topic, numPartitions, replicationFactor]),
    deleteTopic: (topic) => call('deleteTopic', [topic]),
    createPartitions: (topic, count) => call('createPartitions', [topic, count]),
    describeTopicConfigs: (topic) => call('describeTopicConfigs', [topic]),
    close() { events.close(); },
  };
}
