// The issue-2 slice end to end against the mock endpoint: project, CSV import,
// codebook, endpoint, concurrent run, results with metrics, export, reload.
import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import { Fannotate, startServers, spamSample, coreClassify, mockAdmin } from './support.mjs';
import { parseCsv } from '../mock/server.mjs';

const SPAM_CATEGORIES = [
  ['ham', 'a normal personal or work email'],
  ['spam', 'unsolicited bulk or commercial email'],
];

let servers;
test.beforeAll(async () => {
  servers = await startServers({ mock: { latencyMs: 150, wrongRate: 0.15, invalidRate: 0.05 } });
});
test.afterAll(async () => servers?.close());

test('200 SpamAssassin rows go through the whole slice; accuracy equals fannotate-core; export re-imports; reload keeps the project', async ({ page }) => {
  const app = new Fannotate(page);
  const sample = spamSample(200);
  await app.open(servers.web.url);
  await app.createProject('Spam slice');

  await app.importCsv(sample.file, { text: 'text', id: 'id', gold: 'label' });
  await expect(app.byTest('dataset-rows')).toHaveText('200');

  await app.defineAttribute('spam', SPAM_CATEGORIES);
  await app.configureEndpoint({ baseUrl: `${servers.llm.url}/v1`, model: 'mock-model', concurrency: 8, constraint: 'none', provider: 'generic' });
  await expect(app.byTest('concurrency-note')).toContainText('6 of the 8');
  await app.testConnection();
  await expect(app.byTest('connection-ok')).toContainText('Connected');

  await mockAdmin(servers.llm, 'reset', {});
  await app.startRun();
  await app.waitRunFinished(200);
  await page.screenshot({ path: 'test-results/slice-run.png', fullPage: true });
  const log = await mockAdmin(servers.llm, 'log');
  const chats = log.requests.filter((r) => r.path === '/v1/chat/completions' && r.method === 'POST');
  expect(chats.length).toBe(200);
  expect(log.max_in_flight).toBeGreaterThanOrEqual(4);
  expect(log.max_in_flight).toBeLessThanOrEqual(6); // HTTP/1.1: six connections per host
  expect(Number(await app.byTest('run-max-in-flight').textContent())).toBeGreaterThanOrEqual(4);

  await app.step('results');
  const counts = await app.byTest('results-counts').textContent();
  const invalid = Number(/(\d+) invalid/.exec(counts)[1]);
  expect(invalid).toBeGreaterThan(0); // the mock answers some rows outside the label set
  await expect(app.byTest('labels-table').getByTestId('label-row')).toHaveCount(25);
  await expect(app.byTest('page-info')).toHaveText('Page 1 of 8');
  await app.byTest('next-page').click();
  await expect(app.byTest('page-info')).toHaveText('Page 2 of 8');
  await expect(app.byTest('next-page')).toHaveText('Next');
  await expect(app.byTest('labels-table').getByTestId('label-row').first()).toContainText(sample.rows[25][0]);
  await expect(app.byTest('confusion-matrix')).toBeVisible();
  const shown = Number(await app.byTest('accuracy').getAttribute('data-value'));
  // Analysis: intervals with n, per-class bars, and matrix cells that list their rows.
  await expect(app.byTest('accuracy-ci')).toHaveText(/^n = \d+ · 95 % CI \d+\.\d–\d+\.\d %$/);
  await expect(app.byTest('kappa-ci')).toContainText('95 % CI');
  await expect(app.byTest('class-bar')).toHaveCount(2);
  const offDiagonal = app.byTest('cm-cell').and(page.locator('[data-gold="0"][data-pred="1"]'));
  const cellCount = Number(await offDiagonal.getAttribute('data-count'));
  await offDiagonal.click();
  await expect(app.byTest('results-shown')).toHaveText(`${cellCount} rows`);
  for (const row of await app.byTest('label-row').all()) {
    await expect(row.locator('td').nth(2)).toHaveText('ham');
    await expect(row.getByTestId('llm-label')).toHaveText('spam');
  }
  await app.byTest('results-filter').selectOption('disagreements');
  const disagreements = Number((await app.byTest('results-shown').textContent()).split(' ')[0]);
  expect(disagreements).toBeGreaterThanOrEqual(cellCount + invalid);
  await app.byTest('results-filter').selectOption('all');
  await expect(app.byTest('results-shown')).toHaveText('200 rows');
  await page.screenshot({ path: 'test-results/slice-results.png', fullPage: true });

  const exported = await app.exportCsv();
  const core = coreClassify(exported, 'label', 'spam_llm');
  expect(shown).toBeCloseTo(core.accuracy_missing_pred_as_wrong, 12);
  expect(core.n_missing_pred).toBe(invalid);

  // The export holds the original columns unchanged, then the imported gold, the
  // reviewer's label and its time, the latest LLM label and the run's answer
  // with its provenance.
  const [header, ...rows] = parseCsv(fs.readFileSync(exported, 'utf8'));
  expect(header).toEqual([...sample.header, 'spam_gold', 'spam_reviewer', 'spam_reviewed_at', 'spam_llm', 'spam_run1_label', 'spam_run1_status', 'spam_run1_raw',
    'spam_run1_confidence', 'spam_run1_model', 'spam_run1_prompt_version', 'spam_run1_temperature']);
  expect(rows.map((r) => r.slice(0, 3))).toEqual(sample.rows);
  expect(rows.map((r) => r[3])).toEqual(sample.rows.map((r) => r[2]));
  expect(rows.filter((r) => r[header.indexOf('spam_run1_status')] === 'invalid').length).toBe(invalid);
  expect(new Set(rows.map((r) => r[header.indexOf('spam_run1_model')]))).toEqual(new Set(['mock-model']));

  // Re-importing the export gives the same values.
  await app.importCsv(exported, { text: 'text', id: 'id', gold: 'spam_llm' });
  await expect(app.byTest('dataset-rows')).toHaveText('200');
  await expect(app.byTest('dataset-summary').locator('tbody tr').first()).toContainText(rows[0][0]);

  // Reload: back in the project (issue #14), with its data still there.
  await app.reload();
  await expect(app.byTest('dataset-rows')).toHaveText('200');
  await app.byTest('nav-projects').click();
  await expect(app.byTest('project-list')).toContainText('Spam slice');
  await expect(app.byTest('storage-use')).toContainText('Stored in this browser');
});

test('a run can be cancelled; finished results are kept', async ({ page }) => {
  const app = new Fannotate(page);
  const sample = spamSample(120);
  await app.open(servers.web.url);
  await app.createProject('Cancel me');
  await app.importCsv(sample.file, { text: 'text', id: 'id', gold: 'label' });
  await app.defineAttribute('spam', SPAM_CATEGORIES);
  await app.configureEndpoint({ baseUrl: `${servers.llm.url}/v1`, model: 'mock-model', concurrency: 4, provider: 'generic' });
  await mockAdmin(servers.llm, 'config', { latency_ms: 400 });
  try {
    await app.startRun();
    await expect.poll(async () => Number((await app.byTest('run-done').textContent()).split(' / ')[0])).toBeGreaterThan(8);
    await app.byTest('cancel-run').click();
    await expect(page.getByText('Run cancelled; finished results are kept.')).toBeVisible();
    const done = Number((await app.byTest('run-done').textContent()).split(' / ')[0]);
    expect(done).toBeLessThan(120);
    await expect(app.byTest('run-status').first()).toHaveText('cancelled');
    await app.step('results');
    const counts = await app.byTest('results-counts').textContent();
    const stored = counts.match(/\d+/g).map(Number).reduce((a, b) => a + b, 0);
    expect(stored).toBe(done);
  } finally {
    await mockAdmin(servers.llm, 'config', { latency_ms: 150 });
  }
});

test('a double click on Start launches one run, not two (issue #15)', async ({ page }) => {
  const app = new Fannotate(page);
  const sample = spamSample(20);
  await app.open(servers.web.url);
  await app.createProject('Double click');
  await app.importCsv(sample.file, { text: 'text', id: 'id', gold: 'label' });
  await app.defineAttribute('spam', SPAM_CATEGORIES);
  await app.configureEndpoint({ baseUrl: `${servers.llm.url}/v1`, model: 'mock-model', concurrency: 4, provider: 'generic' });
  await app.step('run');
  await mockAdmin(servers.llm, 'reset', {});
  await app.byTest('start-run').dblclick();
  await expect.poll(() => app.runSeq()).toBe(1);
  await app.waitRunFinished(20, 1);
  await expect(app.byTest('run-row')).toHaveCount(1);
  expect(await app.runSeq()).toBe(1);
  await expect(app.byTest('toast').filter({ hasText: 'already in progress' })).toHaveCount(0);
  const log = await mockAdmin(servers.llm, 'log');
  expect(log.requests.filter((r) => r.path === '/v1/chat/completions' && r.method === 'POST').length).toBe(20);
});
