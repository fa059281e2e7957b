// When the consumer commits, as KafkaJS's runner does: after every handled batch (autoCommit); inside a batch, after
// each message once autoCommitInterval has passed or autoCommitThreshold offsets are resolved; eachBatch's
// commitOffsetsIfNecessary() by the same rule; and what was handled before a handler fails, before it is retried.
import { afterEach, describe, expect, it } from 'vitest';
import { Wafka, type Consumer, type ConsumerRunConfig } from '../../src/client/index.ts';
import { startCluster, type Cluster } from '../../src/cluster/start-cluster.ts';
import { until } from '../cluster/kill-the-leader.ts';

let cluster: Cluster | undefined;
const consumers: Consumer[] = [];
afterEach(async () => {
  await Promise.allSettled(consumers.splice(0).map((c) => c.disconnect()));
  await cluster?.stop();
  cluster = undefined;
});

const FAST = { sessionTimeout: 3_000, rebalanceTimeout: 5_000, heartbeatInterval: 100, maxWaitTimeInMs: 100 };

/** One partition; `send(n)` produces n messages as one batch. Returns the offsets committed, in order. */
async function setUp() {
  cluster = await startCluster({ storage: 'memory', brokers: 1, brokerConfig: { offsetsTopicNumPartitions: 1 } });
  const wafka = new Wafka({ clientId: 'test', cluster, logLevel: 0 as never });
  const admin = wafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'jobs', numPartitions: 1, replicationFactor: 1 }] });
  await admin.disconnect();
  const producer = wafka.producer({ lingerMs: 0 });
  await producer.connect();
  let sent = 0;
  const send = async (n: number) => {
    await producer.send({ topic: 'jobs', acks: -1, messages: Array.from({ length: n }, () => ({ value: `m${sent++}` })) });
  };
  const commits: string[] = [];
  const handled: string[] = [];
  const start = async (config: ConsumerRunConfig) => {
    const c = wafka.consumer({ groupId: 'g', ...FAST });
    consumers.push(c);
    c.on(c.events.COMMIT_OFFSETS, (e: { payload: { topics: { partitions: { offset: string }[] }[] } }) => {
      for (const t of e.payload.topics) for (const p of t.partitions) commits.push(p.offset);
    });
    await c.connect();
    await c.subscribe({ topic: 'jobs', fromBeginning: true });
    await c.run(config);
    return c;
  };
  const record = async ({ message }: { message: { value: Uint8Array | null } }) => { handled.push(new TextDecoder().decode(message.value!)); };
  return { send, start, commits, handled, record };
}

describe('auto commit, as KafkaJS', () => {
  it('autoCommitThreshold: inside a batch, a commit each time that many offsets are resolved; the rest after the batch', async () => {
    const { send, start, commits, record } = await setUp();
    await send(10);
    await start({ autoCommitThreshold: 3, eachMessage: record });
    await until(async () => commits.includes('10'));
    expect(commits).toEqual(['3', '6', '9', '10']);
  });

  it('autoCommitInterval: a handled batch is committed at once however long the interval', async () => {
    const { send, start, commits, handled, record } = await setUp();
    await send(5);
    await start({ autoCommitInterval: 600_000, eachMessage: record });
    await until(async () => commits.includes('5'));
    await send(5);
    await until(async () => commits.includes('10'));
    expect(handled).toHaveLength(10);
    expect(commits).toEqual(['5', '10']);
  });

  it('autoCommitInterval: inside a slow batch, a commit after the message at which the interval has passed', async () => {
    const { send, start, commits, handled } = await setUp();
    await send(10);
    await start({
      autoCommitInterval: 50,
      eachMessage: async ({ message }) => { await new Promise((r) => setTimeout(r, 30)); handled.push(new TextDecoder().decode(message.value!)); },
    });
    await until(async () => commits.includes('10'));
    // At least 30 ms per message: the interval has passed after every second message at the latest.
    expect(commits.length).toBeGreaterThanOrEqual(5);
    expect(commits.at(-1)).toBe('10');
    const offsets = commits.map(Number);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
  });

  it("eachBatch's commitOffsetsIfNecessary(): commits by the threshold only; without interval and threshold it commits nothing, the batch's end does", async () => {
    const first = await setUp();
    await first.send(10);
    const resolvingEach = (): ConsumerRunConfig['eachBatch'] => async ({ batch, resolveOffset, commitOffsetsIfNecessary }) => {
      for (const m of batch.messages) { resolveOffset(m.offset); await commitOffsetsIfNecessary(); }
    };
    await first.start({ autoCommitThreshold: 4, eachBatchAutoResolve: false, eachBatch: resolvingEach() });
    await until(async () => first.commits.includes('10'));
    expect(first.commits).toEqual(['4', '8', '10']);
    await Promise.allSettled(consumers.splice(0).map((c) => c.disconnect()));
    await cluster?.stop();

    const second = await setUp();
    await second.send(10);
    await second.start({ eachBatchAutoResolve: false, eachBatch: resolvingEach() });
    await until(async () => second.commits.includes('10'));
    expect(second.commits).toEqual(['10']);
  });

  it('a handler that fails: what it handled before is committed, then the message is retried', async () => {
    const { send, start, commits, handled } = await setUp();
    await send(10);
    let failed = false;
    let committedAtRetry: string[] = [];
    await start({
      eachMessage: async ({ message }) => {
        const value = new TextDecoder().decode(message.value!);
        if (value === 'm5' && !failed) { failed = true; throw new Error('once'); }
        if (value === 'm5') committedAtRetry = [...commits];
        handled.push(value);
      },
    });
    await until(async () => commits.includes('10'));
    expect(committedAtRetry).toEqual(['5']);
    expect(commits).toEqual(['5', '10']);
    expect(handled).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
  });
});
