#!/usr/bin/env node
// One-million-row benchmark: 1,000,000 short rows (`id,text,label`, ~30-character
// texts) imported through the release app's Data step in headless Chromium,
// watching memory and main-thread responsiveness.
//
//   node tests/bench/million.bench.mjs [--out bench-results/million.json] [--rows 1000000]
//
// parse_s / persist_s: the app's import-timing figures. JS heap (JSHeapUsedSize
// over CDP): after a forced GC before picking the file, sampled every 250 ms from
// the pick until the import is stored (peak), and after a forced GC at the end.
// WASM memory: the app's WebAssembly.Memory (trunk's loader hands the exports to
// its TrunkApplicationStarted event; an init script keeps them); it never shrinks,
// so its size at the end is also its peak. max_main_thread_gap_ms: the largest
// gap between ticks of a 16 ms interval in the page during parse and import.
// data_view_ms: after the import, from clicking the Data step (coming from the
// Codebook step) until its preview table shows 10 rows; the page counts as
// responsive when that takes at most a second.

import fs from 'node:fs';
import path from 'node:path';
import { Fannotate } from '../e2e/support.mjs';
import {
  ROOT, launchBrowser, newContext, startWeb, writeResult, figureTable, tempDir, spamTexts, csvField, check,
  CAPTURE_WASM, startProbe, stopProbe, gapsText, importThroughUi, cdpSession, jsHeapAfterGc, sampleHeap, wasmMemoryBytes, MB,
} from './common.mjs';

const RESPONSIVE_MS = 1000;

function parseArgs(argv) {
  const out = { out: undefined, rows: 1_000_000 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') out.out = argv[++i];
    else if (argv[i] === '--rows') out.rows = Number(argv[++i]);
    else throw new Error(`unknown argument: ${argv[i]}`);
  }
  return out;
}

/** `id,text,label` CSV of `n` rows with 24–36-character texts cut from the SpamAssassin sample. */
function buildCsv(n) {
  const texts = spamTexts();
  const corpus = texts.map((t) => t.text.replace(/\s+/g, ' ')).join(' ');
  const lines = ['id,text,label'];
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const len = 24 + (i * 7) % 13;
    if (pos + len > corpus.length) pos = (i * 131) % 1000;
    const text = corpus.slice(pos, pos + len).trim() || 'empty';
    pos += len;
    lines.push(`m${String(i + 1).padStart(7, '0')},${csvField(text)},${texts[i % texts.length].label}`);
  }
  return lines.join('\n') + '\n';
}

/** Milliseconds from clicking the Data step until its preview shows 10 rows, timed in the page. */
async function dataViewMs(app) {
  await app.step('codebook');
  return app.page.evaluate(async (limit) => {
    const t0 = performance.now();
    document.querySelector('[data-testid=step-data]').click();
    for (;;) {
      const n = document.querySelectorAll('[data-testid=dataset-summary] tbody tr').length;
      if (n >= 10) return performance.now() - t0;
      if (performance.now() - t0 > limit) return null;
      await new Promise((r) => setTimeout(r, 2));
    }
  }, 30_000);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const csv = buildCsv(args.rows);
  const file = path.join(tempDir(), `million-${args.rows}.csv`);
  fs.writeFileSync(file, csv);
  console.log(`input: ${args.rows} rows, ${(Buffer.byteLength(csv) / 1e6).toFixed(1)} MB (${((Date.now() - t0) / 1000).toFixed(1)} s to build)`);

  const web = await startWeb();
  const browser = await launchBrowser();
  let result;
  try {
    const context = await newContext(browser);
    await context.addInitScript(CAPTURE_WASM);
    const page = await context.newPage();
    const app = new Fannotate(page);
    await app.open(web.url);
    await app.createProject('Bench million');
    await app.step('data');
    const cdp = await cdpSession(page);
    const heapBefore = await jsHeapAfterGc(cdp);
    const wasmBefore = await wasmMemoryBytes(page);

    await startProbe(page);
    const sampler = sampleHeap(cdp, 250);
    const ours = await importThroughUi(app, file, { timeout: 1_800_000 });
    const { peak, samples } = sampler.stop();
    const probe = await stopProbe(page);
    check(ours.rows === args.rows, `import-timing data-rows ${ours.rows} = ${args.rows}`);
    await app.byTest('dataset-rows').filter({ hasText: String(args.rows) }).waitFor();

    const heapAfter = await jsHeapAfterGc(cdp);
    const wasmAfter = await wasmMemoryBytes(page);
    const dataView = await dataViewMs(app);
    const previewRows = await app.byTest('dataset-summary').locator('tbody tr').count();
    await context.close();

    result = {
      rows: args.rows,
      parse_s: ours.parseMs / 1000,
      persist_s: ours.persistMs / 1000,
      js_heap_used_mb_before: heapBefore / MB,
      js_heap_used_mb_after: heapAfter / MB,
      js_heap_peak_mb: Math.max(peak, heapAfter) / MB,
      max_main_thread_gap_ms: probe.max_gap_ms,
      ...(wasmAfter != null ? { wasm_memory_mb: wasmAfter / MB, wasm_memory_mb_before: wasmBefore / MB } : {}),
      data_view_ms: dataView,
      responsive: dataView != null && dataView <= RESPONSIVE_MS && previewRows === 10,
      heap_samples: samples,
      pick_to_mapping_s: ours.pickedMs / 1000,
      click_to_stored_s: ours.importWallMs / 1000,
    };
    console.log(figureTable([
      ['rows', result.rows],
      ['parse s', result.parse_s],
      ['persist s', result.persist_s],
      ['JS heap MB before (after GC)', result.js_heap_used_mb_before],
      ['JS heap MB peak', result.js_heap_peak_mb],
      ['JS heap MB after (after GC)', result.js_heap_used_mb_after],
      ['heap samples', samples],
      ['WASM memory MB before', wasmBefore == null ? 'not found' : wasmBefore / MB],
      ['WASM memory MB after', wasmAfter == null ? 'not found' : wasmAfter / MB],
      ['max main-thread gap ms', result.max_main_thread_gap_ms],
      ['longest stalls ms (phase)', gapsText(probe.top_gaps)],
      ['Data view → 10 rows ms', dataView ?? 'timeout'],
      ['pick → mapping s (wall)', result.pick_to_mapping_s],
      ['click → stored s (wall)', result.click_to_stored_s],
    ]));
  } finally {
    await browser.close();
    await web.close();
  }
  const out = writeResult('million', result, args.out);
  console.log(`${result.responsive ? 'responsive' : 'NOT responsive'} after the import (Data view in ${result.data_view_ms?.toFixed(0)} ms; ≤ ${RESPONSIVE_MS} ms) → ${path.relative(ROOT, out)}`);
}

main().catch((e) => {
  console.error(`bench million: ${e.stack ?? e.message}`);
  process.exit(1);
});
