/**
 * For the OPFS ownership test: 'hold' opens a log and keeps it until told to
 * 'close'; 'try' opens the same log and reports the error's type.
 */
import { OpfsBackend, openPartitionLog, type PartitionLog } from '../../src/storage/index.ts';
import { WafkaError } from '../../src/errors.ts';

let held: PartitionLog | undefined;

self.onmessage = async (event: MessageEvent<{ op: 'hold' | 'try' | 'close' | 'cleanup' }>) => {
  const op = event.data.op;
  try {
    const backend = await OpfsBackend.create('wafka-owner-test');
    if (op === 'hold') {
      held = await openPartitionLog({ backend, dir: 'owned-0' });
      postMessage({ op, ok: true });
    } else if (op === 'try') {
      const log = await openPartitionLog({ backend, dir: 'owned-0' });
      await log.close();
      postMessage({ op, ok: true });
    } else if (op === 'close') {
      await held?.close();
      postMessage({ op, ok: true });
    } else {
      const root = await navigator.storage.getDirectory();
      await root.removeEntry('wafka-owner-test', { recursive: true });
      postMessage({ op, ok: true });
    }
  } catch (error) {
    postMessage({ op, ok: false, type: WafkaError.is(error) ? error.type : String(error), message: String((error as Error).message) });
  }
};
