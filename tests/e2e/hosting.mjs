// Shared by the CSP, audit and offline tests (issue #8): the whole workflow against the
// mock, and collectors for CSP violations and console errors.
import { expect } from '@playwright/test';
import fs from 'node:fs';
import { spamSample } from './support.mjs';
import { parseCsv } from '../mock/server.mjs';

/** Data rows of an exported CSV file (fields may hold line breaks). */
export function csvRows(file) {
  return parseCsv(fs.readFileSync(file, 'utf8')).filter((r) => r.some((f) => f !== '')).length - 1;
}

/**
 * Project, 20-row import, codebook, endpoint (the mock), run, results, CSV export.
 * @returns {Promise<string>} the exported file
 */
export async function wholeWorkflow(app, llm, name = 'Hosting') {
  await app.createProject(name);
  await app.importCsv(spamSample(20).file, { text: 'text', id: 'id', gold: 'label' });
  await expect(app.byTest('dataset-rows')).toHaveText('20');
  await app.defineAttribute('spam', [['ham', 'normal'], ['spam', 'junk']]);
  await app.configureEndpoint({ baseUrl: `${llm.url}/v1`, model: 'mock-model', provider: 'generic', constraint: 'none' });
  await app.startRun();
  await app.waitRunFinished(20);
  await app.step('results');
  await expect(app.byTest('accuracy')).toBeVisible();
  const file = await app.exportCsv('csv');
  expect(csvRows(file)).toBe(20);
  return file;
}

/**
 * Record every `securitypolicyviolation` of the context's pages (across reloads) into
 * the returned array.
 */
export async function collectViolations(context) {
  const violations = [];
  await context.exposeBinding('__faViolation', (_source, v) => violations.push(v));
  await context.addInitScript(() => {
    document.addEventListener(
      'securitypolicyviolation',
      (e) =>
        window.__faViolation({
          blockedURI: e.blockedURI,
          violatedDirective: e.violatedDirective,
          effectiveDirective: e.effectiveDirective,
          sourceFile: e.sourceFile,
          lineNumber: e.lineNumber,
          sample: e.sample,
          // Where: the element (for attributes) and the app view on screen.
          element: e.target instanceof Element ? `${e.target.tagName.toLowerCase()}.${[...e.target.classList].join('.')}` : null,
          view: document.querySelector('section.fa-view')?.dataset.testid ?? null,
        }),
      true,
    );
  });
  return violations;
}

/** Console errors and uncaught exceptions of a page. */
export function collectErrors(page) {
  const errors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

/** Wait until the page is controlled by an activated service worker. */
export async function waitControlled(page) {
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.waitForFunction(() => navigator.serviceWorker.controller?.state === 'activated', null, { timeout: 30_000 });
}
