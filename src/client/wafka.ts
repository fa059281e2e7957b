/**
 * `new Wafka({ clientId, cluster })`: the entry point, as KafkaJS's `new Kafka()`.
 * `cluster` is a started cluster (startCluster()), or anything toConnector()
 * accepts (BrokerApi[], a BrokerConnector). Producers, consumers and admin
 * clients made from one Wafka share its connector, logger and retry defaults;
 * each keeps its own metadata cache, as in KafkaJS.
 */
import { Admin, type AdminConfig } from './admin.ts';
import { toConnector, type BrokerConnector } from './connection.ts';
import { Consumer } from './consumer.ts';
import { createLogger, logLevel as LEVELS, type Logger } from './logger.ts';
import { Producer } from './producer.ts';
import type { RetryOptions } from './retry.ts';
import { loadBatchCodec } from './core-codec.ts';
import type { BatchCodec } from './codec.ts';
import type { ConsumerConfig, ProducerConfig, WafkaConfig } from './types.ts';

export class Wafka {
  readonly #clientId: string;
  readonly #connector: BrokerConnector;
  readonly #logger: Logger;
  readonly #retry: RetryOptions | undefined;
  readonly #codec: () => Promise<BatchCodec>;

  constructor(config: WafkaConfig) {
    if (!config) throw new TypeError('wafka: new Wafka({ clientId, cluster })');
    this.#clientId = config.clientId ?? 'wafka';
    this.#connector = toConnector(config.cluster);
    this.#logger = createLogger({ level: config.logLevel ?? LEVELS.INFO, logCreator: config.logCreator });
    this.#retry = config.retry;
    this.#codec = loadBatchCodec;
  }

  #context() {
    return { connector: this.#connector, clientId: this.#clientId, logger: this.#logger, retry: this.#retry, codec: this.#codec };
  }

  producer(config: ProducerConfig = {}): Producer {
    return new Producer(config, this.#context());
  }

  consumer(config: ConsumerConfig): Consumer {
    return new Consumer(config, this.#context());
  }

  admin(config: AdminConfig = {}): Admin {
    return new Admin(config, this.#context());
  }

  logger(): Logger {
    return this.#logger;
  }
}
