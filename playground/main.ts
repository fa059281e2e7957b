/**
 * The playground: the `npm start` demo, inside the browser. Broker workers on
 * OPFS (or IndexedDB), a producer and a consumer in the page.
 * `?autorun=1` runs the demo on load (the Playwright test does);
 * `&messages=N&storage=indexeddb&brokers=N&partitions=N` override the form.
 *
 * Each storage kind is its own cluster (clusterId playground-opfs or
 * playground-indexeddb), so their topics never mix. A run shows its progress,
 * can be cancelled, and "Clear storage" cancels a run before it clears.
 * "Many tabs" joins the cluster shared by every tab of the origin
 * (playground-shared) and shows which tab runs which broker.
 */
import { Wafka, logLevel, startCluster, type StorageKind } from '../src/index.ts';
import { IndexedDbMetadataStore } from '../src/cluster/indexeddb-metadata-store.ts';
import type { SharedCluster } from '../src/cluster/shared-cluster.ts';
import { brokersToStart, runDemo, type DemoProgress, type DemoResult } from '../src/client/demo.ts';

type Settings = { storage: StorageKind; brokers: number; partitions: number; messages: number };

/** The form's bounds (its min/max attributes say the same). */
const LIMITS = { brokers: [1, 8], partitions: [1, 64], messages: [1, 2_000_000] } as const;

const $ = <T extends HTMLElement>(selector: string) => document.querySelector(selector) as T;
const form = $<HTMLFormElement>('#settings');
const status = $<HTMLOutputElement>('#status');
const logBox = $<HTMLPreElement>('#log');
const progressBar = $<HTMLProgressElement>('#progress');
const progressText = $<HTMLOutputElement>('#progress-text');
const fmt = (n: number) => n.toLocaleString('en-US');

export const clusterIdFor = (storage: StorageKind) => `playground-${storage}`;

function log(line: string): void {
  logBox.textContent += `${new Date().toISOString().slice(11, 23)}  ${line}\n`;
}

function setStatus(state: 'idle' | 'running' | 'done' | 'error' | 'cancelled', text: string): void {
  status.dataset.state = state;
  status.textContent = text;
}

function fillRow(id: string, cells: (string | number)[]): void {
  const tds = $<HTMLTableRowElement>(id).querySelectorAll('td');
  cells.forEach((c, i) => { tds[i + 1].textContent = typeof c === 'number' ? fmt(c) : c; });
}

function hideResults(): void {
  $('#results').hidden = true;
  $('#partitions').hidden = true;
  $('#verdict').textContent = '';
  delete $('#verdict').dataset.verified;
  for (const id of ['#row-produce', '#row-consume']) fillRow(id, ['', '', '', '']);
}

function showProgress(p: DemoProgress): void {
  const done = p.phase === 'produce' ? p.produced : p.consumed;
  progressBar.hidden = false;
  progressBar.max = p.messages * 2;
  progressBar.value = p.produced + p.consumed;
  progressText.textContent = `${p.phase === 'produce' ? 'producing' : 'consuming'}: ${fmt(done)} / ${fmt(p.messages)} records, ${fmt(p.recordsPerSec)} records/s`;
  progressText.dataset.phase = p.phase;
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

/** The brokers this storage's cluster registered before (none on fresh storage). */
async function registeredBrokers(storage: StorageKind): Promise<number[]> {
  const store = new IndexedDbMetadataStore(clusterIdFor(storage));
  try {
    return (await store.read())?.brokers.map((b) => b.nodeId) ?? [];
  } finally {
    await store.close();
  }
}

let current: { controller: AbortController; finished: Promise<void> } | undefined;

async function run(settings: Settings): Promise<void> {
  if (current) return;
  const controller = new AbortController();
  let finish!: () => void;
  current = { controller, finished: new Promise<void>((resolve) => { finish = resolve; }) };
  const button = $<HTMLButtonElement>('#run');
  const cancel = $<HTMLButtonElement>('#cancel');
  button.disabled = true;
  cancel.disabled = false;
  hideResults();
  setStatus('running', 'starting the brokers…');
  let cluster: Awaited<ReturnType<typeof startCluster>> | undefined;
  // The final status is shown once the brokers stopped: "done" or "cancelled" means the storage is free again.
  let ending: [Parameters<typeof setStatus>[0], string] = ['error', 'error'];
  try {
    if (settings.storage === 'opfs' && !('getDirectory' in (navigator.storage ?? {}))) throw new Error('this browser has no OPFS (navigator.storage.getDirectory)');
    const { brokers, note } = brokersToStart(settings.brokers, await registeredBrokers(settings.storage), `the ${settings.storage} storage`);
    if (note) log(`note: ${note}`);
    const started = performance.now();
    cluster = await startCluster({ brokers, storage: settings.storage, clusterId: clusterIdFor(settings.storage) });
    log(`started ${brokers} broker workers on ${settings.storage} in ${Math.round(performance.now() - started)} ms`);
    controller.signal.throwIfAborted();
    setStatus('running', 'running…');
    const c = cluster;
    const wafka = new Wafka({ clientId: 'playground', cluster, logLevel: logLevel.WARN });
    const result = await runDemo({
      wafka, messages: settings.messages, partitions: settings.partitions,
      metrics: () => Promise.all(c.brokers.map((b) => b.metrics())),
      log, onProgress: showProgress, signal: controller.signal,
    });
    show(result, settings.storage, brokers);
    ending = result.verified ? ['done', 'done'] : ['error', 'verification failed'];
  } catch (error) {
    if (controller.signal.aborted) {
      log('run cancelled');
      setStatus('running', 'cancelling: stopping the brokers…');
      ending = ['cancelled', 'cancelled'];
    } else {
      console.error(error);
      log(`error: ${error instanceof Error ? error.message : String(error)}`);
      ending = ['error', `error: ${error instanceof Error ? error.message : String(error)}`];
    }
  } finally {
    await cluster?.stop().catch((e) => log(`stop: ${String(e)}`));
    if (cluster) log('cluster stopped (brokers flushed and closed, workers terminated)');
    setStatus(...ending);
    button.disabled = false;
    cancel.disabled = true;
    current = undefined;
    finish();
  }
}

/** Cancels a run under way and waits until its brokers stopped. */
async function cancelRun(): Promise<void> {
  if (!current) return;
  current.controller.abort(new DOMException('cancelled by the user', 'AbortError'));
  await current.finished;
}

function deleteDatabase(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error(`IndexedDB database ${name} is still open elsewhere (another tab?)`));
  });
}

async function clearStorage(): Promise<void> {
  const clear = $<HTMLButtonElement>('#clear');
  clear.disabled = true;
  try {
    if (current) {
      log('clear storage: cancelling the run first');
      await cancelRun();
    }
    const root = await navigator.storage.getDirectory();
    const failed: string[] = [];
    for await (const name of (root as unknown as { keys(): AsyncIterable<string> }).keys()) {
      await root.removeEntry(name, { recursive: true }).catch((e: unknown) => failed.push(`${name}: ${String(e)}`));
    }
    for (const db of await indexedDB.databases()) {
      if (db.name?.startsWith('wafka')) await deleteDatabase(db.name).catch((e: unknown) => failed.push(String(e)));
    }
    hideResults();
    progressBar.hidden = true;
    progressText.textContent = '';
    if (failed.length > 0) throw new Error(`could not clear ${failed.join('; ')}`);
    log('cleared OPFS and wafka IndexedDB databases of this origin');
    setStatus('idle', 'storage cleared');
  } finally {
    clear.disabled = false;
  }
}

/** The form's values, checked against LIMITS; a message naming the bad field otherwise. */
function settingsFromForm(): Settings | string {
  const data = new FormData(form);
  const storage = String(data.get('storage'));
  if (storage !== 'opfs' && storage !== 'indexeddb') return `storage: OPFS or IndexedDB, got '${storage}'`;
  const numbers = {} as Record<keyof typeof LIMITS, number>;
  for (const [name, [min, max]] of Object.entries(LIMITS) as [keyof typeof LIMITS, readonly [number, number]][]) {
    const text = String(data.get(name) ?? '').trim();
    const n = text === '' ? NaN : Number(text);
    if (!Number.isSafeInteger(n) || n < min || n > max) return `${name}: enter a whole number from ${fmt(min)} to ${fmt(max)}${text === '' ? '' : `, not ${text}`}`;
    numbers[name] = n;
  }
  return { storage, ...numbers };
}

function runFromForm(): void {
  const settings = settingsFromForm();
  if (typeof settings === 'string') {
    setStatus('error', settings);
    log(`not started: ${settings}`);
    return;
  }
  void run(settings);
}

form.addEventListener('submit', (event) => { event.preventDefault(); runFromForm(); });
$('#cancel').addEventListener('click', () => void cancelRun());
$('#clear').addEventListener('click', () => void clearStorage().catch((e) => {
  log(`clear: ${e instanceof Error ? e.message : String(e)}`);
  setStatus('error', `clear storage: ${e instanceof Error ? e.message : String(e)}`);
}));

// ---- many tabs: one cluster shared by every tab of the origin, and where its brokers run

const SHARED_CLUSTER_ID = 'playground-shared';
let shared: { cluster: SharedCluster; wafka: Wafka; timer: ReturnType<typeof setInterval> } | undefined;

/** Each broker with the tab it runs in (its registration's host, `tab:<id>`), this tab's marked; the controller's tab too. */
async function showSharedBrokers(): Promise<void> {
  if (!shared) return;
  const { cluster, wafka } = shared;
  const hosting = cluster.hosting();
  const admin = wafka.admin();
  await admin.connect();
  try {
    const { brokers } = await admin.describeCluster();
    const running = new Set(hosting.runningBrokerIds);
    const tbody = $('#shared-brokers').querySelector('tbody')!;
    tbody.replaceChildren(...brokers.map((b) => {
      const tr = document.createElement('tr');
      const here = hosting.hostedBrokerIds.includes(b.nodeId);
      tr.dataset.nodeId = String(b.nodeId);
      tr.dataset.host = b.host;
      tr.innerHTML = `<td>${b.nodeId}</td><td>${running.has(b.nodeId) ? b.host.replace(/^tab:/, 'tab ') : 'no tab (down)'}</td><td>${here ? 'this tab' : ''}</td>`;
      return tr;
    }));
    $('#shared-brokers').hidden = false;
    $('#shared-status').textContent = `this tab: ${hosting.tabId}${hosting.controller ? ', runs the controller' : ''} (controller epoch ${hosting.controllerEpoch})`;
  } finally {
    await admin.disconnect();
  }
}

async function joinShared(): Promise<void> {
  if (shared) return;
  $<HTMLButtonElement>('#join-shared').disabled = true;
  try {
    const cluster = await startCluster({ shared: true, storage: 'opfs', clusterId: SHARED_CLUSTER_ID, brokers: 3, maxBrokersPerTab: 1 });
    const wafka = new Wafka({ clientId: `playground-${cluster.tabId}`, cluster, logLevel: logLevel.WARN });
    shared = { cluster, wafka, timer: setInterval(() => void showSharedBrokers().catch(() => {}), 500) };
    $('#shared-status').dataset.state = 'joined';
    $<HTMLButtonElement>('#leave-shared').disabled = false;
    log(`joined the shared cluster as tab ${cluster.tabId}; hosting brokers ${cluster.hosting().hostedBrokerIds.join(', ') || 'none'}`);
    await showSharedBrokers();
  } catch (error) {
    $<HTMLButtonElement>('#join-shared').disabled = false;
    log(`join: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function leaveShared(): Promise<void> {
  if (!shared) return;
  const { cluster, timer } = shared;
  shared = undefined;
  clearInterval(timer);
  await cluster.stop();
  $('#shared-brokers').hidden = true;
  $('#shared-status').dataset.state = 'idle';
  $('#shared-status').textContent = 'left';
  $<HTMLButtonElement>('#join-shared').disabled = false;
  $<HTMLButtonElement>('#leave-shared').disabled = true;
}

$('#join-shared').addEventListener('click', () => void joinShared());
$('#leave-shared').addEventListener('click', () => void leaveShared());

const params = new URLSearchParams(location.search);
for (const name of ['storage', 'brokers', 'partitions', 'messages']) {
  const value = params.get(name);
  if (value !== null) (form.elements.namedItem(name) as HTMLInputElement).value = value;
}
void showNodeResult();
(window as unknown as { wafkaPlayground: unknown }).wafkaPlayground = { run, cancelRun, clearStorage, settingsFromForm, joinShared, leaveShared };
if (params.get('autorun') === '1') runFromForm();
