// The `wafka` command (src/cli.ts) as a user runs it: a child process (through tsx on the
// sources), on a files cluster in a temporary data directory; stdout, stderr and exit codes.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Run { code: number | null; stdout: string; stderr: string }

function wafka(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, WAFKA_DATA_DIR: '', ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += String(d); });
    child.stderr.on('data', (d) => { stderr += String(d); });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'wafka-cli-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('wafka --help', () => {
  it('lists the commands, and each command has its own help', async () => {
    const top = await wafka(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^Usage: wafka \[command\]/);
    for (const command of ['start', 'topics', 'produce', 'consume']) expect(top.stdout).toContain(`  ${command} `);
    const [start, topics, produce, consume] = await Promise.all(['start', 'topics', 'produce', 'consume'].map((c) => wafka([c, '--help'])));
    expect(start).toMatchObject({ code: 0 });
    expect(start.stdout).toContain('--messages N');
    expect(topics.stdout).toContain('wafka topics create <topic> [--partitions N] [--config k=v ...]');
    expect(produce.stdout).toContain('--key-separator SEP');
    expect(consume.stdout).toContain('--from-beginning');
    for (const r of [topics, produce, consume]) expect(r.code).toBe(0);
  });
});

describe('topics, produce, consume on a files cluster', () => {
  it('topics create, list and describe', async () => {
    const created = await wafka(['topics', 'create', 'orders', '--partitions', '3', '--config', 'retention.ms=60000', '--dir', dir]);
    expect(created, created.stderr).toMatchObject({ code: 0, stdout: '' });
    expect(created.stderr).toContain("created topic 'orders' with 3 partitions");
    expect(await wafka(['topics', 'create', '--topic', 'audit', '--dir', dir])).toMatchObject({ code: 0 });
    const list = await wafka(['topics', 'list', '--dir', dir]);
    expect(list).toMatchObject({ code: 0, stdout: 'audit\norders\n' });
    const described = await wafka(['topics', 'describe', 'orders', '--dir', dir]);
    expect(described.code).toBe(0);
    const lines = described.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('Topic: orders\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: retentionMs=60000');
    expect(lines.slice(1)).toEqual([0, 1, 2].map((p) => `\tTopic: orders\tPartition: ${p}\tLeader: 0\tReplicas: 0\tIsr: 0\tOffsets: 0..0`));
  });

  it('produce lines of stdin with keys; consume them back from the beginning, keys printed', async () => {
    const produced = await wafka(['produce', '--topic', 'orders', '--key-separator', ':', '--dir', dir], { stdin: 'o-1:created\no-2:created\n\no-1:paid\n' });
    expect(produced, produced.stderr).toMatchObject({ code: 0 });
    expect(produced.stderr).toContain("produced 3 messages to topic 'orders'");
    // Kafka's console-producer property form, into the same topic.
    const more = await wafka(['produce', '-t', 'orders', '--property', 'parse.key=true', '--property', 'key.separator=|', '--dir', dir], { stdin: 'o-3|created' });
    expect(more).toMatchObject({ code: 0 });

    const consumed = await wafka(['consume', '--topic', 'orders', '--from-beginning', '--group', 'cli-test', '--max-messages', '4', '--print-key', '--dir', dir]);
    expect(consumed, consumed.stderr).toMatchObject({ code: 0 });
    const rows = consumed.stdout.trimEnd().split('\n');
    expect([...rows].sort()).toEqual(['o-1\tcreated', 'o-1\tpaid', 'o-2\tcreated', 'o-3\tcreated']);
    // One key, one partition, in send order.
    expect(rows.filter((r) => r.startsWith('o-1'))).toEqual(['o-1\tcreated', 'o-1\tpaid']);
    expect(consumed.stderr).toContain("consumed 4 messages from topic 'orders'");

    const described = await wafka(['topics', 'describe', 'orders', '--dir', dir]);
    const ends = [...described.stdout.matchAll(/Offsets: 0\.\.(\d+)/g)].map((m) => Number(m[1]));
    expect(ends.reduce((a, b) => a + b, 0)).toBe(4);
  });

  it('a topic produced to without being created is created on first use; consume without --from-beginning sees only new messages', async () => {
    expect(await wafka(['produce', '-t', 'fresh', '--dir', dir], { stdin: 'one\ntwo\n' })).toMatchObject({ code: 0 });
    const tail = await wafka(['consume', '-t', 'fresh', '--timeout-ms', '300', '--dir', dir]);
    expect(tail).toMatchObject({ code: 0, stdout: '' });
    const all = await wafka(['consume', '-t', 'fresh', '--from-beginning', '--max-messages', '2', '--print-partition', '--dir', dir]);
    expect(all).toMatchObject({ code: 0, stdout: '0:0\tone\n0:1\ttwo\n' });
  });
});

describe('consume tails a topic until Ctrl-C', () => {
  it('prints what is there, keeps following, and on SIGINT stops the brokers and exits 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'consume', '-t', 'fresh', '--from-beginning', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += String(d); });
    child.stderr.on('data', (d) => { stderr += String(d); });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const deadline = Date.now() + 60_000;
    while (stdout !== 'one\ntwo\n') {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`consume: ${stdout} ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stderr).toContain("consumed 2 messages from topic 'fresh'");
  }, 90_000);
});

describe.concurrent('bad input: a clear message, exit code 2 (arguments) or 1 (refused by the cluster)', () => {
  it.each([
    [['bogus'], /unknown command 'bogus'/],
    [['topics'], /name an action/],
    [['topics', 'shrink'], /unknown action 'shrink'/],
    [['topics', 'create'], /create needs one topic name/],
    [['topics', 'create', 't', '--partitions', '0'], /--partitions must be a whole number from 1 to 1,000, got '0'/],
    [['topics', 'create', 't', '--config', 'retention.ms'], /--config expects key=value/],
    [['topics', 'list', '--color'], /Unknown option '--color'/],
    [['produce'], /--topic is required/],
    [['produce', '-t', 'x', '--compression', 'brotli'], /--compression brotli: expected none, gzip, snappy, lz4/],
    [['consume', '-t', 'x', '--max-messages', 'ten'], /--max-messages must be a whole number/],
    [['consume', '-t', 'x', '--property', 'print.color=true'], /unknown --property 'print.color'/],
    [['--messages', '0'], /--messages must be a whole number from 1 to 10,000,000, got '0'/],
    [['--messages', ''], /--messages must be a whole number/],
    [['--brokers', '40'], /--brokers must be a whole number from 1 to 32/],
    [['start', '--storage', 'opfs'], /--storage opfs: on Node, 'files' or 'memory'/],
  ])('wafka %j', async (args, message) => {
    const r = await wafka([...args, '--dir', join(dir, 'unused')]);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/Run 'wafka( \w+)? --help' for usage\./);
    expect(r.code).toBe(2);
  });

  it('a line without the key separator is INVALID_RECORD (exit 1); an existing topic is TOPIC_ALREADY_EXISTS', async () => {
    const noKey = await wafka(['produce', '-t', 'orders', '--key-separator', ':', '--dir', dir], { stdin: 'o-9:ok\nno separator here\n' });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain("INVALID_RECORD: line 2 has no key separator ':'");
    const again = await wafka(['topics', 'create', 'orders', '--dir', dir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("TOPIC_ALREADY_EXISTS: topic 'orders' already exists");
    expect(await wafka(['topics', 'create', 'orders', '--if-not-exists', '--dir', dir])).toMatchObject({ code: 0 });
  });
});

describe('wafka start --demo-only (npm start) on a data directory', () => {
  it('a later run with fewer brokers starts the brokers the directory registered; more partitions grow the topic', async () => {
    const data = join(dir, 'demo');
    const first = await wafka(['--demo-only', '--messages', '300', '--dir', data]);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toContain('✓ every message came back once');
    const second = await wafka(['start', '--demo-only', '--messages', '200', '--brokers', '1', '--partitions', '5', '--dir', data]);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.stdout).toContain('holds a 3-broker cluster whose partitions live on brokers 0..2: starting 3 brokers, not 1');
    expect(second.stdout).toContain('grew topic "demo" from 3 to 5 partitions');
    expect(second.stdout).toContain('300 records already there from earlier runs');
    expect(second.stdout).toContain('✓ every message came back once');
    const third = await wafka(['--demo-only', '--messages', '100', '--partitions', '2', '--dir', data]);
    expect(third.stdout).toContain('topic "demo" keeps its 5 partitions: 2 were asked for, and a Kafka topic cannot shrink');
    expect(third.code).toBe(0);
  }, 120_000);
});
