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
