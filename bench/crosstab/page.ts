/**
 * One tab of the cross-tab bench (bench/suites/crosstab.ts drives several
 * through Playwright): wafka's shared cluster, the `broadcast-channel`
 * package and a raw BroadcastChannel, each carrying the same messages from a
 * producing tab to a consuming tab. Times are `performance.timeOrigin +
 * performance.now()`, comparable across the tabs of one machine.
 */
import { BroadcastChannel as PackageChannel } from 'broadcast-channel';
import { Wafka } from '../../src/client/index.ts';
import { startCluster } from '../../src/cluster/start-cluster.ts';
import type { SharedCluster } from '../../src/cluster/shared-cluster.ts';

const nowMs = () => performance.timeOrigin + performance.now();
const pad = (i: number, bytes: number) => { const head = `{"i":${i},"t":${nowMs().toFixed(3)}}`; return head + ' '.repeat(Math.max(0, bytes - head.length)); };
const sentAt = (value: string) => Number(/"t":([\d.]+)/.exec(value)![1]);

let cluster: SharedCluster | undefined;
let wafka: Wafka | undefined;

interface Received { count: number; lastMs: number; latenciesMs: number[]; done: Promise<void> }
let received: Received | undefined;
let stopReceiving: () => Promise<void> = async () => {};

function expectMessages(n: number): { onMessage: (value: string) => void; state: Received } {
  let resolve!: () => void;
  const state: Received = { count: 0, lastMs: 0, latenciesMs: [], done: new Promise((r) => { resolve = r; }) };
  return {
    state,
    onMessage(value) {
      const t = nowMs();
      state.count++;
      state.lastMs = t;
      state.latenciesMs.push(t - sentAt(value));
      if (state.count === n) resolve();
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const bench = {
  async join(clusterId: string, brokers: number, maxBrokersPerTab: number) {
    cluster = await startCluster({ shared: true, storage: 'opfs', clusterId, brokers, maxBrokersPerTab, brokerConfig: { replicaLagTimeMaxMs: 2_000 } });
    wafka = new Wafka({ clientId: `bench-${cluster.tabId}`, cluster, logLevel: 'nothing' as never });
    return cluster.tabId;
  },
  hosting: () => cluster!.hosting(),
  async createTopic(topic: string, numPartitions: number, replicationFactor: number, minInsyncReplicas: number) {
    const admin = wafka!.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions, replicationFactor, configEntries: [{ name: 'min.insync.replicas', value: String(minInsyncReplicas) }] }] });
    for (let i = 0; i < 600; i++) {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      if (topics[0].partitions.every((p) => p.isr.length === replicationFactor)) break;
      await sleep(50);
    }
    await admin.disconnect();
  },
  async fullIsr(topic: string) {
    const admin = wafka!.admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      return topics[0].partitions.every((p) => p.leader >= 0 && p.isr.length === p.replicas.length);
    } finally {
      await admin.disconnect();
    }
  },
  async leaders(topic: string) {
    const admin = wafka!.admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions.map((p) => p.leader);
    } finally {
      await admin.disconnect();
    }
  },

  // ---- receiving side (tab B)
  async receive(kind: 'wafka' | 'broadcast-channel' | 'broadcastchannel-raw', name: string, n: number) {
    const { onMessage, state } = expectMessages(n);
    received = state;
    if (kind === 'wafka') {
      const consumer = wafka!.consumer({ groupId: `g-${name}`, maxWaitTimeInMs: 100 });
      await consumer.connect();
      await consumer.subscribe({ topics: [name], fromBeginning: true });
      const decoder = new TextDecoder();
      await consumer.run({ eachBatch: async ({ batch }) => { for (const m of batch.messages) onMessage(decoder.decode(m.value!)); } });
      stopReceiving = () => consumer.disconnect();
    } else if (kind === 'broadcast-channel') {
      const channel = new PackageChannel<string>(name);
      channel.onmessage = (value) => onMessage(value);
      stopReceiving = () => channel.close();
    } else {
      const channel = new BroadcastChannel(name);
      channel.onmessage = (event: MessageEvent<string>) => onMessage(event.data);
      stopReceiving = async () => channel.close();
    }
  },
  /** Waits for the n messages; returns when the last arrived and each one's latency. */
  async received(timeoutMs: number) {
    const state = received!;
    await Promise.race([state.done, sleep(timeoutMs)]);
    await stopReceiving();
    return { count: state.count, lastMs: state.lastMs, latenciesMs: state.latenciesMs };
  },

  // ---- sending side (tab A)
  /** Sends n messages of valueBytes as fast as each carrier takes them; returns when sending started. */
  async send(kind: 'wafka' | 'broadcast-channel' | 'broadcastchannel-raw', name: string, n: number, valueBytes: number, gapMs = 0) {
    const startMs = nowMs();
    if (kind === 'wafka') {
      const producer = wafka!.producer({ lingerMs: gapMs > 0 ? 0 : 2, batchSizeBytes: 256 * 1024, acks: -1 });
      await producer.connect();
      if (gapMs > 0) {
        for (let i = 0; i < n; i++) { await producer.send({ topic: name, acks: -1, messages: [{ value: pad(i, valueBytes) }] }); await sleep(gapMs); }
      } else {
        const inFlight: Promise<unknown>[] = [];
        for (let i = 0; i < n; i += 500) {
          inFlight.push(producer.send({ topic: name, acks: -1, messages: Array.from({ length: Math.min(500, n - i) }, (_, j) => ({ value: pad(i + j, valueBytes) })) }));
          if (inFlight.length >= 16) await inFlight.shift();
        }
        await Promise.all(inFlight);
      }
      await producer.disconnect();
    } else if (kind === 'broadcast-channel') {
      const channel = new PackageChannel<string>(name);
      if (gapMs > 0) {
        for (let i = 0; i < n; i++) { await channel.postMessage(pad(i, valueBytes)); await sleep(gapMs); }
      } else {
        await Promise.all(Array.from({ length: n }, (_, i) => channel.postMessage(pad(i, valueBytes))));
      }
      await channel.close();
    } else {
      const channel = new BroadcastChannel(name);
      for (let i = 0; i < n; i++) {
        channel.postMessage(pad(i, valueBytes));
        if (gapMs > 0) await sleep(gapMs);
      }
      channel.close();
    }
    return startMs;
  },

  // ---- failover (tab A, the producing tab, hosting no broker)
  /** Sends one message at a time until stopped, keeping each acknowledgement's send start and ack time. */
  startSteadyProduce(topic: string) {
    const acks: { sentMs: number; ackedMs: number }[] = [];
    let going = true;
    const producer = wafka!.producer({ lingerMs: 0, acks: -1, retry: { retries: 50, initialRetryTime: 10, maxRetryTime: 100 } });
    const loop = (async () => {
      await producer.connect();
      for (let i = 0; going; i++) {
        const sentMs = nowMs();
        try {
          await producer.send({ topic, acks: -1, messages: [{ value: pad(i, 100) }] });
          acks.push({ sentMs, ackedMs: nowMs() });
        } catch {
          // counted by its absence
        }
      }
      await producer.disconnect();
    })();
    (globalThis as any).__steady = { acks, stop: async () => { going = false; await loop; } };
  },
  now: () => nowMs(),
  /** The first acknowledgement of a send started at or after `sinceMs`: its ack time. */
  firstAckSince: (sinceMs: number) => ((globalThis as any).__steady.acks as { sentMs: number; ackedMs: number }[]).find((a) => a.sentMs >= sinceMs)?.ackedMs ?? null,
  stopSteadyProduce: () => (globalThis as any).__steady.stop(),
  async leave() {
    await cluster?.stop();
  },
};

(globalThis as unknown as { crosstab: typeof bench }).crosstab = bench;
document.querySelector('#state')!.textContent = 'ready';
