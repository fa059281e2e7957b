// kcat (librdkafka) against a 3-broker files cluster through the wire-protocol listeners. Runs where kcat is
// installed (Debian: apt-get install kcat); skipped elsewhere.
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Wafka, logLevel } from '../../src/index.ts';
import { checkReceived, readWithWafka, startWireCluster, type WireCluster } from './wire-cluster.ts';

const kcatInstalled = spawnSync('kcat', ['-V']).status === 0;

/** Runs kcat asynchronously (the listeners it talks to run in this thread); resolves with its stdout. */
function kcat(args: string[], input = ''): Promise<string> {
  const child = spawn('kcat', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += String(d); });
  child.stderr.on('data', (d) => { stderr += String(d); });
  child.stdin.end(input);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`kcat ${args.join(' ')}: exit ${code}: ${stderr}`))));
  });
}

let wire: WireCluster;
beforeAll(async () => { if (kcatInstalled) wire = await startWireCluster({ clusterId: 'wire-kcat' }); }, 60_000);
afterAll(async () => { await wire?.stop(); });

describe.skipIf(!kcatInstalled)('kcat (librdkafka) through the wire-protocol listener', () => {
  for (const codec of ['none', 'gzip', 'snappy', 'lz4']) {
    it(`produces keyed lines with -z ${codec}; wafka's own client reads every one`, async () => {
      const topic = `kcat-${codec}`;
      const lines = Array.from({ length: 200 }, (_, i) => `k${i % 7}\t${codec}:${i}`).join('\n') + '\n';
      await kcat(['-b', wire.brokers[0], '-P', '-t', topic, '-K', '\t', '-z', codec, '-X', 'acks=all'], lines);
      const got = await readWithWafka(wire.cluster, topic, 200);
      checkReceived(got.map((g) => ({ ...g, headers: { i: g.value!.split(':')[1], tag: ['a', `t${Number(g.value!.split(':')[1]) % 3}`] } })), codec, 200);
    }, 40_000);
  }

  it("reads what wafka's own producer wrote, keys and values, in offset order", async () => {
    const wafka = new Wafka({ clientId: 'wire-kcat', cluster: wire.cluster, logLevel: logLevel.NOTHING });
    const producer = wafka.producer();
    await producer.connect();
    await producer.send({ topic: 'kcat-read', messages: Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
    await producer.disconnect();
    const out = await kcat(['-b', wire.brokers[1], '-C', '-t', 'kcat-read', '-p', '0', '-o', 'beginning', '-e', '-f', '%o %k %s\n']);
    expect(out.trim().split('\n')).toEqual(Array.from({ length: 50 }, (_, i) => `${i} k${i} v${i}`));
  }, 40_000);
});
