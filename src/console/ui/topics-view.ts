/**
 * Topics → partitions: leader, replicas, ISR (under-replicated rows marked in
 * words and colour), log start, log end, high watermark, segments and bytes;
 * each topic's configs (loaded when it is opened). Admin actions, each behind
 * a confirmation: create a topic, add partitions, delete a topic.
 */
import { systemClock } from '../../clock.ts';
import type { ConsoleSnapshot, ConsoleSource, PartitionView, TopicView } from '../types.ts';
import { KeyedRows, confirmAction, errorText, fmtBytes, fmtCount, h, setAttr, setText } from './dom.ts';

/** Configs are read again at most this often while a topic is open. */
const CONFIG_REFRESH_MS = 5_000;

const underReplicated = (p: PartitionView) => p.isr.length < p.replicas.length;
const plural = (n: number, noun: string) => `${fmtCount(n)} ${noun}${n === 1 ? '' : 's'}`;

export function topicsView(source: ConsoleSource, root: HTMLElement, say: (text: string) => void) {
  const list = h('div', { class: 'wc-topics' });
  const summary = h('p', { class: 'wc-muted' });
  const name = h('input', { name: 'topic', required: true, maxlength: 249, pattern: '[a-zA-Z0-9._-]+', autocomplete: 'off' });
  const partitions = h('input', { name: 'partitions', type: 'number', min: 1, max: 1000, value: 3, required: true });
  const rf = h('input', { name: 'replicationFactor', type: 'number', min: 1, max: 32, value: 1, required: true });
  const create = h('form', { class: 'wc-form', 'aria-label': 'Create a topic' },
    h('label', {}, 'new topic', name), h('label', {}, 'partitions', partitions), h('label', {}, 'replication factor', rf),
    h('button', { type: 'submit' }, 'Create topic…'));
  create.addEventListener('submit', async (e) => {
    e.preventDefault();
    const topic = name.value.trim();
    const n = Number(partitions.value);
    const r = Number(rf.value);
    if (!(await confirmAction(root, `Create topic '${topic}'?`, `${n} partitions, replication factor ${r}.`, 'Create'))) return;
    try {
      await source.createTopic(topic, n, r);
      say(`created topic '${topic}'`);
      name.value = '';
    } catch (error) { say(`create topic '${topic}': ${errorText(error)}`); }
  });

  const topics = new Map<string, { element: HTMLDetailsElement; update(t: TopicView): void }>();

  function topicPanel(topicName: string) {
    const head = h('span', { class: 'wc-topic-head' });
    const body = h('tbody');
    const configs = h('dl', { class: 'wc-configs' });
    let configsAtMs = -Infinity;
    const loadConfigs = async () => {
      configsAtMs = systemClock.nowMs();
      try {
        const entries = await source.describeTopicConfigs(topicName);
        configs.replaceChildren(...entries.flatMap((e) => [h('dt', { class: e.isDefault ? 'wc-muted' : '' }, e.name), h('dd', { class: e.isDefault ? 'wc-muted' : '' }, e.value ?? '—')]));
      } catch (error) { configs.replaceChildren(h('dd', {}, `configs: ${errorText(error)}`)); }
    };
    const fields = ['partition', 'leader', 'replicas', 'isr', 'logStartOffset', 'logEndOffset', 'highWatermark', 'segments', 'size'];
    const cells = new WeakMap<HTMLTableRowElement, Record<string, HTMLElement>>();
    const rows = new KeyedRows<PartitionView>(body, (p) => String(p.partition), (p) => {
      const tds = Object.fromEntries(fields.map((f) => [f, h(f === 'partition' ? 'th' : 'td', { 'data-field': f, class: f === 'replicas' || f === 'isr' ? undefined : 'wc-num', ...(f === 'partition' && { scope: 'row' }) })]));
      const row = h('tr', { 'data-partition': `${topicName}/${p.partition}` }, ...fields.map((f) => tds[f]));
      cells.set(row, tds);
      return row;
    }, (row, p) => {
      const c = cells.get(row)!;
      const under = underReplicated(p);
      setAttr(row, 'class', under ? 'wc-under' : null);
      setAttr(row, 'data-under-replicated', under ? '' : null);
      setText(c.partition, String(p.partition));
      setText(c.leader, p.leader < 0 ? 'none' : String(p.leader));
      setText(c.replicas, p.replicas.join(', '));
      setText(c.isr, p.isr.join(', ') + (under ? ' (under-replicated)' : ''));
      setText(c.logStartOffset, p.logStartOffset ?? '—');
      setText(c.logEndOffset, p.logEndOffset ?? '—');
      setText(c.highWatermark, p.highWatermark ?? '—');
      setText(c.segments, p.segmentCount === undefined ? '—' : String(p.segmentCount));
      setText(c.size, p.sizeBytes === undefined ? '—' : fmtBytes(p.sizeBytes));
    });
    const more = h('input', { type: 'number', min: 1, max: 1000, 'aria-label': `new partition count of ${topicName}` });
    const addForm = h('form', { class: 'wc-form' }, h('label', {}, 'partitions in all', more), h('button', { type: 'submit' }, 'Add partitions…'));
    addForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      const count = Number(more.value);
      if (!(await confirmAction(root, `Add partitions to '${topicName}'?`, `The topic will have ${count} partitions. Partitions cannot be removed again, and keys may map to other partitions.`, 'Add partitions'))) return;
      try { await source.createPartitions(topicName, count); say(`'${topicName}' now has ${count} partitions`); } catch (error) { say(`add partitions to '${topicName}': ${errorText(error)}`); }
    });
    const del = h('button', { type: 'button', class: 'danger' }, 'Delete topic…');
    del.addEventListener('click', async () => {
      if (!(await confirmAction(root, `Delete topic '${topicName}'?`, 'Every partition and every record of it is removed on every broker. This cannot be undone.', 'Delete'))) return;
      try { await source.deleteTopic(topicName); say(`deleted topic '${topicName}'`); } catch (error) { say(`delete '${topicName}': ${errorText(error)}`); }
    });
    const element = h('details', { class: 'wc-topic', 'data-topic': topicName },
      h('summary', {}, h('strong', {}, topicName), ' ', head),
      h('div', { class: 'wc-scroll' }, h('table', { class: 'wc-table' },
        h('caption', {}, `Partitions of ${topicName}`),
        h('thead', {}, h('tr', {}, ...['partition', 'leader', 'replicas', 'ISR', 'log start', 'log end', 'high watermark', 'segments', 'size'].map((t) => h('th', { scope: 'col', class: t === 'replicas' || t === 'ISR' ? undefined : 'wc-num' }, t)))),
        body)),
      h('h3', {}, 'Configs'), configs,
      h('div', { class: 'wc-actions' }, addForm, del));
    element.addEventListener('toggle', () => { if (element.open) void loadConfigs(); });
    return {
      element,
      update(t: TopicView) {
        const under = t.partitions.filter(underReplicated).length;
        const records = t.partitions.reduce((n, p) => n + (p.highWatermark && p.logStartOffset ? Number(BigInt(p.highWatermark) - BigInt(p.logStartOffset)) : 0), 0);
        const bytes = t.partitions.reduce((n, p) => n + (p.sizeBytes ?? 0), 0);
        setText(head, `${plural(t.partitions.length, 'partition')} · replication ${t.partitions[0]?.replicas.length ?? 0} · ${plural(records, 'record')} · ${fmtBytes(bytes)}${under ? ` · ${under} under-replicated` : ''}`);
        setAttr(element, 'data-under-replicated', under ? String(under) : null);
        if (!more.value) more.value = String(t.partitions.length + 1);
        more.min = String(t.partitions.length + 1);
        if (element.open) {
          rows.render(t.partitions);
          if (systemClock.nowMs() - configsAtMs > CONFIG_REFRESH_MS) void loadConfigs();
        }
      },
    };
  }

  const element = h('section', { class: 'wc-section', id: 'wc-topics', 'aria-labelledby': 'wc-topics-h' },
    h('h2', { id: 'wc-topics-h' }, 'Topics'), summary, create, list);
  return {
    element,
    update(s: ConsoleSnapshot) {
      const names = new Set(s.topics.map((t) => t.name));
      for (const [n, panel] of topics) if (!names.has(n)) { panel.element.remove(); topics.delete(n); }
      let previous: Element | null = null;
      for (const t of s.topics) {
        let panel = topics.get(t.name);
        if (!panel) { panel = topicPanel(t.name); topics.set(t.name, panel); }
        panel.update(t);
        const expected: Element | null = previous ? previous.nextElementSibling : list.firstElementChild;
        if (expected !== panel.element) list.insertBefore(panel.element, expected);
        previous = panel.element;
      }
      const partitions = s.topics.reduce((n, t) => n + t.partitions.length, 0);
      const under = s.topics.reduce((n, t) => n + t.partitions.filter(underReplicated).length, 0);
      setText(summary, `${plural(s.topics.length, 'topic')}, ${plural(partitions, 'partition')}, ${under} under-replicated${s.topicsLeftOut ? `; ${plural(s.topicsLeftOut, 'more topic')} not shown` : ''}.`);
    },
  };
}
