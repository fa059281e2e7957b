// `wafka serve` as a user runs it (a child process through tsx on the sources): Kafka clients produce to it,
// it stops on SIGINT, and the records are there for `wafka consume` afterwards.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'wafka-serve-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

const portFree = (port: number) => new Promise<boolean>((resolve) => {
  const server = createServer();
  server.once('error', () => resolve(false));
  server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
});

/** A first port with `count` free ports from it on. */
async function freePorts(count: number): Promise<number> {
  for (let base = 20_000 + (process.pid % 1000) * 30; base < 60_000; base += 97) {
    let free = true;
    for (let i = 0; i < count && free; i++) free = await portFree(base + i);
    if (free) return base;
  }
  throw new Error('no free ports');
}

function run(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WAFKA_DATA_DIR: '' } });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => { output.stdout += String(d); });
  child.stderr.on('data', (d) => { output.stderr += String(d); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, output, exited };
}

describe('wafka serve', () => {
  it('serves 3 brokers on --port.. --port+2, KafkaJS produces, SIGINT stops it (exit 0), and wafka consume reads the records', async () => {
    const port = await freePorts(3);
    const serve = run(['serve', '--port', String(port), '--brokers', '3', '--dir', dir]);
    const deadline = Date.now() + 60_000;
    while (!serve.output.stdout.includes('\n')) {
      if (serve.child.exitCode !== null || Date.now() > deadline) throw new Error(`serve: ${serve.output.stdout} ${serve.output.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const bootstrap = serve.output.stdout.trim().split(',');
    expect(bootstrap).toEqual([0, 1, 2].map((i) => `127.0.0.1:${port + i}`));
    expect(serve.output.stderr).toContain(`broker 2 serves Kafka's protocol at 127.0.0.1:${port + 2}`);

    const kafka = new Kafka({ clientId: 'serve-test', brokers: [bootstrap[0]], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'served', numPartitions: 1, replicationFactor: 3 }] });
    const metadata = await admin.fetchTopicMetadata({ topics: ['served'] });
    await admin.disconnect();
    expect(metadata.topics[0].partitions[0].isr).toHaveLength(3);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'served', acks: -1, messages: ['one', 'two', 'three'].map((value) => ({ value })) });
    await producer.disconnect();

    serve.child.kill('SIGINT');
    expect(await serve.exited).toBe(0);
    const consume = run(['consume', '-t', 'served', '--from-beginning', '--max-messages', '3', '--dir', dir]);
    expect(await consume.exited).toBe(0);
    expect(consume.output.stdout).toBe('one\ntwo\nthree\n');
  }, 120_000);

  it('a port in use is a clear error and exit code 1', async () => {
    const port = await freePorts(1);
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const serve = run(['serve', '--port', String(port), '--dir', join(dir, 'other')]);
      expect(await serve.exited).toBe(1);
      expect(serve.output.stderr).toMatch(new RegExp(`NETWORK_EXCEPTION: cannot listen on 127.0.0.1:${port}: .*EADDRINUSE`));
    } finally {
      blocker.close();
    }
  }, 60_000);
});
