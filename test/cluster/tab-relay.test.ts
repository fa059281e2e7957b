// The relay between tabs (src/cluster/tab-relay.ts) with real MessagePorts: a connect reaches the tab
// serving that incarnation, waits for one announced later, never reaches a tab whose incarnation was
// superseded, and is dropped after PENDING_CONNECT_MS.
import { describe, expect, test } from 'vitest';
import { PENDING_CONNECT_MS, TabRelay, type RelayToTab } from '../../src/cluster/tab-relay.ts';
import type { Clock } from '../../src/clock.ts';

function fakeTab() {
  const received: RelayToTab[] = [];
  return { received, postMessage: (message: RelayToTab) => { received.push(message); } };
}

function clockAt(startMs: number) {
  const clock = { ms: startMs, nowMs: () => clock.ms } as unknown as Clock & { ms: number };
  return clock;
}

describe('TabRelay', () => {
  test('hands a port to the tab serving that broker incarnation, and to no other', () => {
    const relay = new TabRelay(clockAt(0));
    const [first, second, asker] = [fakeTab(), fakeTab(), fakeTab()];
    relay.handle(first, { type: 'host', clusterId: 'c', nodeId: 0, holder: 'w1' });
    const { port1 } = new MessageChannel();
    relay.handle(asker, { type: 'connect', clusterId: 'c', target: { kind: 'broker', nodeId: 0, holder: 'w1' }, port: port1 });
    expect(first.received.map((m) => m.target)).toEqual([{ kind: 'broker', nodeId: 0, holder: 'w1' }]);
    expect(first.received[0].port).toBe(port1);

    // Broker 0 restarted in another tab: the old incarnation is forgotten, a connect to it waits (and never reaches the first tab).
    relay.handle(second, { type: 'host', clusterId: 'c', nodeId: 0, holder: 'w2' });
    const stale = new MessageChannel().port1;
    relay.handle(asker, { type: 'connect', clusterId: 'c', target: { kind: 'broker', nodeId: 0, holder: 'w1' }, port: stale });
    expect(first.received).toHaveLength(1);
    expect(relay.pendingCount).toBe(1);
    stale.close();
    // Another cluster's broker 0 is another route.
    relay.handle(asker, { type: 'connect', clusterId: 'other', target: { kind: 'broker', nodeId: 0, holder: 'w2' }, port: new MessageChannel().port1 });
    expect(second.received).toHaveLength(0);
  });

  test('a connect to an incarnation not announced yet waits for it; one left waiting is dropped after PENDING_CONNECT_MS', () => {
    const clock = clockAt(1_000);
    const relay = new TabRelay(clock);
    const [server, asker] = [fakeTab(), fakeTab()];
    relay.handle(asker, { type: 'connect', clusterId: 'c', target: { kind: 'controller', epoch: 3 }, port: new MessageChannel().port1 });
    relay.handle(asker, { type: 'connect', clusterId: 'c', target: { kind: 'controller', epoch: 4 }, port: new MessageChannel().port1 });
    expect(relay.pendingCount).toBe(2);
    relay.handle(server, { type: 'controller', clusterId: 'c', epoch: 3 });
    expect(server.received.map((m) => m.target)).toEqual([{ kind: 'controller', epoch: 3 }]);
    expect(relay.pendingCount).toBe(1);
    clock.ms += PENDING_CONNECT_MS + 1;
    relay.handle(server, { type: 'controller', clusterId: 'c', epoch: 4 });
    expect(server.received).toHaveLength(1);
    expect(relay.pendingCount).toBe(0);
  });

  test('a tab that says bye serves nothing any more', () => {
    const relay = new TabRelay(clockAt(0));
    const [tab, asker] = [fakeTab(), fakeTab()];
    relay.handle(tab, { type: 'host', clusterId: 'c', nodeId: 1, holder: 'w' });
    relay.handle(tab, { type: 'bye' });
    relay.handle(asker, { type: 'connect', clusterId: 'c', target: { kind: 'broker', nodeId: 1, holder: 'w' }, port: new MessageChannel().port1 });
    expect(tab.received).toHaveLength(0);
    expect(relay.pendingCount).toBe(1);
  });
});
