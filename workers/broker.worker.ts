/**
 * A wafka broker in a browser dedicated Web Worker (storage 'opfs' or
 * 'indexeddb'; OPFS sync access handles exist only in dedicated workers).
 * Started by startCluster(); speaks the protocol in src/cluster/worker-protocol.ts.
 */
import { serveBrokerWorker } from '../src/cluster/broker-worker-host.ts';
import type { ParentToWorker, WorkerToParent } from '../src/cluster/worker-protocol.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
serveBrokerWorker({
  runtime: 'dedicated-worker',
  post: (message: WorkerToParent) => scope.postMessage(message),
  listen: (handler) => scope.addEventListener('message', (event: MessageEvent<ParentToWorker>) => handler(event.data)),
});
