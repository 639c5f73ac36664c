// Free-text attributes run unconstrained and are measured by ROUGE against the gold column.
import { test, expect } from '@playwright/test';
import { Fannotate, startServers, spamSample, mockAdmin, tempFile } from './support.mjs';

/** Save a codebook with one free-text attribute, `gist`. */
async function defineGist(app) {
  await app.step('codebook');
  await app.byTest('attribute-name').fill('gist');
  await app.page.locator('select').filter({ hasText: 'Free text' }).selectOption('freetext');
  await app.byTest('instruction').fill('Say in one word what this email is:\n\n<<text>>');
  await app.byTest('save-codebook').click();
  await expect(app.page.getByText(/Codebook saved as version/).last()).toBeVisible();
}

let servers;
test.beforeAll(async () => { servers = await startServers(); });
test.afterAll(async () => servers?.close());

test('a free-text attribute runs without a constraint and shows ROUGE with both tokenizers', async ({ page }) => {
  const app = new Fannotate(page);
  await app.open(servers.web.url);
  await app.createProject('Free text');
  await app.importCsv(spamSample(20).file, { text: 'text', id: 'id', gold: 'label' });
  await defineGist(app);
  await app.configureEndpoint({ baseUrl: `${servers.llm.url}/v1`, model: 'mock-model', provider: 'llamacpp', constraint: 'grammar' });
  await mockAdmin(servers.llm, 'reset', {});
  await app.startRun();
  await app.waitRunFinished(20);
  const log = await mockAdmin(servers.llm, 'log');
  expect(log.requests.filter((r) => r.path === '/v1/chat/completions' && r.method === 'POST').length).toBe(20);
  await app.step('results');
  // The mock answers with the gold text, so every answer matches it exactly.
  await expect(app.byTest('rouge-unicode').locator('td').first()).toHaveText('1.000');
  await expect(app.byTest('rouge-default').locator('td').first()).toHaveText('1.000');
  await expect(app.byTest('results-counts')).toHaveText('20 labelled · 0 invalid answers · 0 failed requests');
  // Per item, and its distribution: all 20 in the top bin.
  await expect(app.byTest('rouge-item').first()).toHaveText('1.000');
  await expect(app.byTest('histogram-bin').last()).toHaveAttribute('data-count', '20');
  // llama.cpp preset asks for logprobs; the mock gives -0.05 for the answer: 95 %.
  await expect(app.byTest('confidence').first()).toHaveText('95 %');
});

test('a requests-per-minute limit spaces request starts', async ({ page }) => {
  const app = new Fannotate(page);
  await app.open(servers.web.url);
  await app.createProject('Paced');
  await app.importCsv(spamSample(8).file, { text: 'text', id: 'id', gold: 'label' });
  await app.defineAttribute('spam', [['ham', 'normal'], ['spam', 'junk']]);
  await app.configureEndpoint({ baseUrl: `${servers.llm.url}/v1`, model: 'mock-model', concurrency: 8, provider: 'generic' });
  await app.byTest('rpm').fill('120');
  await app.byTest('rpm').dispatchEvent('change');
  await app.byTest('save-endpoint').click();
  await app.step('endpoint');
  await expect(app.byTest('rpm')).toHaveValue('120');
  await mockAdmin(servers.llm, 'reset', {});
  await app.startRun();
  await app.waitRunFinished(8);
  const posts = (await mockAdmin(servers.llm, 'log')).requests.filter((r) => r.method === 'POST' && r.path === '/v1/chat/completions');
  expect(posts).toHaveLength(8);
  // 120/min = one start every 500 ms: request k may start 500·k ms after the
  // bucket's first token at the earliest. Measured from the first request's own
  // arrival (the latest the bucket can have started, bar 100 ms), not between
  // neighbours: a request the busy page sends late may arrive just before its
  // successor without the pacing being wrong.
  const since = posts.map((r) => r.ts - posts[0].ts);
  for (let k = 1; k < posts.length; k++) expect(since[k], `request ${k}`).toBeGreaterThanOrEqual(500 * k - 100);
});

test('a free-text attribute takes its own reference column, and ROUGE uses it (issue #22)', async ({ page }) => {
  const app = new Fannotate(page);
  // A reference text per row: the label on the first 10 rows, other words on the rest.
  const { rows } = spamSample(20);
  const q = (v) => `"${v.replaceAll('"', '""')}"`;
  const lines = ['id,text,label,reference', ...rows.map((r, i) => [r[0], r[1], r[2], i < 10 ? r[2] : 'entirely different words'].map(q).join(','))];
  await app.open(servers.web.url);
  await app.createProject('Own reference');
  await app.importCsv(tempFile('refs.csv', lines.join('\n') + '\n'), { text: 'text', id: 'id', gold: 'label' });
  await defineGist(app);
  await app.step('data');
  await expect(app.byTest('gold-attribute-col')).toHaveAccessibleName('Reference text column for gist');
  await app.byTest('gold-attribute-col').selectOption({ label: 'reference' });
  await expect(app.byTest('gold-references')).toHaveText('20 of 20 rows have a reference text (ROUGE in Results).');
  await app.configureEndpoint({ baseUrl: `${servers.llm.url}/v1`, model: 'mock-model', provider: 'llamacpp', constraint: 'grammar' });
  await app.startRun();
  await app.waitRunFinished(20);
  await app.step('results');
  // The mock answers with the label: half the references match it word for word.
  await expect(app.byTest('rouge-unicode').locator('td').first()).toHaveText('0.500');
  await expect(app.byTest('results-scope')).toContainText('compared with the gold column reference');
});
