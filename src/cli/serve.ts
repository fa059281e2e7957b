/**
 * `wafka serve`: a files cluster in a data directory, brokers in worker
 * threads, each serving Kafka's wire protocol on its own port (--port for
 * broker 0, --port + i for broker i), until Ctrl-C or SIGTERM; then the
 * listeners close and the brokers flush and stop. Any Kafka client points its
 * bootstrap servers at the printed addresses.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CLUSTER_BROKERS_MAX, startCluster } from '../index.ts';
import { dataDirCluster } from './data-dir.ts';
import { intOption, parse } from './usage.ts';

export const SERVE_HELP = `Usage: wafka serve [options]

Runs a files cluster and serves Kafka's wire protocol, one port per broker, so
Kafka clients (KafkaJS, librdkafka/kcat, kafka-python, ...) produce and consume.
Stops on Ctrl-C (SIGINT) or SIGTERM. Prints the bootstrap servers on stdout.

Options:
  --port N               broker 0's port (default 9092); broker i listens on N + i
  --host ADDR            the address to bind (default 127.0.0.1: this machine only)
  --advertised-host NAME the host clients are told to connect to (default: --host, or 127.0.0.1 for 0.0.0.0)
  --brokers N            brokers to run (default 1, or as many as the directory registered)
  --dir PATH             data directory of the files cluster (default ./data, or WAFKA_DATA_DIR)
  -h, --help             this help`;

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  'advertised-host': { type: 'string' },
  brokers: { type: 'string' },
  dir: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function serveCommand(argv: string[], out: (line: string) => void, note: (line: string) => void, stopped: Promise<void>): Promise<void> {
  const { values } = parse(argv, OPTIONS);
  if (values.help) { out(SERVE_HELP); return; }
  const port = intOption(values.port, 'port', 0, 65_535) ?? 9092;
  const brokersAsked = intOption(values.brokers, 'brokers', 1, CLUSTER_BROKERS_MAX);
  const dir = resolve(values.dir ?? process.env.WAFKA_DATA_DIR ?? 'data');
  await mkdir(dir, { recursive: true });
  const { clusterId, brokers, note: raised } = await dataDirCluster(dir, brokersAsked, 1);
  if (raised) note(raised);
  const cluster = await startCluster({
    storage: 'files', dir, clusterId, brokers,
    listen: { port, host: values.host, advertisedHost: values['advertised-host'] },
  });
  try {
    for (const l of cluster.listeners) note(`broker ${l.nodeId} serves Kafka's protocol at ${l.host}:${l.port}`);
    out(cluster.listeners.map((l) => `${l.host}:${l.port}`).join(','));
    await stopped;
    note('stopping');
  } finally {
    await cluster.stop();
  }
}
