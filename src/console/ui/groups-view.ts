/**
 * Consumer groups: state, members with their assigned partitions, committed
 * offset and lag per partition, total lag over time (a uPlot chart, one
 * series per group), and resetting a group's offsets behind a confirmation
 * (Kafka allows it only while the group has no members).
 */
import uPlot from 'uplot';
import { HISTORY_POINTS_MAX, CHART_TOPICS_MAX } from '../limits.ts';
import type { ConsoleSnapshot, ConsoleSource, GroupView } from '../types.ts';
import { KeyedRows, confirmAction, errorText, fmtCount, h, setAttr, setText } from './dom.ts';

const COLORS = ['#a371f7', '#d29922', '#39c5cf', '#db61a2', '#3fb950', '#e5534b', '#2f81f7', '#8b949e'];

export function groupsView(source: ConsoleSource, root: HTMLElement, say: (text: string) => void) {
  const summary = h('p', { class: 'wc-muted' });
  const list = h('div', { class: 'wc-topics' });
  const lagBox = h('div', { class: 'wc-chart', role: 'img', 'aria-label': 'total lag per group over time', 'data-chart': 'lag' });
  const element = h('section', { class: 'wc-section', id: 'wc-groups', 'aria-labelledby': 'wc-groups-h' },
    h('h2', { id: 'wc-groups-h' }, 'Consumer groups'), summary, list, lagBox);
  const panels = new Map<string, { element: HTMLDetailsElement; update(g: GroupView): void }>();
  const times: number[] = [];
  const lagHistory = new Map<string, (number | null)[]>();
  let chart: { plot: uPlot; groups: string[] } | undefined;

  function panel(groupId: string) {
    const head = h('span', { class: 'wc-topic-head' });
    const membersBody = h('tbody');
    const offsetsBody = h('tbody');
    const error = h('p', { class: 'wc-muted' });
    const memberCells = new WeakMap<HTMLTableRowElement, HTMLElement[]>();
    const members = new KeyedRows<GroupView['members'][number]>(membersBody, (m) => m.memberId, () => {
      const cells = [h('th', { scope: 'row', class: 'wc-mono' }), h('td', {}), h('td', {}), h('td', { 'data-field': 'assignment' })];
      const row = h('tr', {}, ...cells);
      memberCells.set(row, cells);
      return row;
    }, (row, m) => {
      const [id, client, host, assigned] = memberCells.get(row)!;
      setAttr(row, 'data-member', m.memberId);
      setText(id, m.memberId);
      setText(client, m.clientId);
      setText(host, m.clientHost);
      setText(assigned, m.assignment.map((a) => `${a.topic}: ${a.partitions.join(', ')}`).join('; ') || '—');
    });
    const offsetCells = new WeakMap<HTMLTableRowElement, Record<string, HTMLElement>>();
    let owners = new Map<string, string>();
    const offsets = new KeyedRows<GroupView['offsets'][number]>(offsetsBody, (o) => `${o.topic}/${o.partition}`, (o) => {
      const fields = ['topic', 'partition', 'committed', 'highWatermark', 'lag', 'owner'];
      const cells = Object.fromEntries(fields.map((f) => [f, h(f === 'topic' ? 'th' : 'td', { 'data-field': f, class: ['partition', 'committed', 'highWatermark', 'lag'].includes(f) ? 'wc-num' : undefined, ...(f === 'topic' && { scope: 'row' }) })]));
      const row = h('tr', { 'data-group-partition': `${groupId}/${o.topic}/${o.partition}` }, ...fields.map((f) => cells[f]));
      offsetCells.set(row, cells);
      return row;
    }, (row, o) => {
      const c = offsetCells.get(row)!;
      setText(c.topic, o.topic);
      setText(c.partition, String(o.partition));
      setText(c.committed, o.committed === '-1' ? 'none' : o.committed);
      setText(c.highWatermark, o.highWatermark);
      setText(c.lag, o.lag);
      setText(c.owner, owners.get(`${o.topic}/${o.partition}`) ?? '—');
    });
    const topic = h('select', { name: 'topic', 'aria-label': `topic whose offsets to reset for ${groupId}` });
    const to = h('select', { name: 'to', 'aria-label': 'reset to' }, h('option', { value: 'earliest' }, 'earliest'), h('option', { value: 'latest' }, 'latest'));
    const reset = h('form', { class: 'wc-form', 'aria-label': `Reset the offsets of ${groupId}` }, h('label', {}, 'topic', topic), h('label', {}, 'to', to), h('button', { type: 'submit' }, 'Reset offsets…'));
    reset.addEventListener('submit', async (e) => {
      e.preventDefault();
      const t = topic.value;
      const where = to.value as 'earliest' | 'latest';
      if (!(await confirmAction(root, `Reset the offsets of '${groupId}' on '${t}'?`, `Every partition of '${t}' is committed at its ${where} offset for this group: its consumers read from there when they next join. Kafka allows this only while the group has no members.`, 'Reset offsets'))) return;
      try { await source.resetGroupOffsets(groupId, t, where); say(`'${groupId}' reset to the ${where} offsets of '${t}'`); } catch (error) { say(`reset '${groupId}': ${errorText(error)}`); }
    });
    const element = h('details', { class: 'wc-topic', 'data-group': groupId },
      h('summary', {}, h('strong', {}, groupId), ' ', head),
      error,
      h('div', { class: 'wc-scroll' }, h('table', { class: 'wc-table' }, h('caption', {}, `Members of ${groupId}`),
        h('thead', {}, h('tr', {}, ...['member', 'client', 'host', 'assigned partitions'].map((t) => h('th', { scope: 'col' }, t)))), membersBody)),
      h('div', { class: 'wc-scroll' }, h('table', { class: 'wc-table' }, h('caption', {}, `Offsets of ${groupId}`),
        h('thead', {}, h('tr', {}, ...['topic', 'partition', 'committed', 'high watermark', 'lag', 'member'].map((t) => h('th', { scope: 'col', class: ['partition', 'committed', 'high watermark', 'lag'].includes(t) ? 'wc-num' : undefined }, t)))), offsetsBody)),
      reset);
    return {
      element,
      update(g: GroupView) {
        setAttr(element, 'data-state', g.state);
        setAttr(element, 'data-members', String(g.members.length));
        setAttr(element, 'data-total-lag', g.totalLag);
        setText(head, `${g.state} · ${g.members.length} member${g.members.length === 1 ? '' : 's'} · lag ${fmtCount(Number(g.totalLag))}${g.protocol ? ` · ${g.protocol}` : ''}`);
        setText(error, g.error ? `offsets: ${g.error}` : '');
        owners = new Map(g.members.flatMap((m) => m.assignment.flatMap((a) => a.partitions.map((p) => [`${a.topic}/${p}`, m.memberId] as [string, string]))));
        const topics = [...new Set(g.offsets.map((o) => o.topic))];
        if ([...topic.options].map((o) => o.value).join('\n') !== topics.join('\n')) {
          const selected = topic.value;
          topic.replaceChildren(...topics.map((t) => h('option', { value: t }, t)));
          if (topics.includes(selected)) topic.value = selected;
        }
        members.render(g.members);
        offsets.render(g.offsets);
      },
    };
  }

  function drawLag(): void {
    const groups = [...lagHistory.keys()].sort().slice(0, CHART_TOPICS_MAX);
    const data: uPlot.AlignedData = [times.map((t) => t / 1000), ...groups.map((g) => {
      const series = lagHistory.get(g)!;
      const pad = times.length - series.length;
      return times.map((_, i) => (i < pad ? null : series[i - pad]));
    })];
    const width = Math.max(280, Math.min(900, (element.clientWidth || 900) - 24));
    if (!chart || chart.groups.join('\n') !== groups.join('\n')) {
      chart?.plot.destroy();
      const style = getComputedStyle(element);
      const fg = style.getPropertyValue('--wc-fg').trim() || '#888';
      const grid = style.getPropertyValue('--wc-grid').trim() || '#8884';
      const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
      chart = {
        groups,
        plot: new uPlot({
          title: 'total lag (records)', width, height: 200,
          scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
          axes: [axis, { ...axis, size: 70, values: (_u, splits) => splits.map(fmtCount) }],
          series: [{}, ...groups.map((g, i) => ({ label: g, stroke: COLORS[i % COLORS.length], width: 2 }))],
        }, data, lagBox),
      };
    } else chart.plot.setData(data);
  }

  return {
    element,
    update(s: ConsoleSnapshot) {
      if (!s.groups) return; // this snapshot could not read them: the last view stays
      const ids = new Set(s.groups.map((g) => g.groupId));
      for (const [id, p] of panels) if (!ids.has(id)) { p.element.remove(); panels.delete(id); }
      let previous: Element | null = null;
      for (const g of s.groups) {
        let p = panels.get(g.groupId);
        if (!p) { p = panel(g.groupId); panels.set(g.groupId, p); }
        p.update(g);
        const expected: Element | null = previous ? previous.nextElementSibling : list.firstElementChild;
        if (expected !== p.element) list.insertBefore(p.element, expected);
        previous = p.element;
      }
      setText(summary, s.groups.length === 0 ? 'No consumer groups yet.' : `${s.groups.length} group${s.groups.length === 1 ? '' : 's'}${s.groupsLeftOut ? `; ${s.groupsLeftOut} more not shown` : ''}.`);
      times.push(s.atMs);
      if (times.length > HISTORY_POINTS_MAX) times.shift();
      for (const g of s.groups) {
        const series = lagHistory.get(g.groupId) ?? [];
        series.push(Number(g.totalLag));
        if (series.length > times.length) series.splice(0, series.length - times.length);
        lagHistory.set(g.groupId, series);
      }
      for (const [id, series] of lagHistory) {
        if (!ids.has(id)) { lagHistory.delete(id); continue; }
        if (series.length > times.length) series.splice(0, series.length - times.length);
      }
      if (s.groups.length) drawLag();
    },
    destroy() { chart?.plot.destroy(); },
  };
}
