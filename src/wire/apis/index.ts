/** Every API the listener serves, by key. */
import type { WireApi } from '../api.ts';
import { alterConfigs } from './alter-configs.ts';
import { apiVersions } from './api-versions.ts';
import { createPartitions } from './create-partitions.ts';
import { createTopics } from './create-topics.ts';
import { deleteRecords } from './delete-records.ts';
import { deleteTopics } from './delete-topics.ts';
import { describeCluster } from './describe-cluster.ts';
import { describeConfigs } from './describe-configs.ts';
import { fetch } from './fetch.ts';
import { initProducerId } from './init-producer-id.ts';
import { listOffsets } from './list-offsets.ts';
import { metadata } from './metadata.ts';
import { produce } from './produce.ts';

const SERVED: WireApi[] = [];
SERVED.push(
  produce, fetch, listOffsets, metadata, apiVersions(() => SERVED),
  createTopics, deleteTopics, deleteRecords, initProducerId, describeConfigs, alterConfigs, createPartitions, describeCluster,
);

export const WIRE_APIS: readonly WireApi[] = SERVED;
export const WIRE_APIS_BY_KEY: ReadonlyMap<number, WireApi> = new Map(SERVED.map((a) => [a.key, a]));
