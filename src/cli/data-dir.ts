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
import type { ClusterMetadata } from '../cluster/metadata.ts';
import { WafkaError } from '../errors.ts';

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
  const registered = metadata ? Math.max(0, ...metadata.brokers.map((b) => b.nodeId + 1)) : 0;
  const wanted = brokersRequested ?? Math.max(brokersDefault, registered);
  const brokers = Math.max(wanted, registered);
  return {
    clusterId: metadata?.clusterId ?? DATA_DIR_CLUSTER_ID,
    brokers,
    note: brokers > wanted
      ? `${dir} holds a ${registered}-broker cluster whose partitions live on brokers 0..${registered - 1}: starting ${brokers} brokers, not ${wanted} (delete the directory, or use --fresh, to start smaller)`
      : undefined,
  };
}
