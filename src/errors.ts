/**
 * One error base for all of wafka, shaped like KafkaJS's: a Kafka error name
 * as `type`, its numeric `code` from the Kafka protocol, `retriable`, and an
 * optional `cause`. Messages carry the numbers involved (stored vs computed
 * CRC, size vs limit, offset vs range).
 *
 * Errors cross worker boundaries as plain objects ({ name, type, code,
 * retriable, message }) and are rebuilt with `WafkaError.fromJSON`, so `code`
 * survives comlink (see src/transport/).
 */

/** Kafka protocol error codes (org.apache.kafka.common.protocol.Errors), the subset wafka raises. */
export const KAFKA_ERRORS = {
  UNKNOWN_SERVER_ERROR: { code: -1, retriable: false },
  OFFSET_OUT_OF_RANGE: { code: 1, retriable: false },
  CORRUPT_MESSAGE: { code: 2, retriable: true },
  UNKNOWN_TOPIC_OR_PARTITION: { code: 3, retriable: true },
  INVALID_FETCH_SIZE: { code: 4, retriable: false },
  LEADER_NOT_AVAILABLE: { code: 5, retriable: true },
  NOT_LEADER_OR_FOLLOWER: { code: 6, retriable: true },
  REQUEST_TIMED_OUT: { code: 7, retriable: true },
  BROKER_NOT_AVAILABLE: { code: 8, retriable: false },
  REPLICA_NOT_AVAILABLE: { code: 9, retriable: true },
  MESSAGE_TOO_LARGE: { code: 10, retriable: false },
  STALE_CONTROLLER_EPOCH: { code: 11, retriable: false },
  OFFSET_METADATA_TOO_LARGE: { code: 12, retriable: false },
  NETWORK_EXCEPTION: { code: 13, retriable: true },
  COORDINATOR_LOAD_IN_PROGRESS: { code: 14, retriable: true },
  COORDINATOR_NOT_AVAILABLE: { code: 15, retriable: true },
  NOT_COORDINATOR: { code: 16, retriable: true },
  INVALID_TOPIC_EXCEPTION: { code: 17, retriable: false },
  RECORD_LIST_TOO_LARGE: { code: 18, retriable: false },
  NOT_ENOUGH_REPLICAS: { code: 19, retriable: true },
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: { code: 20, retriable: true },
  INVALID_REQUIRED_ACKS: { code: 21, retriable: false },
  ILLEGAL_GENERATION: { code: 22, retriable: false },
  INCONSISTENT_GROUP_PROTOCOL: { code: 23, retriable: false },
  INVALID_GROUP_ID: { code: 24, retriable: false },
  UNKNOWN_MEMBER_ID: { code: 25, retriable: false },
  INVALID_SESSION_TIMEOUT: { code: 26, retriable: false },
  REBALANCE_IN_PROGRESS: { code: 27, retriable: false },
  INVALID_COMMIT_OFFSET_SIZE: { code: 28, retriable: false },
  INVALID_TIMESTAMP: { code: 32, retriable: false },
  UNSUPPORTED_VERSION: { code: 35, retriable: false },
  TOPIC_ALREADY_EXISTS: { code: 36, retriable: false },
  INVALID_PARTITIONS: { code: 37, retriable: false },
  INVALID_REPLICATION_FACTOR: { code: 38, retriable: false },
  INVALID_REQUEST: { code: 42, retriable: false },
  UNSUPPORTED_FOR_MESSAGE_FORMAT: { code: 43, retriable: false },
  POLICY_VIOLATION: { code: 44, retriable: false },
  OUT_OF_ORDER_SEQUENCE_NUMBER: { code: 45, retriable: false },
  DUPLICATE_SEQUENCE_NUMBER: { code: 46, retriable: false },
  INVALID_PRODUCER_EPOCH: { code: 47, retriable: false },
  INVALID_TXN_STATE: { code: 48, retriable: false },
  INVALID_PRODUCER_ID_MAPPING: { code: 49, retriable: false },
  INVALID_TRANSACTION_TIMEOUT: { code: 50, retriable: false },
  CONCURRENT_TRANSACTIONS: { code: 51, retriable: true },
  TRANSACTION_COORDINATOR_FENCED: { code: 52, retriable: false },
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: { code: 53, retriable: false },
  OPERATION_NOT_ATTEMPTED: { code: 55, retriable: false },
  UNSTABLE_OFFSET_COMMIT: { code: 88, retriable: true },
  PRODUCER_FENCED: { code: 90, retriable: false },
  TRANSACTIONAL_ID_NOT_FOUND: { code: 105, retriable: false },
  TRANSACTION_ABORTABLE: { code: 120, retriable: false },
  UNKNOWN_PRODUCER_ID: { code: 59, retriable: false },
  INVALID_CONFIG: { code: 40, retriable: false },
  NOT_CONTROLLER: { code: 41, retriable: true },
  KAFKA_STORAGE_ERROR: { code: 56, retriable: true },
  FENCED_LEADER_EPOCH: { code: 74, retriable: true },
  UNKNOWN_LEADER_EPOCH: { code: 75, retriable: true },
  UNSUPPORTED_COMPRESSION_TYPE: { code: 76, retriable: false },
  NON_EMPTY_GROUP: { code: 68, retriable: false },
  GROUP_ID_NOT_FOUND: { code: 69, retriable: false },
  MEMBER_ID_REQUIRED: { code: 79, retriable: false },
  GROUP_MAX_SIZE_REACHED: { code: 81, retriable: false },
  FENCED_INSTANCE_ID: { code: 82, retriable: false },
  GROUP_SUBSCRIBED_TO_TOPIC: { code: 86, retriable: false },
  INVALID_RECORD: { code: 87, retriable: false },
  INVALID_UPDATE_VERSION: { code: 95, retriable: false },
  UNKNOWN_TOPIC_ID: { code: 100, retriable: true },
  INELIGIBLE_REPLICA: { code: 107, retriable: false },
} as const satisfies Record<string, { code: number; retriable: boolean }>;

export type KafkaErrorType = keyof typeof KAFKA_ERRORS;

export class WafkaError extends Error {
  override name = 'WafkaError';
  /** Kafka's error name, e.g. 'CORRUPT_MESSAGE'. */
  readonly type: KafkaErrorType;
  /** Kafka's numeric error code. */
  readonly code: number;
  readonly retriable: boolean;

  constructor(type: KafkaErrorType, message: string, options?: { cause?: unknown; retriable?: boolean }) {
    super(`${type}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.type = type;
    this.code = KAFKA_ERRORS[type].code;
    this.retriable = options?.retriable ?? KAFKA_ERRORS[type].retriable;
  }

  toJSON(): WafkaErrorJSON {
    return { name: this.name, type: this.type, code: this.code, retriable: this.retriable, message: this.message, stack: this.stack };
  }

  static fromJSON(json: WafkaErrorJSON): WafkaError {
    const message = json.message.startsWith(`${json.type}: `) ? json.message.slice(json.type.length + 2) : json.message;
    const error = new WafkaError(json.type, message, { retriable: json.retriable });
    if (json.stack) error.stack = json.stack;
    return error;
  }

  static is(error: unknown, type?: KafkaErrorType): error is WafkaError {
    return error instanceof WafkaError && (type === undefined || error.type === type);
  }
}

export interface WafkaErrorJSON {
  name: string;
  type: KafkaErrorType;
  code: number;
  retriable: boolean;
  message: string;
  stack?: string;
}

/**
 * A fetched batch the consumer cannot decode, and where it is. The records
 * before it were delivered; the consumer's position is the batch's offset
 * (seek past it to go on). `type` is the decoder's (CORRUPT_MESSAGE,
 * INVALID_RECORD, MESSAGE_TOO_LARGE, UNSUPPORTED_COMPRESSION_TYPE, ...), the
 * decoder's error is the `cause`; never retriable: the bytes stay as they are.
 */
export class UndecodableBatchError extends WafkaError {
  readonly topic: string;
  readonly partition: number;
  /** The batch's base offset, as a decimal string (KafkaJS's offsets). */
  readonly offset: string;

  constructor(topic: string, partition: number, offset: bigint, cause: WafkaError) {
    super(cause.type, `${topic}-${partition} at offset ${offset}: cannot decode the batch there: ${cause.message}`, { cause, retriable: false });
    this.topic = topic;
    this.partition = partition;
    this.offset = String(offset);
  }
}

/** A batch or record failed validation: bad magic, length, CRC or varint. */
export const corrupt = (message: string, cause?: unknown) => new WafkaError('CORRUPT_MESSAGE', message, { cause });

/** A short, safe description of any value for a message (never its whole text, never a throwing toString). */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined || value === null) return String(value);
  if (typeof value === 'symbol') return 'a symbol';
  if (typeof value === 'function') return 'a function';
  return Array.isArray(value) ? 'an array' : 'an object';
}
