// A consumer catching up on in-process brokers lets timers run: brokers on memory or files answer
// without waiting for anything, and without yields a catch-up is one unbroken chain of microtasks.
import { afterEach, describe, expect, it } from 'vitest';
import { Wafka, logLevel, startCluster, type Cluster } from '../../src/index.ts';
import type { BrokerApi } from '../../src/protocol/types.ts';
import { startTestCluster, type TestCluster } from '../broker/helpers.ts';

const RECORDS = 100_000;
const VALUE = 'v'.repeat(100);

let cluster: Cluster | undefined;
let testCluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  await testCluster?.close();
  cluster = testCluster = undefined;
});

/** Counts timer callbacks (a chain of setTimeout 0) while `work` runs. */
async function timerTicksDuring(work: () => Promise<void>): Promise<number> {
  let ticks = 0;
  let running = true;
  const tick = () => { if (!running) return; ticks++; setTimeout(tick, 0); };
  setTimeout(tick, 0);
  try {
    await work();
  } finally {
    running = false;
  }
  return ticks;
}

async function produceAndCatchUp(brokers: BrokerApi[] | Cluster): Promise<number> {
  const wafka = new Wafka({ clientId: 'catch-up', cluster: brokers, logLevel: logLevel.NOTHING });
  const admin = wafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'backlog', numPartitions: 2 }] });
  await admin.disconnect();
  const producer = wafka.producer({ lingerMs: 2, batchSizeBytes: 64 * 1024 });
  await producer.connect();
  for (let i = 0; i < RECORDS; i += 10_000) {
    await producer.send({ topic: 'backlog', acks: 1, messages: Array.from({ length: 10_000 }, (_, j) => ({ key: `k${(i + j) % 7}`, value: VALUE })) });
  }
  await producer.disconnect();

  const consumer = wafka.consumer({ groupId: 'g', maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topics: ['backlog'], fromBeginning: true });
  let consumed = 0;
  const ticks = await timerTicksDuring(async () => {
    let caughtUp!: () => void;
    const done = new Promise<void>((resolve) => { caughtUp = resolve; });
    await consumer.run({ eachMessage: async () => { if (++consumed === RECORDS) caughtUp(); } });
    await done;
  });
  await consumer.disconnect();
  expect(consumed).toBe(RECORDS);
  return ticks;
}

describe('consumer catch-up and the event loop', () => {
  it('timers run while it catches up through the in-process transport', async () => {
    cluster = await startCluster({ brokers: 1, storage: 'memory' });
    expect(await produceAndCatchUp(cluster)).toBeGreaterThanOrEqual(3);
  });

  it('timers run while it catches up on brokers called directly (the consumer yields on its own)', async () => {
    testCluster = await startTestCluster(1);
    expect(await produceAndCatchUp(testCluster.brokers)).toBeGreaterThanOrEqual(3);
  });
});
