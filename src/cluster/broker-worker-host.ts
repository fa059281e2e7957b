/**
 * The body of a broker worker, shared by the browser's dedicated worker and
 * Node's worker thread (workers/ holds the thin entries): waits for `init`,
 * takes the broker's lock (browser), opens storage and metadata, starts the
 * Broker, serves it on every port it is given, and closes it on `stop`.
 */
import { Broker } from '../broker/broker.ts';
import { WafkaError } from '../errors.ts';
import { BrokerClient } from '../transport/broker-client.ts';
import { controllerClient } from '../transport/controller-channel.ts';
import { exposeBroker } from '../transport/expose-broker.ts';
import { openBrokerLogs, openSharedMetadata } from './broker-storage.ts';
import { acquireWebLock, brokerLockName } from './web-lock.ts';
import type { BrokerWorkerInit, ParentToWorker, WorkerToParent } from './worker-protocol.ts';

export interface WorkerControl {
  post(message: WorkerToParent): void;
  listen(handler: (message: ParentToWorker) => void): void;
  /** 'dedicated-worker' takes the broker's Web Lock; 'worker-thread' relies on the file backend's ownership. */
  runtime: 'dedicated-worker' | 'worker-thread';
}

export function serveBrokerWorker(control: WorkerControl): void {
  let broker: Broker | undefined;
  let starting: Promise<void> | undefined;
  let releaseLock: () => void = () => {};
  /** Other brokers, for follower fetches; a newer port for the same broker (it restarted) replaces the old one. */
  const peers = new Map<number, BrokerClient>();
  control.listen((message) => {
    if (message?.type === 'wafka:init' && !starting) {
      starting = start(message).catch((error) => {
        releaseLock();
        const json = error instanceof WafkaError ? error.toJSON() : { name: (error as Error)?.name ?? 'Error', message: String((error as Error)?.message ?? error) };
        control.post({ type: 'wafka:failed', error: json });
      });
    } else if (message?.type === 'wafka:peer') {
      peers.get(message.nodeId)?.close();
      peers.set(message.nodeId, new BrokerClient(message.port, { onClose: () => message.port.close() }));
    } else if (message?.type === 'wafka:hang') {
      const until = Date.now() + Math.min(Math.max(0, message.ms), 600_000);
      while (Date.now() < until) { /* hung on purpose */ }
    } else if (message?.type === 'wafka:connect') {
      void starting?.then(() => broker && exposeBroker(broker, message.port));
    } else if (message?.type === 'wafka:stop') {
      void (async () => {
        let error: string | undefined;
        try {
          await starting;
          await broker?.close();
          for (const peer of peers.values()) peer.close();
        } catch (e) {
          error = String((e as Error)?.message ?? e);
        }
        releaseLock();
        control.post({ type: 'wafka:stopped', error });
      })();
    }
  });

  async function start(init: BrokerWorkerInit): Promise<void> {
    if (control.runtime === 'dedicated-worker') {
      releaseLock = await acquireWebLock(brokerLockName(init.clusterId, init.nodeId), init.lockWaitMs ?? 5_000);
    }
    const { store, watch } = await openSharedMetadata(init.storage, init.clusterId, init.dir);
    const storage = await openBrokerLogs(init.storage, { clusterId: init.clusterId, nodeId: init.nodeId, dir: init.dir });
    const controller = init.controllerPort ? controllerClient(init.controllerPort) : null;
    broker = await Broker.start({
      nodeId: init.nodeId, clusterId: init.clusterId, host: control.runtime, config: init.brokerConfig,
      metadataStore: store, metadataWatch: watch, storage,
      ...(controller && {
        controller: () => controller,
        peer: (id: number) => { const p = peers.get(id); return p && !p.closed ? p : null; },
      }),
    });
    exposeBroker(broker, init.port);
    control.post({ type: 'wafka:ready', nodeId: init.nodeId });
  }
}
