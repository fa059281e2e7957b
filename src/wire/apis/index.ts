/** Every API the listener serves, by key. */
import type { WireApi } from '../api.ts';
import { addOffsetsToTxn } from './add-offsets-to-txn.ts';
import { addPartitionsToTxn } from './add-partitions-to-txn.ts';
import { alterConfigs } from './alter-configs.ts';
import { apiVersions } from './api-versions.ts';
import { createPartitions } from './create-partitions.ts';
import { createTopics } from './create-topics.ts';
import { deleteRecords } from './delete-records.ts';
import { deleteTopics } from './delete-topics.ts';
import { describeCluster } from './describe-cluster.ts';
import { describeConfigs } from './describe-configs.ts';
import { describeTransactions } from './describe-transactions.ts';
import { endTxn } from './end-txn.ts';
import { deleteGroups } from './delete-groups.ts';
import { describeGroups } from './describe-groups.ts';
import { fetch } from './fetch.ts';
import { findCoordinator } from './find-coordinator.ts';
import { heartbeat } from './heartbeat.ts';
import { joinGroup } from './join-group.ts';
import { leaveGroup } from './leave-group.ts';
import { listGroups } from './list-groups.ts';
import { offsetCommit } from './offset-commit.ts';
import { offsetFetch } from './offset-fetch.ts';
import { syncGroup } from './sync-group.ts';
import { initProducerId } from './init-producer-id.ts';
import { listOffsets } from './list-offsets.ts';
import { listTransactions } from './list-transactions.ts';
import { metadata } from './metadata.ts';
import { produce } from './produce.ts';
import { txnOffsetCommit } from './txn-offset-commit.ts';

const SERVED: WireApi[] = [];
SERVED.push(
  produce, fetch, listOffsets, metadata, apiVersions(() => SERVED),
  createTopics, deleteTopics, deleteRecords, initProducerId, describeConfigs, alterConfigs, createPartitions, describeCluster,
  findCoordinator, joinGroup, syncGroup, heartbeat, leaveGroup, offsetCommit, offsetFetch, describeGroups, listGroups, deleteGroups,
  addPartitionsToTxn, addOffsetsToTxn, endTxn, txnOffsetCommit, describeTransactions, listTransactions,
);

export const WIRE_APIS: readonly WireApi[] = SERVED;
export const WIRE_APIS_BY_KEY: ReadonlyMap<number, WireApi> = new Map(SERVED.map((a) => [a.key, a]));
