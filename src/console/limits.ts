/** The console's bounds: it never asks much of a cluster, and never keeps much. */

/** Snapshots per second a source takes at most (the views update at this rate). */
export const SNAPSHOT_INTERVAL_MS = 400;

/**
 * How long to wait before asking for the next snapshot: the interval runs
 * from the snapshot's own time (`atMs`, which a slow source takes after it
 * was asked at `askedMs`), and never longer than one interval (a source on
 * another clock cannot hold the views back).
 */
export function nextSnapshotDelayMs(askedMs: number, nowMs: number, atMs?: number): number {
  const fromMs = atMs !== undefined && Number.isFinite(atMs) && atMs > askedMs ? atMs : askedMs;
  return Math.min(SNAPSHOT_INTERVAL_MS, Math.max(0, SNAPSHOT_INTERVAL_MS - (nowMs - fromMs)));
}
/** Topics in one snapshot (the rest are counted in topicsLeftOut). */
export const SNAPSHOT_TOPICS_MAX = 200;
/** Consumer groups in one snapshot (the rest are counted in groupsLeftOut). */
export const SNAPSHOT_GROUPS_MAX = 50;
/** A broker whose metrics take longer is shown down (a hung broker answers nothing). */
export const BROKER_ANSWER_TIMEOUT_MS = 1_000;
/** Bytes one tail call fetches, over all its partitions. */
export const TAIL_FETCH_BYTES_MAX = 256 * 1024;
/** Records one tail call returns; the tail view keeps at most TAIL_ROWS_MAX. */
export const TAIL_RECORDS_MAX = 500;
export const TAIL_ROWS_MAX = 500;
/** Partitions one tail follows. */
export const TAIL_PARTITIONS_MAX = 64;
/** Key, value and headers a produce form sends. */
export const PRODUCE_BYTES_MAX = 64 * 1024;
export const PRODUCE_HEADERS_MAX = 32;
/** Throughput history kept per series: 5 minutes at the snapshot rate. */
export const HISTORY_POINTS_MAX = Math.ceil((5 * 60_000) / SNAPSHOT_INTERVAL_MS);
/** Topics drawn in the throughput charts (the busiest). */
export const CHART_TOPICS_MAX = 8;
