#!/usr/bin/env node
// First-load size: what the page fetches before its first screen is interactive,
// gzip -9 compressed, plus the compute worker's wasm. Called by `.ci/bench size`,
// which measures the other size figures itself.
//
//   node tests/bench/size.bench.mjs [--merge bench-results/size.json]
//
// first_load_gzip_bytes: the release dist/ is served (the benches' static server)
// and loaded in a fresh headless Chromium context (no cache, no service worker
// yet). The app is ready when it dispatches `fannotate:ready` (storage open, the
// place of a reload restored; the host API's ready signal) and the projects view
// is shown. Every response the page has received by then (the document and each
// resource in the page's Resource Timing list at the `fannotate:ready` event)
// counts with the `gzip -9` size of its body, each URL once; so does any request of
// the page's workers that finished before the event (by Chromium's request timing). The service worker's
// own fetches (it caches the app's files for offline use, in the background) are
// listed but not counted: the first screen does not wait for them.
// worker_wasm_gzip_bytes: the gzip -9 bytes of every .wasm file in dist/ whose
// name contains "worker" (0 when there is none).
// With --merge FILE, the keys are added to that JSON object (written back);
// otherwise they are printed as JSON.

import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { DIST, launchBrowser, newContext, startWeb, figureTable, check } from './common.mjs';

/** Which dist/ wasm files are a worker's. */
const WORKER_WASM = /worker.*\.wasm$/i;

/** Bytes of `buf` after `gzip -9` (the tool the rest of `.ci/bench size` uses). */
const gzip9 = (buf) => execFileSync('gzip', ['-9', '-c'], { input: buf, maxBuffer: 1 << 30 }).length;

function parseArgs(argv) {
  const out = { merge: undefined };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--merge') out.merge = argv[++i];
    else throw new Error(`unknown argument: ${argv[i]}`);
  }
  return out;
}

/** In the page from its first script on: the Resource Timing list at `fannotate:ready`. */
const WATCH_READY = `(() => {
  addEventListener('fannotate:ready', () => {
    if (window.__faFirstLoad) return;
    window.__faFirstLoad = {
      readyMs: performance.now(),
      readyEpochMs: performance.timeOrigin + performance.now(),
      urls: [location.href, ...performance.getEntriesByType('resource').map((e) => e.name)],
    };
  }, true);
})();`;

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? walk(p) : [p];
  });
}

async function firstLoad() {
  const web = await startWeb();
  const browser = await launchBrowser();
  try {
    const context = await newContext(browser);
    await context.addInitScript(WATCH_READY);
    const page = await context.newPage();
    const bodies = new Map();
    const requested = new Map();
    page.on('request', (r) => requested.set(r.url(), (requested.get(r.url()) ?? 0) + 1));
    // Also the page's workers' requests (reported on the page, not in its Resource
    // Timing list): each with the time it finished.
    const finished = [];
    page.on('requestfinished', (r) => {
      const t = r.timing();
      finished.push({ url: r.url(), endEpochMs: t.startTime + t.responseEnd });
    });
    page.on('response', (r) => {
      if (!bodies.has(r.url())) bodies.set(r.url(), r.body().catch((e) => { throw new Error(`${r.url()}: ${e.message}`); }));
    });
    const worker = [];
    context.on('request', (r) => { if (r.serviceWorker()) worker.push(r.url()); });
    await page.goto(web.url);
    await page.waitForFunction(() => window.__faFirstLoad, null, { timeout: 60_000 });
    await page.getByTestId('projects-view').waitFor({ state: 'visible', timeout: 60_000 });
    const { readyMs, readyEpochMs, urls } = await page.evaluate(() => window.__faFirstLoad);
    const byWorker = finished.filter((f) => f.endEpochMs <= readyEpochMs && !urls.includes(f.url)).map((f) => f.url);
    const origin = new URL(web.url).origin;
    const files = [];
    for (const url of [...new Set([...urls, ...byWorker])]) {
      if (!/^https?:/.test(url)) continue;
      check(bodies.has(url), `a response body for ${url}`);
      const body = await bodies.get(url);
      const u = new URL(url);
      files.push({
        path: u.origin === origin ? decodeURIComponent(u.pathname.replace(/^\//, '')) || 'index.html' : url,
        same_origin: u.origin === origin,
        bytes: body.length,
        gzip_bytes: gzip9(body),
        requests: requested.get(url) ?? 0,
        by_worker: byWorker.includes(url),
      });
    }
    await context.close();
    return { readyMs, files, worker: [...new Set(worker)].map((u) => new URL(u).pathname) };
  } finally {
    await browser.close();
    await web.close();
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const load = await firstLoad();
  check(load.files.length > 0, 'the page fetched something before it was ready');
  check(load.files.some((f) => f.path.endsWith('.wasm')), 'the app wasm is among the first-load files');
  const total = load.files.reduce((n, f) => n + f.gzip_bytes, 0);

  const workers = walk(DIST).filter((p) => WORKER_WASM.test(path.basename(p)));
  const workerGz = workers.reduce((n, p) => n + gzip9(fs.readFileSync(p)), 0);

  const keys = {
    first_load_gzip_bytes: total,
    first_load_files: Object.fromEntries(load.files.map((f) => [f.path, f.gzip_bytes])),
    worker_wasm_gzip_bytes: workerGz,
  };
  console.log(`first load (until fannotate:ready at ${load.readyMs.toFixed(0)} ms, projects view shown), gzip -9 bytes:`);
  console.log(figureTable([
    ...load.files.map((f) => [`  ${f.path}${f.same_origin ? '' : ' (other origin)'}${f.by_worker ? ' (a worker\'s)' : ''}${f.requests > 1 ? ` (${f.requests} requests)` : ''}`, `${f.gzip_bytes} (raw ${f.bytes})`]),
    ['first_load_gzip_bytes', total],
    ['  not counted: service worker fetches', load.worker.join(' ') || '(none)'],
    ['worker_wasm_gzip_bytes', workers.length
      ? `${workerGz} (${workers.map((p) => path.relative(DIST, p)).join(', ')})`
      : '0 (no worker wasm in dist/: no file matches *worker*.wasm)'],
  ]));
  if (args.merge) {
    const file = path.resolve(args.merge);
    const json = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
    fs.writeFileSync(file, JSON.stringify({ ...json, ...keys }) + '\n');
  } else {
    console.log(JSON.stringify(keys));
  }
}

main().catch((e) => {
  console.error(`bench size: ${e.stack ?? e.message}`);
  process.exit(1);
});
