// dist/ copied under a sub-path of a static server still loads and works.
import { test, expect } from '@playwright/test';
import { Fannotate, startServers, spamSample } from './support.mjs';

let servers;
test.beforeAll(async () => { servers = await startServers({ base: '/some/sub/path/' }); });
test.afterAll(async () => servers?.close());

test('the app works from /some/sub/path/', async ({ page }) => {
  const failed = [];
  page.on('response', (r) => { if (r.status() >= 400 && !r.url().endsWith('/config.json')) failed.push(r.url()); });
  const app = new Fannotate(page);
  expect(servers.web.url).toMatch(/\/some\/sub\/path\/$/);
  await app.open(servers.web.url);
  await app.createProject('Sub-path');
  await app.importCsv(spamSample(20).file, { text: 'text', id: 'id', gold: 'label' });
  await expect(app.byTest('dataset-rows')).toHaveText('20');
  await app.defineAttribute('spam', [['ham', 'normal'], ['spam', 'junk']]);
  await app.configureEndpoint({ baseUrl: `${servers.llm.url}/v1`, model: 'mock-model', provider: 'generic' });
  await app.startRun();
  await app.waitRunFinished(20);
  await app.step('results');
  await expect(app.byTest('accuracy')).toBeVisible();
  expect(failed).toEqual([]);
});
