/** The console's stylesheet, scoped under .wafka-console; colours follow prefers-color-scheme. */
export const CONSOLE_CSS = `
.wafka-console { --wc-bg: #ffffff; --wc-fg: #1f2328; --wc-muted: #59636e; --wc-line: #d1d9e0; --wc-grid: #d1d9e080; --wc-panel: #f6f8fa;
  --wc-up: #1a7f37; --wc-down: #cf222e; --wc-fenced: #9a6700; --wc-under: #fff1cc; --wc-focus: #0969da;
  color-scheme: light dark; background: var(--wc-bg); color: var(--wc-fg); font: 14px/1.45 system-ui, sans-serif; padding: 0 1rem 2rem; }
@media (prefers-color-scheme: dark) {
  .wafka-console { --wc-bg: #0d1117; --wc-fg: #e6edf3; --wc-muted: #9198a1; --wc-line: #3d444d; --wc-grid: #3d444d80; --wc-panel: #151b23;
    --wc-up: #3fb950; --wc-down: #f85149; --wc-fenced: #d29922; --wc-under: #3b2e05; --wc-focus: #4493f8; }
}
.wafka-console header { display: flex; flex-wrap: wrap; gap: .25rem 1.5rem; align-items: baseline; padding: .75rem 0 .25rem; border-bottom: 1px solid var(--wc-line); }
.wafka-console header [role="status"] { flex-basis: 100%; margin: 0; }
.wafka-console > [role="status"]:empty { display: none; }
.wafka-console header h1 { font-size: 1.25rem; margin: 0; }
.wafka-console nav a { color: inherit; margin-right: .9rem; }
.wafka-console h2 { font-size: 1.05rem; margin: 1.25rem 0 .4rem; }
.wafka-console h3 { font-size: .95rem; margin: .75rem 0 .25rem; }
.wafka-console .wc-muted { color: var(--wc-muted); }
.wafka-console .wc-scroll { overflow-x: auto; }
.wafka-console .wc-table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
.wafka-console .wc-table caption { text-align: left; position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
.wafka-console .wc-table th, .wafka-console .wc-table td { border-bottom: 1px solid var(--wc-line); padding: .25rem .55rem; text-align: left; white-space: nowrap; }
.wafka-console .wc-table .wc-num { text-align: right; }
.wafka-console .wc-table thead th { color: var(--wc-muted); font-weight: 600; }
.wafka-console .wc-tail td { text-align: left; max-width: 40rem; overflow: hidden; text-overflow: ellipsis; }
.wafka-console .wc-tail-rows { max-height: 22rem; overflow-y: auto; }
.wafka-console .wc-mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9em; }
.wafka-console tr.wc-under td, .wafka-console tr.wc-under th { background: var(--wc-under); }
.wafka-console .wc-badge { font-weight: 600; }
.wafka-console .wc-up { color: var(--wc-up); } .wafka-console .wc-down { color: var(--wc-down); } .wafka-console .wc-fenced { color: var(--wc-fenced); }
.wafka-console .wc-topic { border: 1px solid var(--wc-line); border-radius: 6px; padding: .35rem .75rem; margin: .4rem 0; background: var(--wc-panel); }
.wafka-console .wc-topic[data-under-replicated] summary { border-left: 4px solid var(--wc-fenced); padding-left: .4rem; }
.wafka-console .wc-topic summary { cursor: pointer; }
.wafka-console .wc-topic-head { color: var(--wc-muted); }
.wafka-console .wc-configs { display: grid; grid-template-columns: max-content 1fr; gap: 0 1rem; margin: 0; font-size: .9em; }
.wafka-console .wc-configs dd { margin: 0; }
.wafka-console .wc-form { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin: .5rem 0; }
.wafka-console .wc-form label { display: flex; flex-direction: column; font-size: .85em; color: var(--wc-muted); }
.wafka-console .wc-form .wc-wide { flex: 1 1 20rem; }
.wafka-console .wc-actions { display: flex; flex-wrap: wrap; gap: .75rem; align-items: end; }
.wafka-console input, .wafka-console select, .wafka-console textarea, .wafka-console button { font: inherit; color: inherit; background: var(--wc-bg); border: 1px solid var(--wc-line); border-radius: 4px; padding: .25rem .5rem; }
.wafka-console button { cursor: pointer; background: var(--wc-panel); }
.wafka-console button.danger { color: var(--wc-down); }
.wafka-console :focus-visible { outline: 2px solid var(--wc-focus); outline-offset: 1px; }
.wafka-console .wc-charts { display: flex; flex-wrap: wrap; gap: 1rem; }
.wafka-console .wc-dialog { color: var(--wc-fg); background: var(--wc-bg); border: 1px solid var(--wc-line); border-radius: 8px; max-width: 32rem; }
.wafka-console .wc-dialog::backdrop { background: #0008; }
.wafka-console [role="status"] { min-height: 1.4em; }
.wafka-console .u-legend { font-size: .85em; color: var(--wc-fg); }
.wafka-console .u-title { font-size: .95em; font-weight: 600; }
`;
