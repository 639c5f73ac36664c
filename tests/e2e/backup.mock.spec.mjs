// A whole-project backup restores into an empty browser with the same results.
import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Fannotate, startServers, spamSample } from './support.mjs';

let servers;
test.beforeAll(async () => { servers = await startServers({ mock: { wrongRate: 0.2 } }); });
test.afterAll(async () => servers?.close());

test('backup, delete, restore: the same project, labels and accuracy; no API key in the file', async ({ page, browser }) => {
  const app = new Fannotate(page);
  await app.open(servers.web.url);
  await app.createProject('Backed up');
  await app.importCsv(spamSample(30).file, { text: 'text', id: 'id', gold: 'label' });
  await app.defineAttribute('spam', [['ham', 'normal'], ['spam', 'junk']]);
  await app.configureEndpoint({ baseUrl: `${servers.llm.url}/v1`, model: 'mock-model', provider: 'generic' });
  await app.byTest('api-key').fill('sk-do-not-export');
  await app.startRun();
  await app.waitRunFinished(30);
  await app.step('results');
  const accuracy = await app.byTest('accuracy').getAttribute('data-value');
  const counts = await app.byTest('results-counts').textContent();

  await app.byTest('nav-projects').click();
  const download = page.waitForEvent('download');
  await app.byTest('backup-project').click();
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fa-backup-')), 'backup.json');
  await (await download).saveAs(file);
  const text = fs.readFileSync(file, 'utf8');
  expect(text).not.toContain('sk-do-not-export');
  expect(JSON.parse(text).annotations).toHaveLength(30);

  // An empty browser profile: a fresh context has its own IndexedDB.
  const other = await browser.newContext();
  const fresh = new Fannotate(await other.newPage());
  await fresh.open(servers.web.url);
  await expect(fresh.page.getByText('No projects yet')).toBeVisible();
  await fresh.byTest('restore-file').setInputFiles(file);
  await expect(fresh.byTest('project-list')).toContainText('Backed up');
  await fresh.byTest('open-project').first().click();
  await expect(fresh.byTest('dataset-rows')).toHaveText('30');
  await fresh.step('results');
  await expect(fresh.byTest('accuracy')).toHaveAttribute('data-value', accuracy);
  await expect(fresh.byTest('results-counts')).toHaveText(counts);
  // Restoring the same backup again is refused rather than merged.
  await fresh.byTest('nav-projects').click();
  await fresh.byTest('restore-file').setInputFiles(file);
  await expect(fresh.byTest('restore-error')).toContainText('already in this browser');
  await other.close();
});
