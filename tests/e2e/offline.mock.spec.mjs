// Offline use (issue #8): once loaded, the app (served from a sub-path) reloads and
// works with the network off and the server gone: stored data, results, export, run
// view. A new build is picked up by the service worker and used from the next load.
import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DIST, Fannotate, SPAM_CSV } from './support.mjs';
import { collectErrors, csvRows, waitControlled, wholeWorkflow } from './hosting.mjs';
import { startStatic } from '../../scripts/serve.mjs';
import { writeServiceWorker } from '../../scripts/postbuild.mjs';
import { startMock } from '../mock/server.mjs';

/** A private copy of dist/ (the update test changes it), served at `base`. */
async function serveCopy(base) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fa-dist-'));
  fs.cpSync(DIST, dir, { recursive: true });
  const web = await startStatic({ dir, host: '127.0.0.1', port: 0, base });
  return { dir, web };
}

let llm;
test.beforeAll(async () => { llm = await startMock({ host: '127.0.0.1', port: 0, gold: SPAM_CSV, latencyMs: 20 }); });
test.afterAll(async () => llm?.close());

test('after one load, the app reloads and works offline with its stored data', async ({ page, context }) => {
  const { web } = await serveCopy('/offline/app/');
  try {
    const errors = collectErrors(page);
    const app = new Fannotate(page);
    await app.open(web.url);
    await waitControlled(page);
    // The first install is not an update.
    expect(await page.evaluate(() => window.fannotateUpdate)).toBeUndefined();
    await wholeWorkflow(app, llm, 'Offline');

    await context.setOffline(true);
    await web.close(); // and the server is gone too
    await app.reload();
    expect(await page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
    await app.step('data');
    await expect(app.byTest('dataset-rows')).toHaveText('20');
    await app.step('results');
    await expect(app.byTest('accuracy')).toBeVisible();
    const file = await app.exportCsv('csv');
    expect(csvRows(file)).toBe(20);
    await app.step('run');
    await expect(app.byTest('run-status').first()).toHaveText('completed');
    await app.step('codebook');
    await expect(app.byTest('attribute-name')).toHaveValue('spam');
    // Offline, only config.json may fail to load (CSP reports are csp.mock.spec.mjs's).
    expect(errors.filter((e) => !/config\.json|Content Security Policy/.test(e))).toEqual([]);
  } finally {
    await context.setOffline(false);
    await web.close();
  }
});

test('a new build is installed in the background and used from the next load', async ({ page, context }) => {
  await context.addInitScript(() => addEventListener('fannotate:update-ready', () => { window.__updateEvents = (window.__updateEvents ?? 0) + 1; }));
  const { dir, web } = await serveCopy('/update/');
  try {
    const app = new Fannotate(page);
    await app.open(web.url);
    await waitControlled(page);
    const marker = page.locator('meta[name="fannotate-test-build"]');
    await expect(marker).toHaveCount(0);

    // "Deploy" a new build: a changed index.html and the sw.js postbuild.mjs writes for it.
    const index = path.join(dir, 'index.html');
    fs.writeFileSync(index, fs.readFileSync(index, 'utf8').replace('<title>', '<meta name="fannotate-test-build" content="2" />\n    <title>'));
    const { version } = writeServiceWorker(dir);

    // This load still runs the old version; the new worker installs meanwhile and says so.
    await page.reload();
    await expect(app.byTest('projects-view')).toBeVisible();
    await expect(marker).toHaveCount(0);
    await page.waitForFunction(() => window.fannotateUpdate === 'ready', null, { timeout: 30_000 });
    expect(await page.evaluate(() => window.__updateEvents)).toBe(1);
    // Only the new version's cache is left.
    await expect.poll(() => page.evaluate(() => caches.keys())).toEqual([`fannotate:/update/:${version}`]);

    // The next load is the new version, and is not announced as an update again.
    await page.reload();
    await expect(app.byTest('projects-view')).toBeVisible();
    await expect(marker).toHaveAttribute('content', '2');
    await waitControlled(page);
    expect(await page.evaluate(() => [window.fannotateUpdate, window.__updateEvents])).toEqual([undefined, undefined]);
  } finally {
    await web.close();
  }
});

test('a host page embedding <fannotate-app> registers no service worker', async ({ page }) => {
  const { web } = await serveCopy('/embed/');
  try {
    // Count register() calls from the start, instead of waiting a while and
    // hoping one would have happened by then (issue #14).
    await page.addInitScript(() => {
      window.__swRegisterCalls = 0;
      const sw = navigator.serviceWorker;
      const register = sw.register.bind(sw);
      sw.register = (...args) => { window.__swRegisterCalls++; return register(...args); };
    });
    await page.goto(`${web.url}embed-example.html`);
    await expect(page.locator('#team-a').getByText('No projects yet')).toBeVisible();
    // The only register() call is in boot.js, the standalone page's loader: the
    // host page never loads it, and nothing else asked for a worker.
    expect(await page.evaluate(() => ({
      boot: performance.getEntriesByType('resource').filter((e) => e.name.endsWith('/boot.js')).length,
      calls: window.__swRegisterCalls,
    }))).toEqual({ boot: 0, calls: 0 });
    expect(await page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length)).toBe(0);
  } finally {
    await web.close();
  }
});
