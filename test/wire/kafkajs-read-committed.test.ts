// KafkaJS 2.2.4 consumers (read_committed is its default) through the wire-protocol listener of broker workers:
// transactional batches and markers written through the worker transport (WriteTxnMarkers crosses it), the Fetch
// answer's aborted transactions reach KafkaJS, which drops the aborted records as the Java consumer does.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBatch, loadCore } from '../../src/core/index.ts';
import type { BrokerApi, TransactionApi } from '../../src/protocol/types.ts';
import { startWireCluster, type WireCluster } from './wire-cluster.ts';

let wire: WireCluster;
beforeAll(async () => {
  await loadCore();
  // Transactional batches and markers are written straight to the partition: no coordinator to verify with (KIP-890).
  wire = await startWireCluster({ clusterId: 'wire-read-committed', brokerConfig: { transactionPartitionVerificationEnable: false } });
}, 60_000);
afterAll(async () => { await wire?.stop(); });

async function waitFor(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('KafkaJS read_committed through the wire', () => {
  it('never sees an aborted transaction’s records; readUncommitted: true sees them', async () => {
    const cluster = wire.cluster;
    const topic = 'txn-read';
    await cluster.brokers[0].createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3 }] });
    let leader = -1;
    for (let i = 0; i < 200 && leader < 0; i++) {
      const m = await cluster.brokers[0].metadata({ topics: [topic] });
      leader = m.topics[0].partitions[0]?.leader ?? -1;
      if (leader < 0) await new Promise((r) => setTimeout(r, 50));
    }
    const broker = cluster.broker(leader) as BrokerApi & Partial<TransactionApi>;
    expect(typeof broker.writeTxnMarkers).toBe('function');
    const send = async (value: string, options: { producerId?: bigint; baseSequence?: number } = {}) => {
      const records = await encodeBatch([{ key: null, value }], options.producerId === undefined ? {} : { producerId: options.producerId, producerEpoch: 0, baseSequence: options.baseSequence, isTransactional: true });
      const r = await broker.produce({ acks: -1, timeoutMs: 10_000, transactionalId: options.producerId === undefined ? null : 'tx', topics: [{ topic, partitions: [{ partition: 0, records }] }] });
      expect(r.topics[0].partitions[0].error).toBeUndefined();
    };
    const mark = async (producerId: bigint, committed: boolean) => {
      const r = await broker.writeTxnMarkers!({ markers: [{ producerId, producerEpoch: 0, committed, coordinatorEpoch: 0, topics: [{ topic, partitions: [0] }] }] });
      expect(r.markers[0].topics[0].partitions[0].error).toBeUndefined();
    };
    await send('plain-0');
    await send('aborted-1', { producerId: 5n, baseSequence: 0 });
    await send('committed-2', { producerId: 6n, baseSequence: 0 });
    await send('aborted-3', { producerId: 5n, baseSequence: 1 });
    await mark(5n, false);
    await mark(6n, true);
    await send('plain-6');

    const kafka = new Kafka({ clientId: 'read-committed', brokers: wire.brokers, logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 50 } });
    for (const readUncommitted of [false, true]) {
      const consumer = kafka.consumer({ groupId: `g-${readUncommitted}`, readUncommitted, maxWaitTimeInMs: 100 });
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      const seen: string[] = [];
      await consumer.run({ eachMessage: async ({ message }) => { seen.push(String(message.value)); } });
      const expected = readUncommitted ? ['plain-0', 'aborted-1', 'committed-2', 'aborted-3', 'plain-6'] : ['plain-0', 'committed-2', 'plain-6'];
      await waitFor(() => seen.length >= expected.length, `${expected.length} messages`);
      await new Promise((r) => setTimeout(r, 300));
      await consumer.disconnect();
      expect(seen).toEqual(expected);
    }
  }, 90_000);
});
