// Experiments: a 2 models × 2 prompt versions × 2 temperatures × 2 replications
// grid on 50 validation rows. The mock gives each model a known accuracy; the
// grid is interrupted by a reload, resumed, survives another reload, ranks the
// models correctly, flags the significant differences and draws both charts.
import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { Fannotate, startServers, spamSample, mockAdmin, chatPosts, ROOT, SPAM_CSV } from './support.mjs';
import { startMock } from '../mock/server.mjs';

const SPAM = [['ham', 'a normal email'], ['spam', 'unsolicited bulk email']];
const GOOD = 'model-good';
const BAD = 'model-bad';

let servers;
test.beforeAll(async () => { servers = await startServers({ mock: { latencyMs: 40 } }); });
test.afterAll(async () => servers?.close());

test('a 16-configuration grid completes across a reload, ranks the models and projects them', async ({ page }) => {
  test.setTimeout(300_000);
  await mockAdmin(servers.llm, 'config', {
    latency_ms: 40, wrong_rate: 0, invalid_rate: 0, faults: [], answer_style: 'plain',
    model_accuracy: { [GOOD]: 0.96, [BAD]: 0.6 },
    capabilities: { guided_choice: true, json_schema: true, grammar: true, logprobs: true },
  });
  await mockAdmin(servers.llm, 'reset', {});
  const app = new Fannotate(page);
  await app.open(servers.web.url);
  await app.createProject('Grid');
  await app.importCsv(spamSample(50).file, { text: 'text', id: 'id', gold: 'label' });
  await app.defineAttribute('spam', SPAM);
  // A second prompt version.
  await app.byTest('instruction').fill(`${await app.byTest('instruction').inputValue()}\nAnswer with the category name only.`);
  await app.byTest('save-codebook').click();
  await expect(page.getByText('Codebook saved as version 2').last()).toBeVisible();
  await app.configureEndpoint({ baseUrl: `${servers.llm.url}/v1`, model: GOOD, provider: 'generic', constraint: 'guided_choice', concurrency: 6 });

  await app.step('experiments');
  await app.byTest('grid-models').fill(`${GOOD}, ${BAD}`);
  await app.byTest('grid-version-1').check();
  await app.byTest('grid-temperatures').fill('0, 0.7');
  await app.byTest('grid-replications').fill('1, 2');
  // No validation set yet: the grid waits for an explicit choice (issue #14).
  await expect(app.byTest('grid-validation')).toHaveText('50 rows with a gold label for "spam", and no validation set chosen.');
  await expect(app.byTest('grid-problem')).toContainText('Choose the validation set first');
  await expect(app.byTest('grid-start')).toBeDisabled();
  await app.byTest('grid-validation-all').check();
  await expect(app.byTest('grid-problem')).toHaveCount(0);
  await expect(app.byTest('grid-cell')).toHaveCount(16);
  // Prices per model: the cost estimate appears before starting.
  const prices = app.byTest('grid-price');
  await prices.nth(0).getByPlaceholder('input').fill('0.5');
  await prices.nth(0).getByPlaceholder('input').dispatchEvent('change');
  await prices.nth(1).getByPlaceholder('output').fill('2');
  await prices.nth(1).getByPlaceholder('output').dispatchEvent('change');
  // 8 cells × 50 items × 1 request + 8 × 50 × 2 = 1,200 requests.
  await expect(app.byTest('grid-totals')).toContainText('16 configurations · 1200 requests');
  await expect(app.byTest('grid-totals')).toContainText('in the prices\' currency');
  // Removing a cell shrinks the grid; restoring brings it back.
  await app.byTest('grid-remove-cell').first().click();
  await expect(app.byTest('grid-cell')).toHaveCount(15);
  await app.byTest('grid-restore').click();
  await expect(app.byTest('grid-cell')).toHaveCount(16);
  // Over a thousand requests: asked once more before anything is sent.
  await app.byTest('grid-start').click();
  await expect(app.byTest('grid-confirm')).toContainText('This experiment sends 1200 requests');
  expect(await chatPosts(servers.llm)).toHaveLength(0);
  await app.byTest('grid-confirm-start').click();

  // Reload part-way through: finished cells stay, the open one resumes.
  await expect(app.byTest('experiment-status')).toContainText(/^[3-9] of 16|^1[0-5] of 16/, { timeout: 120_000 });
  await app.reload();
  await app.step('experiments');
  await expect(app.byTest('experiment-status')).toHaveAttribute('data-complete', 'false');
  await app.byTest('experiment-resume').click();
  await expect(app.byTest('experiment-status')).toHaveAttribute('data-complete', 'true', { timeout: 180_000 });
  await expect(app.byTest('experiment-status')).toContainText('16 of 16 configurations measured on 50 items (50 with a gold label).');

  // Survives a reload: read back from IndexedDB and scored again.
  await app.reload();
  await app.step('experiments');
  const rows = app.byTest('leaderboard-row');
  await expect(rows).toHaveCount(16);
  for (const t of await rows.getByTestId('lb-items').allTextContents()) expect(t).toBe('50');
  // Ranked by accuracy: every configuration of the good model above every one of the bad.
  const models = await rows.evaluateAll((rs) => rs.map((r) => r.dataset.model));
  expect(models.slice(0, 8).every((m) => m === GOOD)).toBe(true);
  expect(models.slice(8).every((m) => m === BAD)).toBe(true);
  const acc = (await rows.evaluateAll((rs) => rs.map((r) => Number(r.dataset.accuracy))));
  for (let i = 1; i < acc.length; i++) expect(acc[i]).toBeLessThanOrEqual(acc[i - 1]);
  expect(acc[0]).toBeGreaterThan(0.85);
  expect(acc[15]).toBeLessThan(0.8);
  await expect(app.byTest('leaderboard-best')).toHaveCount(1);
  await expect(rows.first().getByTestId('leaderboard-best')).toBeVisible();
  // At 1280 px the table fits its card: nothing to scroll, every action in
  // view, the note whole (issue #14: 2,266 px in a 1,002 px card).
  const fit = await app.byTest('leaderboard-scroll').evaluate((box) => {
    const right = box.getBoundingClientRect().right;
    return {
      overflow: box.scrollWidth - box.clientWidth,
      actionsOut: [...box.querySelectorAll('[data-testid="annotate-everything"]')].filter((b) => b.getBoundingClientRect().right > right + 0.5).length,
    };
  });
  expect(fit).toEqual({ overflow: 0, actionsOut: 0 });
  await expect(app.byTest('leaderboard-note')).toContainText('bracket under each figure');
  await expect(rows.first().getByTestId('lb-accuracy')).toContainText(/\[\d+\.\d–\d+\.\d\]/);
  // McNemar: every bad-model configuration differs significantly from the best.
  const verdicts = await rows.evaluateAll((rs) => rs.map((r) => r.querySelector('[data-testid=lb-verdict]').dataset.significant));
  expect(verdicts.slice(8).every((v) => v === 'true')).toBe(true);
  // Replicated cells report a vote, a single-request accuracy and α.
  for (const line of [/^vote \d+\.\d %$/, /^single \d+\.\d %$/, /^α (\d\.\d{3}|–)$/]) await expect(page.getByText(line).first()).toBeVisible();

  // Pinning keeps a configuration on top, whatever the sort.
  const lastCell = await rows.last().getAttribute('data-cell');
  // Found by its cell, not its place: once pinned, the line moves to the top
  // (possibly before check() reads the box back), and "last" is another line.
  await app.byTest('leaderboard').locator(`[data-testid=leaderboard-row][data-cell="${lastCell}"]`).getByTestId('leaderboard-pin').check();
  await expect(rows.first()).toHaveAttribute('data-cell', lastCell);
  await app.byTest('leaderboard-sort').selectOption('latency');
  await expect(rows.first()).toHaveAttribute('data-cell', lastCell);

  // The projection: both charts with a bar per configuration and the 24-hour line.
  await expect(app.byTest('chart-hours').getByTestId('chart-bar')).toHaveCount(16);
  await expect(app.byTest('chart-hours').getByTestId('chart-ref')).toHaveCount(1);
  await expect(app.byTest('chart-cost').getByTestId('chart-bar')).toHaveCount(16);
  await expect(app.byTest('projection-volume')).toHaveValue('6500');
  const hoursAt = async () => (await app.byTest('projection-row').evaluateAll((rs) => rs.map((r) => Number(r.dataset.hours))));
  const before = await hoursAt();
  await app.setField('projection-volume', 13000);
  await expect.poll(async () => (await hoursAt())[0]).toBeCloseTo(before[0] * 2, 6);
  const shots = path.join(ROOT, 'test-results', 'screens');
  fs.mkdirSync(shots, { recursive: true });
  await app.byTest('experiment-panel').screenshot({ path: path.join(shots, 'experiments-leaderboard.png') });

  // Prices can be entered after the fact: the bad model gets an input price too.
  const costOf = async () => (await app.byTest('leaderboard-row').evaluateAll((rs) => rs.map((r) => r.textContent)));
  const before2 = (await costOf()).join();
  await app.byTest('projection-price-in').nth(1).fill('3');
  await app.byTest('projection-price-in').nth(1).dispatchEvent('change');
  await expect.poll(async () => (await costOf()).join()).not.toBe(before2);

  // The volume was saved with the experiment.
  await app.reload();
  await app.step('experiments');
  await expect(app.byTest('projection-volume')).toHaveValue('13000');

  // Every cell's requests went to the model and temperature it names.
  const posts = await chatPosts(servers.llm);
  const seen = new Set(posts.map((p) => `${p.model}|${p.temperature}`));
  for (const k of [`${GOOD}|0`, `${GOOD}|0.7`, `${BAD}|0`, `${BAD}|0.7`]) expect(seen.has(k)).toBe(true);

  // "Annotate everything" starts a run over every row with that configuration.
  await app.startsRun(rows.nth(1).getByTestId('annotate-everything'));
  await expect(app.byTest('run-view')).toBeVisible();
  await app.waitRunFinished(50);
});

test('a grid across two endpoints: each server gets only its own key, and the better one wins', async ({ page }) => {
  const CAPS = { guided_choice: true, json_schema: true, grammar: true, logprobs: true };
  const second = await startMock({ host: '127.0.0.1', port: 0, gold: SPAM_CSV, latencyMs: 20, apiKey: 'sk-two' });
  try {
    await mockAdmin(servers.llm, 'config', { latency_ms: 20, wrong_rate: 0, faults: [], model_accuracy: { 'local-model': 0.6 }, capabilities: CAPS });
    await mockAdmin(second, 'config', { model_accuracy: { 'remote-model': 0.97 }, capabilities: CAPS });
    await mockAdmin(servers.llm, 'reset', {});
    const app = new Fannotate(page);
    await app.open(servers.web.url);
    await app.createProject('Two servers');
    await app.importCsv(spamSample(40).file, { text: 'text', id: 'id', gold: 'label' });
    await app.defineAttribute('spam', SPAM);
    await app.configureEndpoint({ baseUrl: `${servers.llm.url}/v1`, model: 'local-model', provider: 'generic', constraint: 'guided_choice' });

    await app.step('experiments');
    await app.byTest('grid-models').fill('local-model');
    await app.byTest('grid-add-endpoint').click();
    const other = app.byTest('grid-other-endpoint');
    await other.getByTestId('other-url').fill(`${second.url}/v1`);
    await other.getByTestId('other-url').dispatchEvent('change');
    await other.getByTestId('other-models').fill('remote-model');
    await other.getByTestId('other-models').dispatchEvent('change');
    await other.getByTestId('other-key').fill('sk-two');
    await other.getByTestId('other-key').dispatchEvent('change');
    await expect(app.byTest('grid-cell')).toHaveCount(2);
    await expect(app.byTest('grid-cell').nth(1)).toContainText(`remote-model @ ${new URL(second.url).origin}`);
    // A validation set drawn here: 20 of the 40 rows with a gold label.
    await app.setField('grid-validation-size', 20);
    await app.byTest('grid-validation-draw').click();
    await expect(app.byTest('grid-validation')).toHaveText('20 validation rows for "spam" (validation set: 20 of 40 rows with a gold label, stratified, seed 1).');
    await expect(app.byTest('grid-choose-validation')).toHaveCount(0);
    await app.byTest('grid-start').click();
    await expect(app.byTest('experiment-status')).toHaveAttribute('data-complete', 'true', { timeout: 60_000 });

    const rows = app.byTest('leaderboard-row');
    await expect(rows).toHaveCount(2);
    await expect(rows.first()).toHaveAttribute('data-model', 'remote-model');
    await expect(rows.first().getByTestId('leaderboard-best')).toBeVisible();
    // The second server saw every item with its key; the first never saw a key.
    const remote = await chatPosts(second);
    expect(remote.length).toBe(20);
    expect(remote.every((p) => p.authorization && p.status === 200)).toBe(true);
    const local = await chatPosts(servers.llm);
    expect(local.filter((p) => p.model === 'local-model').length).toBe(20);
    expect(local.some((p) => p.authorization)).toBe(false);
    // Results of a configuration's run are on its 20 rows: the 20 it never saw do
    // not count as wrong (issue #14: 879 unseen rows of 979 gave "Accuracy 9.4 %").
    await app.step('results');
    const option = await app.byTest('results-run').locator('option', { hasText: 'remote-model' }).getAttribute('value');
    await app.byTest('results-run').selectOption(option);
    await expect(app.byTest('results-scope')).toContainText('on 20 rows (validation set)');
    await expect(app.byTest('metrics')).toContainText('n = 20 with gold');
    await expect(app.byTest('results-shown')).toHaveText('20 rows');
    expect(Number(await app.byTest('accuracy').getAttribute('data-value'))).toBeGreaterThan(0.8);
    await app.step('experiments');
    // The endpoint is part of the experiment: after a reload it is still there,
    // with its key asked for again (keys are never stored).
    await app.reload();
    await app.step('experiments');
    await expect(app.byTest('experiment-key')).toHaveValue('');
    await expect(rows.first()).toContainText(`remote-model @ ${new URL(second.url).origin}`);
  } finally {
    await second.close();
  }
});

test('three cheap configurations combined by majority vote stand in the leaderboard beside each alone, at their time and cost together', async ({ page }) => {
  const CHEAP = ['cheap-a', 'cheap-b', 'cheap-c'];
  await mockAdmin(servers.llm, 'config', {
    latency_ms: 20, wrong_rate: 0, invalid_rate: 0, faults: [], answer_style: 'plain',
    model_accuracy: Object.fromEntries(CHEAP.map((m) => [m, 0.75])),
    capabilities: { guided_choice: true, json_schema: true, grammar: true, logprobs: true },
  });
  await mockAdmin(servers.llm, 'reset', {});
  const app = new Fannotate(page);
  await app.open(servers.web.url);
  await app.createProject('Combined');
  await app.importCsv(spamSample(60).file, { text: 'text', id: 'id', gold: 'label' });
  await app.defineAttribute('spam', SPAM);
  await app.configureEndpoint({ baseUrl: `${servers.llm.url}/v1`, model: CHEAP[0], provider: 'generic', constraint: 'guided_choice', concurrency: 6 });
  await app.step('experiments');
  await app.byTest('grid-models').fill(CHEAP.join(', '));
  await app.byTest('grid-validation-all').check();
  await expect(app.byTest('grid-cell')).toHaveCount(3);
  const prices = app.byTest('grid-price');
  for (let i = 0; i < 3; i++) {
    await prices.nth(i).getByPlaceholder('input').fill(String(i + 1));
    await prices.nth(i).getByPlaceholder('input').dispatchEvent('change');
  }
  await app.byTest('grid-start').click();
  await expect(app.byTest('experiment-status')).toHaveAttribute('data-complete', 'true', { timeout: 60_000 });
  const rows = app.byTest('leaderboard-row');
  await expect(rows).toHaveCount(3);

  // Combined here, by keyboard: each box, the method, then Combine.
  const card = app.byTest('combine-runs');
  await expect(card.getByTestId('combine-run')).toHaveCount(3);
  for (let i = 0; i < 3; i++) {
    await card.getByTestId('combine-run').nth(i).focus();
    await page.keyboard.press('Space');
  }
  await app.byTest('combine-method').selectOption('majority_vote');
  await app.byTest('combine-start').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByText(/Combined 3 runs by Majority vote into a new run of 60 rows/).last()).toBeVisible();

  await expect(rows).toHaveCount(4);
  const combined = app.byTest('leaderboard').locator('[data-testid=leaderboard-row][data-kind=combined]');
  await expect(combined.getByTestId('leaderboard-combined')).toHaveText('Majority vote of 3: cheap-a + cheap-b + cheap-c (v1 · T 0 · constrained)');
  await expect(combined.getByTestId('lb-items')).toHaveText('60');
  // Scored on the same 60 gold rows: the vote of three independent 75 % configurations beats each alone.
  const singles = await app.byTest('leaderboard').locator('[data-testid=leaderboard-row][data-kind=cell]').evaluateAll((rs) => rs.map((r) => Number(r.dataset.accuracy)));
  expect(singles).toHaveLength(3);
  expect(Number(await combined.getAttribute('data-accuracy'))).toBeGreaterThan(Math.max(...singles));
  await expect(rows.first()).toHaveAttribute('data-kind', 'combined');
  await expect(combined.getByTestId('leaderboard-best')).toBeVisible();
  await expect(combined.getByTestId('annotate-everything')).toHaveCount(0);
  // Its time and cost per day are its three configurations' together.
  const proj = app.byTest('projection-row');
  await expect(proj).toHaveCount(4);
  const figures = await proj.evaluateAll((rs) => rs.map((r) => ({ name: r.cells[0].textContent, hours: Number(r.dataset.hours), cost: Number(r.dataset.cost) })));
  const sum = (k) => figures.slice(0, 3).reduce((a, f) => a + f[k], 0);
  expect(figures[3].name).toContain('Majority vote of 3: cheap-a + cheap-b + cheap-c');
  expect(figures[3].hours).toBeCloseTo(sum('hours'), 9);
  expect(figures[3].cost).toBeCloseTo(sum('cost'), 9);
  expect(figures[3].cost).toBeGreaterThan(0);
  const shots = path.join(ROOT, 'test-results', 'screens');
  fs.mkdirSync(shots, { recursive: true });
  await app.byTest('experiment-panel').screenshot({ path: path.join(shots, 'experiments-combined.png') });
  // The combined run is a run like any other: Distil offers it as the teacher.
  await app.step('distil');
  await expect(app.byTest('distil-run').locator('option', { hasText: 'Majority vote of 3 runs' })).toHaveCount(1);
  // And it is the newest run, so Review suggests its labels: rows where the
  // three split 2–1 (a vote share of 2/3) are the low-confidence queue.
  await app.step('review');
  await app.byTest('review-queue').selectOption('low-confidence');
  const n = Number((await app.byTest('review-progress').textContent()).match(/of (\d+) in this queue/)[1]);
  expect(n).toBeGreaterThan(0);
  expect(n).toBeLessThan(60);
  await expect(app.byTest('review-confidence')).toHaveText('67 %');
});
