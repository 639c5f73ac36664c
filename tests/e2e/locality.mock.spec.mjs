// Data locality, shown: the "Where your data goes" panel lists every host the app
// contacted with counts, and an endpoint the page's policy does not allow is
// refused before anything is sent, with the fix in the message.
import { test, expect } from '@playwright/test';
import { Fannotate, startServers, spamSample } from './support.mjs';

let servers;
test.beforeAll(async () => { servers = await startServers(); });
test.afterAll(async () => servers?.close());

test('the panel counts requests per host; an off-policy endpoint is refused and shown as blocked', async ({ page }) => {
  const app = new Fannotate(page);
  await app.open(servers.web.url);
  await app.byTest('nav-locality').click();
  await expect(app.byTest('csp-mode')).toContainText('Strict policy');
  await expect(app.byTest('locality-empty')).toBeVisible();
  await app.byTest('locality-close').click();

  await app.createProject('Locality');
  await app.importCsv(spamSample(10).file, { text: 'text', id: 'id', gold: 'label' });
  await app.defineAttribute('spam', [['ham', 'normal'], ['spam', 'junk']]);
  await app.configureEndpoint({ baseUrl: `${servers.llm.url}/v1`, model: 'mock-model', provider: 'generic', constraint: 'none' });
  await app.startRun();
  await app.waitRunFinished(10);

  // An endpoint outside the page's connect-src: refused with the fix, nothing sent.
  await app.step('endpoint');
  await app.byTest('base-url').fill('http://10.255.255.1:9/v1');
  await app.testConnection();
  await expect(app.byTest('connection-error')).toContainText("Content-Security-Policy does not allow connecting to http://10.255.255.1:9");
  await expect(app.byTest('connection-error')).toContainText('FANNOTATE_CONNECT_SRC');

  await app.byTest('nav-locality').click();
  await app.byTest('locality-refresh').click();
  const rows = app.byTest('locality-host');
  await expect(rows).toHaveCount(2);
  const mock = rows.filter({ hasText: new URL(servers.llm.url).origin });
  expect(Number(await mock.getByTestId('locality-requests').textContent())).toBeGreaterThanOrEqual(10);
  const blocked = rows.filter({ hasText: 'http://10.255.255.1:9' });
  await expect(blocked.locator('td').nth(1)).toHaveText('0');
  await expect(blocked.locator('td').nth(2)).toHaveText('1');
  // The bundled page also shows the profile's total, labelled as such.
  await expect(app.byTest('locality-profile-host')).toHaveCount(2);
  await expect(app.byTest('data-locality')).toContainText('every Fannotate instance in this browser profile');
  // The log is kept: it survives a reload.
  await page.reload();
  await app.byTest('nav-locality').click();
  await expect(app.byTest('locality-host')).toHaveCount(2);
  await app.byTest('locality-clear').click();
  await expect(app.byTest('locality-empty')).toBeVisible();
});
