/**
 * `wafka produce`: Kafka's kafka-console-producer.sh. One message per line of
 * stdin; with a key separator (`--key-separator :` or Kafka's
 * `--property parse.key=true --property key.separator=:`) the text before the
 * first separator is the key. Lines are sent in chunks through one producer
 * (batched by lingerMs), with a bound on chunks in flight.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { CompressionTypes, type CompressionType } from '../core/codecs.ts';
import { WafkaError } from '../errors.ts';
import { withCluster } from './cluster-session.ts';
import { intOption, keyValues, parse, UsageError } from './usage.ts';

export const PRODUCE_HELP = `Usage: wafka produce --topic NAME [options] < lines.txt

Sends each line of stdin as one message (empty lines are skipped). The topic is
created on first use unless the cluster was started with auto-creation off.

Options:
  -t, --topic NAME          the topic (required)
  --key-separator SEP       split each line at the first SEP into key and value
  --property k=v            Kafka's console-producer properties: parse.key=true, key.separator=SEP
  --partition N             send every message to partition N (default: the key's partition, Kafka's murmur2)
  --acks 0|1|-1             default -1 (all)
  --compression NAME        none, gzip, snappy or lz4 (default none)
  --dir PATH                data directory of the files cluster (default ./data, or WAFKA_DATA_DIR)
  -h, --help                this help`;

const OPTIONS = {
  topic: { type: 'string', short: 't' },
  'key-separator': { type: 'string' },
  property: { type: 'string', multiple: true },
  partition: { type: 'string' },
  acks: { type: 'string' },
  compression: { type: 'string' },
  dir: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Lines per send; sends in flight at once. Bounds the memory a fast stdin can take. */
const LINES_PER_SEND = 1000;
const SENDS_IN_FLIGHT_MAX = 16;
/** A line longer than this is refused before it is sent (the broker's default max.message.bytes is 1 MiB). */
export const LINE_CHARS_MAX = 1024 * 1024;

const COMPRESSION: Record<string, CompressionType> = {
  none: CompressionTypes.None, gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy, lz4: CompressionTypes.LZ4,
};

export async function produceCommand(argv: string[], input: Readable, note: (line: string) => void, out: (line: string) => void): Promise<void> {
  const { values } = parse(argv, OPTIONS);
  if (values.help) { out(PRODUCE_HELP); return; }
  if (!values.topic) throw new UsageError('--topic is required');
  const topic = values.topic;
  const properties = new Map(keyValues(values.property, 'property').map((e) => [e.name, e.value]));
  for (const name of properties.keys()) {
    if (name !== 'parse.key' && name !== 'key.separator') throw new UsageError(`unknown --property '${name}': expected parse.key or key.separator`);
  }
  const parseKey = values['key-separator'] !== undefined || properties.get('parse.key') === 'true';
  const separator = values['key-separator'] ?? properties.get('key.separator') ?? '\t';
  if (parseKey && separator.length === 0) throw new UsageError('the key separator must not be empty');
  const partition = intOption(values.partition, 'partition', 0, 999_999);
  const acks = intOption(values.acks, 'acks', -1, 1) as -1 | 0 | 1 | undefined;
  const compressionName = values.compression ?? 'none';
  const compression = COMPRESSION[compressionName];
  if (compression === undefined) throw new UsageError(`--compression ${compressionName}: expected ${Object.keys(COMPRESSION).join(', ')}`);

  await withCluster({ dir: values.dir ?? process.env.WAFKA_DATA_DIR ?? 'data', note }, async (wafka) => {
    const producer = wafka.producer({ lingerMs: 5, compression, acks: acks ?? -1 });
    await producer.connect();
    let sent = 0;
    let lineNumber = 0;
    const inFlight = new Set<Promise<unknown>>();
    let failure: unknown;
    const send = (messages: { key: string | null; value: string; partition?: number }[]) => {
      const sending = producer.send({ topic, messages }).then(
        () => { sent += messages.length; },
        (error: unknown) => { failure ??= error; },
      ).finally(() => inFlight.delete(sending));
      inFlight.add(sending);
    };
    try {
      let chunk: { key: string | null; value: string; partition?: number }[] = [];
      for await (const line of createInterface({ input, crlfDelay: Infinity })) {
        lineNumber++;
        if (failure) break;
        if (line.length === 0) continue;
        if (line.length > LINE_CHARS_MAX) throw new WafkaError('MESSAGE_TOO_LARGE', `line ${lineNumber} has ${line.length} characters, over the ${LINE_CHARS_MAX} limit`);
        let key: string | null = null;
        let value = line;
        if (parseKey) {
          const at = line.indexOf(separator);
          if (at < 0) throw new WafkaError('INVALID_RECORD', `line ${lineNumber} has no key separator '${separator}'`);
          key = line.slice(0, at);
          value = line.slice(at + separator.length);
        }
        chunk.push(partition === undefined ? { key, value } : { key, value, partition });
        if (chunk.length >= LINES_PER_SEND) {
          send(chunk);
          chunk = [];
          while (inFlight.size >= SENDS_IN_FLIGHT_MAX) await Promise.race(inFlight);
        }
      }
      if (chunk.length > 0 && !failure) send(chunk);
      await Promise.all(inFlight);
      if (failure) throw failure;
    } finally {
      await Promise.all(inFlight);
      await producer.disconnect().catch(() => {});
      note(`produced ${sent.toLocaleString('en-US')} message${sent === 1 ? '' : 's'} to topic '${topic}'`);
    }
  });
}
