// Bad input gets a clear message and changes nothing.
import { test, expect } from '@playwright/test';
import { Fannotate, startServers, tempFile, spamSample, mockAdmin } from './support.mjs';

let servers;
test.beforeAll(async () => { servers = await startServers(); });
test.afterAll(async () => servers?.close());

test('empty, binary and ragged files are rejected with the reason, leaving no dataset', async ({ page }) => {
  const app = new Fannotate(page);
  await app.open(servers.web.url);
  await app.createProject('Bad files');
  await app.pickFile(tempFile('empty.csv', ''));
  await expect(app.byTest('import-error')).toContainText('empty');
  await app.pickFile(tempFile('photo.csv', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d, 1, 2, 3, 0])));
  await expect(app.byTest('import-error')).toContainText('binary');
  await app.pickFile(tempFile('broken.xlsx', Buffer.from('PK\x03\x04 not really a workbook', 'latin1')));
  await expect(app.byTest('import-error')).toContainText('workbook could not be read');
  await app.pickFile(tempFile('ragged.csv', 'id,text\n1,hello\n2,a,b\n'));
  await expect(app.byTest('import-error')).toContainText('line 3');
  await app.pickFile(tempFile('quote.csv', 'id,text\n1,"never closed\n'));
  await expect(app.byTest('import-error')).toContainText('never closed');
  await expect(app.byTest('import-button')).toBeDisabled();
  await expect(app.page.getByText('No data yet')).toBeVisible();
});

test('duplicate ids in the chosen id column are reported', async ({ page }) => {
  const app = new Fannotate(page);
  await app.open(servers.web.url);
  await app.createProject('Dup ids');
  await app.pickFile(tempFile('dups.csv', 'id,text\n1,a\n1,b\n2,c\n'));
  await app.byTest('import-button').click();
  await expect(app.byTest('import-error')).toContainText('duplicate ids');
  await expect(app.page.getByText('No data yet')).toBeVisible();
});

test('an invalid codebook names the problem and is not saved', async ({ page }) => {
  const app = new Fannotate(page);
  await app.open(servers.web.url);
  await app.createProject('Bad codebook');
  await app.step('codebook');
  await app.byTest('attribute-name').fill('topic');
  await app.byTest('category-row').nth(0).getByTestId('category-name').fill('a');
  await app.byTest('category-row').nth(1).getByTestId('category-name').fill('a');
  await app.byTest('save-codebook').click();
  await expect(app.byTest('codebook-error')).toContainText('two categories are named "a"');
  await app.byTest('instruction').fill('no placeholder here');
  await app.byTest('category-row').nth(1).getByTestId('category-name').fill('b');
  await app.byTest('save-codebook').click();
  await expect(app.byTest('codebook-error')).toContainText('<<text>>');
  await app.step('run');
  await expect(app.byTest('run-missing')).toBeVisible();
});

test('unreachable, CORS-blocked and auth-refusing endpoints are told apart', async ({ page }) => {
  const app = new Fannotate(page);
  await app.open(servers.web.url);
  await app.createProject('Bad endpoints');
  // Nothing listens on port 9 (discard) on loopback.
  await app.configureEndpoint({ baseUrl: 'http://127.0.0.1:9/v1', model: 'x' });
  await app.testConnection();
  await expect(app.byTest('connection-error')).toContainText('Cannot reach');

  await mockAdmin(servers.llm, 'config', { faults: [{ type: 'nocors' }] });
  try {
    await app.configureEndpoint({ baseUrl: `${servers.llm.url}/v1`, model: 'mock-model', provider: 'vllm' });
    await app.byTest('base-url').fill(`${servers.llm.url}/v1`);
    await app.testConnection();
    await expect(app.byTest('connection-error')).toContainText('CORS');
  } finally {
    await mockAdmin(servers.llm, 'config', { faults: [] });
  }

  await mockAdmin(servers.llm, 'config', { api_key: 'secret' });
  try {
    await app.testConnection();
    await expect(app.byTest('connection-error')).toContainText('API key');
    await app.byTest('api-key').fill('secret');
    await app.testConnection();
    await expect(app.byTest('connection-ok')).toBeVisible();
  } finally {
    await mockAdmin(servers.llm, 'config', { api_key: null });
  }
});

test('server errors are retried and a 401 mid-run stops the run with the reason', async ({ page }) => {
  const app = new Fannotate(page);
  const sample = spamSample(30);
  await app.open(servers.web.url);
  await app.createProject('Faults');
  await app.importCsv(sample.file, { text: 'text', id: 'id', gold: 'label' });
  await app.defineAttribute('spam', [['ham', 'normal'], ['spam', 'junk']]);
  await app.configureEndpoint({ baseUrl: `${servers.llm.url}/v1`, model: 'mock-model', concurrency: 4, provider: 'generic' });
  await mockAdmin(servers.llm, 'reset', {});
  await mockAdmin(servers.llm, 'config', { faults: [{ type: '429', count: 3, retry_after: 1 }, { type: '500', count: 2 }] });
  await app.startRun();
  await app.waitRunFinished(30);
  const log = await mockAdmin(servers.llm, 'log');
  expect(log.requests.filter((r) => r.status === 429).length).toBe(3);
  expect(log.requests.filter((r) => r.status === 500).length).toBe(2);
  await app.step('results');
  await expect(app.byTest('results-counts')).toContainText('0 failed requests');

  await mockAdmin(servers.llm, 'config', { faults: [{ type: '401' }] });
  try {
    await app.step('run');
    await app.byTest('start-run').click();
    await expect(page.getByText(/API key is missing or wrong/).first()).toBeVisible();
    await expect(app.byTest('run-status').first()).toHaveText('failed');
  } finally {
    await mockAdmin(servers.llm, 'config', { faults: [] });
  }
});
