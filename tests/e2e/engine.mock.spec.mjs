// The LLM engine against the mock: capability probing, answer styles, mixed
// faults, pause, replications, an endpoint pool and run scopes.
import { test, expect } from '@playwright/test';
import { Fannotate, startServers, spamSample, mockAdmin, chatPosts, tempFile, SPAM_CSV, SHARED } from './support.mjs';
import { startMock } from '../mock/server.mjs';

const SPAM = [['ham', 'a normal email'], ['spam', 'unsolicited bulk email']];

let servers;
test.beforeAll(async () => { servers = await startServers({ mock: { latencyMs: 30 } }); });
test.afterAll(async () => servers?.close());
test.beforeEach(async () => {
  await mockAdmin(servers.llm, 'config', {
    latency_ms: 30, wrong_rate: 0, invalid_rate: 0, faults: [], answer_style: 'plain', model_styles: {},
    capabilities: { guided_choice: true, json_schema: true, grammar: true, logprobs: true },
  });
  await mockAdmin(servers.llm, 'reset', {});
});

async function setUp(app, name, rows, endpoint = {}) {
  await app.open(servers.web.url);
  await app.createProject(name);
  const sample = typeof rows === 'number' ? spamSample(rows).file : rows;
  await app.importCsv(sample, { text: 'text', id: 'id', gold: 'label' });
  await app.defineAttribute('spam', SPAM);
  await app.configureEndpoint({ baseUrl: `${servers.llm.url}/v1`, model: 'mock-model', provider: 'generic', ...endpoint });
}

const counts = async (app) => {
  const t = await app.byTest('results-counts').textContent();
  const [valid, invalid, failed] = t.match(/\d+/g).map(Number);
  return { valid, invalid, failed };
};

test('the probe finds what the server honours and picks the constraint; a manual choice stands', async ({ page }) => {
  const app = new Fannotate(page);
  // Only JSON schema works here; unconstrained answers would often be invalid.
  await mockAdmin(servers.llm, 'config', {
    invalid_rate: 0.4, answer_style: 'explain',
    capabilities: { guided_choice: false, grammar: false, json_schema: true, logprobs: true },
  });
  await setUp(app, 'Probe', 20);
  await app.testConnection();
  await expect(app.byTest('cap-json_schema')).toContainText('yes');
  await expect(app.byTest('cap-guided_choice')).toContainText('no');
  await expect(app.byTest('cap-grammar')).toContainText('no');
  await expect(app.byTest('cap-logprobs')).toContainText('yes');
  await expect(app.byTest('connection-ok')).toContainText('Runs will use: JSON schema (response_format) (chosen automatically; saved)');
  await app.startRun();
  await app.waitRunFinished(20);
  await app.step('results');
  expect(await counts(app)).toEqual({ valid: 20, invalid: 0, failed: 0 });
  for (const c of await app.byTest('confidence').allTextContents()) expect(c).toMatch(/^\d+ %$/);

  // A server with guided_choice: the probe prefers it.
  await mockAdmin(servers.llm, 'config', { capabilities: { guided_choice: true, logprobs: false } });
  await app.step('endpoint');
  await app.testConnection();
  await expect(app.byTest('cap-guided_choice')).toContainText('yes');
  await expect(app.byTest('cap-logprobs')).toContainText('no');
  await expect(app.byTest('connection-ok')).toContainText('Runs will use: vLLM guided_choice');

  // A manual choice is kept, with a warning when the server ignores it.
  await app.byTest('constraint').selectOption('grammar');
  await app.byTest('save-endpoint').click();
  await app.testConnection();
  await expect(app.byTest('connection-ok')).toContainText('Runs will use your choice: llama.cpp grammar (GBNF), which this server did not honour');
  await app.reload();
  await app.step('endpoint');
  await expect(app.byTest('constraint')).toHaveValue('grammar');
});

test('plain, explained, JSON and emoji answers are all read as labels', async ({ page }) => {
  const app = new Fannotate(page);
  await setUp(app, 'Styles', 15, { constraint: 'none' });
  for (const style of ['explain', 'json', 'emoji']) {
    await mockAdmin(servers.llm, 'config', { answer_style: style });
    await app.startRun();
    await app.waitRunFinished(15);
    await app.step('results');
    expect(await counts(app), style).toEqual({ valid: 15, invalid: 0, failed: 0 });
  }
});

test('20 % of calls fail in mixed ways: every row is done or listed as failed, counts exact, nothing twice', async ({ page }) => {
  const app = new Fannotate(page);
  const n = 200;
  await setUp(app, 'Faults', n, { constraint: 'none', concurrency: 6, timeout: 2 });
  await mockAdmin(servers.llm, 'config', {
    faults: [
      { type: '429', rate: 0.05, retry_after: 0 },
      { type: '500', rate: 0.05 },
      { type: 'malformed', rate: 0.04 },
      { type: '400', rate: 0.03 },
      { type: 'hang', rate: 0.03 },
    ],
  });
  await mockAdmin(servers.llm, 'reset', {});
  await app.startRun();
  await app.waitRunFinished(n);
  const posts = await chatPosts(servers.llm);
  const faulted = posts.filter((p) => p.fault);
  expect(faulted.length / posts.length).toBeGreaterThan(0.15);
  await app.step('results');
  const c = await counts(app);
  expect(c.valid + c.invalid + c.failed).toBe(n);
  // Each row was answered successfully at most once, and exactly the stored
  // answers were successful.
  const answered = posts.filter((p) => p.status === 200 && p.fault !== 'malformed').map((p) => p.row);
  expect(new Set(answered).size).toBe(answered.length);
  expect(answered.length).toBe(c.valid + c.invalid);
  // 400 and malformed answers are not retried; they are the failures.
  expect(c.failed).toBeGreaterThan(0);
  await app.step('run');
  await expect(app.byTest('run-row').first().locator('td').nth(7)).toHaveText(String(c.failed));
  await app.byTest('show-failed').first().click();
  await expect(app.byTest('failed-row')).toHaveCount(c.failed);
  const reasons = (await app.byTest('failed-row').allTextContents()).join('\n');
  expect(reasons).toContain('HTTP 400');
  expect(reasons).toContain('not a chat completion');
});

test('pause holds new requests; continue finishes without repeating any', async ({ page }) => {
  const app = new Fannotate(page);
  await mockAdmin(servers.llm, 'config', { latency_ms: 300 });
  await setUp(app, 'Pause', 60, { concurrency: 4 });
  await app.startRun();
  // The panel is built once and its figures change in place, with no animation
  // between updates: rebuilding or animating it drew frames all through a run.
  const panel = await app.byTest('run-progress').elementHandle();
  const doneCell = await app.byTest('run-done').elementHandle();
  await expect.poll(async () => Number((await app.byTest('run-done').textContent()).split(' / ')[0])).toBeGreaterThan(8);
  expect(await panel.evaluate((el) => el.isConnected)).toBe(true);
  expect(await doneCell.evaluate((el) => el.isConnected)).toBe(true);
  const fill = await app.byTest('progress').locator('.fa-progress__fill').evaluate((el) => {
    const cs = getComputedStyle(el);
    return { transition: cs.transitionDuration, transform: cs.transform };
  });
  expect(fill.transition).toBe('0s');
  expect(fill.transform).toMatch(/^matrix\(0\.[1-9]/);
  await app.byTest('pause-run').click();
  await expect(app.byTest('run-paused')).toBeVisible();
  await expect(app.byTest('pause-run')).toHaveText('Continue');
  // Requests in flight finish, and then every one of the four workers waits at
  // the pause: from that state nothing can go out until Continue (issue #14: a
  // fixed sleep stood in for this condition).
  await expect(app.byTest('run-paused')).toHaveAttribute('data-in-flight', '0', { timeout: 10_000 });
  await expect(app.byTest('run-paused')).toHaveAttribute('data-held', '4');
  const done = Number((await app.byTest('run-done').textContent()).split(' / ')[0]);
  // Every request the mock saw is one the app counted as done: none is on the way.
  expect((await chatPosts(servers.llm)).length).toBe(done);
  expect((await mockAdmin(servers.llm, 'stats')).in_flight).toBe(0);
  expect(done).toBeLessThan(60);
  await app.byTest('pause-run').click();
  await expect(app.byTest('run-paused')).toBeHidden();
  await app.waitRunFinished(60);
  await expect(app.byTest('progress')).toHaveAttribute('aria-valuenow', '60');
  const rows = (await chatPosts(servers.llm)).map((p) => p.row);
  expect(rows.length).toBe(60);
  expect(new Set(rows).size).toBe(60);
});

test('replications vote; without logprobs their agreement is the confidence', async ({ page }) => {
  const app = new Fannotate(page);
  await mockAdmin(servers.llm, 'config', { model_accuracy: { 'mock-model': 0.7 } });
  try {
    await setUp(app, 'Replications', 20, { constraint: 'none', replications: 3, temperature: 0.7 });
    await app.startRun();
    await app.waitRunFinished(20);
    expect((await chatPosts(servers.llm)).length).toBe(60);
    await app.step('results');
    expect((await counts(app)).valid).toBe(20);
    const conf = await app.byTest('confidence').allTextContents();
    expect(conf).toHaveLength(20);
    for (const c of conf) expect(['67 %', '100 %']).toContain(c);
    expect(conf).toContain('67 %');
  } finally {
    await mockAdmin(servers.llm, 'config', { model_accuracy: {} });
  }
});

test('an endpoint pool spreads requests over replicas and rests a failing one', async ({ page }) => {
  const app = new Fannotate(page);
  const second = await startMock({ host: '127.0.0.1', port: 0, gold: SPAM_CSV, latencyMs: 100 });
  try {
    await mockAdmin(servers.llm, 'config', { latency_ms: 100 });
    await setUp(app, 'Pool', 90, { concurrency: 12, constraint: 'none', replicas: [`${second.url}/v1`] });
    await expect(app.byTest('concurrency-note')).toHaveCount(0); // two hosts: 12 can be in flight
    await app.startRun();
    await app.waitRunFinished(90);
    const a = (await chatPosts(servers.llm)).length;
    const b = (await chatPosts(second)).length;
    expect(a + b).toBe(90);
    expect(Math.min(a, b)).toBeGreaterThanOrEqual(35);
    expect(Number(await app.byTest('run-max-in-flight').textContent())).toBeGreaterThan(6);

    // The second replica now fails every request: after three failures in a row it
    // leaves the rotation, and every row is still answered by the first.
    await mockAdmin(second, 'config', { faults: [{ type: '500' }] });
    await mockAdmin(second, 'reset', {});
    await mockAdmin(servers.llm, 'reset', {});
    await app.startRun();
    await app.waitRunFinished(90);
    await expect(app.byTest('run-replicas')).toHaveText('1 of 2');
    await app.step('results');
    expect(await counts(app)).toEqual({ valid: 90, invalid: 0, failed: 0 });
    expect((await chatPosts(servers.llm)).filter((p) => p.status === 200).length).toBe(90);
    // Only the requests already sent before it was rested reached it.
    expect((await chatPosts(second)).length).toBeLessThanOrEqual(12);
  } finally {
    await second.close();
  }
});

test('scopes: validation set, unlabelled rows, failed rows', async ({ page }) => {
  const app = new Fannotate(page);
  // 30 rows, the gold label blanked on 12 of them: 18 form the validation set.
  const sample = spamSample(30);
  const lines = [sample.header.join(',')];
  sample.rows.forEach((r, i) => {
    const cells = [...r];
    if (i % 5 < 2) cells[sample.header.indexOf('label')] = '';
    lines.push(cells.map((c) => (/[",\n\r]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(','));
  });
  await setUp(app, 'Scopes', tempFile('partial-gold.csv', lines.join('\n') + '\n'), { constraint: 'none', concurrency: 1 });
  await app.startRun({ scope: 'validation' });
  await app.waitRunFinished(18);
  expect(new Set((await chatPosts(servers.llm)).map((p) => p.row)).size).toBe(18);
  // The rest: neither a human nor a model label yet. Three of them fail (400).
  await mockAdmin(servers.llm, 'config', { faults: [{ type: '400', count: 3 }] });
  await app.startRun({ scope: 'unlabelled' });
  await app.waitRunFinished(12);
  await expect(app.byTest('run-row').first()).toContainText('Unlabelled rows · 12');
  await expect(app.byTest('run-row').first().locator('td').nth(7)).toHaveText('3');
  await mockAdmin(servers.llm, 'config', { faults: [] });
  await mockAdmin(servers.llm, 'reset', {});
  await app.startRun({ scope: 'failed' });
  await app.waitRunFinished(3);
  await expect(app.byTest('run-row').first()).toContainText('Failed or invalid answers · 3');
  expect((await chatPosts(servers.llm)).length).toBe(3);
  // Nothing is left unlabelled now.
  await app.byTest('run-scope').selectOption('unlabelled');
  await app.byTest('start-run').click();
  await expect(page.getByText('No rows in the scope "Unlabelled rows"')).toBeVisible();
});

test('one run per attribute in turn, with a chosen prompt version', async ({ page }) => {
  const app = new Fannotate(page);
  await setUp(app, 'All attributes', 8, { constraint: 'none' });
  // Version 2: the original tool's codebook with eight attributes.
  await app.step('codebook');
  await app.byTest('codebook-file').setInputFiles(`${SHARED}/fixtures/fannotate/codebook.json`);
  await expect(page.getByText('Codebook saved as version 2.').last()).toBeVisible();
  await app.step('run');
  await app.byTest('run-attribute').selectOption('__all_attributes__');
  await app.byTest('run-version').selectOption('2');
  await app.byTest('start-run').click();
  await expect(app.byTest('run-row')).toHaveCount(8, { timeout: 60_000 });
  await expect(app.byTest('cancel-run')).toBeDisabled({ timeout: 60_000 });
  await expect(app.byTest('run-status')).toHaveText(Array(8).fill('completed'));
  for (const row of await app.byTest('run-row').all()) await expect(row).toContainText('prompt v2');
  // Version 1 still runs, on its own attribute.
  await app.byTest('run-version').selectOption('1');
  await app.byTest('run-attribute').selectOption('spam');
  await app.byTest('start-run').click();
  await expect(app.byTest('run-row')).toHaveCount(9, { timeout: 60_000 });
  await expect(app.byTest('run-row').first()).toContainText('prompt v1');
});

test('"Most in flight" is what the browser had open, not what the app handed it (issue #14)', async ({ page }) => {
  const app = new Fannotate(page);
  await mockAdmin(servers.llm, 'config', { latency_ms: 100 });
  // Eight asked for over plain http://: the browser opens six connections per server.
  await setUp(app, 'In flight', 40, { concurrency: 8 });
  await mockAdmin(servers.llm, 'reset', {});
  await app.startRun();
  await app.waitRunFinished(40);
  const shown = Number(await app.byTest('run-max-in-flight').textContent());
  const { max_in_flight: seen } = await mockAdmin(servers.llm, 'stats');
  expect(shown).toBeLessThanOrEqual(6);
  expect(seen).toBeLessThanOrEqual(shown);
  expect(shown).toBeGreaterThan(1);
});
