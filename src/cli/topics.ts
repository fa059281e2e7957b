/**
 * `wafka topics list|create|describe|delete`: Kafka's kafka-topics.sh, on a
 * files cluster in a data directory. `describe` prints Kafka's layout (a topic
 * line, then one line per partition) plus each partition's offsets.
 */
import { OFFSETS_TOPIC } from '../coordinator/group/offsets-topic-records.ts';
import { WafkaError } from '../errors.ts';
import { withCluster } from './cluster-session.ts';
import { intOption, keyValues, parse, UsageError } from './usage.ts';

export const TOPICS_HELP = `Usage: wafka topics <list|create|describe|delete> [topic] [options]

  wafka topics list                          topic names, one per line (not the internal __consumer_offsets)
  wafka topics create <topic> [--partitions N] [--config k=v ...] [--if-not-exists]
  wafka topics describe [topic ...]          partitions, leaders, offsets and config overrides
  wafka topics delete <topic>

Options:
  --dir PATH         data directory of the files cluster (default ./data, or WAFKA_DATA_DIR)
  --partitions N     partitions of a new topic (default 1)
  --config k=v       a topic config, Kafka's name or wafka's (retention.ms=60000, cleanup.policy=compact); repeatable
  --if-not-exists    create: succeed when the topic exists
  --topic NAME       the topic, instead of the positional argument
  -h, --help         this help`;

const OPTIONS = {
  dir: { type: 'string' },
  topic: { type: 'string', multiple: true },
  partitions: { type: 'string' },
  config: { type: 'string', multiple: true },
  'if-not-exists': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function topicsCommand(argv: string[], out: (line: string) => void, note: (line: string) => void): Promise<void> {
  const { values, positionals } = parse(argv, OPTIONS, 64);
  if (values.help) { out(TOPICS_HELP); return; }
  const [action, ...names] = positionals;
  const topics = [...names, ...(values.topic ?? [])];
  const dir = values.dir ?? process.env.WAFKA_DATA_DIR ?? 'data';
  if (action === undefined) throw new UsageError('name an action: list, create, describe or delete');
  if (!['list', 'create', 'describe', 'delete'].includes(action)) throw new UsageError(`unknown action '${action}': expected list, create, describe or delete`);
  if ((action === 'create' || action === 'delete') && topics.length !== 1) throw new UsageError(`${action} needs one topic name, got ${topics.length}`);
  if (action === 'list' && topics.length > 0) throw new UsageError(`list takes no topic, got '${topics[0]}'`);
  if (action !== 'create' && (values.partitions !== undefined || values.config !== undefined || values['if-not-exists'])) {
    throw new UsageError('--partitions, --config and --if-not-exists go with create');
  }
  const numPartitions = intOption(values.partitions, 'partitions', 1, 1000) ?? 1;
  const configEntries = keyValues(values.config, 'config');

  await withCluster({ dir, note }, async (wafka) => {
    const admin = wafka.admin();
    await admin.connect();
    try {
      if (action === 'list') {
        // As kafka-topics.sh --exclude-internal: the groups' offsets topic is the cluster's, not the user's.
        for (const name of (await admin.listTopics()).sort()) if (name !== OFFSETS_TOPIC) out(name);
      } else if (action === 'create') {
        const created = await admin.createTopics({ topics: [{ topic: topics[0], numPartitions, configEntries }] });
        if (!created && !values['if-not-exists']) throw new WafkaError('TOPIC_ALREADY_EXISTS', `topic '${topics[0]}' already exists (--if-not-exists to accept that)`);
        note(created ? `created topic '${topics[0]}' with ${numPartitions} partition${numPartitions === 1 ? '' : 's'}` : `topic '${topics[0]}' exists`);
      } else if (action === 'delete') {
        await admin.deleteTopics({ topics });
        note(`deleted topic '${topics[0]}'`);
      } else {
        const wanted = topics.length > 0 ? topics : (await admin.listTopics()).filter((name) => name !== OFFSETS_TOPIC).sort();
        const { topics: described } = await admin.fetchTopicMetadata({ topics: wanted });
        for (const topic of described) {
          const offsets = await admin.fetchTopicOffsets(topic.name);
          const { resources } = await admin.describeConfigs({ resources: [{ type: 'topic', name: topic.name }] });
          const overrides = resources[0].configEntries.filter((e) => !e.isDefault).map((e) => `${e.configName}=${e.configValue}`);
          out(`Topic: ${topic.name}\tPartitionCount: ${topic.partitions.length}\tReplicationFactor: ${topic.partitions[0]?.replicas.length ?? 0}\tConfigs: ${overrides.join(',')}`);
          for (const p of topic.partitions) {
            const o = offsets.find((x) => x.partition === p.partitionId);
            out(`\tTopic: ${topic.name}\tPartition: ${p.partitionId}\tLeader: ${p.leader}\tReplicas: ${p.replicas.join(',')}\tIsr: ${p.isr.join(',')}\tOffsets: ${o ? `${o.low}..${o.high}` : '?'}`);
          }
        }
      }
    } finally {
      await admin.disconnect();
    }
  });
}
