/**
 * The console's source over a cluster reached from this realm (the page's
 * own cluster, or on Node the cluster the CLI started): snapshots, a bounded
 * tail straight from the partition leaders (one fetch per leader, no long
 * poll, decoded by the Wasm core once per batch), produce and admin through
 * the ordinary client.
 */
import type { ClusterConnection } from '../cluster/cluster-connection.ts';
import { loadBatchCodec } from '../client/core-codec.ts';
import { logLevel } from '../client/logger.ts';
import { Wafka } from '../client/wafka.ts';
import type { Admin } from '../client/admin.ts';
import type { Producer } from '../client/producer.ts';
import { WafkaError } from '../errors.ts';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP } from '../protocol/types.ts';
import {
  BROKER_ANSWER_TIMEOUT_MS, PRODUCE_BYTES_MAX, PRODUCE_HEADERS_MAX, TAIL_FETCH_BYTES_MAX, TAIL_PARTITIONS_MAX, TAIL_RECORDS_MAX,
} from './limits.ts';
import { takeSnapshot, within } from './snapshot.ts';
import type { ConsoleSource, ProduceInput, TailPosition, TailRecord, TailResult, TailStart, TopicConfigEntry } from './types.ts';

const invalid = (message: string) => new WafkaError('INVALID_REQUEST', message, { retriable: false });

function offsetOf(value: string, what: string): bigint {
  if (!/^\d{1,19}$/.test(value)) throw invalid(`${what} '${value}' is not an offset (a whole number ≥ 0)`);
  return BigInt(value);
}

function checkPositions(positions: TailPosition[]): { partition: number; offset: bigint }[] {
  if (!Array.isArray(positions) || positions.length === 0 || positions.length > TAIL_PARTITIONS_MAX) {
    throw invalid(`a tail follows 1..${TAIL_PARTITIONS_MAX} partitions, got ${Array.isArray(positions) ? positions.length : typeof positions}`);
  }
  return positions.map((p, i) => {
    if (!Number.isSafeInteger(p?.partition) || p.partition < 0) throw invalid(`positions[${i}].partition is not a partition number`);
    return { partition: p.partition, offset: offsetOf(String(p.offset), `positions[${i}].offset`) };
  });
}

/** The produce form's input, checked against the console's limits. */
export function checkProduceInput(input: ProduceInput): ProduceInput {
  if (typeof input?.topic !== 'string' || input.topic === '') throw invalid('produce needs a topic');
  if (typeof input.value !== 'string') throw invalid('produce needs a value (text)');
  if (input.key !== null && typeof input.key !== 'string') throw invalid('the key is text or null');
  if (input.partition !== undefined && (!Number.isSafeInteger(input.partition) || input.partition < 0)) throw invalid(`partition ${String(input.partition)} is not a partition number`);
  if (!Array.isArray(input.headers) || input.headers.length > PRODUCE_HEADERS_MAX) throw invalid(`at most ${PRODUCE_HEADERS_MAX} headers`);
  let bytes = input.value.length + (input.key?.length ?? 0);
  for (const h of input.headers) {
    if (typeof h?.key !== 'string' || typeof h.value !== 'string' || h.key === '') throw invalid('a header is a non-empty key and a text value');
    bytes += h.key.length + h.value.length;
  }
  if (bytes > PRODUCE_BYTES_MAX) throw new WafkaError('MESSAGE_TOO_LARGE', `the message's key, value and headers are ${bytes} characters, over the console's ${PRODUCE_BYTES_MAX}`, { retriable: false });
  return input;
}

export interface ClusterSourceOptions {
  /** Shown in the console's header. */
  description?: string;
}

export function clusterSource(connection: ClusterConnection, options: ClusterSourceOptions = {}): ConsoleSource {
  const wafka = new Wafka({ clientId: 'wafka-console', cluster: connection, logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 50 } });
  let admin: Promise<Admin> | undefined;
  let producer: Promise<Producer> | undefined;
  const adminClient = () => (admin ??= (async () => { const a = wafka.admin(); await a.connect(); return a; })().catch((e) => { admin = undefined; throw e; }));
  const producerClient = () => (producer ??= (async () => { const p = wafka.producer({ allowAutoTopicCreation: false }); await p.connect(); return p; })().catch((e) => { producer = undefined; throw e; }));

  /** Partition → leader, from any broker that answers. */
  async function leaders(topic: string): Promise<Map<number, number>> {
    let lastError: unknown = new WafkaError('BROKER_NOT_AVAILABLE', 'no broker answered');
    for (const nodeId of connection.bootstrap.nodeIds) {
      try {
        const m = await within(connection.broker(nodeId).metadata({ topics: [topic], allowAutoTopicCreation: false }), BROKER_ANSWER_TIMEOUT_MS, `broker ${nodeId}`);
        const t = m.topics[0];
        if (t?.error) throw WafkaError.fromJSON(t.error);
        return new Map(t.partitions.map((p) => [p.partitionId, p.leader]));
      } catch (error) {
        if (error instanceof WafkaError && error.type === 'UNKNOWN_TOPIC_OR_PARTITION') throw error;
        lastError = error;
      }
    }
    throw lastError;
  }

  /** `partitions` grouped by their leader; a partition without one is an error. */
  async function byLeader<T extends { partition: number }>(topic: string, partitions: T[]): Promise<Map<number, T[]>> {
    const leader = await leaders(topic);
    const groups = new Map<number, T[]>();
    for (const p of partitions) {
      const id = leader.get(p.partition);
      if (id === undefined) throw new WafkaError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${topic}' has no partition ${p.partition}`, { retriable: false });
      if (id < 0) throw new WafkaError('LEADER_NOT_AVAILABLE', `${topic}-${p.partition} has no leader now`);
      if (!groups.has(id)) groups.set(id, []);
      groups.get(id)!.push(p);
    }
    return groups;
  }

  return {
    description: options.description ?? `cluster '${connection.clusterId}'`,

    snapshot: () => takeSnapshot(connection),

    async tailStart(topic: string, partitions: number[] | null, start: TailStart): Promise<TailPosition[]> {
      const all = [...(await leaders(topic)).keys()].sort((a, b) => a - b);
      const chosen = partitions === null ? all : partitions;
      if (chosen.length === 0 || chosen.length > TAIL_PARTITIONS_MAX) throw invalid(`a tail follows 1..${TAIL_PARTITIONS_MAX} partitions`);
      const timestamp = start.from === 'latest' ? LATEST_TIMESTAMP
        : start.from === 'earliest' ? EARLIEST_TIMESTAMP
          : start.from === 'timestamp' ? BigInt(Math.max(0, Math.trunc(start.timestampMs))) : null;
      if (timestamp === null) {
        const offset = offsetOf(String((start as { offset: string }).offset), 'the start offset');
        return chosen.map((partition) => ({ partition, offset: String(offset) }));
      }
      const groups = await byLeader(topic, chosen.map((partition) => ({ partition })));
      const out: TailPosition[] = [];
      await Promise.all([...groups].map(async ([nodeId, list]) => {
        const broker = connection.broker(nodeId);
        const ask = (ts: bigint) => within(broker.listOffsets({ isolationLevel: 'read_uncommitted', topics: [{ topic, partitions: list.map((p) => ({ partition: p.partition, timestamp: ts })) }] }), BROKER_ANSWER_TIMEOUT_MS, `broker ${nodeId}`);
        const answer = await ask(timestamp);
        // A time after the last record: start at the end.
        const ends = timestamp >= 0n ? await ask(LATEST_TIMESTAMP) : undefined;
        for (const p of answer.topics[0].partitions) {
          if (p.error) throw WafkaError.fromJSON(p.error);
          const end = ends?.topics[0].partitions.find((e) => e.partition === p.partition)?.offset;
          out.push({ partition: p.partition, offset: String(p.offset < 0n ? end ?? 0n : p.offset) });
        }
      }));
      return out.sort((a, b) => a.partition - b.partition);
    },

    async tail(topic: string, positions: TailPosition[]): Promise<TailResult> {
      const wanted = checkPositions(positions);
      const groups = await byLeader(topic, wanted);
      const codec = await loadBatchCodec();
      const next = new Map(wanted.map((p) => [p.partition, p.offset]));
      const records: TailRecord[] = [];
      const perLeaderBytes = Math.max(1024, Math.floor(TAIL_FETCH_BYTES_MAX / groups.size));
      await Promise.all([...groups].map(async ([nodeId, list]) => {
        const response = await within(connection.broker(nodeId).fetch({
          maxWaitMs: 0, minBytes: 0, maxBytes: perLeaderBytes, isolationLevel: 'read_uncommitted',
          topics: [{ topic, partitions: list.map((p) => ({ partition: p.partition, fetchOffset: p.offset, partitionMaxBytes: perLeaderBytes })) }],
        }), BROKER_ANSWER_TIMEOUT_MS, `broker ${nodeId}`);
        for (const p of response.topics[0].partitions) {
          if (p.error) {
            // Moved past by retention: go on from the log start.
            if (p.error.type === 'OFFSET_OUT_OF_RANGE' && p.logStartOffset >= 0n) { next.set(p.partition, p.logStartOffset); continue; }
            throw WafkaError.fromJSON(p.error);
          }
          if (!p.records) continue;
          const from = next.get(p.partition)!;
          const decoded = await codec.decodeBatches(p.records);
          for (const batch of decoded.batches) {
            if (batch.isControl) { next.set(p.partition, batch.lastOffset + 1n); continue; }
            const table = batch.records;
            for (let i = 0; i < table.count; i++) {
              const offset = table.baseOffset + BigInt(table.offsetDelta(i));
              if (offset < from) continue;
              records.push({
                partition: p.partition, offset: String(offset), timestampMs: Number(table.timestamp(i)),
                key: table.key(i)?.slice() ?? null, value: table.value(i)?.slice() ?? null,
                headers: table.headersOf(i).map((h) => ({ key: h.key, value: typeof h.value === 'string' ? new TextEncoder().encode(h.value) : h.value?.slice() ?? null })),
              });
            }
            if (batch.lastOffset + 1n > next.get(p.partition)!) next.set(p.partition, batch.lastOffset + 1n);
          }
          if (decoded.failure) throw decoded.failure.error;
        }
      }));
      records.sort((a, b) => a.timestampMs - b.timestampMs || a.partition - b.partition || (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
      // Over the limit: keep the first ones, and go on from the first record left out of each partition.
      if (records.length > TAIL_RECORDS_MAX) {
        for (const r of records.slice(TAIL_RECORDS_MAX)) {
          const o = BigInt(r.offset);
          if (o < next.get(r.partition)!) next.set(r.partition, o);
        }
        records.length = TAIL_RECORDS_MAX;
      }
      return { records, positions: [...next].map(([partition, offset]) => ({ partition, offset: String(offset) })) };
    },

    async produce(input: ProduceInput) {
      const { topic, partition, key, value, headers } = checkProduceInput(input);
      const send = async () => {
        const [meta] = await (await producerClient()).send({ topic, acks: -1, messages: [{ key, value, partition, headers: Object.fromEntries(headers.map((h) => [h.key, h.value])) }] });
        return { partition: meta.partition, offset: meta.baseOffset };
      };
      try {
        return await send();
      } catch (error) {
        // The producer's metadata may predate the topic or its last partitions (added by anyone): once more with a fresh one.
        if (!(error instanceof WafkaError) || error.type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw error;
        const stale = producer;
        producer = undefined;
        void stale?.then((p) => p.disconnect()).catch(() => {});
        return send();
      }
    },

    async createTopic(topic, numPartitions, replicationFactor) {
      await (await adminClient()).createTopics({ topics: [{ topic, numPartitions, replicationFactor }] }).then((created) => {
        if (!created) throw new WafkaError('TOPIC_ALREADY_EXISTS', `topic '${topic}' already exists`, { retriable: false });
      });
    },

    async deleteTopic(topic) {
      await (await adminClient()).deleteTopics({ topics: [topic] });
    },

    async createPartitions(topic, count) {
      await (await adminClient()).createPartitions({ topicPartitions: [{ topic, count }] });
    },

    async describeTopicConfigs(topic): Promise<TopicConfigEntry[]> {
      const { resources } = await (await adminClient()).describeConfigs({ resources: [{ type: 'topic', name: topic }] });
      return resources[0].configEntries.map((e) => ({ name: e.configName, value: e.configValue, isDefault: e.isDefault }));
    },

    close() {
      void producer?.then((p) => p.disconnect()).catch(() => {});
      void admin?.then((a) => a.disconnect()).catch(() => {});
    },
  };
}
