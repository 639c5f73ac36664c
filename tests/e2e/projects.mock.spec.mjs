// Projects: rename, duplicate (everything under new ids), delete with confirmation.
import { test, expect } from '@playwright/test';
import { Fannotate, startServers, spamSample } from './support.mjs';

let servers;
test.beforeAll(async () => { servers = await startServers(); });
test.afterAll(async () => servers?.close());

test('rename, duplicate and delete a project', async ({ page }) => {
  const app = new Fannotate(page);
  await app.open(servers.web.url);
  await app.createProject('Original');
  await app.importCsv(spamSample(10).file, { text: 'text', id: 'id', gold: 'label' });
  await app.byTest('nav-projects').click();

  await app.byTest('rename-project').click();
  await app.byTest('rename-input').fill('Renamed');
  await app.byTest('rename-input').press('Enter');
  await expect(app.byTest('project-list')).toContainText('Renamed');

  // A double click makes one copy (issue #15: it made two): the buttons wait while one runs.
  await app.byTest('duplicate-project').dblclick();
  await expect(page.getByText('Duplicated as "Renamed (copy)".')).toBeVisible();
  await expect(app.byTest('duplicate-project').first()).toBeEnabled();
  await expect(app.byTest('open-project')).toHaveCount(2);
  await expect(page.getByText('Duplicated as "Renamed (copy)".')).toHaveCount(1);
  await expect(app.byTest('project-size')).toHaveText(['10 rows · ' + (await app.byTest('project-size').first().textContent()).split(' · ')[1], /10 rows/]);
  await app.byTest('open-project').filter({ hasText: 'Renamed (copy)' }).click();
  await expect(app.byTest('dataset-rows')).toHaveText('10');

  await app.byTest('nav-projects').click();
  page.once('dialog', (d) => d.accept());
  await page.locator('li').filter({ hasText: 'Renamed (copy)' }).getByRole('button', { name: 'Delete' }).click();
  await expect(app.byTest('open-project')).toHaveCount(1);
  await expect(app.byTest('project-list')).toContainText('Renamed');
});

test('an empty project list offers a sample project, marked as such (issue #14)', async ({ page }) => {
  const app = new Fannotate(page);
  // Served from a sub-path, as a real deployment may be: the sample's file is found beside the app.
  const sub = await startServers({ base: '/team/fannotate/' });
  try {
    await app.open(sub.web.url);
    await expect(app.byTest('sample-offer')).toContainText('300 SpamAssassin emails');
    await app.byTest('create-sample').click();
    await expect(app.byTest('current-project')).toHaveText('Sample: SpamAssassin emails');
    await expect(app.byTest('sample-header')).toHaveText('sample');
    await expect(app.byTest('dataset-rows')).toHaveText('300');
    await app.step('codebook');
    await expect(app.byTest('attribute-name')).toHaveValue('spam');
    await expect(app.byTest('category-row')).toHaveCount(2);
    // No endpoint of its own: runs go to the default one.
    await app.step('run');
    await expect(app.byTest('run-view')).toContainText('No endpoint saved: the default local endpoint will be used');
    await app.byTest('nav-projects').click();
    await expect(app.byTest('sample-badge')).toHaveCount(1);
    await expect(app.byTest('sample-offer')).toHaveCount(0);
  } finally {
    await sub.close();
  }
});
