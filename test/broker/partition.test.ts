import { beforeAll, describe, expect, it } from 'vitest';
import { Partition } from '../../src/broker/partition.ts';
import { StorageReplicaLogs } from '../../src/broker/storage-logs.ts';
import { DEFAULT_TOPIC_CONFIG } from '../../src/metadata/topic-config.ts';
import { loadCore } from '../../src/core/index.ts';
import { MemoryBackend } from '../../src/storage/index.ts';
import { batchOf } from './helpers.ts';

beforeAll(() => loadCore());

/** Broker 0 leading t-0 (replicas [0, 1, 2], the given ISR) from an empty log, then appending `records` records. */
async function leader(isr: number[], records: number): Promise<Partition> {
  const ref = { topic: 't', partition: 0, topicId: 'id' };
  const p = new Partition(0, 't\u00000', ref, DEFAULT_TOPIC_CONFIG, { partition: 0, leader: 0, leaderEpoch: 3, replicas: [0, 1, 2], isr, partitionEpoch: 7 });
  p.log = await new StorageReplicaLogs(new MemoryBackend(), 'memory').open(ref, DEFAULT_TOPIC_CONFIG);
  p.logOpened(0);
  for (let i = 0; i < records; i++) await p.log.append(await batchOf([`r${i}`]), 3);
  return p;
}

describe('Partition', () => {
  it('keeps counting a replica it asked to add to the ISR when the answer was lost (the controller may have stored it)', async () => {
    const p = await leader([0, 1], 5);
    // Replica 1 is at 3: the high watermark is 3. Replica 2 reached it too; the leader asks to add it.
    p.progress!.recordFetch(1, 3n, 5n, 1);
    p.advanceHighWatermark();
    expect(p.log!.highWatermark).toBe(3n);
    p.progress!.recordFetch(2, 3n, 5n, 1);
    const isr = p.isrChangeToPropose(2, 10_000, () => true)!;
    expect(isr.sort()).toEqual([0, 1, 2]);
    p.proposeIsr(isr);
    p.proposalFailed('REQUEST_TIMED_OUT');
    // Replica 1 reaches the end, replica 2 does not: with 2 possibly in the ISR, nothing more is committed.
    p.progress!.recordFetch(1, 5n, 5n, 3);
    p.advanceHighWatermark();
    expect(p.maximalIsr.sort()).toEqual([0, 1, 2]);
    expect(p.log!.highWatermark).toBe(3n);
    // The same proposal goes out again, and the metadata settles it.
    expect(p.isrChangeToPropose(4, 10_000, () => true)).toEqual(isr);
    p.applyState({ ...p.state, isr: [0, 1, 2], partitionEpoch: 8 }, 5);
    expect(p.proposedIsr).toBeNull();
  });

  it('drops a proposal the controller refused outright, and one a newer partition epoch made moot', async () => {
    const p = await leader([0, 1], 1);
    p.progress!.recordFetch(2, 1n, 1n, 1);
    p.progress!.recordFetch(1, 1n, 1n, 1);
    p.advanceHighWatermark();
    p.proposeIsr([0, 1, 2]);
    p.proposalFailed('INELIGIBLE_REPLICA');
    expect(p.proposedIsr).toBeNull();
    p.proposeIsr([0, 1, 2]);
    p.proposalFailed('REQUEST_TIMED_OUT');
    p.applyState({ ...p.state, isr: [0], partitionEpoch: 9 }, 2);
    expect(p.proposedIsr).toBeNull();
    expect(p.maximalIsr).toEqual([0]);
  });

  it('ignores a state older than the one it holds: metadata delivered after the controller\'s answer to an expansion', async () => {
    // Found by the simulation (seed 251 --transactions --netsplits --ms 10000): the answer storing ISR [0, 1]
    // at partition epoch 8 was applied, then metadata still carrying epoch 7's ISR [0] arrived; counted over [0]
    // alone, the high watermark passed replica 1, which the controller could elect next.
    const p = await leader([0], 5);
    p.progress!.recordFetch(1, 5n, 5n, 1);
    p.advanceHighWatermark();
    expect(p.log!.highWatermark).toBe(5n);
    p.proposeIsr(p.isrChangeToPropose(2, 10_000, () => true)!);
    p.proposalDone();
    const stored = { ...p.state, isr: [0, 1], partitionEpoch: 8 };
    expect(p.applyState(stored, 3)).toBe('same-role');
    await p.log!.append(await batchOf(['r5']), 3);
    expect(p.applyState({ ...stored, isr: [0], partitionEpoch: 7 }, 4)).toBe('same-role');
    expect(p.state.isr).toEqual([0, 1]);
    expect(p.state.partitionEpoch).toBe(8);
    p.advanceHighWatermark();
    expect(p.log!.highWatermark).toBe(5n);
    // An older leader epoch is ignored too; a newer one is taken.
    expect(p.applyState({ ...stored, leaderEpoch: 2, partitionEpoch: 9, leader: 1 }, 5)).toBe('same-role');
    expect(p.role).toBe('leader');
    expect(p.applyState({ ...stored, leaderEpoch: 4, partitionEpoch: 9, leader: 1 }, 6)).toBe('became-follower');
  });
});
