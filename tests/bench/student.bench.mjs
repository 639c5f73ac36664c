// .ci/bench student: the student classifier trained in the compute worker, in
// headless Chromium, on 100,000 rows (SpamAssassin texts, windows of 200–600
// characters keeping their email's label), against scikit-learn on the same rows
// on this machine. Writes bench-results/student.json:
//   train_rows, train_s (the job's wall time seen by the page: features + fit,
//   data transfer included), features_s and fit_s (inside the worker), iterations,
//   score_items_per_s (texts scored per second in the worker, features included),
//   sklearn_train_s (HashingVectorizer + LogisticRegression(C=1) lbfgs, best of 2),
//   ratio = train_s / sklearn_train_s (goal ≤ 1.0).
// Usage: node tests/bench/student.bench.mjs [--rows 100000] [--out FILE] [--python PATH]
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ROOT, launchBrowser, newContext, startWeb, check, csvField, tempDir, spamTexts, writeResult, figureTable } from './common.mjs';

function parseArgs(argv) {
  const out = { rows: 100_000, out: undefined, python: 'python3' };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--rows') out.rows = Number(argv[++i]);
    else if (argv[i] === '--out') out.out = argv[++i];
    else if (argv[i] === '--python') out.python = argv[++i];
  }
  return out;
}

/** `n` rows: windows of the SpamAssassin emails, each with its email's label. */
function buildRows(n) {
  const emails = spamTexts().filter((t) => t.text.length > 40);
  const rows = [];
  for (let i = 0; i < n; i++) {
    const e = emails[(i * 7919) % emails.length];
    const len = 200 + ((i * 104729) % 401);
    const start = e.text.length > len ? (i * 31) % (e.text.length - len) : 0;
    rows.push({ id: `r${i + 1}`, text: e.text.slice(start, start + len), label: e.label });
  }
  return rows;
}

const args = parseArgs(process.argv.slice(2));
const rows = buildRows(args.rows);
const classes = [...new Set(rows.map((r) => r.label))].sort();
const dir = tempDir();
const file = path.join(dir, 'student.csv');
fs.writeFileSync(file, ['id,text,label', ...rows.map((r) => [r.id, r.text, r.label].map(csvField).join(','))].join('\n') + '\n');
console.log(`input: ${rows.length} rows, ${classes.length} classes, ${(fs.statSync(file).size / 1e6).toFixed(1)} MB`);

const web = await startWeb();
const browser = await launchBrowser();
let ours;
try {
  const page = await (await newContext(browser)).newPage();
  await page.goto(web.url);
  ours = await page.evaluate(async ({ texts, codes, classes }) => {
    const worker = new Worker('fannotate-worker_loader.js');
    const replies = [];
    let wake = null;
    worker.onmessage = (e) => { replies.push(JSON.parse(e.data)); wake?.(); };
    worker.onerror = (e) => { replies.push({ type: 'crash', message: e.message }); wake?.(); };
    const next = async (type) => {
      for (;;) {
        const i = replies.findIndex((r) => r.type === type || r.type === 'failed' || r.type === 'crash');
        if (i >= 0) return replies.splice(i, 1)[0];
        await new Promise((r) => { wake = r; });
      }
    };
    await next('ready');
    const enc = new TextEncoder();
    const parts = texts.map((t) => enc.encode(t));
    const text = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    const ends = new Uint32Array(parts.length);
    let at = 0;
    parts.forEach((p, i) => { text.set(p, at); at += p.length; ends[i] = at; });
    const labels = Uint32Array.from(codes);
    const t0 = performance.now();
    worker.postMessage({ id: 1, msg: JSON.stringify({ id: 1, job: { kind: 'train', classes } }), columns: [labels.buffer, ends.buffer], text: text.buffer },
      [labels.buffer, ends.buffer, text.buffer]);
    const done = await next('done');
    const wallMs = performance.now() - t0;
    worker.terminate();
    if (done.type !== 'done') return { error: done.message };
    const o = done.output;
    return { wallMs, featuresMs: o.features_ms, fitMs: o.fit_ms, iterations: o.fit.iterations, cgIterations: o.fit.cg_iterations, converged: o.fit.converged, itemsPerS: o.score_items_per_s };
  }, { texts: rows.map((r) => r.text), codes: rows.map((r) => classes.indexOf(r.label)), classes });
} finally {
  await browser.close();
  await web.close();
}
check(!ours.error, `the worker's job failed: ${ours.error}`);
check(ours.converged, 'the fit converged');

const sk = JSON.parse(execFileSync(args.python, [path.join(ROOT, 'crates/core/benches/sklearn_student.py'), file], { encoding: 'utf8', maxBuffer: 1 << 26 }));
check(sk.rows === rows.length, `scikit-learn read ${sk.rows} rows`);
const result = {
  train_rows: rows.length,
  train_s: ours.wallMs / 1000,
  features_s: ours.featuresMs / 1000,
  fit_s: ours.fitMs / 1000,
  iterations: ours.iterations,
  cg_iterations: ours.cgIterations,
  score_items_per_s: ours.itemsPerS,
  sklearn_train_s: sk.sklearn_train_s,
  sklearn_features_s: sk.sklearn_features_s,
  sklearn_fit_s: sk.sklearn_fit_s,
  sklearn_iterations: sk.n_iter,
  ratio: ours.wallMs / 1000 / sk.sklearn_train_s,
};
console.log(figureTable([
  ['train rows', result.train_rows],
  ['train s (worker, wall)', result.train_s],
  ['  features s', result.features_s],
  ['  fit s', result.fit_s],
  ['  Newton steps', result.iterations],
  ['  conjugate-gradient steps', result.cg_iterations],
  ['score items/s (worker)', result.score_items_per_s],
  ['sklearn train s', result.sklearn_train_s],
  ['  sklearn features s', result.sklearn_features_s],
  ['  sklearn fit s', result.sklearn_fit_s],
  ['  sklearn lbfgs iterations', result.sklearn_iterations],
  ['ours / sklearn', result.ratio],
]));
console.log(`${result.ratio <= 1 ? 'within' : 'MISSED'} goal: ours / sklearn ≤ 1.0 → ${writeResult('student', result, args.out)}`);
