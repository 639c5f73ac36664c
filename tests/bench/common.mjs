// Shared helpers for the node benchmarks in tests/bench/ (not Playwright tests):
// browser launch with the e2e flags, the static server for dist/, in-page probes
// (main-thread gaps, WASM memory), CDP heap metrics, tables and result files.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, DIST, SPAM_CSV } from '../e2e/support.mjs';
import { parseCsv } from '../mock/server.mjs';
import { startStatic } from '../../scripts/serve.mjs';
import playwrightConfig from '../../playwright.config.mjs';

export { ROOT, DIST, SPAM_CSV };

/** The launch flags of playwright.config.mjs (one list for tests and benches). */
export const CHROMIUM_ARGS = playwrightConfig.use.launchOptions.args;

export const RESULTS_DIR = path.join(ROOT, 'bench-results');

/** The browser binary: Debian's Chromium unless CHROMIUM_PATH says otherwise. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Debian's Chromium with the e2e flags (plus `extraArgs`). */
export function launchBrowser(extraArgs = []) {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, ...extraArgs],
  });
}

/** A fresh context (own IndexedDB) as the e2e tests use it. */
export function newContext(browser, options = {}) {
  return browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true, ...options });
}

/** The static server for the built app. */
export async function startWeb(base = '/') {
  if (!fs.existsSync(path.join(DIST, 'index.html'))) throw new Error('dist/ is missing: run trunk build --release first');
  return startStatic({ dir: DIST, host: '127.0.0.1', port: 0, base });
}

export function check(cond, message) {
  if (!cond) throw new Error(`check failed: ${message}`);
}

/** Quote a CSV field when needed. */
export const csvField = (s) => (/[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

/** A fresh temp directory for bench inputs. */
export const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'fa-bench-'));

/** SpamAssassin sample as `{text, label}` objects. */
export function spamTexts() {
  const [header, ...rows] = parseCsv(fs.readFileSync(SPAM_CSV, 'utf8'));
  const ti = header.indexOf('text');
  const li = header.indexOf('label');
  return rows.filter((r) => r.length > Math.max(ti, li)).map((r) => ({ text: r[ti], label: r[li] }));
}

/** Write `result` as JSON to bench-results/NAME.json (or `out`); returns the path. */
export function writeResult(name, result, out) {
  const file = out ? path.resolve(out) : path.join(RESULTS_DIR, `${name}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  return file;
}

/** A two-column table of figures (`[name, value]` pairs). */
export function figureTable(pairs) {
  const fmt = (v) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : String(v));
  const w = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(w)}  ${fmt(v)}`).join('\n');
}

/**
 * Init script: keep the app's WebAssembly exports reachable as
 * `window.__faWasm` (trunk's loader keeps them in a module-local variable, but
 * passes them in its TrunkApplicationStarted event; instantiateStreaming is
 * wrapped too, in case the loader changes).
 */
export const CAPTURE_WASM = `(() => {
  addEventListener('TrunkApplicationStarted', (e) => { if (e.detail && e.detail.wasm) window.__faWasm = e.detail.wasm; });
  const wrap = (name) => {
    const orig = WebAssembly[name];
    if (!orig) return;
    WebAssembly[name] = async function (...args) {
      const r = await orig.apply(this, args);
      const inst = r instanceof WebAssembly.Instance ? r : r && r.instance;
      if (inst && inst.exports && inst.exports.memory && !window.__faWasm) window.__faWasm = inst.exports;
      return r;
    };
  };
  wrap('instantiateStreaming');
  wrap('instantiate');
})();`;

/** Bytes of the app's WASM memory, or null when it cannot be found. */
export function wasmMemoryBytes(page) {
  return page.evaluate(() => {
    const m = window.__faWasm?.memory ?? globalThis.wasmBindings?.__wbindgen_export_0;
    return m?.buffer ? m.buffer.byteLength : null;
  });
}

/**
 * Start an in-page probe: a 16 ms interval that records the largest gap between
 * its ticks (main-thread stalls) and the largest WASM memory seen.
 */
export function startProbe(page) {
  return page.evaluate(() => {
    const p = { maxGap: 0, last: performance.now(), ticks: 0, maxWasm: 0, sawParseProgress: false, gaps: [] };
    const wasmBytes = () => window.__faWasm?.memory?.buffer?.byteLength ?? 0;
    // What the Data step shows: which phase a stall fell in.
    const phase = () => {
      const q = (id) => document.querySelector(`[data-testid=${id}]`);
      if (q('parse-progress')) return 'parse';
      if (q('import-progress') || q('cancel-import')) return 'persist';
      if (q('import-mapping')) return 'mapping';
      return 'other';
    };
    p.phase = phase();
    p.timer = setInterval(() => {
      const now = performance.now();
      const gap = now - p.last;
      const ph = phase();
      p.maxGap = Math.max(p.maxGap, gap);
      if (gap > 100) {
        p.gaps.push({ ms: Math.round(gap), from: p.phase, to: ph });
        p.gaps.sort((a, b) => b.ms - a.ms);
        p.gaps.length = Math.min(p.gaps.length, 5);
      }
      p.last = now;
      p.phase = ph;
      p.ticks++;
      p.maxWasm = Math.max(p.maxWasm, wasmBytes());
      // Shown between parse slices of a big file.
      if (!p.sawParseProgress && ph === 'parse') p.sawParseProgress = true;
    }, 16);
    window.__faProbe = p;
  });
}

/**
 * Stop the probe; returns `{max_gap_ms, ticks, max_wasm_bytes, saw_parse_progress,
 * top_gaps}` (top_gaps: the five longest stalls over 100 ms with the phase shown
 * before and after each).
 */
export function stopProbe(page) {
  return page.evaluate(() => {
    const p = window.__faProbe;
    clearInterval(p.timer);
    const now = performance.now();
    p.maxGap = Math.max(p.maxGap, now - p.last);
    return { max_gap_ms: p.maxGap, ticks: p.ticks, max_wasm_bytes: p.maxWasm, saw_parse_progress: p.sawParseProgress, top_gaps: p.gaps };
  });
}

/** top_gaps as text: `1306 ms persist→persist, …`. */
export const gapsText = (gaps) => gaps.map((g) => `${g.ms} ${g.from}→${g.to}`).join(', ') || '(none over 100 ms)';

/** CDP session with the Performance domain on. */
export async function cdpSession(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  return cdp;
}

/** JSHeapUsedSize in bytes. */
export async function jsHeapUsed(cdp) {
  const { metrics } = await cdp.send('Performance.getMetrics');
  return metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? NaN;
}

/** Force a GC, then JSHeapUsedSize in bytes. */
export async function jsHeapAfterGc(cdp) {
  await cdp.send('HeapProfiler.enable');
  await cdp.send('HeapProfiler.collectGarbage');
  return jsHeapUsed(cdp);
}

/** Sample JSHeapUsedSize every `ms` until stopped; `stop()` gives `{peak, samples}`. */
export function sampleHeap(cdp, ms = 250) {
  let peak = 0;
  let samples = 0;
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const v = await jsHeapUsed(cdp);
      if (Number.isFinite(v)) { peak = Math.max(peak, v); samples++; }
    } catch { /* the page may be navigating */ } finally { busy = false; }
  }, ms);
  return { stop: () => { clearInterval(timer); return { peak, samples }; } };
}

export const MB = 1024 * 1024;

/**
 * Import `file` through the Data step and wait for the app's import timing.
 * Returns the app's figures plus wall-clock times seen from node.
 */
export async function importThroughUi(app, file, { timeout = 600_000, onParsed } = {}) {
  const { page } = app;
  const t0 = Date.now();
  await app.pickFile(file);
  await app.byTest('import-mapping').waitFor({ state: 'visible', timeout });
  const pickedMs = Date.now() - t0;
  if (onParsed) await onParsed();
  await app.byTest('text-col').selectOption({ label: 'text' });
  await app.byTest('id-col').selectOption({ label: 'id' });
  await app.byTest('gold-col').selectOption({ label: 'label' });
  const t1 = Date.now();
  await app.byTest('import-button').click();
  const timing = app.byTest('import-timing');
  await timing.waitFor({ state: 'visible', timeout });
  const importWallMs = Date.now() - t1;
  const [rows, parseMs, persistMs] = await Promise.all(
    ['data-rows', 'data-parse-ms', 'data-persist-ms'].map(async (a) => Number(await timing.getAttribute(a))),
  );
  const error = await app.byTest('import-error').count();
  check(!error, 'no import error');
  return { rows, parseMs, persistMs, pickedMs, importWallMs };
}

/**
 * Start a long-task watch in the page: a `PerformanceObserver` of type `longtask`
 * (buffered: false, so only tasks from now on count). Throws when the browser
 * cannot report long tasks (the figure could not be measured).
 */
export async function startLongTasks(page) {
  const ok = await page.evaluate(() => {
    if (!PerformanceObserver.supportedEntryTypes?.includes('longtask')) return false;
    const w = { t0: performance.now(), count: 0, totalMs: 0, tasks: [] };
    const take = (entries) => {
      for (const e of entries) {
        w.count++;
        w.totalMs += e.duration;
        w.tasks.push({ start_ms: e.startTime - w.t0, duration_ms: e.duration, name: e.name });
        w.tasks.sort((a, b) => b.duration_ms - a.duration_ms);
        w.tasks.length = Math.min(w.tasks.length, 5);
      }
    };
    w.take = take;
    w.observer = new PerformanceObserver((list) => take(list.getEntries()));
    w.observer.observe({ type: 'longtask', buffered: false });
    window.__faLongTasks = w;
    return true;
  });
  check(ok, 'this browser reports longtask entries (PerformanceObserver.supportedEntryTypes)');
}

/**
 * Stop the watch; returns `{longest_task_ms, long_tasks, long_task_total_ms,
 * top_tasks: [{start_ms, duration_ms, name}]}` (the five longest, start times from
 * the start of the watch). A task still queued for the observer is taken too.
 */
export function stopLongTasks(page) {
  return page.evaluate(async () => {
    const w = window.__faLongTasks;
    // Let the task that just ended be reported before the last look.
    await new Promise((r) => setTimeout(r, 0));
    w.take(w.observer.takeRecords());
    w.observer.disconnect();
    delete window.__faLongTasks;
    return {
      longest_task_ms: w.tasks.length ? w.tasks[0].duration_ms : 0,
      long_tasks: w.count,
      long_task_total_ms: w.totalMs,
      top_tasks: w.tasks.map(({ start_ms, duration_ms, name }) => ({ start_ms: Math.round(start_ms * 10) / 10, duration_ms, name })),
      watched_ms: performance.now() - w.t0,
    };
  });
}

/** top_tasks as text: `1306 ms at 2.1 s, …`. */
export const tasksText = (tasks) =>
  tasks.map((t) => `${Math.round(t.duration_ms)} at ${(t.start_ms / 1000).toFixed(1)} s`).join(', ') || '(none over 50 ms)';

/**
 * The import bench's input: an `id,text,label` CSV of `n` rows totalling about
 * `targetBytes`; each text is a stretch of the SpamAssassin texts run together, cut
 * to a length that keeps the running total on target (with some spread), labelled
 * by the email it starts in. Returns `{csv, bytes}`. (The same generator as
 * import.bench.mjs's own copy.)
 */
export function buildImportCsv(n, targetBytes) {
  const texts = spamTexts();
  const corpus = texts.map((t) => t.text).join('\n\n');
  // Which email each corpus offset falls in, for the label.
  const starts = [];
  let off = 0;
  for (const t of texts) { starts.push(off); off += t.text.length + 2; }
  const labelAt = (pos) => {
    let lo = 0, hi = starts.length - 1;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (starts[mid] <= pos) lo = mid; else hi = mid - 1; }
    return texts[lo].label;
  };
  const parts = ['id,text,label\n'];
  let bytes = Buffer.byteLength(parts[0]);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const id = `r${String(i + 1).padStart(7, '0')}`;
    const label = labelAt(pos);
    const budget = (targetBytes - bytes) / (n - i) - id.length - label.length - 5;
    // ±50 % spread around the budget, deterministic.
    let len = Math.max(20, Math.round(budget * (0.5 + ((i * 7919) % 1000) / 1000)));
    let text = '';
    while (text.length < len) {
      const take = Math.min(len - text.length, corpus.length - pos);
      text += corpus.slice(pos, pos + take);
      pos = (pos + take) % corpus.length;
    }
    // Do not end on half a surrogate pair.
    const last = text.charCodeAt(text.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) text = text.slice(0, -1);
    const line = `${id},${csvField(text)},${label}\n`;
    parts.push(line);
    bytes += Buffer.byteLength(line);
  }
  return { csv: parts.join(''), bytes };
}

/** EndpointConfig as `crates/core/src/records/endpoint.rs` serialises it (every field written). */
export function benchEndpoint(projectId) {
  return {
    project_id: projectId,
    provider: 'Generic',
    base_url: 'http://127.0.0.1:8000/v1',
    model: 'mock-model',
    api_key: null,
    store_key: false,
    temperature: 0.0,
    max_tokens: 16,
    max_text_chars: 4000,
    concurrency: 8,
    timeout_secs: 60,
    constraint: 'GuidedChoice',
    system_prompt: null,
    api_version: null,
    logprobs: true,
    top_p: null,
    seed: null,
    requests_per_minute: null,
    free_text_max_tokens: 256,
    constraint_mode: 'Auto',
    capabilities: { guided_choice: true, json_schema: true, grammar: false, logprobs: true },
    replicas: [],
    replications: 1,
    price_in_per_m: null,
    price_out_per_m: null,
  };
}

/**
 * Write a `services::backup::Backup` JSON file of `n` rows of SpamAssassin text
 * with a gold label, a codebook with one categorical attribute `spam` (ham/spam),
 * an endpoint, one completed run and one valid annotation per row from it (the
 * model agrees with the gold label nine times in ten). Written to `file` in
 * pieces, so a million rows need no single huge string. `ids` names the project,
 * dataset and run; `textLen(i)` is row i's text length (export.bench.mjs's 250–350
 * characters by default). With `run: false` the backup holds no run and no
 * annotation (a project ready for its first run). Returns the file's bytes.
 */
export function writeBackup(file, n, { ids, name, textLen = (i) => 250 + ((i * 7919) % 101), run: withRun = true }) {
  const texts = spamTexts();
  const corpus = texts.map((t) => t.text.replace(/\s+/g, ' ')).join(' ');
  const now = Date.UTC(2025, 0, 1);
  const project = { id: ids.project, name, created_at: now, updated_at: now };
  const dataset = {
    id: ids.dataset, project_id: ids.project, name: `bench-${n}.csv`, columns: ['id', 'text', 'label'],
    text_col: 1, id_col: 0, gold_col: 2, row_count: n, encoding: 'UTF-8', delimiter: ',', imported_at: now,
  };
  const codebook = {
    codes: [{
      attribute: 'spam', description: 'Whether the email is spam', type: 'categorical',
      instruction: 'Classify the email.\n<<categories>>\nEmail:\n<<text>>\nAnswer with the category only.',
      categories: [{ category: 'ham', description: 'a normal email' }, { category: 'spam', description: 'unsolicited bulk email' }],
    }],
  };
  const codebooks = [{ project_id: ids.project, version: 1, saved_at: now, json: JSON.stringify(codebook) }];
  const run = {
    id: ids.run, project_id: ids.project, dataset_id: ids.dataset, attribute: 'spam', free_text: false,
    codebook_version: 1, endpoint: benchEndpoint(ids.project), status: 'Completed', total: n, valid: n, invalid: 0,
    failed: 0, started_at: now + 1000, finished_at: now + 1000 + n * 10, error: null, scope: 'All', task_rows: null,
  };
  // Texts and values are made twice (rows, then annotations), the same both times.
  const textAt = [];
  let pos = 0;
  let cellBytes = 0;
  for (let i = 0; i < n; i++) {
    const len = textLen(i);
    if (pos + len > corpus.length) pos = (pos * 31 + 17) % (corpus.length - len);
    textAt.push(pos);
    pos += len;
  }
  const id = (i) => `r${String(i + 1).padStart(7, '0')}`;
  const gold = (i) => texts[i % texts.length].label;
  const row = (i) => {
    const cells = [id(i), corpus.slice(textAt[i], textAt[i] + textLen(i)), gold(i)];
    cellBytes += cells.reduce((m, c) => m + Buffer.byteLength(c), 0);
    return { dataset_id: ids.dataset, idx: i, id: id(i), cells };
  };
  const annotation = (i) => {
    const g = gold(i);
    const value = i % 10 === 3 ? (g === 'spam' ? 'ham' : 'spam') : g;
    return {
      dataset_id: ids.dataset, row: i, attribute: 'spam', source: `run:${ids.run}`, value, raw: value,
      status: 'Valid', reason: null, latency_ms: 80 + (i % 50), tokens_in: 90 + (textLen(i) >> 2), tokens_out: 1,
      tokens_estimated: false, confidence: 0.5 + ((i * 37) % 50) / 100, ts: now + 1000 + i * 10,
    };
  };
  // The dataset's bytes (the app's per-project storage figure) are known only
  // after the rows, so the rows go to a side file first.
  const rowsFile = `${file}.rows`;
  const fd = fs.openSync(rowsFile, 'w');
  let buf = [];
  const flush = (f, force) => {
    if (force || buf.length >= 10_000) { fs.writeSync(f, buf.join('')); buf = []; }
  };
  for (let i = 0; i < n; i++) { buf.push((i ? ',' : '') + JSON.stringify(row(i))); flush(fd); }
  flush(fd, true);
  fs.closeSync(fd);
  dataset.bytes = cellBytes;
  const out = fs.openSync(file, 'w');
  const head = { format: 'fannotate-backup', version: 1, project, dataset };
  fs.writeSync(out, JSON.stringify(head).slice(0, -1) + ',"rows":[');
  const rin = fs.openSync(rowsFile, 'r');
  const chunk = Buffer.alloc(8 * MB);
  for (let got; (got = fs.readSync(rin, chunk, 0, chunk.length, null)) > 0;) fs.writeSync(out, chunk, 0, got);
  fs.closeSync(rin);
  fs.rmSync(rowsFile);
  fs.writeSync(out, '],"codebooks":' + JSON.stringify(codebooks) + ',"endpoint":' + JSON.stringify(benchEndpoint(ids.project)));
  fs.writeSync(out, ',"runs":' + JSON.stringify(withRun ? [run] : []) + ',"annotations":[');
  if (withRun) for (let i = 0; i < n; i++) { buf.push((i ? ',' : '') + JSON.stringify(annotation(i))); flush(out); }
  flush(out, true);
  fs.writeSync(out, ']}');
  fs.closeSync(out);
  return fs.statSync(file).size;
}

/**
 * Restore a backup file through the Projects screen and open its project; returns
 * the seconds from picking the file until the project is listed.
 */
export async function restoreThroughUi(app, file, name, rows, { timeout = 900_000 } = {}) {
  const t0 = Date.now();
  await app.byTest('restore-file').setInputFiles(file);
  await Promise.race([
    app.byTest('project-list').getByText(name).waitFor({ timeout }),
    app.byTest('restore-error').waitFor({ timeout }).then(async () => {
      throw new Error(`restore failed: ${await app.byTest('restore-error').textContent()}`);
    }),
  ]);
  const seconds = (Date.now() - t0) / 1000;
  await app.byTest('open-project').first().click();
  await app.byTest('dataset-rows').filter({ hasText: String(rows) }).waitFor({ timeout });
  return seconds;
}
