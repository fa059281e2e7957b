#!/usr/bin/env node
/**
 * `wafka`, the command line (the package's bin; `npm start` runs it too).
 *
 *   wafka [start] [options]        the demo and the playground page (src/cli/start.ts)
 *   wafka topics list|create|describe|delete
 *   wafka produce --topic T        lines of stdin as messages
 *   wafka consume --topic T        messages as lines of stdout
 *   wafka serve [--port 9092]      Kafka's wire protocol for Kafka clients, until Ctrl-C
 *
 * The subcommands work on a files cluster in a data directory (--dir, default
 * ./data), started in this process for the length of the command. Exit codes:
 * 0 done, 1 the cluster refused (a WafkaError, printed with its Kafka name),
 * 2 bad arguments.
 */
import { consumeCommand, CONSUME_HELP } from './cli/consume.ts';
import { produceCommand, PRODUCE_HELP } from './cli/produce.ts';
import { serveCommand, SERVE_HELP } from './cli/serve.ts';
import { topicsCommand, TOPICS_HELP } from './cli/topics.ts';
import { EXIT_USAGE, UsageError } from './cli/usage.ts';
import { START_HELP, start } from './cli/start.ts';

const HELP = `Usage: wafka [command] [options]

Kafka's log, rebuilt in WebAssembly, on this machine. Without a command, runs
the demo and serves the playground page (wafka start --help).

Commands:
  start                 the demo (produce, consume, check, throughput) and the playground page
  topics                list, create, describe or delete topics (kafka-topics)
  produce               send lines of stdin as messages (kafka-console-producer)
  consume               print messages of a topic (kafka-console-consumer)
  serve                 serve Kafka's wire protocol (port 9092 on) to any Kafka client

The commands work on a files cluster in a data directory (--dir, default ./data);
one process at a time uses a data directory.
Run 'wafka <command> --help' for a command's options.`;

const HELPS: Record<string, string> = { start: START_HELP, topics: TOPICS_HELP, produce: PRODUCE_HELP, consume: CONSUME_HELP, serve: SERVE_HELP };

const out = (line: string) => { process.stdout.write(`${line}\n`); };
const note = (line: string) => { process.stderr.write(`wafka: ${line}\n`); };

/** Resolves on Ctrl-C or SIGTERM. */
function stopSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === 'help') {
    out(rest[0] && HELPS[rest[0]] ? HELPS[rest[0]] : HELP);
    return;
  }
  if (command === '--help' || command === '-h') { out(HELP); return; }
  if (command === 'topics') return topicsCommand(rest, out, note);
  if (command === 'produce') return produceCommand(rest, process.stdin, note, out);
  if (command === 'consume') return consumeCommand(rest, out, note, stopSignal());
  if (command === 'serve') return serveCommand(rest, out, note, stopSignal());
  if (command === 'start') return start(rest);
  if (command === undefined || command.startsWith('-')) return start(argv);
  throw new UsageError(`unknown command '${command}': expected start, topics, produce, consume or serve`);
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    const command = HELPS[process.argv[2]] ? process.argv[2] : undefined;
    process.stderr.write(`wafka${command ? ` ${command}` : ''}: ${error.message}\nRun 'wafka${command ? ` ${command}` : ''} --help' for usage.\n`);
    process.exit(EXIT_USAGE);
  }
  process.stderr.write(`wafka: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
