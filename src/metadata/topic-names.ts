/** Kafka's topic name rule: 1..249 of [a-zA-Z0-9._-], not '.' or '..'. */
import { WafkaError } from '../errors.ts';

export const TOPIC_NAME_LENGTH_MAX = 249;
const LEGAL = /^[a-zA-Z0-9._-]+$/;

export function checkTopicName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) throw new WafkaError('INVALID_TOPIC_EXCEPTION', 'topic name is empty');
  if (name === '.' || name === '..') throw new WafkaError('INVALID_TOPIC_EXCEPTION', `topic name '${name}' is not allowed`);
  if (name.length > TOPIC_NAME_LENGTH_MAX) {
    throw new WafkaError('INVALID_TOPIC_EXCEPTION', `topic name of ${name.length} chars over the ${TOPIC_NAME_LENGTH_MAX} limit`);
  }
  if (!LEGAL.test(name)) throw new WafkaError('INVALID_TOPIC_EXCEPTION', `topic name '${name}' has characters outside [a-zA-Z0-9._-]`);
}
