/**
 * `wafka consume`: Kafka's kafka-console-consumer.sh. Prints each message's
 * value (and, if asked, its key, partition and offset) on one line of stdout,
 * from the end of the topic (or `--from-beginning`), until `--max-messages`,
 * `--timeout-ms` without a message, or Ctrl-C.
 */
import { withCluster } from './cluster-session.ts';
import { intOption, keyValues, parse, UsageError } from './usage.ts';

export const CONSUME_HELP = `Usage: wafka consume --topic NAME [options]

Prints one line per message: its value, or key<TAB>value with --print-key.

Options:
  -t, --topic NAME       the topic (required)
  --from-beginning       start at the first stored message (default: only new ones)
  --group ID             the consumer group id (default console-consumer-<random>)
  --max-messages N       exit after N messages
  --timeout-ms MS        exit after MS milliseconds without a message
  --print-key            print the key before the value
  --print-partition      print partition and offset first (partition:offset)
  --property k=v         Kafka's console-consumer properties: print.key=true, print.partition=true,
                         print.offset=true, key.separator=SEP (default TAB)
  --dir PATH             data directory of the files cluster (default ./data, or WAFKA_DATA_DIR)
  -h, --help             this help`;

const OPTIONS = {
  topic: { type: 'string', short: 't' },
  'from-beginning': { type: 'boolean' },
  group: { type: 'string' },
  'max-messages': { type: 'string' },
  'timeout-ms': { type: 'string' },
  'print-key': { type: 'boolean' },
  'print-partition': { type: 'boolean' },
  property: { type: 'string', multiple: true },
  dir: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const PROPERTIES = new Set(['print.key', 'print.partition', 'print.offset', 'key.separator']);

export async function consumeCommand(
  argv: string[], out: (line: string) => void, note: (line: string) => void, stopped: Promise<void>,
): Promise<void> {
  const { values } = parse(argv, OPTIONS);
  if (values.help) { out(CONSUME_HELP); return; }
  if (!values.topic) throw new UsageError('--topic is required');
  const topic = values.topic;
  const properties = new Map(keyValues(values.property, 'property').map((e) => [e.name, e.value]));
  for (const name of properties.keys()) if (!PROPERTIES.has(name)) throw new UsageError(`unknown --property '${name}': expected ${[...PROPERTIES].join(', ')}`);
  const maxMessages = intOption(values['max-messages'], 'max-messages', 1, Number.MAX_SAFE_INTEGER);
  const idleMs = intOption(values['timeout-ms'], 'timeout-ms', 1, 2 ** 31 - 1);
  const printKey = values['print-key'] || properties.get('print.key') === 'true';
  const printPartition = values['print-partition'] || properties.get('print.partition') === 'true';
  const printOffset = values['print-partition'] || properties.get('print.offset') === 'true';
  const separator = properties.get('key.separator') ?? '\t';
  const groupId = values.group ?? `console-consumer-${Math.floor(Math.random() * 100_000)}`;
  if (groupId.length === 0) throw new UsageError('--group must not be empty');

  await withCluster({ dir: values.dir ?? process.env.WAFKA_DATA_DIR ?? 'data', note }, async (wafka) => {
    const consumer = wafka.consumer({ groupId, maxWaitTimeInMs: 200 });
    await consumer.connect();
    const utf8 = new TextDecoder();
    let count = 0;
    let finish!: () => void;
    const done = new Promise<void>((resolve) => { finish = resolve; });
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    const armIdle = () => {
      if (idleMs === undefined) return;
      clearTimeout(idleTimer);
      idleTimer = setTimeout(finish, idleMs);
    };
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: !!values['from-beginning'] });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          if (maxMessages !== undefined && count >= maxMessages) return;
          const fields: string[] = [];
          if (printPartition && printOffset) fields.push(`${partition}:${message.offset}`);
          else if (printPartition) fields.push(String(partition));
          else if (printOffset) fields.push(message.offset);
          if (printKey) fields.push(message.key ? utf8.decode(message.key) : 'null');
          fields.push(message.value ? utf8.decode(message.value) : 'null');
          out(fields.join(separator));
          count++;
          armIdle();
          if (maxMessages !== undefined && count >= maxMessages) finish();
        },
      });
      armIdle();
      await Promise.race([done, stopped]);
    } finally {
      clearTimeout(idleTimer);
      await consumer.disconnect();
      note(`consumed ${count.toLocaleString('en-US')} message${count === 1 ? '' : 's'} from topic '${topic}'`);
    }
  });
}
