// What the test and a group-member worker say to each other (Node worker threads and Chromium workers alike).
export interface GroupMemberInit {
  type: 'init';
  name: string;
  clusterId: string;
  ports: MessagePort[];
  groupId: string;
  topic: string;
  groupInstanceId?: string;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  assigner: 'round-robin' | 'cooperative-sticky';
}

/**
 * From the test to a running member: stop cleanly; hold (eachMessage waits before handling anything, answered with
 * 'held') and release; ack a 'message' report.
 *
 * A member's eachMessage returns only once the test acknowledged its report, so an offset the member commits is of
 * messages the test has heard of. Without that a terminated Chromium worker loses what it handled last: terminating
 * a dedicated worker empties the page's queue of messages the worker had posted and the page not yet dispatched
 * (HTML's "terminate a worker"), while its commits, sent to the brokers' workers, are stored.
 */
export type GroupMemberControl = { type: 'stop' } | { type: 'hold' } | { type: 'release' } | { type: 'ack'; seq: number };

export type GroupMemberReport =
  | { type: 'running' }
  | { type: 'rebalancing' }
  | { type: 'held' }
  | { type: 'assigned'; partitions: number[]; memberId: string }
  | { type: 'message'; seq: number; partition: number; offset: string; value: string; atMs: number }
  | { type: 'stopped' };
