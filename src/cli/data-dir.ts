/**
 * A files cluster in a data directory, as the `wafka` command uses it: the
 * directory's metadata.json says which cluster it holds and which brokers
 * are registered there. Partitions stay on the broker that was given them
 * (there is no reassignment yet), so a cluster is started with at least as
 * many brokers as it ever registered.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { METADATA_FILE_NAME } from '../cluster/file-metadata-store.ts';
import type { ClusterMetadata } from '../metadata/metadata.ts';
import { WafkaError } from '../errors.ts';
import { brokersToStart } from '../client/demo.ts';

/** The clusterId of a new data directory. */
export const DATA_DIR_CLUSTER_ID = 'wafka';

export interface DataDirCluster {
  clusterId: string;
  /** Brokers to start: the requested count, raised to what the directory registered. */
  brokers: number;
  /** Set when the requested count was raised, saying why. */
  note?: string;
}

export async function dataDirCluster(dir: string, brokersRequested: number | undefined, brokersDefault: number): Promise<DataDirCluster> {
  let metadata: ClusterMetadata | null = null;
  try {
    metadata = JSON.parse(await readFile(join(dir, METADATA_FILE_NAME), 'utf8')) as ClusterMetadata;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new WafkaError('KAFKA_STORAGE_ERROR', `cannot read ${join(dir, METADATA_FILE_NAME)}: ${(error as Error).message}`);
    }
  }
  const registeredIds = (metadata?.brokers ?? []).map((b) => b.nodeId);
  // Without a count asked for, a directory's cluster starts as large as it was (at least brokersDefault).
  const requested = brokersRequested ?? Math.max(brokersDefault, ...registeredIds.map((id) => id + 1));
  return { clusterId: metadata?.clusterId ?? DATA_DIR_CLUSTER_ID, ...brokersToStart(requested, registeredIds, dir) };
}
