/**
 * The records of the internal topic __transaction_state, with Kafka's key and
 * value schemas (apache/kafka transaction-coordinator/src/main/resources/
 * common/message/TransactionLog{Key,Value}.json), so the bytes are the ones a
 * Kafka broker writes:
 *
 *   key   => version:int16 (0) transactionalId:string
 *   value => version:int16 (0) producerId:int64 producerEpoch:int16
 *            transactionTimeoutMs:int32 transactionStatus:int8
 *            transactionPartitions:nullable [topic:string partitionIds:[int32]]
 *            transactionLastUpdateTimestampMs:int64 transactionStartTimestampMs:int64
 *   (null value: a tombstone; the transactional id expired and is forgotten)
 *
 * transactionStatus is Kafka's TransactionState id (0 Empty, 1 Ongoing,
 * 2 PrepareCommit, 3 PrepareAbort, 4 CompleteCommit, 5 CompleteAbort, 6 Dead,
 * 7 PrepareEpochFence); the partitions are null in state Empty. Value
 * version 1 (Kafka's flexible one, written only once transaction.version 1
 * is enabled) is refused with CORRUPT_MESSAGE: its compact encoding is not
 * read here.
 */
import { WafkaError } from '../../errors.ts';
import { SchemaReader, SchemaWriter } from '../../protocol/schema-bytes.ts';
import type { TransactionState } from '../../protocol/types.ts';

export const TRANSACTION_STATE_TOPIC = '__transaction_state';

const KEY_VERSION = 0;
const VALUE_VERSION = 0;

/** Kafka's TransactionState ids, in id order. */
export const TRANSACTION_STATE_IDS: readonly TransactionState[] = [
  'Empty', 'Ongoing', 'PrepareCommit', 'PrepareAbort', 'CompleteCommit', 'CompleteAbort', 'Dead', 'PrepareEpochFence',
];

/** What one record of __transaction_state stores for a transactional id. */
export interface StoredTransaction {
  producerId: bigint;
  producerEpoch: number;
  transactionTimeoutMs: number;
  state: TransactionState;
  /** Sorted by topic, then partition. */
  partitions: { topic: string; partitions: number[] }[];
  lastUpdateTimestampMs: bigint;
  /** -1 when no transaction is open. */
  startTimestampMs: bigint;
}

export type TransactionLogRecord =
  | { kind: 'transaction'; transactionalId: string; value: StoredTransaction | null }
  | { kind: 'other' };

export function transactionLogKey(transactionalId: string): Uint8Array {
  return new SchemaWriter().int16(KEY_VERSION).string(transactionalId).finish();
}

export function transactionLogValue(v: StoredTransaction): Uint8Array {
  const w = new SchemaWriter().int16(VALUE_VERSION)
    .int64(v.producerId).int16(v.producerEpoch).int32(v.transactionTimeoutMs).int8(TRANSACTION_STATE_IDS.indexOf(v.state));
  if (v.state === 'Empty') w.int32(-1);
  else w.array(v.partitions, (t) => { w.string(t.topic).array(t.partitions, (p) => w.int32(p)); });
  return w.int64(v.lastUpdateTimestampMs).int64(v.startTimestampMs).finish();
}

/** Decodes one record; CORRUPT_MESSAGE when a record of the known kind does not parse. */
export function decodeTransactionLogRecord(key: Uint8Array | null, value: Uint8Array | null): TransactionLogRecord {
  if (!key) throw new WafkaError('CORRUPT_MESSAGE', `${TRANSACTION_STATE_TOPIC}: a record without a key`);
  const k = new SchemaReader(key, `${TRANSACTION_STATE_TOPIC} key`);
  if (k.int16() !== KEY_VERSION) return { kind: 'other' };
  const transactionalId = k.string();
  return { kind: 'transaction', transactionalId, value: value ? decodeValue(value) : null };
}

function decodeValue(bytes: Uint8Array): StoredTransaction {
  const r = new SchemaReader(bytes, 'TransactionLogValue');
  const version = r.int16();
  if (version !== VALUE_VERSION) throw new WafkaError('CORRUPT_MESSAGE', `TransactionLogValue version ${version}: only version 0 is read here`);
  const producerId = r.int64();
  const producerEpoch = r.int16();
  const transactionTimeoutMs = r.int32();
  const stateId = r.int8();
  const state = TRANSACTION_STATE_IDS[stateId];
  if (state === undefined) throw new WafkaError('CORRUPT_MESSAGE', `TransactionLogValue: unknown transaction status ${stateId}`);
  const partitions = r.array(() => ({ topic: r.string(), partitions: r.array(() => r.int32(), 4) }), 6);
  const lastUpdateTimestampMs = r.int64();
  const startTimestampMs = r.int64();
  return { producerId, producerEpoch, transactionTimeoutMs, state, partitions: state === 'Empty' ? [] : partitions, lastUpdateTimestampMs, startTimestampMs };
}
