// The consumer and transactions: read_committed (KafkaJS's default, readUncommitted false) never delivers an aborted
// or open transaction's records and delivers committed ones once their marker is written; control batches are never
// delivered, yet the position and the committed offsets move past them. readUncommitted: true delivers everything.
import { afterEach, describe, expect, it } from 'vitest';
import { Wafka, logLevel, type EachBatchPayload } from '../../src/index.ts';
import { batchOf, startTestCluster, type TestCluster } from '../broker/helpers.ts';
import { produce, txnBatch, writeMarker } from '../broker/transactions.ts';
import { text, waitFor } from './wait.ts';

let cluster: TestCluster | undefined;
afterEach(async () => { await cluster?.close(); cluster = undefined; });

async function committedOffset(wafka: Wafka, groupId: string): Promise<string> {
  const admin = wafka.admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId, topics: ['t'] });
    return t.partitions[0].offset;
  } finally {
    await admin.disconnect();
  }
}

describe('consumer and transactions', () => {
  for (const readUncommitted of [false, true]) {
    it(`${readUncommitted ? 'readUncommitted: true delivers every data record' : 'read_committed drops aborted transactions, waits for open ones'}; markers are skipped and committed past`, async () => {
      // Transactional batches and markers written straight to the partition: no coordinator to verify with (KIP-890).
      cluster = await startTestCluster(1, { transactionPartitionVerificationEnable: false });
      const broker = cluster.brokers[0];
      await broker.createTopics({ topics: [{ topic: 't', numPartitions: 1 }] });
      // Two producers' transactions interleaved with plain records.
      await produce(broker, await batchOf(['plain-0']), null); // 0
      await produce(broker, await txnBatch(['abort-a', 'abort-b'], 5n, 0)); // 1-2
      await produce(broker, await txnBatch(['commit-c'], 6n, 0)); // 3
      await produce(broker, await txnBatch(['abort-d'], 5n, 2)); // 4
      await produce(broker, await batchOf(['plain-5']), null); // 5
      await writeMarker(broker, { producerId: 5n, producerEpoch: 0, committed: false }); // 6
      await produce(broker, await txnBatch(['commit-e'], 6n, 1)); // 7
      await writeMarker(broker, { producerId: 6n, producerEpoch: 0, committed: true }); // 8
      // Producer 5 again, after its abort: a new transaction, open for now.
      await produce(broker, await txnBatch(['later-f'], 5n, 3)); // 9
      await produce(broker, await batchOf(['plain-10']), null); // 10

      const wafka = new Wafka({ clientId: 'c', cluster: cluster.brokers, logLevel: logLevel.NOTHING });
      const consumer = wafka.consumer({ groupId: 'g', maxWaitTimeInMs: 50, readUncommitted, maxBytesPerPartition: 150 });
      await consumer.connect();
      await consumer.subscribe({ topics: ['t'], fromBeginning: true });
      const got: { offset: string; value: string | null }[] = [];
      const batches: { firstOffset: string | null; lastOffset: string }[] = [];
      await consumer.run({
        eachBatch: async ({ batch, resolveOffset, heartbeat }: EachBatchPayload) => {
          batches.push({ firstOffset: batch.firstOffset(), lastOffset: batch.lastOffset() });
          for (const m of batch.messages) {
            got.push({ offset: m.offset, value: text(m.value) });
            resolveOffset(m.offset);
          }
          await heartbeat();
        },
      });
      if (readUncommitted) {
        await waitFor(() => got.length === 9);
        expect(got.map((m) => m.value)).toEqual(['plain-0', 'abort-a', 'abort-b', 'commit-c', 'abort-d', 'plain-5', 'commit-e', 'later-f', 'plain-10']);
        expect(got.map((m) => m.offset)).toEqual(['0', '1', '2', '3', '4', '5', '7', '9', '10']);
        await consumer.disconnect();
        expect(await committedOffset(wafka, 'g')).toBe('11');
        return;
      }
      await waitFor(() => got.length === 4);
      expect(got).toEqual([
        { offset: '0', value: 'plain-0' }, { offset: '3', value: 'commit-c' }, { offset: '5', value: 'plain-5' }, { offset: '7', value: 'commit-e' },
      ]);
      // Nothing from the open transaction (at 9) nor past it (the last stable offset).
      await new Promise((r) => setTimeout(r, 200));
      expect(got).toHaveLength(4);
      await writeMarker(broker, { producerId: 5n, producerEpoch: 0, committed: true }); // 11
      await waitFor(() => got.length === 6);
      expect(got.slice(4)).toEqual([{ offset: '9', value: 'later-f' }, { offset: '10', value: 'plain-10' }]);
      expect(got.some((m) => m.value?.startsWith('abort'))).toBe(false);
      // eachBatch's offsets are the delivered records'.
      for (const b of batches) expect(Number(b.firstOffset)).toBeLessThanOrEqual(Number(b.lastOffset));
      await consumer.disconnect();
      // The committed position is past the last marker: a restart does not read the markers or the aborted data again.
      expect(await committedOffset(wafka, 'g')).toBe('12');
    }, 30_000);
  }
});
