/**
 * The console page. Served by `wafka start` it attaches to that Node cluster
 * through the server's feed; otherwise (or with `?attach=page`) it starts a
 * cluster in this page (broker workers on OPFS or IndexedDB) and, unless
 * told not to, a producer that keeps sending to one topic.
 * With cluster=shared it joins the cluster every tab of this origin shares
 * (one broker per tab), so the console shows which tab runs which broker.
 * `?attach=page&cluster=shared&storage=indexeddb&brokers=3&topic=t&producer=0` fill the form and start at once.
 */
import { Wafka, logLevel, startCluster, type Cluster, type SharedCluster, type StorageKind } from '../src/index.ts';
import { mountConsole } from '../src/console/index.ts';

const params = new URLSearchParams(location.search);
const host = document.querySelector<HTMLElement>('#console')!;
const form = document.querySelector<HTMLFormElement>('#attach')!;

/** Whether this page came from `wafka start` (its server answers node-result.json). */
async function servedByCli(): Promise<boolean> {
  try {
    return (await fetch('./node-result.json', { cache: 'no-store' })).ok;
  } catch {
    return false;
  }
}

/** A producer that sends a keyed JSON message batch every 50 ms until the page goes. */
function keepProducing(wafka: Wafka, topic: string): void {
  const producer = wafka.producer({ lingerMs: 10 });
  void (async () => {
    await producer.connect();
    for (let n = 0; ; n += 25) {
      await producer.send({ topic, messages: Array.from({ length: 25 }, (_, i) => ({ key: `user-${(n + i) % 13}`, value: JSON.stringify({ n: n + i, at: new Date().toISOString() }), headers: { source: 'console-page' } })) }).catch(() => {});
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
}

/**
 * The demo topic. In a shared cluster another tab may have made it already (createTopics then answers
 * false), or too few tabs may run brokers yet for its replication factor: then it is tried again.
 */
async function createTopic(wafka: Wafka, topic: string, replicationFactor: number): Promise<void> {
  const admin = wafka.admin();
  await admin.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor }] });
        return;
      } catch (error) {
        if ((error as { type?: string }).type !== 'INVALID_REPLICATION_FACTOR' || attempt >= 600) throw error;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } finally {
    await admin.disconnect();
  }
}

async function startHere(): Promise<void> {
  const data = new FormData(form);
  const storage = String(data.get('storage')) as StorageKind;
  const brokers = Math.min(8, Math.max(1, Number(data.get('brokers')) || 3));
  const topic = String(data.get('topic') || 'console-demo');
  const shared = String(data.get('cluster')) === 'shared';
  form.hidden = true;
  const cluster: Cluster = shared
    ? await startCluster({ shared: true, brokers, storage, clusterId: `console-shared-${storage}`, maxBrokersPerTab: 1 })
    : await startCluster({ brokers, storage, clusterId: `console-${storage}` });
  window.addEventListener('pagehide', () => void cluster.stop());
  const description = shared
    ? `the cluster this origin's tabs share: ${brokers} brokers on ${storage}, one per tab (this tab: ${(cluster as SharedCluster).tabId})`
    : `this page's cluster: ${brokers} broker workers on ${storage}`;
  const mounted = mountConsole(host, { cluster, description });
  const wafka = new Wafka({ clientId: 'console-page', cluster, logLevel: logLevel.NOTHING });
  void createTopic(wafka, topic, Math.min(brokers, 3)).then(() => { if (String(data.get('producer')) !== '0') keepProducing(wafka, topic); });
  (window as unknown as { wafkaConsole: unknown }).wafkaConsole = { cluster, mounted };
}

for (const name of ['cluster', 'storage', 'brokers', 'topic', 'producer']) {
  const value = params.get(name);
  if (value !== null) (form.elements.namedItem(name) as HTMLInputElement).value = value;
}
form.addEventListener('submit', (e) => { e.preventDefault(); void startHere(); });
if (params.get('attach') === 'page') void startHere();
else if (await servedByCli()) {
  const mounted = mountConsole(host, { feedUrl: '' });
  (window as unknown as { wafkaConsole: unknown }).wafkaConsole = { mounted };
} else form.hidden = false;
