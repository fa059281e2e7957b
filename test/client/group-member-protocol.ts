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

export type GroupMemberReport =
  | { type: 'running' }
  | { type: 'rebalancing' }
  | { type: 'assigned'; partitions: number[]; memberId: string }
  | { type: 'message'; partition: number; offset: string; value: string; atMs: number }
  | { type: 'stopped' };
