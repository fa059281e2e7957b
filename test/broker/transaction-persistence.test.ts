// The aborted-transaction index and the open transactions across restarts on files: a clean close leaves a
// producer-state snapshot, and the next load reads only the log after it; a snapshot past the log's end (the log
// lost its tail) or one a truncation made stale is not used; the index is trimmed when the log start moves.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../src/broker/broker.ts';
import { PartitionProducers } from '../../src/broker/partition-producers.ts';
import { decodeProducerSnapshot, encodeProducerSnapshot, PRODUCER_SNAPSHOT_FILE } from '../../src/broker/producer-snapshot.ts';
import type { ReplicaLog } from '../../src/broker/replica-log.ts';
import { StorageReplicaLogs } from '../../src/broker/storage-logs.ts';
import { ControlRecordTypes, encodeBatch, encodeEndTransactionMarker, loadCore } from '../../src/core/index.ts';
import { MemoryMetadataStore } from '../../src/metadata/memory-metadata-store.ts';
import { LocalMetadataHub } from '../../src/metadata/metadata-watch.ts';
import { DEFAULT_TOPIC_CONFIG } from '../../src/metadata/topic-config.ts';
import { MemoryBackend } from '../../src/storage/index.ts';
import { NodeFileBackend } from '../../src/storage/node-fs.ts';
import { batchOf, recordingReads } from './helpers.ts';
import { fetchFrom, produce, txnBatch, writeMarker } from './transactions.ts';

const dirs: string[] = [];
afterEach(async () => { await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true }))); });

async function fileBroker(root: string, store: MemoryMetadataStore): Promise<Broker> {
  const shared = { read: () => store.read(), compareAndSet: store.compareAndSet.bind(store), close: async () => {} };
  return Broker.start({
    nodeId: 0, clusterId: 'files', metadataStore: shared, metadataWatch: new LocalMetadataHub().handle(),
    storage: new StorageReplicaLogs(await NodeFileBackend.create(root), 'files'),
    // Transactional batches and markers written straight to the partition: no coordinator to verify with (KIP-890).
    config: { transactionPartitionVerificationEnable: false },
  });
}

describe('transaction state on files', () => {
  it('survives a restart: the snapshot written at close gives the same last stable offset and aborted transactions; DeleteRecords trims them', async () => {
    await loadCore();
    const root = await mkdtemp(join(tmpdir(), 'wafka-txn-'));
    dirs.push(root);
    const store = new MemoryMetadataStore();
    let broker = await fileBroker(root, store);
    await broker.createTopics({ topics: [{ topic: 't', numPartitions: 1 }] });
    await produce(broker, await batchOf(['p0']), null); // 0
    await produce(broker, await txnBatch(['a1'], 5n, 0)); // 1
    await produce(broker, await txnBatch(['b2'], 6n, 0)); // 2
    await writeMarker(broker, { producerId: 5n, producerEpoch: 0, committed: false }); // 3
    await produce(broker, await txnBatch(['c4'], 7n, 0)); // 4
    await writeMarker(broker, { producerId: 7n, producerEpoch: 0, committed: false }); // 5
    const before = await fetchFrom(broker, 'read_committed');
    expect(before).toMatchObject({ lastStableOffset: 2n, abortedTransactions: [{ producerId: 5n, firstOffset: 1n }] });
    await broker.close();
    expect(await readdir(join(root, 't-0'))).toContain(PRODUCER_SNAPSHOT_FILE);

    broker = await fileBroker(root, store);
    try {
      expect(await fetchFrom(broker, 'read_committed')).toEqual(before);
      // The open transaction goes on where it was: its commit makes everything up to the end stable.
      await writeMarker(broker, { producerId: 6n, producerEpoch: 0, committed: true }); // 6
      const all = await fetchFrom(broker, 'read_committed');
      expect(all).toMatchObject({ lastStableOffset: 7n, abortedTransactions: [{ producerId: 5n, firstOffset: 1n }, { producerId: 7n, firstOffset: 4n }] });
      expect(all.values).toEqual(['p0', 'a1', 'b2', 'c4']);
      // The log start moves past the first aborted transaction's marker: its entry goes.
      await broker.deleteRecords({ topics: [{ topic: 't', partitions: [{ partition: 0, offset: 4n }] }] });
      expect((await fetchFrom(broker, 'read_committed', 4n)).abortedTransactions).toEqual([{ producerId: 7n, firstOffset: 4n }]);
    } finally {
      await broker.close();
    }
    broker = await fileBroker(root, store);
    try {
      expect((await fetchFrom(broker, 'read_committed', 4n)).abortedTransactions).toEqual([{ producerId: 7n, firstOffset: 4n }]);
    } finally {
      await broker.close();
    }
  }, 30_000);
});

/** What logOpened reads of a log, as it is now. */
const opened = (log: ReplicaLog) => ({ logStartOffset: log.logStartOffset, logEndOffset: log.logEndOffset, segmentCount: log.segmentCount }) as ReplicaLog;

describe('producer-state snapshot', () => {
  async function logWith(steps: Uint8Array[]) {
    const logs = new StorageReplicaLogs(new MemoryBackend(), 'memory');
    const log = await logs.open({ topic: 't', partition: 0, topicId: 'x' }, DEFAULT_TOPIC_CONFIG);
    for (const bytes of steps) await log.appendAsFollower(bytes);
    return log;
  }
  const txn = (producerId: bigint, offset: bigint, sequence: number) =>
    encodeBatch([{ key: null, value: 'v' }], { baseOffset: offset, producerId, producerEpoch: 0, baseSequence: sequence, isTransactional: true });
  const abort = (producerId: bigint, offset: bigint) =>
    encodeEndTransactionMarker({ type: ControlRecordTypes.ABORT, coordinatorEpoch: 0 }, { producerId, producerEpoch: 0, baseOffset: offset });

  it('a load reads only the log after the snapshot; a snapshot past the end the log opened at is not used', async () => {
    await loadCore();
    const log = await logWith([await txn(1n, 0n, 0), abort(1n, 1n), await txn(2n, 2n, 0)]);
    const first = new PartitionProducers();
    first.logOpened(log);
    await first.load(log, 0);
    await log.writeProducerSnapshot(first.snapshot(log)!);
    await log.appendAsFollower(await txn(3n, 3n, 0));

    const reads: bigint[] = [];
    const second = new PartitionProducers();
    second.logOpened({ ...opened(log), logEndOffset: 3n });
    await second.load(recordingReads(log, reads), 0);
    expect(reads).toEqual([3n]);
    expect(second.lastStableOffset(4n)).toBe(2n);
    expect(second.abortedTransactions(0n, 4n)).toEqual([{ producerId: 1n, firstOffset: 0n }]);
    expect([...second.state!.ongoingTransactions]).toEqual([[2n, 2n], [3n, 3n]]);

    // Opened at an end below the snapshot's (the log lost its tail): the whole log is read instead.
    const reads2: bigint[] = [];
    const third = new PartitionProducers();
    third.logOpened({ ...opened(log), logEndOffset: 2n });
    await third.load(recordingReads(log, reads2), 0);
    expect(reads2[0]).toBe(0n);
    expect(third.abortedTransactions(0n, 4n)).toEqual([{ producerId: 1n, firstOffset: 0n }]);
    await log.close();
  });

  it('encodes and decodes losslessly; any flipped byte is no snapshot', async () => {
    await loadCore();
    const snapshot = {
      endOffset: 99n, logStartOffset: 3n, sawTransactions: true,
      producers: [{ producerId: 4n, epoch: 2, coordinatorEpoch: 7, currentTxnFirstOffset: 50n, lastSeenMs: 1_700_000_000_123, batches: [{ firstSequence: 0, lastSequence: 4, firstOffset: 50n, lastOffset: 54n }] },
        { producerId: 5n, epoch: 0, coordinatorEpoch: -1, currentTxnFirstOffset: null, lastSeenMs: 1, batches: [] }],
      unreplicated: [{ producerId: 6n, firstOffset: 10n, lastOffset: 90n, aborted: true }],
      aborted: [{ producerId: 6n, firstOffset: 10n, lastOffset: 90n, stableBefore: 50n }],
    };
    const bytes = encodeProducerSnapshot(snapshot);
    expect(decodeProducerSnapshot(bytes)).toEqual(snapshot);
    for (let i = 0; i < bytes.length; i += 7) {
      const broken = bytes.slice();
      broken[i] ^= 0x20;
      expect(decodeProducerSnapshot(broken)).toBeNull();
    }
    expect(decodeProducerSnapshot(bytes.subarray(0, bytes.length - 1))).toBeNull();
  });
});
