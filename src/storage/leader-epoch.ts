/**
 * Leader epoch cache (Kafka's LeaderEpochFileCache): for each leader epoch
 * the first offset written in it, kept in `leader-epoch-checkpoint` next to
 * the log (lines "epoch startOffset", epochs and offsets increasing).
 */
import type { StorageBackend } from './backend.ts';
import { readCheckpoint, writeCheckpoint } from './checkpoint.ts';

export interface EpochEntry {
  epoch: number;
  startOffset: bigint;
}

/** Kafka's UNDEFINED_EPOCH / UNDEFINED_EPOCH_OFFSET. */
export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1n;

export class LeaderEpochCache {
  #entries: EpochEntry[] = [];
  #unsaved = false;
  readonly #backend: StorageBackend;
  readonly #path: string;

  constructor(backend: StorageBackend, path: string) {
    this.#backend = backend;
    this.#path = path;
  }

  async load(): Promise<void> {
    const lines = (await readCheckpoint(this.#backend, this.#path)) ?? [];
    const entries: EpochEntry[] = [];
    for (const line of lines) {
      const m = /^(\d+) (\d+)$/.exec(line);
      if (!m) return; // unreadable: start empty, as Kafka does with a corrupt checkpoint it cannot parse
      const e = { epoch: Number(m[1]), startOffset: BigInt(m[2]) };
      const last = entries[entries.length - 1];
      if (last && (e.epoch <= last.epoch || e.startOffset < last.startOffset)) return;
      entries.push(e);
    }
    this.#entries = entries;
    this.#unsaved = false;
  }

  /**
   * Whether the entries changed since the checkpoint was last written: a save
   * is due, or one failed (the file may then hold an epoch the log no longer
   * has, which an open would take for the epoch of later batches).
   */
  get unsaved(): boolean {
    return this.#unsaved;
  }

  get entries(): readonly EpochEntry[] {
    return this.#entries;
  }

  get latestEpoch(): number {
    return this.#entries.length === 0 ? UNDEFINED_EPOCH : this.#entries[this.#entries.length - 1].epoch;
  }

  /** Records that `epoch` starts at `startOffset` if it is newer than the latest. Returns whether it changed. */
  assign(epoch: number, startOffset: bigint): boolean {
    if (epoch < 0) return false;
    const last = this.#entries[this.#entries.length - 1];
    if (last && epoch <= last.epoch) return false;
    // A new epoch starting below an older epoch's start overrides it (after a truncation).
    while (this.#entries.length > 0 && this.#entries[this.#entries.length - 1].startOffset >= startOffset) this.#entries.pop();
    this.#entries.push({ epoch, startOffset });
    this.#unsaved = true;
    return true;
  }

  /** Drops epochs starting at or after `endOffset` (log truncated to endOffset). */
  truncateFromEnd(endOffset: bigint): boolean {
    const n = this.#entries.length;
    while (this.#entries.length > 0 && this.#entries[this.#entries.length - 1].startOffset >= endOffset) this.#entries.pop();
    if (this.#entries.length === n) return false;
    this.#unsaved = true;
    return true;
  }

  /** Log start moved to `startOffset`: epochs wholly before it go; the one spanning it starts there. */
  truncateFromStart(startOffset: bigint): boolean {
    let i = 0;
    while (i + 1 < this.#entries.length && this.#entries[i + 1].startOffset <= startOffset) i++;
    let changed = i > 0;
    this.#entries.splice(0, i);
    const first = this.#entries[0];
    if (first && first.startOffset < startOffset) {
      first.startOffset = startOffset;
      changed = true;
    }
    if (changed) this.#unsaved = true;
    return changed;
  }

  /**
   * Kafka's endOffsetFor: the largest epoch ≤ `epoch` and the offset where
   * it ends (the next epoch's start, or logEndOffset for the latest epoch);
   * (UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET) when `epoch` is older than every entry.
   */
  endOffsetFor(epoch: number, logEndOffset: bigint): { leaderEpoch: number; endOffset: bigint } {
    const entries = this.#entries;
    if (entries.length === 0) return { leaderEpoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    if (epoch === entries[entries.length - 1].epoch) return { leaderEpoch: epoch, endOffset: logEndOffset };
    let i = entries.length - 1;
    while (i >= 0 && entries[i].epoch > epoch) i--;
    if (i < 0) return { leaderEpoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    const next = entries[i + 1];
    return { leaderEpoch: entries[i].epoch, endOffset: next ? next.startOffset : logEndOffset };
  }

  async save(): Promise<void> {
    await writeCheckpoint(this.#backend, this.#path, this.#entries.map((e) => `${e.epoch} ${e.startOffset}`));
    this.#unsaved = false;
  }
}
