// Distil (issue #17): a student trained in the compute worker on an LLM run's
// labels, never on the gold rows, compared with the LLM on them; the learning
// curve, the time per day, and both exports, re-read here and by fannotate-core.
import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { Fannotate, ROOT, startServers, spamSample } from './support.mjs';
import { parseCsv } from '../mock/server.mjs';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
// axe is injected as an inline script, which the app's CSP forbids (see a11y.mock.spec.mjs).
// Routes must see the worker's own requests, which a service worker would answer.
test.use({ bypassCSP: true, serviceWorkers: 'block' });

const ROWS = 400;
const GOLD = 120;

let servers;
test.beforeAll(async () => {
  servers = await startServers({ mock: { latencyMs: 20, wrongRate: 0.12 } });
});
test.afterAll(async () => servers?.close());

const csvField = (s) => (/[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

/** The first ROWS SpamAssassin rows; only the first GOLD keep their label. */
function partlyLabelled() {
  const { header, rows } = spamSample(ROWS);
  const li = header.indexOf('label');
  const kept = rows.map((r, i) => r.map((c, j) => (j === li && i >= GOLD ? '' : c)));
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fa-distil-')), 'spam-partly.csv');
  fs.writeFileSync(file, [header, ...kept].map((r) => r.map(csvField).join(',')).join('\n') + '\n');
  return { file, header, rows };
}

/** A project with the partly labelled rows, a spam codebook and one finished run per model. */
async function labelledProject(page, name, models) {
  const app = new Fannotate(page);
  const data = partlyLabelled();
  await app.open(servers.web.url);
  await app.createProject(name);
  await app.importCsv(data.file, { text: 'text', id: 'id', gold: 'label' });
  await app.defineAttribute('spam', [['ham', 'a normal email'], ['spam', 'unsolicited bulk email']]);
  for (const model of models) {
    await app.configureEndpoint({ baseUrl: `${servers.llm.url}/v1`, model, concurrency: 6, constraint: 'none', provider: 'generic' });
    await app.startRun();
    await app.waitRunFinished(ROWS);
  }
  return { app, data };
}

async function download(page, control) {
  const d = page.waitForEvent('download');
  await control.click();
  const file = await (await d).path();
  return { name: (await d).suggestedFilename(), text: fs.readFileSync(file, 'utf8'), file };
}

test('a student trained on the LLM labels is compared with the LLM on the held-out gold rows, with a learning curve, time per day and exports', async ({ page }) => {
  const { app, data } = await labelledProject(page, 'Distil', ['mock-model']);

  await app.step('distil');
  const split = app.byTest('distil-split');
  await expect(split).toHaveAttribute('data-gold', String(GOLD));
  const nTrain = Number(await split.getAttribute('data-train'));
  // Every row without gold that the LLM labelled validly (the mock answers some outside the set).
  expect(nTrain).toBeGreaterThan(ROWS - GOLD - 40);
  expect(nTrain).toBeLessThanOrEqual(ROWS - GOLD);

  await app.byTest('distil-train').click();
  const status = app.byTest('distil-status');
  await expect(status).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  await expect(status).not.toContainText('on the page');
  await expect(status).toContainText(`Trained on ${nTrain} rows`);
  const report = app.byTest('distil-report');
  await expect(report.getByTestId('distil-student')).toBeVisible();
  await expect(report.getByTestId('distil-teacher')).toBeVisible();
  await expect(report.getByTestId('distil-human')).toBeVisible();
  const heldOut = Number(/the (\d+) held-out rows/.exec(await app.byTest('distil-held-out').textContent())[1]);
  expect(heldOut).toBeGreaterThan(GOLD - 20);
  expect(heldOut).toBeLessThanOrEqual(GOLD);
  const studentAcc = Number(await report.getByTestId('distil-student').getAttribute('data-accuracy'));
  const teacherAcc = Number(await report.getByTestId('distil-teacher').getAttribute('data-accuracy'));
  // The mock is right on about 88 % of rows; a hashed-n-gram student on 280 rows does far better than chance.
  expect(teacherAcc).toBeGreaterThan(0.75);
  expect(studentAcc).toBeGreaterThan(0.6);
  await expect(app.byTest('distil-mcnemar')).toContainText('McNemar');
  await expect(app.byTest('curve-point')).toHaveCount(4);
  const ns = await app.byTest('curve-point').evaluateAll((els) => els.map((e) => Number(e.dataset.n)));
  expect(ns).toEqual([0.1, 0.25, 0.5, 1].map((f) => Math.ceil(nTrain * f)));
  await expect(app.byTest('distil-projection').getByTestId('chart-bar')).toHaveCount(2);
  const itemsPerS = Number(await app.byTest('distil-throughput').getAttribute('data-items-per-s'));
  expect(itemsPerS).toBeGreaterThan(0);

  // The training set: every labelled row once, split and source named.
  const jsonl = await download(page, app.byTest('distil-export-jsonl'));
  const lines = jsonl.text.trim().split('\n').map((l) => JSON.parse(l));
  expect(lines.filter((l) => l.split === 'validation')).toHaveLength(GOLD);
  expect(lines.filter((l) => l.split === 'train')).toHaveLength(nTrain);
  expect(lines.filter((l) => l.split === 'validation').every((l) => l.source === 'human')).toBe(true);
  expect(new Set(lines.map((l) => l.id)).size).toBe(lines.length);
  const csv = parseCsv((await download(page, app.byTest('distil-export-csv'))).text);
  expect(csv[0]).toEqual(['id', 'text', 'label', 'source', 'confidence', 'split']);
  expect(csv.length - 1).toBe(lines.length);

  // The model: fannotate-core's own scorer reproduces the student's accuracy on the held-out rows.
  const model = await download(page, app.byTest('distil-export-model'));
  const parsed = JSON.parse(model.text);
  expect(parsed.classes).toEqual(['ham', 'spam']);
  const gold = new Map(lines.filter((l) => l.split === 'validation').map((l) => [l.id, l.label]));
  const llm = new Map(lines.filter((l) => l.split === 'train').map((l) => [l.id, l.label]));
  const dir = path.dirname(data.file);
  const toScore = path.join(dir, 'validation.csv');
  const validation = data.rows.slice(0, GOLD);
  fs.writeFileSync(toScore, ['id,text', ...validation.map((r) => `${csvField(r[0])},${csvField(r[1])}`)].join('\n') + '\n');
  const out = JSON.parse(execFileSync('cargo', ['run', '-q', '--locked', '-p', 'fannotate-core', '--example', 'student', '--', 'score', model.file, toScore], {
    cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024,
  }));
  expect(out.ids).toHaveLength(GOLD);
  expect(llm.size).toBe(nTrain);
  // The report scores the held-out rows the LLM also labelled: the LLM's answers
  // are not in the export for gold rows, so compare over all of them, and check
  // the app's figure lies within what leaving out the unlabelled ones can change.
  const right = out.ids.filter((id, k) => out.pred[k] === gold.get(id)).length;
  const accAll = right / GOLD;
  expect(Math.abs(accAll - studentAcc)).toBeLessThanOrEqual((GOLD - heldOut) / GOLD + 1e-9);

  await page.screenshot({ path: 'test-results/distil-report.png', fullPage: true });
  // axe on the report.
  await page.addScriptTag({ path: AXE });
  const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const blocking = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(blocking.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);

  // The student stands beside the LLM configurations in the Experiments projection,
  // after a reload too (it is kept with the project).
  await app.reload();
  await app.step('experiments');
  await app.byTest('grid-temperatures').fill('0, 0.7');
  await app.byTest('grid-validation-all').check();
  await app.byTest('grid-start').click();
  await expect(app.byTest('experiment-status')).toHaveAttribute('data-complete', 'true', { timeout: 60_000 });
  const studentRow = app.byTest('projection-row').filter({ hasText: `Student trained on ${nTrain} LLM labels` });
  await expect(studentRow).toHaveCount(1);
  await expect(app.byTest('projection-row')).toHaveCount(3);
  // 6,500 texts a day (the default volume) at the rate the Distil step measured.
  expect(Number(await studentRow.getAttribute('data-hours'))).toBeCloseTo(6500 / (itemsPerS * 3600), 9);
  await expect(app.byTest('chart-hours')).toContainText('Student trained on');
});

test('training can be cancelled and started again, by keyboard', async ({ page }) => {
  const { app } = await labelledProject(page, 'Distil cancel', ['mock-model']);
  // A worker that reports a step and never finishes: only Cancel ends the job.
  await page.route('**/fannotate-worker_loader.js', (route) => route.fulfill({
    status: 200,
    contentType: 'text/javascript',
    body: `postMessage(JSON.stringify({ type: 'ready' }));
onmessage = (e) => postMessage(JSON.stringify({ type: 'progress', id: e.data.id, done: 1, total: 11 }));`,
  }));
  await app.step('distil');
  await app.byTest('distil-train').focus();
  await page.keyboard.press('Enter');
  const status = app.byTest('distil-status');
  await expect(status).toHaveAttribute('data-state', 'running');
  await expect(status).toContainText('step 1 of 11');
  await app.byTest('distil-cancel').focus();
  await page.keyboard.press('Enter');
  await expect(status).toHaveAttribute('data-state', 'cancelled');
  await page.unroute('**/fannotate-worker_loader.js');
  await app.byTest('distil-train').focus();
  await page.keyboard.press('Enter');
  await expect(status).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  await expect(app.byTest('curve-point')).toHaveCount(4);
});

test('three configurations combined by Dawid–Skene make a run of their own that Results scores and the student learns from', async ({ page }) => {
  // The mock errs on different rows for each model name (a fixed hash), as different models would.
  const { app } = await labelledProject(page, 'Distil combine', ['mock-a', 'mock-b', 'mock-c']);
  await app.step('distil');
  const card = app.byTest('combine-runs');
  await expect(card.getByTestId('combine-run')).toHaveCount(3);
  await expect(app.byTest('combine-start')).toBeDisabled();
  await card.getByTestId('combine-run').nth(0).check();
  await expect(app.byTest('combine-hint')).toBeVisible();
  await card.getByTestId('combine-run').nth(1).check();
  await card.getByTestId('combine-run').nth(2).check();
  await app.byTest('combine-method').selectOption('dawid_skene');
  await app.byTest('combine-start').click();
  await expect(page.getByText(/Combined 3 runs by Dawid–Skene into a new run of \d+ rows/).last()).toBeVisible();
  // The new run is the one the step now learns from.
  await expect(app.byTest('distil-run').locator('option:checked')).toHaveText(/Dawid–Skene of 3 runs/);
  await app.byTest('distil-train').click();
  await expect(app.byTest('distil-status')).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  await expect(app.byTest('distil-teacher')).toContainText('LLM runs combined (Dawid–Skene of 3 runs)');

  // Results scores it like any run: better than each configuration alone on the gold rows.
  await app.step('results');
  const accuracyOf = async (option, scope) => {
    const value = await app.byTest('results-run').locator('option').filter({ hasText: option }).getAttribute('value');
    await app.byTest('results-run').selectOption(value);
    await expect(app.byTest('results-scope')).toContainText(scope);
    await expect(app.byTest('accuracy-ci')).toContainText('95 % CI');
    return Number(await app.byTest('accuracy').getAttribute('data-value'));
  };
  const singles = [];
  for (const model of ['mock-a', 'mock-b', 'mock-c']) singles.push(await accuracyOf(`${model} ·`, `(model ${model},`));
  const combined = await accuracyOf('Dawid–Skene of 3 runs', '(Dawid–Skene of 3 runs,');
  expect(combined).toBeGreaterThan(Math.max(...singles));
});

test('the whole Distil screen works from the keyboard: combine, choose, train, download', async ({ page }) => {
  const { app } = await labelledProject(page, 'Distil keys', ['mock-a', 'mock-b']);
  await app.step('distil');
  // Tab order from the step's own first control: every control is reached, with a visible focus ring.
  const reach = async (until) => {
    const seen = [];
    for (let i = 0; i < 60; i++) {
      await page.keyboard.press('Tab');
      const f = await page.evaluate(() => {
        const el = document.activeElement;
        const style = getComputedStyle(el);
        return { id: el?.dataset?.testid ?? '', ring: style.outlineStyle !== 'none' || style.boxShadow !== 'none' };
      });
      seen.push(f);
      if (f.id === until) break;
    }
    return seen;
  };
  await app.byTest('distil-run').focus();
  const first = await reach('combine-start');
  const ids = first.map((f) => f.id);
  for (const id of ['distil-train', 'distil-export-jsonl', 'distil-export-csv', 'combine-run', 'combine-method']) expect(ids).toContain(id);
  expect(first.filter((f) => f.id && !f.ring).map((f) => f.id)).toEqual([]);

  // Combine both runs: Space ticks a box, Enter combines.
  const boxes = app.byTest('combine-run');
  await boxes.nth(0).focus();
  await page.keyboard.press('Space');
  await boxes.nth(1).focus();
  await page.keyboard.press('Space');
  await app.byTest('combine-start').focus();
  await page.keyboard.press('Enter');
  await expect(app.byTest('distil-run').locator('option:checked')).toHaveText(/Dawid–Skene of 2 runs/);
  // Back to a single run with the arrow keys, then train with Enter once the
  // screen shows that run (a choice reloads the step's data).
  await app.byTest('distil-run').focus();
  await page.keyboard.press('ArrowDown');
  await expect(app.byTest('distil-run').locator('option:checked')).not.toHaveText(/Dawid–Skene/);
  const picked = await app.byTest('distil-run').inputValue();
  await expect(app.byTest('distil-split')).toHaveAttribute('data-value', picked);
  await app.byTest('distil-train').focus();
  await page.keyboard.press('Enter');
  await expect(app.byTest('distil-status')).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  // The report's download is reached by Tab too, and Enter starts it.
  await app.byTest('distil-train').focus();
  const after = await reach('distil-export-model');
  expect(after.map((f) => f.id)).toContain('distil-export-model');
  const download = page.waitForEvent('download');
  await page.keyboard.press('Enter');
  expect((await download).suggestedFilename()).toMatch(/\.json$/);
});
