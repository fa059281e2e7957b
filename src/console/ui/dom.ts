/** A few DOM helpers for the console's views (plain DOM, no framework). */

type Child = Node | string | number | null | undefined | false;
type Props = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

/** An element with attributes (`on…` keys are listeners, `false`/undefined values are left out) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value);
    else if (name === 'value' && 'value' in el) (el as HTMLInputElement).value = String(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) el.append(typeof child === 'number' ? String(child) : child);
  return el;
}

/** Sets text only when it changed (no needless layout, no noise for screen readers). */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

export function setAttr(el: Element, name: string, value: string | null): void {
  if (value === null) { if (el.hasAttribute(name)) el.removeAttribute(name); }
  else if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}

export const fmtCount = (n: number) => Math.round(n).toLocaleString('en-US');

export function fmtBytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Rows of a table body kept by key: a row is made once (make), updated in
 * place on every refresh (update), and removed when its key goes away.
 */
export class KeyedRows<T> {
  readonly #rows = new Map<string, HTMLTableRowElement>();
  constructor(readonly body: HTMLTableSectionElement, readonly key: (item: T) => string, readonly make: (item: T) => HTMLTableRowElement, readonly update: (row: HTMLTableRowElement, item: T) => void) {}

  render(items: readonly T[]): void {
    const seen = new Set<string>();
    let previous: HTMLTableRowElement | null = null;
    for (const item of items) {
      const k = this.key(item);
      seen.add(k);
      let row = this.#rows.get(k);
      if (!row) { row = this.make(item); this.#rows.set(k, row); }
      this.update(row, item);
      const expected: ChildNode | null = previous ? previous.nextSibling : this.body.firstChild;
      if (expected !== row) this.body.insertBefore(row, expected);
      previous = row;
    }
    for (const [k, row] of this.#rows) if (!seen.has(k)) { row.remove(); this.#rows.delete(k); }
  }
}

let dialogs = 0;

/** A modal confirmation (a native <dialog>: focus stays inside, Escape cancels). Resolves true on confirm. */
export function confirmAction(root: Element, title: string, detail: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const cancel = h('button', { type: 'button', value: 'cancel', autofocus: true }, 'Cancel');
    const confirm = h('button', { type: 'button', value: 'confirm', class: 'danger', 'data-confirm': true }, confirmLabel);
    const heading = h('h2', { id: `wc-dialog-${++dialogs}` }, title);
    const dialog = h('dialog', { class: 'wc-dialog', 'aria-labelledby': heading.id }, heading, h('p', {}, detail), h('div', { class: 'wc-actions' }, cancel, confirm));
    const done = (answer: boolean) => { dialog.close(); dialog.remove(); resolve(answer); };
    cancel.addEventListener('click', () => done(false));
    confirm.addEventListener('click', () => done(true));
    dialog.addEventListener('cancel', (e) => { e.preventDefault(); done(false); });
    root.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}
