/// <reference lib="webworker" />
/**
 * The receiving context of the cross-context delivery measurement (a
 * dedicated worker): either a wafka consumer connected to the page's brokers
 * through MessagePorts, or a broadcast-channel (npm) listener. Posts 'ready'
 * when listening and 'done' at the n-th record.
 */
import { BroadcastChannel } from 'broadcast-channel';
import { connectCluster } from '../../src/cluster/index.ts';
import { Wafka } from '../../src/index.ts';
import { loadBenchCore } from '../lib/core-load.ts';

type Start =
  | { mode: 'wafka'; clusterId: string; ports: MessagePort[]; topic: string; n: number }
  | { mode: 'bc'; channel: string; n: number };

const post = (m: unknown): void => (self as unknown as Worker).postMessage(m);

self.onmessage = async (e: MessageEvent<Start>) => {
  const s = e.data;
  try {
    if (s.mode === 'bc') {
      const ch = new BroadcastChannel<string>(s.channel);
      let seen = 0;
      ch.onmessage = () => {
        if (++seen === s.n) {
          post({ type: 'done', seen });
          void ch.close();
        }
      };
      post({ type: 'ready' });
      return;
    }
    await loadBenchCore();
    const connection = connectCluster({ clusterId: s.clusterId, ports: s.ports });
    const wafka = new Wafka({ clientId: 'bench-receiver', cluster: connection, logLevel: 1 });
    const consumer = wafka.consumer({ groupId: `bench-rx-${s.topic}`, maxWaitTimeInMs: 50, maxBytesPerPartition: 4 * 1024 * 1024 });
    await consumer.connect();
    await consumer.subscribe({ topics: [s.topic], fromBeginning: true });
    let seen = 0;
    await consumer.run({
      eachBatch: async ({ batch }) => {
        seen += batch.messages.length;
        if (seen >= s.n) post({ type: 'done', seen });
      },
    });
    post({ type: 'ready' });
  } catch (err) {
    post({ type: 'error', error: err instanceof Error ? `${err.message}\n${err.stack}` : String(err) });
  }
};
