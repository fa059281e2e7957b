/**
 * Instrumentation events, as KafkaJS has them: `producer.on(producer.events.REQUEST, listener)`
 * returns a function that removes the listener; each event is
 * `{ id, type, timestamp, payload }`. Runtime-agnostic (no node:events).
 */
export interface InstrumentationEvent<T = unknown> { id: number; type: string; timestamp: number; payload: T }
export type Listener<T = any> = (event: InstrumentationEvent<T>) => void;
export type RemoveListener = () => void;

let nextEventId = 0;

export class InstrumentationEmitter {
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #validNames: Set<string>;
  readonly #onListenerError: (error: unknown, type: string) => void;

  constructor(events: Record<string, string>, onListenerError: (error: unknown, type: string) => void) {
    this.#validNames = new Set(Object.values(events));
    this.#onListenerError = onListenerError;
  }

  on(type: string, listener: Listener): RemoveListener {
    if (!this.#validNames.has(type)) {
      throw new TypeError(`wafka: unknown event "${type}"; one of: ${[...this.#validNames].join(', ')}`);
    }
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(listener);
    return () => { set.delete(listener); };
  }

  has(type: string): boolean {
    return (this.#listeners.get(type)?.size ?? 0) > 0;
  }

  emit(type: string, payload: unknown): void {
    const set = this.#listeners.get(type);
    if (!set || set.size === 0) return;
    const event: InstrumentationEvent = { id: nextEventId++, type, timestamp: Date.now(), payload };
    for (const listener of set) {
      try { listener(event); } catch (error) { this.#onListenerError(error, type); }
    }
  }
}

export const PRODUCER_EVENTS = {
  CONNECT: 'producer.connect',
  DISCONNECT: 'producer.disconnect',
  REQUEST: 'producer.network.request',
  REQUEST_TIMEOUT: 'producer.network.request_timeout',
  REQUEST_QUEUE_SIZE: 'producer.network.request_queue_size',
} as const;

export const CONSUMER_EVENTS = {
  HEARTBEAT: 'consumer.heartbeat',
  COMMIT_OFFSETS: 'consumer.commit_offsets',
  GROUP_JOIN: 'consumer.group_join',
  FETCH: 'consumer.fetch',
  FETCH_START: 'consumer.fetch_start',
  START_BATCH_PROCESS: 'consumer.start_batch_process',
  END_BATCH_PROCESS: 'consumer.end_batch_process',
  CONNECT: 'consumer.connect',
  DISCONNECT: 'consumer.disconnect',
  STOP: 'consumer.stop',
  CRASH: 'consumer.crash',
  REBALANCING: 'consumer.rebalancing',
  RECEIVED_UNSUBSCRIBED_TOPICS: 'consumer.received_unsubscribed_topics',
  REQUEST: 'consumer.network.request',
  REQUEST_TIMEOUT: 'consumer.network.request_timeout',
  REQUEST_QUEUE_SIZE: 'consumer.network.request_queue_size',
} as const;

export const ADMIN_EVENTS = {
  CONNECT: 'admin.connect',
  DISCONNECT: 'admin.disconnect',
  REQUEST: 'admin.network.request',
  REQUEST_TIMEOUT: 'admin.network.request_timeout',
  REQUEST_QUEUE_SIZE: 'admin.network.request_queue_size',
} as const;
