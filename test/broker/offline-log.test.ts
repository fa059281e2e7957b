/**
 * A replica whose log an I/O error took offline: the broker closes it and
 * opens it again, and what was stored before is still there.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { Broker } from '../../src/broker/broker.ts';
import { StorageReplicaLogs } from '../../src/broker/storage-logs.ts';
import { systemClock, type Clock } from '../../src/clock.ts';
import { loadCore } from '../../src/core/index.ts';
import { MemoryMetadataStore } from '../../src/metadata/memory-metadata-store.ts';
import { LocalMetadataHub } from '../../src/metadata/metadata-watch.ts';
import type { ProduceRequest } from '../../src/protocol/types.ts';
import { FaultInjectingBackend, MemoryBackend } from '../../src/storage/index.ts';
import { batchOf, readRecords } from './helpers.ts';
import { until } from './replicated-cluster.ts';

let broker: Broker | undefined;
afterEach(async () => {
  await broker?.close().catch(() => {});
  broker = undefined;
});

const produce = (values: string[]): Promise<ProduceRequest> =>
  batchOf(values).then((records) => ({ acks: 1, timeoutMs: 1000, topics: [{ topic: 't', partitions: [{ partition: 0, records }] }] }));

describe('a log taken offline by an I/O error', () => {
  test('is reopened by the broker: produce works again and every record stored before is read back', async () => {
    await loadCore();
    const backend = new FaultInjectingBackend(new MemoryBackend(), { seed: 1, pathFilter: (path) => path.endsWith('.log') });
    const store = new MemoryMetadataStore();
    // The broker's reopen check runs when the test says, so the log is seen offline before it comes back.
    const REOPEN_INTERVAL_MS = 777;
    const reopenChecks: (() => void)[] = [];
    const clock: Clock = {
      ...systemClock,
      setTimeout: (callback, delayMs) => {
        if (delayMs !== REOPEN_INTERVAL_MS) return systemClock.setTimeout(callback, delayMs);
        reopenChecks.push(callback);
        return -1;
      },
    };
    broker = await Broker.start({
      nodeId: 0, clusterId: 'offline', metadataStore: store, metadataWatch: new LocalMetadataHub().handle(),
      storage: new StorageReplicaLogs(backend, 'memory'), clock,
      config: { offlineLogReopenIntervalMs: REOPEN_INTERVAL_MS, topicDefaults: { flushMs: 200 } },
    });
    await broker.createTopics({ topics: [{ topic: 't' }] });
    expect((await broker.produce(await produce(['a', 'b']))).topics[0].partitions[0].error).toBeUndefined();
    const b = broker;
    expect(reopenChecks).toHaveLength(0); // nothing is scheduled while every log is healthy

    // The append above left its flush to the log's flushMs timer, which fails: the data may not be durable, so the
    // log goes offline (Kafka's log dir failure) and every request to it is refused.
    backend.armed.push('failed-flush');
    await until(() => backend.injected.length > 0, 2_000);
    await new Promise((r) => setTimeout(r, 5));
    expect(backend.injected).toEqual([{ kind: 'failed-flush', path: expect.stringMatching(/\.log$/) }]);
    for (let i = 0; i < 3; i++) expect((await b.produce(await produce(['refused']))).topics[0].partitions[0].error?.type).toBe('KAFKA_STORAGE_ERROR');

    // Going offline armed one check, which closes the log and opens it again.
    expect(reopenChecks).toHaveLength(1);
    reopenChecks.shift()!();
    let answer: Awaited<ReturnType<Broker['produce']>>['topics'][0]['partitions'][0] | undefined;
    await until(async () => {
      answer = (await b.produce(await produce(['c']))).topics[0].partitions[0];
      return !answer.error;
    }, 2_000);
    expect(answer!.baseOffset).toBe(2n);
    const fetched = await b.fetch({
      maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 'read_uncommitted',
      topics: [{ topic: 't', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
    });
    const values = (await readRecords(fetched.topics[0].partitions[0].records)).map((r) => [r.offset, r.value]);
    expect(values).toEqual([[0n, 'a'], [1n, 'b'], [2n, 'c']]);
  });
});
