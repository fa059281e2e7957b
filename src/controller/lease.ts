/** What holding the controller's lease gives (./controller-lease.ts takes it). */
export interface ControllerLease {
  /** Calls `listener` once if the lease is found taken by another (Node: broken after a stall); never in the browser. */
  onLost(listener: () => void): void;
  /** Gives the lease up. Idempotent. */
  release(): Promise<void>;
}
