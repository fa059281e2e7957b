/**
 * What every `wafka topics|produce|consume` run does around its work: start
 * the data directory's files cluster in this process (brokers in-process: a
 * short-lived command needs no worker threads), give the work a client, stop
 * the brokers (flushed, closed) however the work ends.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Wafka, logLevel, startCluster, type Cluster } from '../index.ts';
import { dataDirCluster } from './data-dir.ts';

export interface SessionOptions {
  dir: string;
  brokers?: number;
  /** Messages for the user (stderr), so stdout carries only data. */
  note: (line: string) => void;
}

export async function withCluster<T>(options: SessionOptions, work: (wafka: Wafka, cluster: Cluster) => Promise<T>): Promise<T> {
  const dir = resolve(options.dir);
  await mkdir(dir, { recursive: true });
  const { clusterId, brokers, note } = await dataDirCluster(dir, options.brokers, 1);
  if (note) options.note(note);
  const cluster = await startCluster({ storage: 'files', dir, clusterId, brokers, inProcess: true });
  try {
    const wafka = new Wafka({ clientId: 'wafka-cli', cluster, logLevel: logLevel.NOTHING, retry: { retries: 3, initialRetryTime: 50 } });
    return await work(wafka, cluster);
  } finally {
    await cluster.stop();
  }
}
