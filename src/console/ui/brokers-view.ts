/** Brokers: up, fenced or down; the controller; where each runs; storage and bytes; what it leads and hosts. */
import type { ConsoleSnapshot, BrokerView } from '../types.ts';
import { KeyedRows, fmtBytes, fmtCount, h, setAttr, setText } from './dom.ts';

const RUNS: Record<string, string> = {
  'dedicated-worker': 'dedicated worker (this page)',
  'worker-thread': 'Node worker thread',
  'in-process': 'in-process',
};

/** Where a broker runs, from its metrics' host: a shared cluster's brokers run in tabs ('tab:<id>'). */
function runsIn(host: string, viewerTabId: string | undefined): string {
  if (host.startsWith('tab:')) {
    const tabId = host.slice(4);
    return tabId === viewerTabId ? `tab ${tabId} (this tab)` : `tab ${tabId}`;
  }
  return RUNS[host] ?? host;
}

export function brokersView() {
  const fields = ['id', 'state', 'runs', 'storage', 'stored', 'leads', 'replicas', 'records', 'fetches', 'errors'];
  const numeric = new Set(['stored', 'leads', 'replicas', 'records', 'fetches', 'errors']);
  const body = h('tbody');
  const controller = h('p', { class: 'wc-muted', 'data-controller': true });
  const table = h('table', { class: 'wc-table' },
    h('caption', {}, 'Brokers'),
    h('thead', {}, h('tr', {}, ...['broker', 'state', 'runs in', 'storage', 'stored', 'leads', 'replicas', 'records in', 'fetches', 'errors'].map((t, i) => h('th', { scope: 'col', class: numeric.has(fields[i]) ? 'wc-num' : undefined }, t)))),
    body);
  const cells = new WeakMap<HTMLTableRowElement, Record<string, HTMLElement>>();
  /** What a broker said last, to show where a broker that is down ran. */
  const lastSeen = new Map<number, { host: string; storage: string }>();
  let leadersBy = new Map<number, number>();
  let viewerTabId: string | undefined;
  const rows = new KeyedRows<BrokerView>(body, (b) => String(b.nodeId), (b) => {
    const tds = Object.fromEntries(fields.map((f) => [f, h(f === 'id' ? 'th' : 'td', { 'data-field': f, class: numeric.has(f) ? 'wc-num' : undefined, ...(f === 'id' && { scope: 'row' }) })]));
    const row = h('tr', { 'data-broker': b.nodeId }, ...fields.map((f) => tds[f]));
    cells.set(row, tds);
    return row;
  }, (row, b) => {
    const c = cells.get(row)!;
    const m = b.metrics;
    setAttr(row, 'data-state', b.state);
    setText(c.id, String(b.nodeId));
    setText(c.state, b.state);
    setAttr(c.state, 'class', `wc-badge wc-${b.state}`);
    setAttr(c.state, 'title', b.reason ?? null);
    if (m) lastSeen.set(b.nodeId, { host: m.host, storage: m.storage });
    const seen = lastSeen.get(b.nodeId);
    const was = m ? '' : ' (last seen)';
    setText(c.runs, seen ? `${runsIn(seen.host, viewerTabId)}${was}` : '—');
    setText(c.storage, seen ? `${seen.storage}${was}` : '—');
    setText(c.stored, m ? fmtBytes(m.replicas.reduce((n, r) => n + r.sizeBytes, 0)) : '—');
    setText(c.leads, String(leadersBy.get(b.nodeId) ?? 0));
    setText(c.replicas, m ? String(m.replicas.length) : '—');
    setText(c.records, m ? fmtCount(m.recordsAppended) : '—');
    setText(c.fetches, m ? fmtCount(m.fetchRequests) : '—');
    setText(c.errors, m ? fmtCount(Object.values(m.errors).reduce((n, x) => n + x, 0)) : '—');
  });
  const element = h('section', { class: 'wc-section', id: 'wc-brokers', 'aria-labelledby': 'wc-brokers-h' },
    h('h2', { id: 'wc-brokers-h' }, 'Brokers'), controller, h('div', { class: 'wc-scroll' }, table));
  return {
    element,
    update(s: ConsoleSnapshot) {
      leadersBy = new Map();
      viewerTabId = s.viewerTabId;
      for (const t of s.topics) for (const p of t.partitions) if (p.leader >= 0) leadersBy.set(p.leader, (leadersBy.get(p.leader) ?? 0) + 1);
      rows.render(s.brokers);
      const isBroker = s.brokers.some((b) => b.nodeId === s.controllerId);
      setAttr(controller, 'data-controller', String(s.controllerId));
      setText(controller, s.controllerId < 0 ? 'No controller elected.'
        : `Controller: node ${s.controllerId}${isBroker ? '' : s.viewerTabId ? ' (in the tab that holds the controller lock)' : ' (beside the brokers, in the realm that started them)'}, epoch ${s.controllerEpoch}; metadata version ${s.metadataVersion}.`);
    },
  };
}
