#!/usr/bin/env node
// Batch benchmark (issue #18): a 1,000,000-row run written as batch request files
// by the release app's Run step, answered by the mock batch engine, and its output
// files imported back, in headless Chromium.
//
//   node tests/bench/batch.bench.mjs [--out bench-results/batch.json] [--rows 1000000]
//                                    [--space-downloads MS]
//
// Setup (not timed as the app's): a project of `rows` rows (SpamAssassin texts of
// 250–350 characters, a gold label), a codebook with one categorical attribute
// `spam` (ham/spam) and the mock endpoint, restored from a generated backup
// without any run, then the Run step.
// export_s: from the click on "Export as batch file" until every request file
// (one per 50,000 requests) has been downloaded completely; export_stored_s until
// the run is listed as waiting for batch results. The files are saved, then read
// line by line: `rows` lines in all, every custom_id once.
// engine_s: the mock engine (tests/mock/engine.mjs, the mock server's answerer)
// answering each file, streamed line by line into one output file per request
// file (shuffled, no errors); the engine's own time, not the app's.
// import_s: from picking every output file at once on "Import batch results…"
// until the run is completed with `rows` rows done; the import's report must
// say `rows` answers applied and no line that gave nothing.
// peak_js_heap_mb: JSHeapUsedSize over CDP sampled every 250 ms during the export
// and during the import (the larger peak); peak_wasm_mb: the app's
// WebAssembly.Memory at the end (it never shrinks, so that is its peak; the page is
// reloaded after the restore, so the restore's own memory is not in it).
//
// Chromium delivers only the first 10 of downloads a page starts in quick succession;
// the app offers its request files 250 ms apart, and the bench fails, naming the
// files lost, if any is. --space-downloads MS makes an init script space the app's
// download clicks further (for a build older than that); the spacing is then part
// of export_s and is written as download_spacing_ms.

import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { once } from 'node:events';
import { StringDecoder } from 'node:string_decoder';
import { Fannotate } from '../e2e/support.mjs';
import { answerBatchLines } from '../mock/engine.mjs';
import { createAnswerer } from '../mock/server.mjs';
import {
  ROOT, SPAM_CSV, launchBrowser, newContext, startWeb, writeResult, figureTable, tempDir, writeBackup, restoreThroughUi,
  check, CAPTURE_WASM, cdpSession, jsHeapAfterGc, sampleHeap, wasmMemoryBytes, MB,
} from './common.mjs';

const IDS = { project: 'bench-batch-project', dataset: 'bench-batch-dataset', run: 'bench-batch-unused-run' };
const NAME = 'Bench batch';
/** Requests per file the app writes at most. */
const LINES_PER_FILE = 50_000;
/** Generous: a million-line import takes minutes in the browser. */
const TIMEOUT = 3_600_000;

function parseArgs(argv) {
  const out = { out: undefined, rows: 1_000_000, spaceDownloads: 0 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') out.out = argv[++i];
    else if (argv[i] === '--rows') out.rows = Number(argv[++i]);
    else if (argv[i] === '--space-downloads') out.spaceDownloads = Number(argv[++i]);
    else throw new Error(`unknown argument: ${argv[i]}`);
  }
  check(Number.isInteger(out.rows) && out.rows > 0, '--rows is a positive integer');
  check(Number.isFinite(out.spaceDownloads) && out.spaceDownloads >= 0, '--space-downloads is a number of milliseconds');
  return out;
}

/**
 * Init script: clicks on `<a download href="blob:…">` reach the browser `ms`
 * apart (the first at once); each goes through a fresh anchor, as the app
 * removes its own at once. The app revokes its URLs after 10 s.
 */
const spaceDownloads = (ms) => `(() => {
  const click = HTMLAnchorElement.prototype.click;
  let next = 0;
  HTMLAnchorElement.prototype.click = function () {
    if (!this.download || !this.href.startsWith('blob:')) return click.call(this);
    const [href, name] = [this.href, this.download];
    const now = performance.now();
    const at = Math.max(now, next);
    next = at + ${ms};
    setTimeout(() => {
      const a = document.createElement('a');
      a.href = href;
      a.download = name;
      a.style.display = 'none';
      document.body.append(a);
      click.call(a);
      a.remove();
    }, at - now);
  };
})();`;

/** The lines of `file`, read synchronously in 4 MB chunks (the engine pulls its input). */
function* linesOf(file) {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(4 * MB);
  const decoder = new StringDecoder('utf8');
  let carry = '';
  try {
    for (let got; (got = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) {
      const parts = (carry + decoder.write(buf.subarray(0, got))).split('\n');
      carry = parts.pop();
      yield* parts;
    }
    carry += decoder.end();
    if (carry) yield carry;
  } finally {
    fs.closeSync(fd);
  }
}

/** Stream-read the request files: line count, custom_ids seen twice, and lines of another run. */
async function checkRequests(files) {
  const ids = new Set();
  let lines = 0;
  let duplicates = 0;
  for (const file of files) {
    const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
    for await (const line of rl) {
      if (!line.trim()) continue;
      lines++;
      const id = JSON.parse(line).custom_id;
      if (ids.has(id)) duplicates++;
      ids.add(id);
    }
  }
  return { lines, unique: ids.size, duplicates };
}

/** Answer one request file into `outFile`, streamed; returns the output lines. */
async function answerFile(inFile, outFile, completion, seed) {
  const ws = fs.createWriteStream(outFile);
  let n = 0;
  let chunk = [];
  for (const line of answerBatchLines(linesOf(inFile), { completion, seed })) {
    chunk.push(line);
    n++;
    if (chunk.length === 1000) {
      if (!ws.write(chunk.join('\n') + '\n')) await once(ws, 'drain');
      chunk = [];
    }
  }
  if (chunk.length) ws.write(chunk.join('\n') + '\n');
  ws.end();
  await once(ws, 'finish');
  return n;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const expectedFiles = Math.ceil(args.rows / LINES_PER_FILE);
  const dir = tempDir();
  const t0 = Date.now();
  const backup = path.join(dir, 'bench-batch.fannotate.json');
  const backupBytes = writeBackup(backup, args.rows, { ids: IDS, name: NAME, run: false });
  console.log(`backup: ${args.rows} rows, no run, ${(backupBytes / 1e6).toFixed(1)} MB (${((Date.now() - t0) / 1000).toFixed(1)} s to build)`);

  const web = await startWeb();
  const browser = await launchBrowser();
  const consoleErrors = [];
  let result;
  let page;
  let stage = 'setup';
  try {
    const context = await newContext(browser);
    await context.addInitScript(CAPTURE_WASM);
    if (args.spaceDownloads) await context.addInitScript(spaceDownloads(args.spaceDownloads));
    page = await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text().slice(0, 500)); });
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${String(e.message ?? e).slice(0, 500)}`));
    page.on('crash', () => consoleErrors.push('page crashed'));
    const app = new Fannotate(page);
    await app.open(web.url);
    const restoreS = await restoreThroughUi(app, backup, NAME, args.rows, { timeout: TIMEOUT });
    fs.rmSync(backup);
    // A fresh page (the app reopens the project): the restore's WASM memory, which
    // never shrinks, stays out of the figures.
    await app.reload();
    await app.byTest('dataset-rows').filter({ hasText: String(args.rows) }).waitFor({ timeout: TIMEOUT });
    await app.step('run');
    const cdp = await cdpSession(page);
    const heapBefore = await jsHeapAfterGc(cdp);
    const wasmBefore = await wasmMemoryBytes(page);

    // Export: every download, complete.
    stage = 'export';
    const reqDir = path.join(dir, 'requests');
    fs.mkdirSync(reqDir);
    const arrivals = [];
    const onDownload = (d) => arrivals.push(d.path().then(() => ({ d, at: Date.now() })));
    page.on('download', onDownload);
    const exportSampler = sampleHeap(cdp, 250);
    const t1 = Date.now();
    await app.byTest('batch-export').click();
    const waiting = app.byTest('batch-run').and(page.locator('[data-status="waiting for batch results"]'));
    await waitOrToast(app, waiting, TIMEOUT, 'export');
    const exportStoredS = (Date.now() - t1) / 1000;
    const partsListed = await app.byTest('batch-part').count();
    // Downloads are offered before the run is stored; give the last ones time to start.
    const waitMs = 30_000 + partsListed * args.spaceDownloads;
    for (let k = 0; arrivals.length < partsListed && k < waitMs / 100; k++) await page.waitForTimeout(100);
    const downloads = await Promise.all(arrivals);
    const exportS = (Math.max(...downloads.map((x) => x.at)) - t1) / 1000;
    const exportHeap = exportSampler.stop();
    page.off('download', onDownload);
    const wasmAfterExport = await wasmMemoryBytes(page);
    if (downloads.length !== partsListed) {
      const listed = await app.byTest('batch-part').allTextContents();
      const got = new Set(downloads.map(({ d }) => d.suggestedFilename()));
      const lost = listed.map((t) => t.split(':')[0]).filter((n) => !got.has(n));
      throw new Error(`only ${downloads.length} of the ${partsListed} request files the run lists were downloaded `
        + `(${waitMs / 1000} s after the run was stored, ${exportStoredS.toFixed(1)} s after the click); lost: ${lost.join(', ')}. `
        + 'Chromium delivers only the first 10 downloads a page starts in quick succession; --space-downloads 150 spaces them');
    }
    check(downloads.length === expectedFiles, `${downloads.length} request files, ${expectedFiles} expected (${LINES_PER_FILE} requests each)`);
    const reqFiles = [];
    for (const { d } of downloads) {
      const f = path.join(reqDir, d.suggestedFilename());
      await d.saveAs(f);
      await d.delete();
      reqFiles.push(f);
    }
    const exportBytes = reqFiles.reduce((s, f) => s + fs.statSync(f).size, 0);
    const reqCheck = await checkRequests(reqFiles);
    check(reqCheck.lines === args.rows, `${reqCheck.lines} request lines for ${args.rows} rows`);
    check(reqCheck.unique === args.rows && reqCheck.duplicates === 0, `every custom_id once (${reqCheck.unique} unique, ${reqCheck.duplicates} repeated)`);
    console.log(`export: ${downloads.length} files, ${(exportBytes / 1e6).toFixed(1)} MB, ${exportS.toFixed(1)} s`);

    // The engine (its own time, not the app's).
    stage = 'engine';
    const outDir = path.join(dir, 'output');
    fs.mkdirSync(outDir);
    const { complete } = createAnswerer({ goldCsv: fs.readFileSync(SPAM_CSV, 'utf8') });
    const outFiles = [];
    const t2 = Date.now();
    let outLines = 0;
    for (const [i, f] of reqFiles.entries()) {
      const o = path.join(outDir, path.basename(f).replace(/^fannotate-batch-/, 'output-'));
      outLines += await answerFile(f, o, complete, i + 1);
      outFiles.push(o);
    }
    const engineS = (Date.now() - t2) / 1000;
    const outputBytes = outFiles.reduce((s, f) => s + fs.statSync(f).size, 0);
    check(outLines === args.rows, `${outLines} output lines for ${args.rows} requests`);
    for (const f of reqFiles) fs.rmSync(f);
    console.log(`engine: ${outFiles.length} output files, ${(outputBytes / 1e6).toFixed(1)} MB, ${engineS.toFixed(1)} s`);

    // Import every output file in one pick.
    stage = 'import';
    const before = Number(await app.byTest('batch-last').getAttribute('data-version'));
    const importSampler = sampleHeap(cdp, 250);
    const t3 = Date.now();
    await app.byTest('batch-import').setInputFiles(outFiles);
    const completed = app.byTest('batch-run').and(page.locator(`[data-status="completed"][data-done="${args.rows}"]`));
    await waitOrToast(app, completed, TIMEOUT, 'import');
    const importS = (Date.now() - t3) / 1000;
    const report = page.locator(`[data-testid="batch-last"][data-version="${before + 1}"] [data-testid="batch-report"]`);
    await report.waitFor({ timeout: TIMEOUT });
    const importReportS = (Date.now() - t3) / 1000;
    const importHeap = importSampler.stop();
    const applied = Number(await report.getAttribute('data-applied'));
    const problems = Number(await report.getAttribute('data-problems'));
    const reportDone = Number(await report.getAttribute('data-done'));
    const fileReports = await report.getByTestId('batch-file-report').count();
    check(applied === args.rows, `the report says ${applied} answers applied of ${args.rows}`);
    check(problems === 0, `the report lists ${problems} lines that gave nothing`);
    check(reportDone === args.rows, `the report says ${reportDone} rows done`);
    check(fileReports === outFiles.length, `${fileReports} file reports for ${outFiles.length} files`);
    stage = 'end';

    const heapAfter = await jsHeapAfterGc(cdp);
    const wasmAfter = await wasmMemoryBytes(page);
    await context.close();

    const peak = Math.max(exportHeap.peak, importHeap.peak, heapAfter);
    result = {
      rows: args.rows,
      files: downloads.length,
      requests: reqCheck.lines,
      export_s: exportS,
      import_s: importS,
      peak_js_heap_mb: peak / MB,
      ...(wasmAfter != null
        ? { peak_wasm_mb: wasmAfter / MB, wasm_mb_before: wasmBefore / MB, wasm_mb_after_export: wasmAfterExport / MB }
        : {}),
      engine_s: engineS,
      export_bytes: exportBytes,
      output_bytes: outputBytes,
      export_stored_s: exportStoredS,
      import_report_s: importReportS,
      export_peak_js_heap_mb: exportHeap.peak / MB,
      import_peak_js_heap_mb: importHeap.peak / MB,
      js_heap_mb_before: heapBefore / MB,
      js_heap_mb_after: heapAfter / MB,
      heap_samples: exportHeap.samples + importHeap.samples,
      applied,
      problems,
      restore_s: restoreS,
      ...(args.spaceDownloads ? { download_spacing_ms: args.spaceDownloads } : {}),
      console_errors: consoleErrors.length,
    };
    console.log(figureTable([
      ['rows', result.rows],
      ['files', result.files],
      ['request MB', exportBytes / 1e6],
      ['export s (click → last file downloaded)', exportS],
      ['export s (click → run waiting)', exportStoredS],
      ['engine s (mock, not the app)', engineS],
      ['output MB', outputBytes / 1e6],
      ['import s (pick → run completed)', importS],
      ['import s (pick → report shown)', importReportS],
      ['applied / problems', `${applied} / ${problems}`],
      ['JS heap MB before (after GC)', result.js_heap_mb_before],
      ['JS heap MB peak export', result.export_peak_js_heap_mb],
      ['JS heap MB peak import', result.import_peak_js_heap_mb],
      ['JS heap MB after (after GC)', result.js_heap_mb_after],
      ['WASM memory MB before', wasmBefore == null ? 'not found' : wasmBefore / MB],
      ['WASM memory MB after export', wasmAfterExport == null ? 'not found' : wasmAfterExport / MB],
      ['WASM memory MB after import (peak)', wasmAfter == null ? 'not found' : wasmAfter / MB],
      ['restore backup s (setup)', restoreS],
      ['download spacing ms (workaround)', args.spaceDownloads || 'none'],
      ['console errors', consoleErrors.length],
    ]));
    for (const e of consoleErrors.slice(0, 10)) console.log(`  console: ${e}`);
  } catch (e) {
    // Say what the page showed when it failed.
    const toasts = page ? await page.getByTestId('toast').allTextContents().catch(() => []) : [];
    const status = page ? await page.getByTestId('batch-status').allTextContents().catch(() => []) : [];
    console.error(`failed during ${stage}`);
    for (const t of toasts) console.error(`  toast: ${t}`);
    for (const s of status) console.error(`  batch status: ${s}`);
    for (const c of consoleErrors.slice(0, 20)) console.error(`  console: ${c}`);
    throw e;
  } finally {
    await browser.close();
    await web.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const out = writeResult('batch', result, args.out);
  console.log(`batch of ${result.rows} rows: export ${result.export_s.toFixed(1)} s, import ${result.import_s.toFixed(1)} s → ${path.relative(ROOT, out)}`);
}

/**
 * Wait for `locator`, looking twice a second; an error toast the page had not
 * shown before, or the timeout, ends the wait with what the page said.
 */
async function waitOrToast(app, locator, timeout, what) {
  const errorToasts = app.page.locator('[data-testid="toast"][role="alert"]');
  const seen = new Set(await errorToasts.allTextContents());
  const end = Date.now() + timeout;
  for (;;) {
    if (await locator.count()) return;
    const fresh = (await errorToasts.allTextContents()).filter((t) => !seen.has(t));
    if (fresh.length) throw new Error(`${what}: error toast: ${fresh.join(' | ')}`);
    if (Date.now() > end) throw new Error(`${what}: nothing after ${timeout / 1000} s`);
    await app.page.waitForTimeout(500);
  }
}

main().catch((e) => {
  console.error(`bench batch: ${e.stack ?? e.message}`);
  process.exit(1);
});
