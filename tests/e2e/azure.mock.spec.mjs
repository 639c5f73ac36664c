// The Azure OpenAI preset: deployment URL with api-version, key in the api-key header.
import { test, expect } from '@playwright/test';
import { Fannotate, startServers, spamSample, mockAdmin } from './support.mjs';

let servers;
test.beforeAll(async () => { servers = await startServers({ mock: { apiKey: 'az-key' } }); });
test.afterAll(async () => servers?.close());

test('Azure preset sends the key as api-key and runs', async ({ page }) => {
  const app = new Fannotate(page);
  await app.open(servers.web.url);
  await app.createProject('Azure');
  await app.importCsv(spamSample(10).file, { text: 'text', id: 'id', gold: 'label' });
  await app.defineAttribute('spam', [['ham', 'normal'], ['spam', 'junk']]);
  await app.configureEndpoint({ baseUrl: `${servers.llm.url}/v1`, model: '', provider: 'azure' });
  await expect(app.byTest('api-version')).toHaveValue(/^\d{4}-\d{2}-\d{2}/);
  await app.testConnection();
  await expect(app.byTest('connection-error')).toContainText('API key');
  await app.byTest('api-key').fill('az-key');
  await app.testConnection();
  await expect(app.byTest('connection-ok')).toContainText('lists no models');
  await mockAdmin(servers.llm, 'reset', {});
  await app.startRun();
  await app.waitRunFinished(10);
  const posts = (await mockAdmin(servers.llm, 'log')).requests.filter((r) => r.method === 'POST');
  expect(posts).toHaveLength(10);
  expect(posts.every((r) => r.authorization && r.status === 200)).toBe(true);
});
