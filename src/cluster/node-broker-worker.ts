/**
 * A broker in a Node worker thread (workers/broker.node-worker.ts), as the
 * cluster sees it. Node-only: reached through importNodeOnly().
 */
import { startNodeWorker } from '../transport/node-worker.ts';
import type { WorkerHandle } from './worker-protocol.ts';

export function spawnNodeBrokerWorker(nodeId: number): WorkerHandle {
  const worker = startNodeWorker(new URL('../../workers/broker.node-worker.ts', import.meta.url), {}, { name: `wafka-broker-${nodeId}` });
  return {
    post: (message, transfer) => worker.postMessage(message, transfer as never),
    onMessage: (handler) => worker.on('message', handler),
    onDeath: (handler) => {
      worker.on('error', (error) => handler(String(error?.message ?? error)));
      worker.on('exit', (code) => handler(`worker exited with code ${code}`));
    },
    terminate: async () => void (await worker.terminate()),
  };
}
