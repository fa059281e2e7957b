/**
 * Tail: a topic's partitions (all, or a list), followed live or read from an
 * offset or a time; keys and values shown as text, JSON or hex; a filter over
 * what is kept; pause and resume. Each poll is one bounded tail call
 * (TAIL_FETCH_BYTES_MAX, TAIL_RECORDS_MAX); the view keeps TAIL_ROWS_MAX rows.
 */
import { systemClock, type TimerHandle } from '../../clock.ts';
import { TAIL_ROWS_MAX } from '../limits.ts';
import type { ConsoleSnapshot, ConsoleSource, TailPosition, TailRecord, TailStart } from '../types.ts';
import { errorText, h, setText } from './dom.ts';

/** How often a followed tail asks for more. */
const TAIL_POLL_MS = 400;
/** Characters of a key or value shown in a row. */
const CELL_CHARS_MAX = 300;

type Format = 'text' | 'json' | 'hex';
const utf8 = new TextDecoder('utf-8', { fatal: false });

export function show(bytes: Uint8Array | null, format: Format): string {
  if (bytes === null) return 'null';
  const head = bytes.subarray(0, CELL_CHARS_MAX);
  if (format === 'hex') return [...head].map((b) => b.toString(16).padStart(2, '0')).join(' ') + (bytes.length > head.length ? ' …' : '');
  const text = utf8.decode(bytes.length > CELL_CHARS_MAX * 4 ? bytes.subarray(0, CELL_CHARS_MAX * 4) : bytes);
  if (format === 'json') {
    try { return JSON.stringify(JSON.parse(text)).slice(0, CELL_CHARS_MAX); } catch { return `(not JSON) ${text.slice(0, CELL_CHARS_MAX)}`; }
  }
  return text.length > CELL_CHARS_MAX ? `${text.slice(0, CELL_CHARS_MAX)}…` : text;
}

/** "all" or empty → null (every partition); "0, 2" → [0, 2]. */
export function parsePartitions(text: string): number[] | null {
  const t = text.trim();
  if (t === '' || t === 'all') return null;
  const list = t.split(/[\s,]+/).map(Number);
  if (list.some((n) => !Number.isSafeInteger(n) || n < 0)) throw new Error(`partitions '${text}': 'all' or numbers like 0, 2`);
  return [...new Set(list)];
}

export function tailView(source: ConsoleSource) {
  const topic = h('select', { name: 'topic' });
  const partitions = h('input', { name: 'partitions', value: 'all', size: 8 });
  const from = h('select', { name: 'from' }, ...[['latest', 'new messages'], ['earliest', 'the beginning'], ['offset', 'an offset'], ['timestamp', 'a time']].map(([v, t]) => h('option', { value: v }, t)));
  const at = h('input', { name: 'at', placeholder: 'offset, or 2026-12-02T01:00', size: 20 });
  const format = h('select', { name: 'format' }, ...['text', 'json', 'hex'].map((f) => h('option', { value: f }, f)));
  const filter = h('input', { name: 'filter', type: 'search', placeholder: 'key or value contains…' });
  const toggle = h('button', { type: 'submit', 'data-tail-toggle': true }, 'Follow');
  const clear = h('button', { type: 'button' }, 'Clear');
  const state = h('output', { class: 'wc-muted', 'aria-live': 'polite', 'data-tail-state': 'stopped' }, 'stopped');
  const body = h('tbody');
  const form = h('form', { class: 'wc-form', 'aria-label': 'Tail a topic' },
    h('label', {}, 'topic', topic), h('label', {}, 'partitions', partitions), h('label', {}, 'from', from), h('label', {}, 'offset or time', at),
    h('label', {}, 'show as', format), h('label', {}, 'filter', filter), toggle, clear);
  const element = h('section', { class: 'wc-section', id: 'wc-tail', 'aria-labelledby': 'wc-tail-h' },
    h('h2', { id: 'wc-tail-h' }, 'Tail'), form, state,
    h('div', { class: 'wc-scroll wc-tail-rows' }, h('table', { class: 'wc-table wc-tail' },
      h('caption', {}, 'Messages, newest first'),
      h('thead', {}, h('tr', {}, ...['partition', 'offset', 'time', 'key', 'value', 'headers'].map((t) => h('th', { scope: 'col' }, t)))),
      body)));

  let kept: TailRecord[] = [];
  /** `all`: every partition, so partitions added while following are followed too (from their start). */
  let following: { topic: string; positions: TailPosition[]; all: boolean; paused: boolean; timer?: TimerHandle } | undefined;

  const matches = (r: TailRecord, needle: string) => !needle || `${show(r.key, 'text')}\n${show(r.value, 'text')}`.toLowerCase().includes(needle);
  function render(): void {
    const needle = filter.value.trim().toLowerCase();
    const f = format.value as Format;
    body.replaceChildren(...kept.filter((r) => matches(r, needle)).slice(-TAIL_ROWS_MAX).reverse().map((r) => h('tr', { 'data-offset': `${r.partition}/${r.offset}` },
      h('td', {}, r.partition), h('td', {}, r.offset), h('td', {}, new Date(r.timestampMs).toISOString().replace('T', ' ').slice(0, 23)),
      h('td', { class: 'wc-mono' }, show(r.key, f === 'json' ? 'text' : f)), h('td', { class: 'wc-mono', 'data-field': 'value' }, show(r.value, f)),
      h('td', { class: 'wc-mono' }, r.headers.map((x) => `${x.key}=${show(x.value, 'text')}`).join(', ')))));
  }
  const setState = (text: string, s: string) => { setText(state, text); state.dataset.tailState = s; };

  async function poll(): Promise<void> {
    const f = following;
    if (!f || f.paused) return;
    try {
      const { records, positions } = await source.tail(f.topic, f.positions);
      if (following !== f) return;
      f.positions = positions;
      if (records.length) {
        kept = kept.concat(records).slice(-TAIL_ROWS_MAX);
        render();
      }
      setState(`following ${f.topic}: ${kept.length} messages kept, next ${positions.map((p) => `p${p.partition}@${p.offset}`).join(' ')}`, 'following');
    } catch (error) {
      setState(`tail: ${errorText(error)} (retrying)`, 'error');
    }
    if (following === f && !f.paused) f.timer = systemClock.setTimeout(() => void poll(), TAIL_POLL_MS);
  }

  function stop(): void {
    if (following) systemClock.clearTimeout(following.timer);
    following = undefined;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (following) {
      following.paused = !following.paused;
      toggle.textContent = following.paused ? 'Resume' : 'Pause';
      if (following.paused) { systemClock.clearTimeout(following.timer); setState(`paused at ${following.positions.map((p) => `p${p.partition}@${p.offset}`).join(' ')}`, 'paused'); }
      else void poll();
      return;
    }
    try {
      const start: TailStart = from.value === 'offset' ? { from: 'offset', offset: at.value.trim() }
        : from.value === 'timestamp' ? { from: 'timestamp', timestampMs: Number.isNaN(Date.parse(at.value)) ? Number(at.value) : Date.parse(at.value) }
          : { from: from.value as 'latest' | 'earliest' };
      if (start.from === 'timestamp' && !Number.isFinite(start.timestampMs)) throw new Error(`'${at.value}' is not a time`);
      const chosen = parsePartitions(partitions.value);
      const positions = await source.tailStart(topic.value, chosen, start);
      following = { topic: topic.value, positions, all: chosen === null, paused: false };
      toggle.textContent = 'Pause';
      void poll();
    } catch (error) { setState(`tail: ${errorText(error)}`, 'error'); }
  });
  // Another topic, partitions or start: the next Follow starts over.
  for (const input of [topic, partitions, from, at]) input.addEventListener('change', () => { if (following) { stop(); toggle.textContent = 'Follow'; setState('stopped', 'stopped'); } });
  format.addEventListener('change', render);
  filter.addEventListener('input', render);
  clear.addEventListener('click', () => { kept = []; render(); });

  return {
    element,
    update(s: ConsoleSnapshot) {
      const f = following;
      const grown = f?.all ? s.topics.find((t) => t.name === f.topic)?.partitions.filter((p) => !f.positions.some((x) => x.partition === p.partition)) : undefined;
      if (f && grown?.length) f.positions = [...f.positions, ...grown.map((p) => ({ partition: p.partition, offset: '0' }))];
      const names = s.topics.map((t) => t.name);
      const current = [...topic.options].map((o) => o.value);
      if (current.join('\n') !== names.join('\n')) {
        const selected = topic.value;
        topic.replaceChildren(...names.map((n) => h('option', { value: n }, n)));
        if (names.includes(selected)) topic.value = selected;
      }
    },
    destroy: stop,
  };
}
