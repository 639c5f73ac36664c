// Network audit (issue #8): during the whole workflow the page, and its service worker,
// contact nothing but the app's own origin and the configured LLM endpoint: no fonts,
// no CDN, no telemetry. LLM traffic is never answered from (or stored in) the cache.
import { test, expect } from '@playwright/test';
import { Fannotate, startServers } from './support.mjs';
import { waitControlled, wholeWorkflow } from './hosting.mjs';

let servers;
test.beforeAll(async () => { servers = await startServers({ base: '/audit/' }); });
test.afterAll(async () => servers?.close());

test('only the app origin and the LLM endpoint are contacted', async ({ page, context }) => {
  const requests = [];
  // context-level: pages and the service worker's own fetches (precache).
  context.on('request', (r) => requests.push(r));
  const app = new Fannotate(page);
  await app.open(servers.web.url);
  await wholeWorkflow(app, servers.llm, 'Audit');
  await waitControlled(page);
  // A second load through the service worker, then some more of the app.
  await app.reload();
  await app.step('results');
  await expect(app.byTest('accuracy')).toBeVisible();
  await app.exportCsv('jsonl');

  const appOrigin = new URL(servers.web.url).origin;
  const llmOrigin = new URL(servers.llm.url).origin;
  const local = new Set(['data:', 'blob:']);
  const seen = requests.map((r) => ({ url: r.url(), type: r.resourceType(), sw: !!r.serviceWorker() }));
  const foreign = seen.filter(({ url }) => {
    const u = new URL(url);
    return !local.has(u.protocol) && u.origin !== appOrigin && u.origin !== llmOrigin;
  });
  expect(foreign).toEqual([]);
  expect(seen.filter((r) => r.type === 'font' || /fonts\.|googleapis|gstatic|cdn|jsdelivr|unpkg/i.test(r.url))).toEqual([]);
  // Sanity: the audit saw the app, its worker's precache and the LLM calls.
  expect(seen.some((r) => r.url.endsWith('/fannotate_bg.wasm'))).toBe(true);
  expect(seen.some((r) => r.sw && r.url.endsWith('/fannotate_bg.wasm'))).toBe(true);
  expect(seen.filter((r) => r.url === `${llmOrigin}/v1/chat/completions`).length).toBeGreaterThanOrEqual(20);

  // LLM calls went to the network, not through the cache; the cache holds app files only.
  const llm = requests.filter((r) => r.url().startsWith(llmOrigin) && !r.serviceWorker());
  for (const r of llm) expect((await r.response())?.fromServiceWorker() ?? false).toBe(false);
  const cached = await page.evaluate(async () => {
    const out = [];
    for (const name of await caches.keys()) for (const req of await (await caches.open(name)).keys()) out.push(req.url);
    return out;
  });
  expect(cached.length).toBeGreaterThan(0);
  for (const url of cached) expect(new URL(url).origin).toBe(appOrigin);
  expect(cached.some((u) => u.includes('/v1/'))).toBe(false);
});
