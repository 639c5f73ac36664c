// Data view: column statistics, search over every column, paging, and a viewer
// for one row's full text.
import { test, expect } from '@playwright/test';
import { Fannotate, startServers, spamSample } from './support.mjs';

let servers;
test.beforeAll(async () => { servers = await startServers(); });
test.afterAll(async () => servers?.close());

test('search, page, column statistics and the row viewer', async ({ page }) => {
  const app = new Fannotate(page);
  const sample = spamSample(60);
  await app.open(servers.web.url);
  await app.createProject('Browse');
  await app.importCsv(sample.file, { text: 'text', id: 'id', gold: 'label' });
  await app.byTest('data-browser').locator('summary').click();
  await expect(app.byTest('column-stat')).toHaveCount(3);
  const labelStats = app.byTest('column-stat').filter({ hasText: 'label' });
  const spam = sample.rows.filter((r) => r[2] === 'spam').length;
  await expect(labelStats.locator('td').nth(0)).toHaveText('60');
  await expect(labelStats.locator('td').nth(1)).toHaveText('2');
  await expect(labelStats.locator('td').nth(3)).toContainText(`spam (${spam})`);
  await expect(app.byTest('data-page')).toHaveText('Page 1 of 3');
  const target = sample.rows[41];
  await app.byTest('data-search').fill(target[0]);
  await expect(app.byTest('data-hits')).toHaveText('1 rows');
  await app.byTest('open-row').click();
  await expect(app.byTest('row-viewer')).toContainText(target[0]);
  await expect(app.byTest('row-text')).toContainText(target[1].split('\n')[0]);
  await app.byTest('close-row').click();
  await expect(app.byTest('row-viewer')).toHaveCount(0);
});

test('the pager goes through every page and back (issue #22: Next was always disabled)', async ({ page }) => {
  const app = new Fannotate(page);
  const sample = spamSample(90);
  await app.open(servers.web.url);
  await app.createProject('Pager');
  await app.importCsv(sample.file, { text: 'text', id: 'id', gold: 'label' });
  await app.byTest('data-browser').locator('summary').click();
  await expect(app.byTest('data-page')).toHaveText('Page 1 of 4');
  await expect(app.byTest('data-prev')).toBeDisabled();
  await expect(app.byTest('data-next')).toHaveText('Next');
  const firstId = async () => app.byTest('data-row').first().locator('td').first().textContent();
  for (let p = 2; p <= 4; p++) {
    await app.byTest('data-next').click();
    await expect(app.byTest('data-page')).toHaveText(`Page ${p} of 4`);
    expect(await firstId()).toBe(sample.rows[(p - 1) * 25][0]);
  }
  await expect(app.byTest('data-next')).toBeDisabled();
  await expect(app.byTest('data-row')).toHaveCount(15);
  for (let p = 3; p >= 1; p--) {
    await app.byTest('data-prev').click();
    await expect(app.byTest('data-page')).toHaveText(`Page ${p} of 4`);
    expect(await firstId()).toBe(sample.rows[(p - 1) * 25][0]);
  }
  await expect(app.byTest('data-prev')).toBeDisabled();
});
