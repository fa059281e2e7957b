import { describe, expect, it } from 'vitest';
import { ProduceWaiters } from '../../src/broker/produce-waiters.ts';
import { WafkaError } from '../../src/errors.ts';
import { SimScheduler } from '../../src/sim/scheduler.ts';

const P = 'orders\u00000';

function outcome(promise: Promise<void>): { value: string } {
  const result = { value: 'pending' };
  promise.then(() => { result.value = 'ok'; }, (e: WafkaError) => { result.value = e.type; });
  return result;
}

describe('ProduceWaiters', () => {
  it('completes waiters in order as the high watermark passes their offsets', async () => {
    const clock = new SimScheduler(1);
    const waiters = new ProduceWaiters(clock, 10);
    const a = outcome(waiters.wait(P, 5n, 1_000));
    const b = outcome(waiters.wait(P, 9n, 1_000));
    const other = outcome(waiters.wait('other\u00000', 1n, 1_000));
    waiters.highWatermarkMoved(P, 6n, 2, 2);
    await clock.runFor(1);
    expect([a.value, b.value, other.value]).toEqual(['ok', 'pending', 'pending']);
    expect(waiters.waiting).toBe(2);
    waiters.highWatermarkMoved(P, 9n, 3, 2);
    await clock.runFor(1);
    expect(b.value).toBe('ok');
    expect(waiters.waiting).toBe(1);
  });

  it('answers NOT_ENOUGH_REPLICAS_AFTER_APPEND when the records were committed by too small an ISR', async () => {
    const clock = new SimScheduler(2);
    const waiters = new ProduceWaiters(clock, 10);
    const a = outcome(waiters.wait(P, 3n, 1_000));
    waiters.highWatermarkMoved(P, 3n, 1, 2);
    await clock.runFor(1);
    expect(a.value).toBe('NOT_ENOUGH_REPLICAS_AFTER_APPEND');
  });

  it('times out with REQUEST_TIMED_OUT and forgets the waiter', async () => {
    const clock = new SimScheduler(3, { startMs: 0 });
    const waiters = new ProduceWaiters(clock, 10);
    const a = outcome(waiters.wait(P, 3n, 500));
    await clock.runFor(499);
    expect(a.value).toBe('pending');
    await clock.runFor(1);
    expect(a.value).toBe('REQUEST_TIMED_OUT');
    expect(waiters.waiting).toBe(0);
    waiters.highWatermarkMoved(P, 10n, 3, 2);
    expect(clock.pendingTimers).toBe(0);
  });

  it('fails every waiter of a partition whose leadership moved, and refuses past its limit', async () => {
    const clock = new SimScheduler(4);
    const waiters = new ProduceWaiters(clock, 2);
    const a = outcome(waiters.wait(P, 3n, 1_000));
    const b = outcome(waiters.wait(P, 4n, 1_000));
    const c = outcome(waiters.wait(P, 5n, 1_000));
    await clock.runFor(0);
    expect(c.value).toBe('REQUEST_TIMED_OUT');
    waiters.failAll(P, new WafkaError('NOT_LEADER_OR_FOLLOWER', 'moved'));
    await clock.runFor(0);
    expect([a.value, b.value]).toEqual(['NOT_LEADER_OR_FOLLOWER', 'NOT_LEADER_OR_FOLLOWER']);
    expect(waiters.waiting).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });
});
