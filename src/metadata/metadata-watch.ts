/**
 * The watch on cluster metadata: a doorbell, not a data channel. A writer that
 * stored a new version announces its number; everyone else re-reads the store
 * (the store is the truth; a missed or late ring only delays a re-read).
 *
 * BroadcastChannel reaches every context of an origin in the browser, and every
 * worker thread of a Node process; it does not reach other Node processes
 * (brokers there see changes when they next re-read, e.g. on an unknown topic).
 * An in-process cluster uses LocalMetadataWatch, so that two clusters with the
 * same id in one realm (tests) do not ring each other's bell.
 */
export type MetadataListener = (version: number) => void;

export interface MetadataWatch {
  announce(version: number): void;
  subscribe(listener: MetadataListener): () => void;
  close(): void;
}

export function metadataChannelName(clusterId: string): string {
  return `wafka:${clusterId}:metadata`;
}

export class BroadcastChannelMetadataWatch implements MetadataWatch {
  readonly #channel: BroadcastChannel;
  readonly #listeners = new Set<MetadataListener>();

  constructor(clusterId: string) {
    this.#channel = new BroadcastChannel(metadataChannelName(clusterId));
    // Node: an open channel must not keep a process alive on its own.
    (this.#channel as unknown as { unref?: () => void }).unref?.();
    this.#channel.onmessage = (event: MessageEvent) => {
      const version = (event.data as { version?: unknown })?.version;
      if (typeof version !== 'number') return;
      for (const listener of this.#listeners) listener(version);
    };
  }

  announce(version: number): void {
    this.#channel.postMessage({ version });
  }

  subscribe(listener: MetadataListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#listeners.clear();
    this.#channel.close();
  }
}

/**
 * A doorbell shared by the brokers of one in-process cluster. Like a
 * BroadcastChannel, it rings asynchronously and not for its own announcer
 * (each broker gets its own handle from `handle()`).
 */
export class LocalMetadataHub {
  readonly #listeners = new Map<object, Set<MetadataListener>>();

  handle(): MetadataWatch {
    const key = {};
    const listeners = new Set<MetadataListener>();
    this.#listeners.set(key, listeners);
    return {
      announce: (version) => {
        for (const [other, set] of this.#listeners) {
          if (other === key) continue;
          for (const listener of set) queueMicrotask(() => listener(version));
        }
      },
      subscribe: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      close: () => void this.#listeners.delete(key),
    };
  }
}
