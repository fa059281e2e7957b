import { describe, expect, it } from 'vitest';
import { sleep } from '../../src/clock.ts';
import { WafkaError } from '../../src/errors.ts';
import { SimNetwork } from '../../src/sim/network.ts';
import { SimNode } from '../../src/sim/node.ts';
import { SimScheduler } from '../../src/sim/scheduler.ts';

function world(seed: number, options: ConstructorParameters<typeof SimNetwork>[1] = {}) {
  const scheduler = new SimScheduler(seed, { startMs: 0 });
  const network = new SimNetwork(scheduler, options);
  const [a, b, c] = ['a', 'b', 'c'].map((name) => new SimNode(scheduler, name));
  return { scheduler, network, a, b, c };
}

class Counter {
  value = 0;
  async add(n: number): Promise<number> {
    if (n < 0) throw new WafkaError('INVALID_REQUEST', 'negative');
    this.value += n;
    return this.value;
  }
}

describe('SimNode', () => {
  it('holds the timers of a paused node and runs them late, in order, when it resumes', async () => {
    const { scheduler, a } = world(1);
    const seen: string[] = [];
    a.clock.setTimeout(() => seen.push(`one@${scheduler.nowMs()}`), 10);
    a.clock.setTimeout(() => seen.push(`two@${scheduler.nowMs()}`), 20);
    a.pause();
    await scheduler.runFor(100);
    expect(seen).toEqual([]);
    a.resume();
    await scheduler.runFor(1);
    expect(seen).toEqual(['one@100', 'two@100']);
  });

  it('drops everything of a killed node', async () => {
    const { scheduler, a } = world(2);
    let fired = 0;
    a.clock.setTimeout(() => fired++, 10);
    a.kill();
    a.clock.setTimeout(() => fired++, 1);
    a.run(() => fired++);
    await scheduler.runFor(100);
    expect(fired).toBe(0);
    expect(scheduler.pendingTimers).toBe(0);
  });

  it('cancels its own timers through its clock', async () => {
    const { scheduler, a } = world(3);
    let fired = 0;
    const handle = a.clock.setTimeout(() => fired++, 10);
    a.clock.clearTimeout(handle);
    await scheduler.runFor(100);
    expect(fired).toBe(0);
  });
});

describe('SimNetwork', () => {
  it('delivers each message after a delay within the bounds', async () => {
    const { scheduler, network, a, b } = world(4, { minDelayMs: 1, maxDelayMs: 3 });
    const arrivals: number[] = [];
    for (let i = 0; i < 100; i++) network.send(a, b, () => arrivals.push(scheduler.nowMs()));
    await scheduler.runFor(10);
    expect(arrivals).toHaveLength(100);
    for (const t of arrivals) expect(t >= 1 && t <= 3).toBe(true);
    expect(network.stats).toEqual({ sent: 100, delivered: 100, dropped: 0, cut: 0 });
  });

  it('loses messages across a partition, also ones in flight when it forms, until healed', async () => {
    const { scheduler, network, a, b, c } = world(5, { minDelayMs: 5, maxDelayMs: 5 });
    const got: string[] = [];
    network.send(a, b, () => got.push('in-flight'));
    network.partition([a], [b]);
    network.send(a, b, () => got.push('after-cut'));
    network.send(a, c, () => got.push('to-c'));
    await scheduler.runFor(10);
    expect(got).toEqual(['to-c']);
    expect(network.canReach(b, a)).toBe(false);
    network.heal(a);
    network.send(a, b, () => got.push('healed'));
    await scheduler.runFor(10);
    expect(got).toEqual(['to-c', 'healed']);
    expect(network.stats.cut).toBe(2);
  });

  it('drops a share of messages drawn from the seed', async () => {
    const { scheduler, network, a, b } = world(6, { dropProbability: 0.3 });
    let delivered = 0;
    for (let i = 0; i < 1000; i++) network.send(a, b, () => delivered++);
    await scheduler.runFor(10);
    expect(delivered).toBe(network.stats.delivered);
    expect(network.stats.dropped).toBeGreaterThan(200);
    expect(network.stats.dropped).toBeLessThan(400);
  });

  it('calls a remote object: answers, errors, and a timeout when the link is cut', async () => {
    const { scheduler, network, a, b } = world(7);
    const counter = new Counter();
    const remote = network.remote(a, b, counter, 1_000);
    await expect(scheduler.settle(remote.add(2), 5_000)).resolves.toBe(2);
    await expect(scheduler.settle(remote.add(-1), 5_000)).rejects.toMatchObject({ type: 'INVALID_REQUEST' });
    network.isolate(b, [a]);
    const started = scheduler.nowMs();
    await expect(scheduler.settle(remote.add(5), 5_000)).rejects.toMatchObject({ type: 'REQUEST_TIMED_OUT' });
    expect(scheduler.nowMs() - started).toBe(1_000);
    expect(counter.value).toBe(2);
  });

  it('lets a paused node answer late; the caller has given up by then, the work is done', async () => {
    const { scheduler, network, a, b } = world(8);
    const counter = new Counter();
    const remote = network.remote(a, b, counter, 500);
    b.pause();
    const call = remote.add(1);
    await expect(scheduler.settle(call, 5_000)).rejects.toMatchObject({ type: 'REQUEST_TIMED_OUT' });
    expect(counter.value).toBe(0);
    b.resume();
    await scheduler.runFor(100);
    expect(counter.value).toBe(1);
  });

  it('never answers from a dead node', async () => {
    const { scheduler, network, a, b } = world(9);
    const remote = network.remote(a, b, { slow: () => sleep(b.clock, 100).then(() => 'done') }, 1_000);
    const call = remote.slow();
    await scheduler.runFor(10);
    b.kill();
    await expect(scheduler.settle(call, 5_000)).rejects.toMatchObject({ type: 'REQUEST_TIMED_OUT' });
  });
});
