/** What the groups suite's page (groups.page.ts) and a member worker (groups-member.worker.ts) say to each other. */
export interface MemberInit {
  type: 'init';
  name: string;
  clusterId: string;
  ports: MessagePort[];
  groupId: string;
  topic: string;
  assigner: 'eager' | 'cooperative-sticky';
  heartbeatIntervalMs: number;
  maxWaitTimeInMs: number;
}

/** Times are performance.timeOrigin + performance.now(), comparable between the page and its workers. */
export type MemberRequest =
  | { type: 'run' }
  | { type: 'stop' }
  | { type: 'first'; id: number; fromMs: number }
  | { type: 'gaps'; id: number; fromMs: number; toMs: number; partitions: number[] }
  | { type: 'trace'; id: number; fromMs: number; toMs: number };

export interface MemberTrace { atMs: number; what: string }

export type MemberReport =
  | { type: 'ready' }
  | { type: 'started'; atMs: number }
  | { type: 'assigned'; partitions: number[]; atMs: number }
  | { type: 'first'; id: number; first: Record<number, number | null> }
  | { type: 'gaps'; id: number; gaps: Record<number, { gapMs: number; startMs: number }> }
  | { type: 'trace'; id: number; trace: MemberTrace[] }
  | { type: 'stopped' }
  | { type: 'error'; error: string };
