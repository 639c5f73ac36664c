// The compute worker (issue #16): the Results step's bootstrap intervals are
// computed in it, show progress, can be cancelled and computed again; a worker
// that dies gives a clear error and a retry; where no worker can start the page
// computes the same figures itself.
import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Fannotate, startServers } from './support.mjs';
import { writeBackup, restoreThroughUi } from '../bench/common.mjs';

const ROWS = 400;
const NAME = 'Worker results';
const LOADER = '**/fannotate-worker_loader.js';
// The intervals as the page's own fallback and the worker both must show them.
const CI = /^n = 400 · 95 % CI \d+\.\d–\d+\.\d %$/;

let servers;
let backup;
test.beforeAll(async () => {
  servers = await startServers();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fa-worker-'));
  backup = path.join(dir, 'worker.fannotate.json');
  writeBackup(backup, ROWS, { ids: { project: 'w-project', dataset: 'w-dataset', run: 'w-run' }, name: NAME });
});
test.afterAll(async () => servers?.close());

// Routes must see the worker's own requests, which a service worker would answer.
test.use({ serviceWorkers: 'block' });

/** A stand-in worker script: says it is ready, then `onJob` runs for each job. */
const fakeWorker = (onJob) => ({
  status: 200,
  contentType: 'text/javascript',
  body: `postMessage(JSON.stringify({ type: 'ready' }));
onmessage = (e) => { const id = e.data.id; ${onJob} };`,
});

async function openResults(page) {
  const app = new Fannotate(page);
  await app.open(servers.web.url);
  await restoreThroughUi(app, backup, NAME, ROWS);
  await app.step('results');
  return app;
}

test('the intervals come from the compute worker, with the worker loaded only on first use', async ({ page }) => {
  const fetched = [];
  page.on('request', (r) => fetched.push(new URL(r.url()).pathname));
  const app = new Fannotate(page);
  await app.open(servers.web.url);
  expect(fetched.some((p) => p.includes('worker'))).toBe(false);
  await restoreThroughUi(app, backup, NAME, ROWS);
  await app.step('results');
  await expect(app.byTest('accuracy-ci')).toHaveText(CI);
  const status = app.byTest('intervals-status');
  await expect(status).toHaveAttribute('data-state', 'done');
  await expect(status).toHaveText('Intervals: 1000 bootstrap resamples of the rows with both labels (seed 42).');
  expect(fetched).toContain('/fannotate-worker_bg.wasm');
  await expect(app.byTest('kappa-ci')).toContainText('95 % CI');
});

test('with no worker the page computes the same intervals itself and says so', async ({ page }) => {
  // First the worker's figures, then the page's with the worker's script gone.
  let app = await openResults(page);
  await expect(app.byTest('accuracy-ci')).toHaveText(CI);
  const fromWorker = await Promise.all(['accuracy-ci', 'kappa-ci', 'f1-ci'].map((t) => app.byTest(t).textContent()));
  await page.route(LOADER, (route) => route.fulfill({ status: 404, body: 'gone' }));
  await page.reload();
  app = new Fannotate(page);
  await app.step('results');
  await expect(app.byTest('intervals-status')).toHaveAttribute('data-state', 'done');
  await expect(app.byTest('intervals-status')).toContainText('Computed on the page');
  const onPage = await Promise.all(['accuracy-ci', 'kappa-ci', 'f1-ci'].map((t) => app.byTest(t).textContent()));
  expect(onPage).toEqual(fromWorker);
});

test('a worker that dies mid-job gives an error and a retry that works', async ({ page }) => {
  await page.route(LOADER, (route) => route.fulfill(fakeWorker(
    `postMessage(JSON.stringify({ type: 'progress', id, done: 10, total: 1000 })); setTimeout(() => { throw new Error('worker out of memory'); });`,
  )));
  const app = await openResults(page);
  const status = app.byTest('intervals-status');
  await expect(status).toHaveAttribute('data-state', 'failed');
  await expect(status.getByRole('alert')).toContainText('The compute worker stopped unexpectedly');
  await expect(app.byTest('accuracy-ci')).toHaveText('n = 400 · interval pending');
  await page.unroute(LOADER);
  await app.byTest('intervals-retry').click();
  await expect(status).toHaveAttribute('data-state', 'done');
  await expect(app.byTest('accuracy-ci')).toHaveText(CI);
});

test('a running job shows its progress and can be cancelled, then computed again', async ({ page }) => {
  // This worker reports progress and never finishes: only Cancel ends the job.
  await page.route(LOADER, (route) => route.fulfill(fakeWorker(
    `postMessage(JSON.stringify({ type: 'progress', id, done: 250, total: 1000 }));`,
  )));
  const app = await openResults(page);
  const status = app.byTest('intervals-status');
  await expect(status).toHaveAttribute('data-state', 'running');
  await expect(status).toContainText('250 of 1000 bootstrap resamples');
  await app.byTest('intervals-cancel').click();
  await expect(status).toHaveAttribute('data-state', 'cancelled');
  await page.unroute(LOADER);
  await app.byTest('intervals-retry').click();
  await expect(status).toHaveAttribute('data-state', 'done');
  await expect(app.byTest('accuracy-ci')).toHaveText(CI);
});
