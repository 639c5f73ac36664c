#!/usr/bin/env node
// Export benchmark: 100,000 annotated rows exported from the release app's
// Results step in headless Chromium.
//
//   node tests/bench/export.bench.mjs [--out bench-results/export.json] [--rows 100000]
//
// Annotating 100,000 rows through the mock LLM would take minutes, so the project
// is restored from a generated backup file (the Projects screen's restore
// control): 100,000 rows of ~300-character SpamAssassin texts with a gold label,
// a codebook with one categorical attribute `spam` (ham/spam), one completed run
// and one valid annotation per row from it (raw answer, confidence, tokens).
// seconds is the app's own figure for CSV (export-timing's data-ms: from the
// click to the download, i.e. reading rows and annotations from IndexedDB,
// building the table and encoding it); xlsx_seconds the same for Excel.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Fannotate } from '../e2e/support.mjs';
import { ROOT, launchBrowser, newContext, startWeb, writeResult, figureTable, tempDir, writeBackup, check } from './common.mjs';

const TARGET_S = 3;
const IDS = { project: 'bench-export-project', dataset: 'bench-export-dataset', run: 'bench-export-run' };
const NAME = 'Bench export';

function parseArgs(argv) {
  const out = { out: undefined, rows: 100_000 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') out.out = argv[++i];
    else if (argv[i] === '--rows') out.rows = Number(argv[++i]);
    else throw new Error(`unknown argument: ${argv[i]}`);
  }
  return out;
}

/** Export in `format` from a freshly opened Results step; the app's and node's timings. */
async function exportOnce(app, format, rows) {
  // Re-enter the step so the export action (and its timing) starts fresh.
  await app.byTest('step-data').click();
  await app.byTest('data-view').waitFor();
  const t0 = Date.now();
  await app.byTest('step-results').click();
  await app.byTest('labels-table').waitFor({ timeout: 300_000 });
  const resultsViewMs = Date.now() - t0;
  await app.byTest('export-format').selectOption(format);
  const download = app.page.waitForEvent('download', { timeout: 300_000 });
  const t1 = Date.now();
  await app.byTest('export-data').click();
  const d = await download;
  const wallMs = Date.now() - t1;
  const timing = app.byTest('export-timing');
  await timing.waitFor({ timeout: 300_000 });
  const appRows = Number(await timing.getAttribute('data-rows'));
  const ms = Number(await timing.getAttribute('data-ms'));
  check(appRows === rows, `${format}: export-timing data-rows ${appRows} = ${rows}`);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fa-bench-export-')), d.suggestedFilename());
  await d.saveAs(file);
  const bytes = fs.statSync(file).size;
  if (format === 'csv') {
    // Header plus one line per row (texts have no newlines here).
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
    check(lines === rows + 1, `csv has ${lines - 1} data lines for ${rows} rows`);
  }
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  return { seconds: ms / 1000, bytes, wall_s: wallMs / 1000, results_view_s: resultsViewMs / 1000 };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const file = path.join(tempDir(), 'bench-export.fannotate.json');
  const bytes = writeBackup(file, args.rows, { ids: IDS, name: NAME });
  console.log(`backup: ${args.rows} rows + ${args.rows} annotations, ${(bytes / 1e6).toFixed(1)} MB (${((Date.now() - t0) / 1000).toFixed(1)} s to build)`);

  const web = await startWeb();
  const browser = await launchBrowser();
  let result;
  try {
    const context = await newContext(browser);
    const page = await context.newPage();
    const app = new Fannotate(page);
    await app.open(web.url);
    const t1 = Date.now();
    await app.byTest('restore-file').setInputFiles(file);
    await Promise.race([
      app.byTest('project-list').getByText(NAME).waitFor({ timeout: 600_000 }),
      app.byTest('restore-error').waitFor({ timeout: 600_000 }).then(async () => {
        throw new Error(`restore failed: ${await app.byTest('restore-error').textContent()}`);
      }),
    ]);
    const restoreS = (Date.now() - t1) / 1000;
    await app.byTest('open-project').first().click();
    await app.byTest('dataset-rows').filter({ hasText: String(args.rows) }).waitFor({ timeout: 60_000 });

    const csv = await exportOnce(app, 'csv', args.rows);
    const xlsx = await exportOnce(app, 'xlsx', args.rows);
    await context.close();

    result = {
      rows: args.rows,
      seconds: csv.seconds,
      format: 'csv',
      bytes: csv.bytes,
      xlsx_seconds: xlsx.seconds,
      xlsx_bytes: xlsx.bytes,
      click_to_download_s: csv.wall_s,
      xlsx_click_to_download_s: xlsx.wall_s,
      results_view_s: csv.results_view_s,
      restore_s: restoreS,
    };
    console.log(figureTable([
      ['rows', result.rows],
      ['csv s (app)', csv.seconds],
      ['csv MB', csv.bytes / 1e6],
      ['csv click → download s', csv.wall_s],
      ['xlsx s (app)', xlsx.seconds],
      ['xlsx MB', xlsx.bytes / 1e6],
      ['xlsx click → download s', xlsx.wall_s],
      ['results view load s', csv.results_view_s],
      ['restore backup s (setup)', restoreS],
    ]));
  } finally {
    await browser.close();
    await web.close();
  }
  const out = writeResult('export', result, args.out);
  console.log(`${result.seconds <= TARGET_S ? 'within' : 'MISSED'} target: export of 100,000 rows ≤ ${TARGET_S} s (csv ${result.seconds.toFixed(2)} s) → ${path.relative(ROOT, out)}`);
}

main().catch((e) => {
  console.error(`bench export: ${e.stack ?? e.message}`);
  process.exit(1);
});
