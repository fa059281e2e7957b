/**
 * The playground: the `npm start` demo, inside the browser. Broker workers on
 * OPFS (or IndexedDB), a producer and a consumer in the page.
 * `?autorun=1` runs the demo on load (the Playwright test does);
 * `&messages=N&storage=indexeddb` override the form.
 */
import { Wafka, logLevel, startCluster, type StorageKind } from '../src/index.ts';
import { runDemo, type DemoResult } from '../src/client/demo.ts';

const CLUSTER_ID = 'playground';
const $ = <T extends HTMLElement>(selector: string) => document.querySelector(selector) as T;
const form = $<HTMLFormElement>('#settings');
const status = $<HTMLOutputElement>('#status');
const logBox = $<HTMLPreElement>('#log');
const fmt = (n: number) => n.toLocaleString('en-US');

function log(line: string): void {
  logBox.textContent += `${new Date().toISOString().slice(11, 23)}  ${line}\n`;
}

function setStatus(state: 'idle' | 'running' | 'done' | 'error', text: string): void {
  status.dataset.state = state;
  status.textContent = text;
}

function fillRow(id: string, cells: (string | number)[]): void {
  const tds = $<HTMLTableRowElement>(id).querySelectorAll('td');
  cells.forEach((c, i) => { tds[i + 1].textContent = typeof c === 'number' ? fmt(c) : c; });
}

function show(result: DemoResult, storage: string, brokers: number): void {
  $('#results').hidden = false;
  fillRow('#row-produce', [result.produce.recordsPerSec, result.produce.mbPerSec, `${fmt(result.produce.ms)} ms`, `${result.produce.batches} batches, ${result.produce.requests} requests`]);
  fillRow('#row-consume', [result.consume.recordsPerSec, result.consume.mbPerSec, `${fmt(result.consume.ms)} ms`, `${brokers} broker workers on ${storage}`]);
  const tbody = $('#partitions').querySelector('tbody')!;
  tbody.replaceChildren(...result.partitions.map((p) => {
    const tr = document.createElement('tr');
    tr.innerHTML = `<td>${p.partition}</td><td>${fmt(p.records)}</td><td>${p.firstOffset}..${p.lastOffset}</td>`;
    return tr;
  }));
  $('#partitions').hidden = false;
  const verdict = $('#verdict');
  verdict.dataset.verified = String(result.verified);
  verdict.textContent = result.verified
    ? `✓ all ${fmt(result.messages)} messages came back once, in order per partition and per key, with keys, values and headers intact.` +
      (result.recordsBefore ? ` The topic already held ${fmt(result.recordsBefore)} records from earlier runs (read back from ${storage}).` : '')
    : `✗ ${result.problems.join('; ')}`;
}

async function showNodeResult(): Promise<void> {
  try {
    const response = await fetch('./node-result.json', { cache: 'no-store' });
    if (!response.ok) return;
    const { result } = await response.json() as { result: DemoResult | null };
    if (result) fillRow('#row-node', [`${fmt(result.produce.recordsPerSec)} / ${fmt(result.consume.recordsPerSec)}`, '', '', 'produce / consume, worker threads + files']);
  } catch { /* served without npm start */ }
}

async function run(settings: { storage: StorageKind; brokers: number; partitions: number; messages: number }): Promise<void> {
  const button = $<HTMLButtonElement>('#run');
  button.disabled = true;
  setStatus('running', 'running…');
  let cluster: Awaited<ReturnType<typeof startCluster>> | undefined;
  try {
    if (settings.storage === 'opfs' && !('getDirectory' in (navigator.storage ?? {}))) throw new Error('this browser has no OPFS (navigator.storage.getDirectory)');
    const started = performance.now();
    cluster = await startCluster({ brokers: settings.brokers, storage: settings.storage, clusterId: CLUSTER_ID });
    log(`started ${settings.brokers} broker workers on ${settings.storage} in ${Math.round(performance.now() - started)} ms`);
    const c = cluster;
    const wafka = new Wafka({ clientId: 'playground', cluster, logLevel: logLevel.WARN });
    const result = await runDemo({
      wafka, messages: settings.messages, partitions: settings.partitions,
      metrics: () => Promise.all(c.brokers.map((b) => b.metrics())),
      log,
    });
    show(result, settings.storage, settings.brokers);
    setStatus(result.verified ? 'done' : 'error', result.verified ? 'done' : 'verification failed');
  } catch (error) {
    console.error(error);
    log(`error: ${error instanceof Error ? error.message : String(error)}`);
    setStatus('error', `error: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await cluster?.stop().catch((e) => log(`stop: ${String(e)}`));
    if (cluster) log('cluster stopped (brokers flushed and closed, workers terminated)');
    button.disabled = false;
  }
}

async function clearStorage(): Promise<void> {
  const root = await navigator.storage.getDirectory();
  for await (const name of (root as unknown as { keys(): AsyncIterable<string> }).keys()) {
    await root.removeEntry(name, { recursive: true }).catch(() => {});
  }
  for (const db of await indexedDB.databases()) if (db.name?.startsWith('wafka')) indexedDB.deleteDatabase(db.name);
  log('cleared OPFS and wafka IndexedDB databases of this origin');
}

function settingsFromForm() {
  const data = new FormData(form);
  return {
    storage: String(data.get('storage')) as StorageKind,
    brokers: Number(data.get('brokers')),
    partitions: Number(data.get('partitions')),
    messages: Number(data.get('messages')),
  };
}

form.addEventListener('submit', (event) => { event.preventDefault(); void run(settingsFromForm()); });
$('#clear').addEventListener('click', () => void clearStorage().catch((e) => log(`clear: ${String(e)}`)));

const params = new URLSearchParams(location.search);
for (const name of ['storage', 'brokers', 'partitions', 'messages']) {
  const value = params.get(name);
  if (value !== null) (form.elements.namedItem(name) as HTMLInputElement).value = value;
}
void showNodeResult();
(window as unknown as { wafkaPlayground: unknown }).wafkaPlayground = { run, settingsFromForm };
if (params.get('autorun') === '1') void run(settingsFromForm());
