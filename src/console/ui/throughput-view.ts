/**
 * Throughput per topic over the last minutes, as uPlot charts: records/s and
 * bytes/s, produced (solid) and consumed (dashed). Rates come from the
 * brokers' per-topic counters in consecutive snapshots, per broker, so a
 * broker that restarts (its counters from zero) or goes down does not show as
 * a negative rate.
 */
import uPlot from 'uplot';
import type { ConsoleSnapshot } from '../types.ts';
import { CHART_TOPICS_MAX, HISTORY_POINTS_MAX } from '../limits.ts';
import { fmtBytes, fmtCount, h, setAttr } from './dom.ts';

const COLORS = ['#2f81f7', '#e5534b', '#3fb950', '#d29922', '#a371f7', '#39c5cf', '#db61a2', '#8b949e'];

interface Counters { recordsIn: number; bytesIn: number; recordsOut: number; bytesOut: number }
type Rates = Counters;

export function throughputView() {
  const recordsBox = h('div', { class: 'wc-chart', role: 'img', 'aria-label': 'records per second per topic', 'data-chart': 'records' });
  const bytesBox = h('div', { class: 'wc-chart', role: 'img', 'aria-label': 'bytes per second per topic', 'data-chart': 'bytes' });
  const legend = h('p', { class: 'wc-muted', 'aria-live': 'off' });
  const element = h('section', { class: 'wc-section', id: 'wc-throughput', 'aria-labelledby': 'wc-throughput-h' },
    h('h2', { id: 'wc-throughput-h' }, 'Throughput'), legend,
    h('div', { class: 'wc-charts' }, recordsBox, bytesBox));

  let previous: { atMs: number; counters: Map<string, Counters> } | undefined;
  const times: number[] = [];
  const history = new Map<string, Rates[]>();
  let charts: { records: uPlot; bytes: uPlot; topics: string[] } | undefined;

  const chartOptions = (title: string, topics: string[], value: (v: number) => string, width: number): uPlot.Options => {
    const style = getComputedStyle(element);
    const fg = style.getPropertyValue('--wc-fg').trim() || '#888';
    const grid = style.getPropertyValue('--wc-grid').trim() || '#8884';
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    return {
      title, width, height: 220,
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [axis, { ...axis, size: 70, values: (_u, splits) => splits.map(value) }],
      series: [{}, ...topics.flatMap((t, i) => [
        { label: `${t} in`, stroke: COLORS[i % COLORS.length], width: 2, value: (_u: uPlot, v: number | null) => (v === null ? '—' : value(v)) },
        { label: `${t} out`, stroke: COLORS[i % COLORS.length], width: 1.5, dash: [6, 4], value: (_u: uPlot, v: number | null) => (v === null ? '—' : value(v)) },
      ])],
      legend: { show: true },
    };
  };

  /** uPlot's columns: times, then per topic its in and out rates (null before the topic existed). */
  const data = (topics: string[], kind: 'records' | 'bytes'): uPlot.AlignedData => [
    times.map((t) => t / 1000),
    ...topics.flatMap((t) => {
      const series = history.get(t) ?? [];
      const pad = times.length - series.length;
      const column = (pick: (r: Rates) => number) => times.map((_, i) => (i < pad ? null : pick(series[i - pad])));
      return kind === 'records' ? [column((r) => r.recordsIn), column((r) => r.recordsOut)] : [column((r) => r.bytesIn), column((r) => r.bytesOut)];
    }),
  ];

  function draw(): void {
    // The busiest topics over the kept history.
    const topics = [...history.entries()]
      .map(([t, h]) => [t, h.reduce((n, r) => n + r.recordsIn + r.recordsOut, 0)] as const)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, CHART_TOPICS_MAX).map(([t]) => t).sort();
    const width = Math.max(280, Math.floor((element.clientWidth || 900) / 2) - 24);
    if (!charts || charts.topics.join('\n') !== topics.join('\n')) {
      charts?.records.destroy();
      charts?.bytes.destroy();
      charts = {
        topics,
        records: new uPlot(chartOptions('records/s', topics, fmtCount, width), data(topics, 'records'), recordsBox),
        bytes: new uPlot(chartOptions('bytes/s', topics, fmtBytes, width), data(topics, 'bytes'), bytesBox),
      };
    } else {
      charts.records.setData(data(topics, 'records'));
      charts.bytes.setData(data(topics, 'bytes'));
      if (charts.records.width !== width) { charts.records.setSize({ width, height: 220 }); charts.bytes.setSize({ width, height: 220 }); }
    }
    const last = topics.map((t) => history.get(t)?.at(-1)).filter((r): r is Rates => r !== undefined);
    const inNow = last.reduce((n, r) => n + r.recordsIn, 0);
    const outNow = last.reduce((n, r) => n + r.recordsOut, 0);
    setAttr(element, 'data-points', String(times.length));
    setAttr(element, 'data-records-in-per-sec', String(Math.round(inNow)));
    setAttr(element, 'data-records-out-per-sec', String(Math.round(outNow)));
    legend.textContent = `Now: ${fmtCount(inNow)} records/s produced, ${fmtCount(outNow)} records/s consumed, over the last ${Math.round(((times.at(-1) ?? 0) - (times[0] ?? 0)) / 1000)} s. Solid: produced; dashed: consumed.`;
  }

  return {
    element,
    update(s: ConsoleSnapshot) {
      const counters = new Map<string, Counters>();
      for (const b of s.brokers) for (const t of b.metrics?.topics ?? []) {
        counters.set(`${b.nodeId}\n${t.topic}`, { recordsIn: t.recordsAppended, bytesIn: t.bytesAppended, recordsOut: t.recordsFetched, bytesOut: t.bytesFetched });
      }
      if (previous && s.atMs > previous.atMs) {
        const seconds = (s.atMs - previous.atMs) / 1000;
        const rates = new Map<string, Rates>();
        for (const [key, now] of counters) {
          const topic = key.slice(key.indexOf('\n') + 1);
          const before = previous.counters.get(key);
          const delta = (f: keyof Counters) => (before && now[f] >= before[f] ? now[f] - before[f] : before ? now[f] : 0);
          const r = rates.get(topic) ?? { recordsIn: 0, bytesIn: 0, recordsOut: 0, bytesOut: 0 };
          r.recordsIn += delta('recordsIn') / seconds;
          r.bytesIn += delta('bytesIn') / seconds;
          r.recordsOut += delta('recordsOut') / seconds;
          r.bytesOut += delta('bytesOut') / seconds;
          rates.set(topic, r);
        }
        const topicNames = new Set(s.topics.map((t) => t.name));
        for (const name of topicNames) {
          const series = history.get(name) ?? [];
          series.push(rates.get(name) ?? { recordsIn: 0, bytesIn: 0, recordsOut: 0, bytesOut: 0 });
          if (series.length > HISTORY_POINTS_MAX) series.shift();
          history.set(name, series);
        }
        for (const name of history.keys()) if (!topicNames.has(name)) history.delete(name);
        times.push(s.atMs);
        if (times.length > HISTORY_POINTS_MAX) times.shift();
        // A topic that appeared later has a shorter history: data() pads its start.
        for (const series of history.values()) if (series.length > times.length) series.splice(0, series.length - times.length);
        draw();
      }
      previous = { atMs: s.atMs, counters };
    },
    destroy() { charts?.records.destroy(); charts?.bytes.destroy(); },
  };
}
