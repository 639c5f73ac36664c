// The <fannotate-app> element on a plain host page: two instances with their own
// storage, next to the host's content, and unmounted when removed.
import { test, expect } from '@playwright/test';
import { Fannotate, startServers } from './support.mjs';

let servers;
test.beforeAll(async () => { servers = await startServers({ base: '/tools/fannotate/' }); });
test.afterAll(async () => servers?.close());

test('two embedded instances keep their data apart and unmount cleanly', async ({ page }) => {
  await page.goto(`${servers.web.url}embed-example.html`);
  await expect(page.locator('#host-content')).toContainText('Team tools');
  const a = page.locator('#team-a');
  const b = page.locator('#team-b');
  await expect(a.getByText('No projects yet')).toBeVisible();
  await expect(b.getByText('No projects yet')).toBeVisible();

  await a.getByTestId('project-name').fill('Only in A');
  await a.getByTestId('create-project').click();
  await expect(a.getByTestId('current-project')).toHaveText('Only in A');
  await b.getByTestId('nav-projects').click();
  await expect(b.getByText('No projects yet')).toBeVisible();

  await page.reload();
  await expect(a.getByTestId('project-list')).toContainText('Only in A');
  await expect(b.getByText('No projects yet')).toBeVisible();

  // Styles stay inside the app: the host's heading keeps the page's own font size.
  const hostH1 = await page.locator('#host-content h1').evaluate((el) => getComputedStyle(el).fontSize);
  expect(hostH1).toBe('32px');

  await page.evaluate(() => document.querySelector('#team-b').remove());
  await expect(page.getByTestId('fannotate')).toHaveCount(1);
});
