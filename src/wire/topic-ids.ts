/**
 * Topic ids (Metadata v10+, KIP-516). wafka names topics only; clients that
 * key their state by topic id (@platformatic/kafka) need distinct ones, so
 * each topic is given a stable id derived from its cluster and name (the
 * first 16 bytes of SHA-256, with the UUID version-4 and variant bits set).
 * A topic deleted and made again under the same name gets the same id. No
 * served API takes a topic id in a request.
 */
import { createHash } from 'node:crypto';

const TOPIC_IDS_CACHED_MAX = 10_000;
const cache = new Map<string, Uint8Array>();

export function topicId(clusterId: string, topic: string): Uint8Array {
  const key = `${clusterId}\u0000${topic}`;
  let id = cache.get(key);
  if (!id) {
    id = new Uint8Array(createHash('sha256').update(key).digest().subarray(0, 16));
    id[6] = (id[6] & 0x0f) | 0x40;
    id[8] = (id[8] & 0x3f) | 0x80;
    if (cache.size >= TOPIC_IDS_CACHED_MAX) cache.clear();
    cache.set(key, id);
  }
  return id;
}
