import { CONTROLLER_NODE_ID, Controller, type ControllerOptions } from '../controller/controller.ts';
import { acquireControllerLease } from '../controller/controller-lease.ts';
import type { ControllerLease } from '../controller/lease.ts';
import { systemClock } from '../clock.ts';
import type { MetadataStore } from '../metadata/metadata-store.ts';
import type { MetadataWatch } from '../metadata/metadata-watch.ts';
import type { Settings } from './cluster.ts';

/**
 * Takes the controller's lease for a cluster whose controller runs here (a
 * Web Lock in the browser, a lock file on Node; memory clusters are private to
 * this realm and need none), then claims the controller epoch. A lease found
 * lost (Node: broken after a stall) closes the controller; its writes would be
 * refused anyway.
 */
export async function activateController(
  settings: Settings, metadata: { store: MetadataStore; watch: MetadataWatch },
  hooks: Pick<ControllerOptions, 'onBrokersFenced' | 'onBrokerRegistered'> = {},
): Promise<{ controller: Controller; lease: ControllerLease | null }> {
  const lease = settings.storage === 'memory'
    ? null
    : await acquireControllerLease(settings.storage === 'files'
      ? { kind: 'file', dir: settings.dir, waitMs: settings.lockWaitMs }
      : { kind: 'web-lock', clusterId: settings.clusterId, waitMs: settings.lockWaitMs });
  try {
    const controller = await Controller.activate({
      nodeId: CONTROLLER_NODE_ID, clusterId: settings.clusterId, store: metadata.store, watch: metadata.watch,
      clock: systemClock, brokerSessionTimeoutMs: settings.brokerSessionTimeoutMs, ...hooks,
    });
    lease?.onLost(() => controller.close());
    return { controller, lease };
  } catch (error) {
    await lease?.release();
    throw error;
  }
}
