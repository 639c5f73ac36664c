// The <fannotate-app> element on a plain host page: two instances with their own
// storage (one in a shadow root, dark), rows handed in and annotations handed
// back through the JS API, events received, unmount without leaks.
import { test, expect } from '@playwright/test';
import { Fannotate, startServers } from './support.mjs';

let servers;
test.beforeAll(async () => { servers = await startServers({ base: '/tools/fannotate/' }); });
test.afterAll(async () => servers?.close());

const eventCount = (page, type) => page.locator(`#event-counts [data-event="${type}"]`);

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

  // After a reload each instance is back where it was, by its own persistence key.
  await page.reload();
  await expect(a.getByTestId('current-project')).toHaveText('Only in A');
  await expect(b.getByText('No projects yet')).toBeVisible();
  await a.getByTestId('nav-projects').click();
  await expect(a.getByTestId('project-list')).toContainText('Only in A');

  // Styles stay inside the app: the host's heading keeps the page's own font;
  // team B (shadow root, theme="dark") has the app's styles and the dark tokens.
  const hostH1 = await page.locator('#host-content h1').evaluate((el) => [getComputedStyle(el).fontSize, getComputedStyle(el).fontFamily]);
  expect(hostH1).toEqual(['32px', 'Georgia, serif']);
  expect(await page.locator('#team-b').evaluate((el) => el.shadowRoot !== null)).toBe(true);
  const bg = await b.getByTestId('fannotate').evaluate((el) => getComputedStyle(el).backgroundColor);
  expect(bg).toBe('rgb(21, 23, 28)');
  const aBg = await a.getByTestId('fannotate').evaluate((el) => getComputedStyle(el).backgroundColor);
  expect(aBg).not.toBe('rgb(21, 23, 28)');

  // Clicks work inside the shadow root too.
  await b.getByTestId('project-name').fill('Shadow project');
  await b.getByTestId('create-project').click();
  await expect(b.getByTestId('current-project')).toHaveText('Shadow project');

  await page.evaluate(() => document.querySelector('#team-b').remove());
  await expect(page.getByTestId('fannotate')).toHaveCount(1);
});

test('the host hands rows in, receives events during a run, and reads the annotations back', async ({ page }) => {
  await page.goto(`${servers.web.url}embed-example.html`);
  const a = page.locator('#team-a');
  await expect(a.getByTestId('projects-view')).toBeVisible();
  await page.locator('#send-rows').click();
  await expect(page.locator('#exported')).toHaveText('loaded 3 rows');
  await expect(a.getByTestId('current-project')).toHaveText('Tickets from the host');
  await expect(a.getByTestId('dataset-rows')).toHaveText('3');

  const app = new Fannotate(page);
  app.byTest = (id) => a.getByTestId(id);
  await app.defineAttribute('spam', [['ham', 'normal'], ['spam', 'junk']]);
  await app.configureEndpoint({ baseUrl: `${servers.llm.url}/v1`, model: 'mock-model', provider: 'generic', constraint: 'guided_choice' });
  await page.evaluate(() => {
    window.__statuses = [];
    document.addEventListener('fannotate:annotation', (e) => window.__statuses.push(e.detail.status));
  });
  await app.startRun();
  await app.waitRunFinished(3);
  await expect(eventCount(page, 'fannotate:annotation')).toHaveAttribute('data-count', '3');
  // Events and exports share one vocabulary (issue #22: events said "Valid").
  for (const s of await page.evaluate(() => window.__statuses)) expect(['valid', 'invalid', 'error']).toContain(s);
  await expect(eventCount(page, 'fannotate:run-finished')).toHaveAttribute('data-count', '1');
  expect(Number(await eventCount(page, 'fannotate:run-progress').getAttribute('data-count'))).toBeGreaterThan(0);
  await expect(page.locator('#last-event')).toContainText('"status": "completed"');

  // "Where your data goes" is per instance: A lists the endpoint, B never contacted it (issue #22).
  const b = page.locator('#team-b');
  await a.getByTestId('nav-locality').click();
  await expect(a.getByTestId('locality-host')).toHaveCount(1);
  await expect(a.getByTestId('locality-host')).toContainText(new URL(servers.llm.url).origin);
  await expect(a.getByTestId('locality-profile-host')).toHaveCount(0);
  await b.getByTestId('nav-locality').click();
  await expect(b.getByTestId('locality-empty')).toBeVisible();
  await a.getByTestId('locality-close').click();
  await b.getByTestId('locality-close').click();

  await page.locator('#export').click();
  await expect(page.locator('#exported')).toContainText('"spam_run1_label"');
  const rows = JSON.parse(await page.locator('#exported').textContent());
  expect(rows.map((r) => r.id)).toEqual(['T-1', 'T-2', 'T-3']);
  expect(rows[0].text).toContain('Cheap meds');
  expect(rows[0].channel).toBe('email');
  for (const r of rows) expect(['ham', 'spam']).toContain(r.spam_run1_label);

  // A bad call is an error for the host, not a crash.
  const err = await page.evaluate(() => document.querySelector('#team-a').loadRows([{ x: 1 }], { textField: 'body' }).then(() => 'ok', (e) => String(e)));
  expect(err).toContain('no field "body"');
});

test('20 mount/unmount cycles do not grow the heap', async ({ page }, testInfo) => {
  await page.goto(`${servers.web.url}embed-example.html`);
  await expect(page.locator('#team-a').getByTestId('projects-view')).toBeVisible();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const heap = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    const { metrics } = await cdp.send('Performance.getMetrics');
    return metrics.find((m) => m.name === 'JSHeapUsedSize').value;
  };
  const cycle = () => page.evaluate(async () => {
    const el = document.createElement('fannotate-app');
    el.setAttribute('persistence-key', 'cycles');
    document.body.append(el);
    while (!el.querySelector('[data-testid="projects-view"]')) await new Promise((r) => setTimeout(r, 10));
    el.remove();
  });
  await cycle();
  const before = await heap();
  for (let i = 0; i < 20; i++) await cycle();
  const after = await heap();
  const growth = after - before;
  testInfo.annotations.push({ type: 'heap', description: `JS heap ${(before / 1e6).toFixed(2)} MB → ${(after / 1e6).toFixed(2)} MB after 20 cycles (${(growth / 1e3).toFixed(0)} KB)` });
  console.log(`heap after 20 mount/unmount cycles: ${(before / 1e6).toFixed(2)} MB -> ${(after / 1e6).toFixed(2)} MB`);
  expect(growth).toBeLessThan(2_000_000);
  await expect(page.getByTestId('fannotate')).toHaveCount(2);
});

test('calls after unmount() fail at once, and a bad start view lists every view (issue #22)', async ({ page }) => {
  await page.goto(`${servers.web.url}embed-example.html`);
  await expect(page.locator('#team-a').getByTestId('projects-view')).toBeVisible();
  const result = await page.evaluate(async (url) => {
    const { mount } = await import(url);
    const el = document.body.appendChild(document.createElement('div'));
    const handle = await mount(el, { persistenceKey: 'gone' });
    handle.unmount();
    const after = await handle.exportAnnotations().then(() => 'resolved', (e) => String(e));
    const bad = await mount(document.body.appendChild(document.createElement('div')), { startView: 'nope' }).then(() => 'mounted', (e) => String(e));
    return { after, bad };
  }, `${servers.web.url}fannotate-element.js`);
  // Not the ten-second "not ready" timeout: the unmounted path answers.
  expect(result.after).toContain('Fannotate was unmounted: mount it again before calling it');
  expect(result.bad).toContain('is not one of data, codebook, endpoint, experiments, run, review, results');
});

test('a ready signal: the element\'s calls wait for it, and fannotate:ready fires once (issue #22)', async ({ page }) => {
  await page.goto(`${servers.web.url}embed-example.html`);
  await expect(page.locator('#team-a').getByTestId('projects-view')).toBeVisible();
  const early = await page.evaluate(async () => {
    const el = document.createElement('fannotate-app');
    el.setAttribute('persistence-key', 'early');
    let events = 0;
    el.addEventListener('fannotate:ready', () => events++);
    document.body.append(el);
    // Called before the app is mounted: it waits instead of failing with "not mounted yet".
    const project = await el.loadRows([{ body: 'hello' }, { body: 'world' }], { textField: 'body', name: 'Early' });
    await el.ready;
    return { loaded: (await el.listProjects()).map((p) => p.id === project && p.name), events };
  });
  expect(early).toEqual({ loaded: ['Early'], events: 1 });
});

test('a project handle: loadRows gives the id, replace is explicit and atomic, gold fields map, and it all survives a reload (issue #22)', async ({ page }) => {
  await page.goto(`${servers.web.url}embed-example.html`);
  const a = page.locator('#team-a');
  await expect(a.getByTestId('projects-view')).toBeVisible();
  const rows = (n) => Array.from({ length: n }, (_, i) => ({ ticket: `T-${i + 1}`, body: `ticket ${i + 1}`, verdict: i % 2 ? 'spam' : 'ham' }));
  const id = await page.evaluate((r) => document.querySelector('#team-a').loadRows(r, { textField: 'body', idField: 'ticket', name: 'Handled', goldFields: { spam: 'verdict' } }), rows(3));
  expect(id).toMatch(/^[0-9a-z-]{8,}$/i);
  expect(await page.evaluate(() => document.querySelector('#team-a').listProjects())).toEqual([expect.objectContaining({ id, name: 'Handled', sample: false })]);
  // A second load into the same project must say replace; then the rows are swapped whole.
  const refused = await page.evaluate(([p, r]) => document.querySelector('#team-a').loadRows(r, { textField: 'body', project: p }).then(() => 'loaded', (e) => String(e)), [id, rows(5)]);
  expect(refused).toContain('already has a dataset; pass replace: true');
  await expect(a.getByTestId('dataset-rows')).toHaveText('3');
  expect(await page.evaluate(([p, r]) => document.querySelector('#team-a').loadRows(r, { textField: 'body', idField: 'ticket', project: p, replace: true, goldFields: { spam: 'verdict' } }), [id, rows(5)])).toBe(id);
  await expect(a.getByTestId('dataset-rows')).toHaveText('5');
  expect(await page.evaluate(() => document.querySelector('#team-a').listProjects())).toHaveLength(1);
  // The gold field is the attribute's gold column once the attribute exists.
  const app = new Fannotate(page);
  app.byTest = (t) => a.getByTestId(t);
  await app.defineAttribute('spam', [['ham', 'normal'], ['spam', 'junk']]);
  await app.step('data');
  await expect(a.getByTestId('gold-check')).toHaveText('5 labels name a category');
  // After a reload the project is open again: no click needed before exporting.
  await page.reload();
  await expect(a.getByTestId('current-project')).toHaveText('Handled');
  const exported = await page.evaluate(() => document.querySelector('#team-a').exportAnnotations());
  expect(exported.map((r) => [r.id, r.spam_gold])).toEqual(rows(5).map((r) => [r.ticket, r.verdict]));
  // openProject switches by id; an unknown id is an error.
  await page.evaluate(() => document.querySelector('#team-a').querySelector('[data-testid="nav-projects"]').click());
  await expect(a.getByTestId('projects-view')).toBeVisible();
  await page.evaluate((p) => document.querySelector('#team-a').openProject(p), id);
  await expect(a.getByTestId('current-project')).toHaveText('Handled');
  expect(await page.evaluate(() => document.querySelector('#team-a').openProject('nope').then(() => 'opened', (e) => String(e)))).toContain('no project with id "nope"');
});
