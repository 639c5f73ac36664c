// Distil with human labels (issue #17): a team with no gold column labels its
// validation set by hand in Review; Distil scores against those labels (the
// leaderboard's rule: a human label first, else the gold column), and can train
// the student on the human labels outside the validation set, never on it.
import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { Fannotate, startServers, spamSample } from './support.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
// axe is injected as an inline script, which the app's CSP forbids (see a11y.mock.spec.mjs).
test.use({ bypassCSP: true });

const ROWS = 160;
const VALIDATION = 30;
const EXTRA = 40;

let servers;
test.beforeAll(async () => {
  servers = await startServers({ mock: { latencyMs: 20, wrongRate: 0.12 } });
});
test.afterAll(async () => servers?.close());

/** A project of the first `n` SpamAssassin rows imported without a gold column, and a spam codebook. */
async function unlabelledProject(page, name, n) {
  const app = new Fannotate(page);
  const sample = spamSample(n);
  const [ii, li] = ['id', 'label'].map((h) => sample.header.indexOf(h));
  const truth = new Map(sample.rows.map((r) => [r[ii], r[li]]));
  await app.open(servers.web.url);
  await app.createProject(name);
  await app.importCsv(sample.file, { text: 'text', id: 'id', gold: null });
  await app.defineAttribute('spam', [['ham', 'a normal email'], ['spam', 'unsolicited bulk email']]);
  return { app, truth };
}

/**
 * Label `count` items of the open Review queue with their true label by
 * keyboard (1 ham, 2 spam); `before` rows had a human label. Returns the ids.
 */
async function labelByHand(app, truth, count, before) {
  const ids = [];
  await app.byTest('review-pane').focus();
  for (let i = 0; i < count; i++) {
    const id = await app.byTest('review-id').textContent();
    ids.push(id);
    await app.page.keyboard.press(truth.get(id) === 'spam' ? '2' : '1');
    await expect(app.byTest('review-progress')).toContainText(`${before + i + 1} of ${truth.size} rows have a human label`);
  }
  return ids;
}

async function download(page, control) {
  const d = page.waitForEvent('download');
  await control.click();
  return fs.readFileSync(await (await d).path(), 'utf8');
}

const jsonl = (text) => text.trim().split('\n').map((l) => JSON.parse(l));

test('a validation set labelled by hand is the gold of a run-taught student, and the human labels outside it can teach one', async ({ page }) => {
  test.setTimeout(300_000);
  const { app, truth } = await unlabelledProject(page, 'Distil human', ROWS);

  // The validation set, labelled blind in Review: the project's only gold labels.
  await app.step('review');
  await app.byTest('validation-summary').click();
  await app.setField('validation-size', VALIDATION);
  await app.byTest('validation-draw').click();
  await expect(app.byTest('validation-summary')).toHaveText(`Validation set: ${VALIDATION} rows (random, seed 1)`);
  await app.byTest('review-queue').selectOption('validation');
  await expect(app.byTest('review-progress')).toContainText(`of ${VALIDATION} in this queue`);
  const validationIds = await labelByHand(app, truth, VALIDATION, 0);

  await app.configureEndpoint({ baseUrl: `${servers.llm.url}/v1`, model: 'mock-model', concurrency: 6, constraint: 'none', provider: 'generic' });
  await app.startRun();
  await app.waitRunFinished(ROWS);

  // (a) A run teaches; the hand-labelled validation rows are its gold labels.
  await app.step('distil');
  const split = app.byTest('distil-split');
  await expect(split).toHaveAttribute('data-source', 'run');
  await expect(split).toHaveAttribute('data-gold', String(VALIDATION));
  await expect(split).toHaveAttribute('data-unlabelled', '0');
  await expect(split).toContainText(`validation set (${VALIDATION} rows, random, seed 1)`);
  await expect(app.byTest('distil-blocked')).toHaveCount(0);
  const nTrain = Number(await split.getAttribute('data-train'));
  // The run's valid labels outside the validation set (the mock fails a few).
  expect(nTrain).toBeGreaterThan(ROWS - VALIDATION - 30);
  expect(nTrain).toBeLessThanOrEqual(ROWS - VALIDATION);
  await app.byTest('distil-train').click();
  await expect(app.byTest('distil-status')).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  await expect(app.byTest('distil-status')).toContainText(`Trained on ${nTrain} rows`);
  const report = app.byTest('distil-report');
  await expect(report).toHaveAttribute('data-source', 'run');
  const heldOut = Number(await app.byTest('distil-held-out').getAttribute('data-held-out'));
  expect(heldOut).toBeGreaterThan(VALIDATION - 8);
  expect(heldOut).toBeLessThanOrEqual(VALIDATION);
  // The mock is right on about 88 % of rows, scored here against the person's labels.
  expect(Number(await report.getByTestId('distil-teacher').getAttribute('data-accuracy'))).toBeGreaterThan(0.7);
  await expect(app.byTest('distil-mcnemar')).toContainText('McNemar');
  const runSet = jsonl(await download(page, app.byTest('distil-export-jsonl')));
  const runValidation = runSet.filter((l) => l.split === 'validation');
  expect(runValidation.map((l) => l.id).sort()).toEqual([...validationIds].sort());
  expect(runValidation.every((l) => l.source === 'human' && l.label === truth.get(l.id))).toBe(true);
  expect(runSet.filter((l) => l.split === 'train').every((l) => l.source.startsWith('run:'))).toBe(true);

  // (c) The human labels as teacher: every one is a validation row, so nothing to train on.
  await app.byTest('distil-run').selectOption({ label: 'Human labels · spam' });
  await expect(split).toHaveAttribute('data-source', 'human');
  await expect(split).toHaveAttribute('data-train', '0');
  await expect(split).toHaveAttribute('data-gold', String(VALIDATION));
  await expect(app.byTest('distil-blocked')).toContainText('Every human label is on a row of the validation set');
  await expect(app.byTest('distil-blocked')).toContainText('Label rows outside the validation set in the Review step');
  await expect(app.byTest('distil-train')).toBeDisabled();
  await expect(app.byTest('distil-report')).toHaveCount(0);

  // (b) Rows outside the validation set labelled by hand teach the student.
  await app.step('review');
  await app.byTest('review-queue').selectOption('unreviewed');
  await expect(app.byTest('review-progress')).toContainText(`of ${ROWS - VALIDATION} in this queue`);
  const trainIds = await labelByHand(app, truth, EXTRA, VALIDATION);
  expect(trainIds.filter((id) => validationIds.includes(id))).toEqual([]);

  await app.step('distil');
  await app.byTest('distil-run').selectOption({ label: 'Human labels · spam' });
  await expect(split).toHaveAttribute('data-source', 'human');
  await expect(split).toHaveAttribute('data-train', String(EXTRA));
  await expect(split).toHaveAttribute('data-gold', String(VALIDATION));
  await expect(app.byTest('distil-blocked')).toHaveCount(0);
  await app.byTest('distil-train').click();
  await expect(app.byTest('distil-status')).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  await expect(app.byTest('distil-status')).toContainText(`Trained on ${EXTRA} rows`);
  await expect(report).toHaveAttribute('data-source', 'human');
  // Every validation row is held out and scored: none was trained on.
  await expect(app.byTest('distil-held-out')).toHaveAttribute('data-held-out', String(VALIDATION));
  await expect(report.getByTestId('distil-student')).toContainText(`Student trained on ${EXTRA} human labels`);
  // No LLM to compare with: no teacher row, no McNemar test, and the screen says why.
  await expect(report.getByTestId('distil-teacher')).toHaveCount(0);
  await expect(app.byTest('distil-mcnemar')).toHaveCount(0);
  await expect(app.byTest('distil-no-teacher')).toContainText('learnt from human labels');
  await expect(report.getByTestId('distil-human')).toBeVisible();
  const ns = await app.byTest('curve-point').evaluateAll((els) => els.map((e) => Number(e.dataset.n)));
  // The seeded subsets of the 40 rows; one of a single class (4 rows may be) has no point.
  const subsets = [0.1, 0.25, 0.5, 1].map((f) => Math.ceil(EXTRA * f));
  expect(ns.every((n) => subsets.includes(n))).toBe(true);
  expect(ns.slice(-3)).toEqual(subsets.slice(-3));
  await expect(app.byTest('distil-projection').getByTestId('chart-bar')).toHaveCount(1);

  // The training set says the human labels taught, and keeps the two splits apart.
  const set = jsonl(await download(page, app.byTest('distil-export-jsonl')));
  expect(set).toHaveLength(VALIDATION + EXTRA);
  expect(set.every((l) => l.source === 'human' && l.label === truth.get(l.id))).toBe(true);
  expect(set.filter((l) => l.split === 'train').map((l) => l.id).sort()).toEqual([...trainIds].sort());
  expect(set.filter((l) => l.split === 'validation').map((l) => l.id).sort()).toEqual([...validationIds].sort());

  await page.screenshot({ path: 'test-results/distil-human-report.png', fullPage: true });
  await page.addScriptTag({ path: AXE });
  const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const blocking = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(blocking.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
});

test('with no validation set chosen every human label is a validation row, and the step says there is nothing to train on', async ({ page }) => {
  const { app, truth } = await unlabelledProject(page, 'Distil human only', 40);
  await app.step('review');
  await labelByHand(app, truth, 12, 0);

  // No run: the human labels are the only source.
  await app.step('distil');
  const split = app.byTest('distil-split');
  await expect(split).toHaveAttribute('data-source', 'human');
  await expect(split).toHaveAttribute('data-train', '0');
  await expect(split).toHaveAttribute('data-gold', '12');
  await expect(split).toContainText('No validation set was chosen');
  const blocked = app.byTest('distil-blocked');
  await expect(blocked).toContainText('No validation set is chosen, so every row with a human label is a validation row');
  await expect(blocked).toContainText("or train on a run's labels instead");
  await expect(app.byTest('distil-train')).toBeDisabled();
  await expect(app.byTest('distil-export-jsonl')).toBeDisabled();
  await expect(app.byTest('distil-report')).toHaveCount(0);
});
