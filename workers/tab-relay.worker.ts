/**
 * The relay between the tabs of a shared cluster, as a SharedWorker (one per
 * origin, shared by every clusterId): see src/cluster/tab-relay.ts.
 */
import { TabRelay } from '../src/cluster/tab-relay.ts';

const relay = new TabRelay();
const scope = self as unknown as { onconnect: ((event: MessageEvent) => void) | null };
scope.onconnect = (event: MessageEvent) => relay.attach(event.ports[0]);
