// Keyboard-first review on 300 SpamAssassin rows: 20 items labelled with the
// keyboard only (Enter accepts, 1/2 pick), an undo, queues, blind mode, and the
// human labels kept apart from the model's and exported as such.
import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import { Fannotate, startServers, spamSample } from './support.mjs';
import { parseCsv } from '../mock/server.mjs';

let servers;
test.beforeAll(async () => { servers = await startServers({ mock: { latencyMs: 20, wrongRate: 0.2 } }); });
test.afterAll(async () => servers?.close());

test('a keyboard-only review of 20 items with an undo', async ({ page }) => {
  const app = new Fannotate(page);
  const sample = spamSample(300);
  await app.open(servers.web.url);
  await app.createProject('Review');
  await app.importCsv(sample.file, { text: 'text', id: 'id', gold: 'label' });
  await app.defineAttribute('spam', [['ham', 'a normal email'], ['spam', 'unsolicited bulk email']]);
  await app.configureEndpoint({ baseUrl: `${servers.llm.url}/v1`, model: 'mock-model', provider: 'generic', constraint: 'guided_choice', concurrency: 6 });
  await app.startRun();
  await app.waitRunFinished(300);

  await app.step('review');
  await expect(app.byTest('review-progress')).toContainText('Item 1 of 300');
  await app.byTest('review-pane').focus();
  const expected = new Map();
  for (let i = 0; i < 20; i++) {
    const id = await app.byTest('review-id').textContent();
    const llm = await app.byTest('review-llm').textContent();
    let label;
    if (i < 10) {
      await page.keyboard.press('Enter');
      label = llm;
    } else {
      label = i % 2 ? 'spam' : 'ham';
      await page.keyboard.press(label === 'ham' ? '1' : '2');
    }
    expected.set(id, label);
    await expect(app.byTest('review-progress')).toContainText(`${i + 1} of 300 rows have a human label`);
  }
  await expect(app.byTest('review-progress')).toContainText('Item 21 of 300');
  // U takes the last label back and shows that item again.
  await page.keyboard.press('u');
  await expect(app.byTest('review-progress')).toContainText('19 of 300 rows have a human label');
  const undoneId = await app.byTest('review-id').textContent();
  expect(expected.has(undoneId)).toBe(true);
  await expect(app.byTest('review-human')).toHaveText('–');
  expected.delete(undoneId);
  // K goes back, J forward.
  await page.keyboard.press('k');
  await expect(app.byTest('review-human')).toHaveText(expected.get(await app.byTest('review-id').textContent()));
  await page.keyboard.press('j');

  // Queues: disagreements are exactly the labels that differ from the model's.
  await app.byTest('review-queue').selectOption('disagreements');
  const n = Number((await app.byTest('review-progress').textContent()).match(/of (\d+) in this queue/)[1]);
  expect(n).toBeGreaterThan(0);
  expect(n).toBeLessThanOrEqual(10);
  await app.byTest('review-queue').selectOption('unreviewed');
  await expect(app.byTest('review-progress')).toContainText('of 281 in this queue');
  // Blind mode hides the model's answer.
  await app.byTest('review-blind').check();
  await expect(app.byTest('review-llm')).toHaveCount(0);
  await expect(app.byTest('review-accept')).toBeDisabled();
  // / focuses search; Escape leaves it.
  await app.byTest('review-pane').focus();
  await page.keyboard.press('/');
  await expect(app.byTest('review-search')).toBeFocused();
  await page.keyboard.press('Escape');
  // Escape hands the focus back to the pane, so the keys act again (issue #14:
  // it went to the page body, and 1-9, J, K and U did nothing).
  await expect(app.byTest('review-pane')).toBeFocused();
  const at = await app.byTest('review-progress').textContent();
  await page.keyboard.press('j');
  await expect(app.byTest('review-progress')).not.toHaveText(at);
  // With the focus on the page body (a click on empty space), they still act.
  await page.evaluate(() => document.activeElement.blur());
  expect(await page.evaluate(() => document.activeElement === document.body)).toBe(true);
  await page.keyboard.press('k');
  await expect(app.byTest('review-progress')).toHaveText(at);
  await page.screenshot({ path: 'test-results/review.png', fullPage: true });

  // Human labels survive a reload and are exported apart from the model's.
  await app.reload();
  await app.step('review');
  await expect(app.byTest('review-progress')).toContainText('19 of 300 rows have a human label');
  const [header, ...rows] = parseCsv(fs.readFileSync(await app.exportCsv('csv'), 'utf8'));
  // The reviewer's label, with its time, stands apart from the imported gold (issue #14).
  const [reviewer, when, gold, label] = ['spam_reviewer', 'spam_reviewed_at', 'spam_gold', 'label'].map((h) => header.indexOf(h));
  for (const r of rows) {
    const id = r[0];
    expect(r[reviewer]).toBe(expected.has(id) ? expected.get(id) : '');
    expect(r[when]).toMatch(expected.has(id) ? /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/ : /^$/);
    expect(r[gold]).toBe(r[label]);
  }
});

test('a stratified validation set, labelled blind, then a run limited to it', async ({ page }) => {
  const app = new Fannotate(page);
  const sample = spamSample(300);
  await app.open(servers.web.url);
  await app.createProject('Validation');
  await app.importCsv(sample.file, { text: 'text', id: 'id', gold: 'label' });
  await app.defineAttribute('spam', [['ham', 'a normal email'], ['spam', 'unsolicited bulk email']]);
  await app.step('review');
  await expect(app.byTest('validation-summary')).toContainText('none yet');
  await app.byTest('validation-summary').click();
  await app.setField('validation-size', 40);
  await app.byTest('validation-method').selectOption('stratified');
  await app.byTest('validation-draw').click();
  await expect(app.byTest('validation-summary')).toHaveText('Validation set: 40 rows (stratified by label, seed 1)');
  await app.byTest('review-queue').selectOption('validation');
  await expect(app.byTest('review-blind')).toBeChecked();
  await expect(app.byTest('review-progress')).toContainText('of 40 in this queue');
  await app.byTest('review-pane').focus();
  for (let i = 0; i < 5; i++) await page.keyboard.press(i % 2 ? '2' : '1');
  await expect(app.byTest('review-progress')).toContainText('5 of 300 rows have a human label');

  await app.configureEndpoint({ baseUrl: `${servers.llm.url}/v1`, model: 'mock-model', provider: 'generic', constraint: 'guided_choice' });
  await app.startRun({ scope: 'validation' });
  await app.waitRunFinished(40);
  await expect(app.byTest('run-row').first()).toContainText('Validation set · 40');
});

test('a human label whose write fails is taken back, and the host hears only of stored labels (issue #15)', async ({ page }) => {
  const app = new Fannotate(page);
  await app.open(servers.web.url);
  await app.createProject('Failing write');
  await app.importCsv(spamSample(10).file, { text: 'text', id: 'id', gold: 'label' });
  await app.defineAttribute('spam', [['ham', 'a normal email'], ['spam', 'unsolicited bulk email']]);
  await app.step('review');
  await expect(app.byTest('review-progress')).toContainText('Item 1 of 10');
  await page.evaluate(() => {
    window.__events = [];
    document.addEventListener('fannotate:annotation', (e) => window.__events.push(e.detail));
    // The disk refuses annotations (as a full or broken profile would).
    window.__put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function put(...args) {
      if (this.name === 'annotations') throw new DOMException('the disk refused the write', 'UnknownError');
      return window.__put.apply(this, args);
    };
  });
  await app.byTest('review-pane').focus();
  await page.keyboard.press('1');
  await expect(app.byTest('toast').filter({ hasText: 'the disk refused the write' })).toBeVisible();
  await expect(app.byTest('review-progress')).toContainText('0 of 10 rows have a human label');
  expect(await page.evaluate(() => window.__events.length)).toBe(0);
  await page.evaluate(() => { IDBObjectStore.prototype.put = window.__put; });
  await app.byTest('review-pane').focus();
  await page.keyboard.press('k');
  await expect(app.byTest('review-progress')).toContainText('Item 1 of 10');
  await page.keyboard.press('1');
  await expect(app.byTest('review-progress')).toContainText('1 of 10 rows have a human label');
  await expect.poll(() => page.evaluate(() => window.__events.length)).toBe(1);
  expect(await page.evaluate(() => window.__events[0])).toMatchObject({ attribute: 'spam', source: 'human', value: 'ham', status: 'valid' });
});
