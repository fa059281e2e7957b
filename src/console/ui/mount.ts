/**
 * mountConsole: the console in an element of a page, over a ConsoleSource
 * (the page's own cluster, or a Node cluster through the CLI's feed). One
 * snapshot at a time, at most every SNAPSHOT_INTERVAL_MS; every view updates
 * from it in place (no reload, focus and open panels kept).
 */
import uplotCss from 'uplot/dist/uPlot.min.css?inline';
import { systemClock, type TimerHandle } from '../../clock.ts';
import type { ClusterConnection } from '../../cluster/cluster-connection.ts';
import { clusterSource } from '../cluster-source.ts';
import { feedSource } from '../feed-source.ts';
import { nextSnapshotDelayMs } from '../limits.ts';
import type { ConsoleSnapshot, ConsoleSource } from '../types.ts';
import { brokersView } from './brokers-view.ts';
import { errorText, h, setText } from './dom.ts';
import { groupsView } from './groups-view.ts';
import { produceView } from './produce-view.ts';
import { CONSOLE_CSS } from './styles.ts';
import { tailView } from './tail-view.ts';
import { throughputView } from './throughput-view.ts';
import { topicsView } from './topics-view.ts';

export interface MountConsoleOptions {
  /** A cluster reached from this page (startCluster's or connectCluster's). */
  cluster?: ClusterConnection;
  /** The base URL of a `wafka start` server's console feed (default: none). */
  feedUrl?: string;
  /** Any other source. */
  source?: ConsoleSource;
  /** Shown in the header. */
  description?: string;
}

export interface MountedConsole {
  readonly source: ConsoleSource;
  /** The last snapshot shown. */
  readonly snapshot: ConsoleSnapshot | undefined;
  unmount(): void;
}

interface View { element: HTMLElement; update(s: ConsoleSnapshot): void; destroy?(): void }

export function mountConsole(element: HTMLElement, options: MountConsoleOptions): MountedConsole {
  const source = options.source
    ?? (options.cluster ? clusterSource(options.cluster, { description: options.description })
      : options.feedUrl !== undefined ? feedSource(options.feedUrl) : undefined);
  if (!source) throw new TypeError('mountConsole needs { cluster }, { feedUrl } or { source }');

  const root = h('div', { class: 'wafka-console' });
  const style = h('style', {}, uplotCss + CONSOLE_CSS);
  const status = h('p', { role: 'status', class: 'wc-muted', 'data-console-status': true });
  const announce = h('p', { role: 'status', 'aria-live': 'polite', 'data-console-message': true });
  const title = h('span', { class: 'wc-muted' }, options.description ?? source.description);
  const say = (text: string) => setText(announce, text);
  const views: View[] = [brokersView(), topicsView(source, root, say), groupsView(source, root, say), throughputView(), tailView(source), produceView(source)];
  const [brokers, topics, groups, throughput, tail, produce] = views;
  root.append(style,
    h('header', {}, h('h1', {}, 'wafka console'), title,
      h('nav', { 'aria-label': 'Console sections' }, ...[['wc-brokers', 'Brokers'], ['wc-topics', 'Topics'], ['wc-groups', 'Groups'], ['wc-throughput', 'Throughput'], ['wc-tail', 'Tail'], ['wc-produce', 'Produce']].map(([id, t]) => h('a', { href: `#${id}` }, t))),
      status),
    announce,
    brokers.element, topics.element, groups.element, throughput.element,
    tail.element, produce.element);
  element.append(root);

  let last: ConsoleSnapshot | undefined;
  let timer: TimerHandle | undefined;
  let stopped = false;
  let updates = 0;
  async function tick(): Promise<void> {
    const askedMs = systemClock.nowMs();
    let atMs: number | undefined;
    try {
      const s = await source!.snapshot();
      if (stopped) return;
      atMs = s.atMs;
      last = s;
      updates++;
      for (const v of views) v.update(s);
      const up = s.brokers.filter((b) => b.state === 'up').length;
      setText(status, `cluster '${s.clusterId}': ${up} of ${s.brokers.length} brokers up · updated ${new Date(s.atMs).toLocaleTimeString()}`);
      status.dataset.updates = String(updates);
    } catch (error) {
      if (stopped) return;
      setText(status, `no answer from the cluster: ${errorText(error)}`);
    }
    timer = systemClock.setTimeout(() => void tick(), nextSnapshotDelayMs(askedMs, systemClock.nowMs(), atMs));
  }
  void tick();

  return {
    source,
    get snapshot() { return last; },
    unmount() {
      stopped = true;
      systemClock.clearTimeout(timer);
      for (const v of views) v.destroy?.();
      source.close();
      root.remove();
    },
  };
}
