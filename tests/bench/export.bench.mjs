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
import { ROOT, launchBrowser, newContext, startWeb, writeResult, figureTable, tempDir, spamTexts, check } from './common.mjs';

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

/** EndpointConfig as `crates/core/src/records/endpoint.rs` serialises it (every field written). */
function endpoint(projectId) {
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
 * A `services::backup::Backup` JSON text with `n` rows, a codebook, an endpoint,
 * one completed run and `n` annotations from it. Written piecewise: the file is
 * tens of megabytes.
 */
function buildBackup(n) {
  const texts = spamTexts();
  const corpus = texts.map((t) => t.text.replace(/\s+/g, ' ')).join(' ');
  const now = Date.UTC(2025, 0, 1);
  const project = { id: IDS.project, name: NAME, created_at: now, updated_at: now };
  const dataset = {
    id: IDS.dataset, project_id: IDS.project, name: `bench-${n}.csv`, columns: ['id', 'text', 'label'],
    text_col: 1, id_col: 0, gold_col: 2, row_count: n, encoding: 'UTF-8', delimiter: ',', imported_at: now,
  };
  const codebook = {
    codes: [{
      attribute: 'spam', description: 'Whether the email is spam', type: 'categorical',
      instruction: 'Classify the email.\n<<categories>>\nEmail:\n<<text>>\nAnswer with the category only.',
      categories: [{ category: 'ham', description: 'a normal email' }, { category: 'spam', description: 'unsolicited bulk email' }],
    }],
  };
  const codebooks = [{ project_id: IDS.project, version: 1, saved_at: now, json: JSON.stringify(codebook) }];
  const run = {
    id: IDS.run, project_id: IDS.project, dataset_id: IDS.dataset, attribute: 'spam', free_text: false,
    codebook_version: 1, endpoint: endpoint(IDS.project), status: 'Completed', total: n, valid: n, invalid: 0,
    failed: 0, started_at: now + 1000, finished_at: now + 1000 + n * 10, error: null, scope: 'All', task_rows: null,
  };
  const rows = [];
  const annotations = [];
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const len = 250 + ((i * 7919) % 101); // 250–350 characters
    if (pos + len > corpus.length) pos = (pos * 31 + 17) % (corpus.length - len);
    const text = corpus.slice(pos, pos + len);
    pos += len;
    const id = `r${String(i + 1).padStart(7, '0')}`;
    const gold = texts[i % texts.length].label;
    // The model agrees with the gold label nine times in ten.
    const value = i % 10 === 3 ? (gold === 'spam' ? 'ham' : 'spam') : gold;
    rows.push({ dataset_id: IDS.dataset, idx: i, id, cells: [id, text, gold] });
    annotations.push({
      dataset_id: IDS.dataset, row: i, attribute: 'spam', source: `run:${IDS.run}`, value, raw: value,
      status: 'Valid', reason: null, latency_ms: 80 + (i % 50), tokens_in: 90 + (len >> 2), tokens_out: 1,
      tokens_estimated: false, confidence: 0.5 + ((i * 37) % 50) / 100, ts: now + 1000 + i * 10,
    });
  }
  // Bytes of cell text (the app's per-project storage figure).
  dataset.bytes = rows.reduce((n, r) => n + r.cells.reduce((m, c) => m + Buffer.byteLength(c), 0), 0);
  const head = { format: 'fannotate-backup', version: 1, project, dataset };
  const parts = [JSON.stringify(head).slice(0, -1), ',"rows":['];
  rows.forEach((r, i) => parts.push((i ? ',' : '') + JSON.stringify(r)));
  parts.push('],"codebooks":', JSON.stringify(codebooks), ',"endpoint":', JSON.stringify(endpoint(IDS.project)));
  parts.push(',"runs":', JSON.stringify([run]), ',"annotations":[');
  annotations.forEach((a, i) => parts.push((i ? ',' : '') + JSON.stringify(a)));
  parts.push(']}');
  return parts.join('');
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
  const backup = buildBackup(args.rows);
  const file = path.join(tempDir(), 'bench-export.fannotate.json');
  fs.writeFileSync(file, backup);
  console.log(`backup: ${args.rows} rows + ${args.rows} annotations, ${(backup.length / 1e6).toFixed(1)} MB (${((Date.now() - t0) / 1000).toFixed(1)} s to build)`);

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
