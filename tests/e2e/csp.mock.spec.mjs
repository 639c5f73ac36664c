// Content-Security-Policy (issue #8): the built page carries a strict policy and no
// inline script, the whole workflow runs under it without a single violation, and a
// request to an endpoint off the connect-src list is blocked by the browser.
import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';
import { DIST, Fannotate, startServers } from './support.mjs';
import { collectErrors, collectViolations, wholeWorkflow } from './hosting.mjs';

let servers;
test.beforeAll(async () => { servers = await startServers({ base: '/csp/' }); });
test.afterAll(async () => servers?.close());

test('dist/index.html has the CSP <meta> first in <head> and no inline script', () => {
  const html = fs.readFileSync(path.join(DIST, 'index.html'), 'utf8');
  const head = html.match(/<head[^>]*>\s*(<meta[^>]*>)\s*(<meta[^>]*>)/i);
  expect(head, 'CSP and fannotate-csp metas open <head>').not.toBeNull();
  expect(head[1]).toMatch(/http-equiv="Content-Security-Policy"/);
  const policy = head[1].match(/content="([^"]*)"/)[1].replaceAll('&#39;', "'");
  for (const d of [
    "default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "style-src 'self'", "img-src 'self' data:",
    "font-src 'self'", "worker-src 'self'", "manifest-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'none'",
  ]) expect(policy.split('; ')).toContain(d);
  expect(policy).not.toMatch(/'unsafe-inline'|'unsafe-eval'|'unsafe-hashes'|frame-ancestors| \*(;| |$)/);
  // The default build is the strict one: the page may call endpoints on this machine only.
  expect(head[2]).toMatch(/name="fannotate-csp" content="strict"/);
  expect(policy).toContain("connect-src 'self' http://127.0.0.1:* http://localhost:* https://127.0.0.1:* https://localhost:*");

  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
  expect(scripts.map((m) => m[1].trim())).toEqual([expect.stringMatching(/^type="module" src="\.\/boot\.js"/)]);
  expect(scripts[0][2].trim()).toBe('');
  expect(html).not.toMatch(/<[a-z][^>]*\s(on[a-z]+|style)\s*=/i);
  expect(html).not.toMatch(/<style/i);
  const boot = fs.readFileSync(path.join(DIST, 'boot.js'), 'utf8');
  expect(boot).toContain("import init, * as bindings from './fannotate.js'");
  expect(boot).toContain("register('./sw.js', { scope: './' })");
  expect(fs.readFileSync(path.join(DIST, 'sw.js'), 'utf8')).toMatch(/const VERSION = "[0-9a-f]{12}";/);
});

test('the whole workflow runs without a CSP violation or console error', async ({ page, context }) => {
  const violations = await collectViolations(context);
  const errors = collectErrors(page);
  const app = new Fannotate(page);
  await app.open(servers.web.url);
  // The policy is really in force in the page.
  expect(await page.locator('meta[http-equiv="Content-Security-Policy"]').count()).toBe(1);
  await expect(page.locator('meta[name="fannotate-csp"]')).toHaveAttribute('content', 'strict');
  await wholeWorkflow(app, servers.llm, 'CSP');
  // Revisit every step once more, so each view has rendered under the policy.
  for (const s of ['data', 'codebook', 'endpoint', 'run', 'results']) await app.step(s);
  await app.byTest('nav-projects').click();
  await expect(app.byTest('projects-view')).toBeVisible();
  // Not even a 404 for config.json: the build ships an empty one (issue #14).
  expect({ violations, errors }).toEqual({ violations: [], errors: [] });
});

test('a request to an endpoint off the connect-src list is blocked and reported', async ({ page, context }) => {
  const violations = await collectViolations(context);
  const app = new Fannotate(page);
  await app.open(servers.web.url);
  const tryFetch = (url) =>
    page.evaluate(async (u) => {
      try {
        const r = await fetch(u);
        return `status ${r.status}`;
      } catch (e) {
        return `rejected: ${e.name}`;
      }
    }, url);
  // The local mock is on the list...
  expect(await tryFetch(`${servers.llm.url}/v1/models`)).toBe('status 200');
  expect(violations).toEqual([]);
  // ...a LAN address and a public host are not.
  for (const url of ['http://10.0.0.1:9/v1/models', 'https://llm.example.invalid/v1/models']) {
    expect(await tryFetch(url)).toBe('rejected: TypeError');
    await expect.poll(() => violations.find((v) => v.blockedURI.startsWith(new URL(url).origin))).toBeTruthy();
    const v = violations.find((x) => x.blockedURI.startsWith(new URL(url).origin));
    expect(v.violatedDirective).toMatch(/^connect-src/);
    expect(v.effectiveDirective).toBe('connect-src');
  }
  expect(violations).toHaveLength(2);
});
