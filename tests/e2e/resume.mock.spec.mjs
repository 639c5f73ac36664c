// Runs survive a closed page: resume skips finished rows; failed rows can be retried.
import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import { Fannotate, startServers, spamSample, mockAdmin } from './support.mjs';
import { parseCsv } from '../mock/server.mjs';

let servers;
test.beforeAll(async () => { servers = await startServers({ mock: { latencyMs: 100 } }); });
test.afterAll(async () => servers?.close());

async function setUp(app, name, rows, concurrency) {
  await app.open(servers.web.url);
  await app.createProject(name);
  await app.importCsv(spamSample(rows).file, { text: 'text', id: 'id', gold: 'label' });
  await app.defineAttribute('spam', [['ham', 'normal'], ['spam', 'junk']]);
  await app.configureEndpoint({ baseUrl: `${servers.llm.url}/v1`, model: 'mock-model', concurrency, provider: 'generic' });
}

const sum = (text) => text.match(/\d+/g).map(Number).reduce((a, b) => a + b, 0);

test('a reload in the middle of a 1,000-task run, then resume: exactly 1,000 results, none twice', async ({ page }) => {
  const app = new Fannotate(page);
  await setUp(app, 'Interrupted', 1000, 6);
  await app.startRun();
  await expect.poll(async () => Number((await app.byTest('run-done').textContent()).split(' / ')[0])).toBeGreaterThan(200);
  await app.reload();
  // Back on the Run step, which says the run was interrupted (issue #14).
  await expect(app.byTest('run-view')).toBeVisible();
  await expect(app.byTest('interrupted-run')).toContainText('Run interrupted: spam · mock-model');
  await expect(app.byTest('run-status').first()).toHaveText('interrupted');
  // Results are saved in batches (at most about a second's worth is lost on a reload).
  const cells = await app.byTest('run-row').first().locator('td').allTextContents();
  const stored = Number(cells[5]) + Number(cells[6]) + Number(cells[7]);
  expect(stored).toBeGreaterThan(0);
  await mockAdmin(servers.llm, 'reset', {});
  await app.startsRun(app.byTest('interrupted-resume'));
  await expect(app.byTest('interrupted-run')).toHaveCount(0);
  await app.waitRunFinished(1000);
  await expect(app.byTest('run-status').first()).toHaveText('completed');
  // Exactly the rows without a stored result were sent again, each once.
  const posts = (await mockAdmin(servers.llm, 'log')).requests.filter((r) => r.method === 'POST' && r.path === '/v1/chat/completions');
  expect(posts.length).toBe(1000 - stored);
  expect(new Set(posts.map((p) => p.row)).size).toBe(1000 - stored);
  await app.step('results');
  expect(sum(await app.byTest('results-counts').textContent())).toBe(1000);
  // The export has every row once.
  const ids = parseCsv(fs.readFileSync(await app.exportCsv(), 'utf8')).slice(1).map((r) => r[0]);
  expect(ids).toHaveLength(1000);
  expect(new Set(ids).size).toBe(1000);
  await expect(app.byTest('results-counts')).toContainText('0 failed');
});

test('failed rows are listed with their reason and can be retried', async ({ page }) => {
  const app = new Fannotate(page);
  await setUp(app, 'Retry', 12, 1);
  // Three rows' worth of attempts fail (each row is tried 4 times).
  await mockAdmin(servers.llm, 'config', { latency_ms: 10, faults: [{ type: '500', count: 12 }] });
  try {
    await app.startRun();
    await app.waitRunFinished(12);
    await app.step('results');
    await expect(app.byTest('results-counts')).toContainText('3 failed requests');
    await expect(app.byTest('labels-table')).toContainText('HTTP 500');
    await app.step('run');
    await app.startsRun(app.byTest('retry-failed'));
    await app.waitRunFinished(12);
    await expect(page.getByText(/Run finished: 12 labelled/).last()).toBeVisible();
    await app.step('results');
    await expect(app.byTest('results-counts')).toHaveText('12 labelled · 0 invalid answers · 0 failed requests');
  } finally {
    await mockAdmin(servers.llm, 'config', { latency_ms: 100, faults: [] });
  }
});
