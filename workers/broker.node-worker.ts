/**
 * A wafka broker in a Node worker thread (storage 'files' under
 * <dir>/broker-<id>/). Started by startCluster() through
 * workers/node-worker-bootstrap.mjs; speaks src/cluster/worker-protocol.ts.
 */
import { parentPort } from 'node:worker_threads';
import { serveBrokerWorker } from '../src/cluster/broker-worker-host.ts';

if (!parentPort) throw new Error('broker.node-worker.ts runs as a worker thread');
const port = parentPort;
serveBrokerWorker({
  runtime: 'worker-thread',
  post: (message) => port.postMessage(message),
  listen: (handler) => port.on('message', handler),
});
