/** Produce: one message with a key, a value and headers (one `key=value` a line), sent with acks=all. */
import type { ConsoleSnapshot, ConsoleSource } from '../types.ts';
import { errorText, h, setText } from './dom.ts';

export function parseHeaders(text: string): { key: string; value: string }[] {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).map((line) => {
    const at = line.indexOf('=');
    if (at <= 0) throw new Error(`header '${line}': expected key=value`);
    return { key: line.slice(0, at).trim(), value: line.slice(at + 1) };
  });
}

export function produceView(source: ConsoleSource) {
  const topic = h('select', { name: 'topic', required: true });
  const partition = h('input', { name: 'partition', type: 'number', min: 0, placeholder: 'by key' });
  const key = h('input', { name: 'key', placeholder: 'none' });
  const value = h('textarea', { name: 'value', rows: 3, required: true });
  const headers = h('textarea', { name: 'headers', rows: 2, placeholder: 'source=console' });
  const result = h('output', { class: 'wc-muted', 'aria-live': 'polite', 'data-produce-result': true });
  const form = h('form', { class: 'wc-form wc-produce', 'aria-label': 'Produce a message' },
    h('label', {}, 'topic', topic), h('label', {}, 'partition', partition), h('label', {}, 'key', key),
    h('label', { class: 'wc-wide' }, 'value', value), h('label', { class: 'wc-wide' }, 'headers (key=value a line)', headers),
    h('button', { type: 'submit' }, 'Send'), result);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const sent = await source.produce({
        topic: topic.value, key: key.value === '' ? null : key.value, value: value.value,
        partition: partition.value === '' ? undefined : Number(partition.value), headers: parseHeaders(headers.value),
      });
      setText(result, `sent to ${topic.value}-${sent.partition} at offset ${sent.offset}`);
    } catch (error) { setText(result, `not sent: ${errorText(error)}`); }
  });
  const element = h('section', { class: 'wc-section', id: 'wc-produce', 'aria-labelledby': 'wc-produce-h' }, h('h2', { id: 'wc-produce-h' }, 'Produce'), form);
  return {
    element,
    update(s: ConsoleSnapshot) {
      const names = s.topics.map((t) => t.name);
      if ([...topic.options].map((o) => o.value).join('\n') !== names.join('\n')) {
        const selected = topic.value;
        topic.replaceChildren(...names.map((n) => h('option', { value: n }, n)));
        if (names.includes(selected)) topic.value = selected;
      }
    },
  };
}
