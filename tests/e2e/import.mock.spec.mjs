// Large imports are chunked, cancellable and atomic: a cancel or a reload in the
// middle leaves the previous dataset and no stray rows.
import { test, expect, chromium } from '@playwright/test';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Fannotate, startServers, spamSample, tempFile } from './support.mjs';

let servers;
test.beforeAll(async () => { servers = await startServers(); });
test.afterAll(async () => servers?.close());

/** A CSV of `n` short rows (`random`: incompressible text, for the quota test). */
function bigCsv(n, { random = false } = {}) {
  const lines = ['id,text,label'];
  for (let i = 0; i < n; i++) {
    const text = random ? crypto.randomBytes(48).toString('hex') : `message number ${i} about nothing much`;
    lines.push(`b${i},${text},${i % 3 ? 'ham' : 'spam'}`);
  }
  return tempFile(`big-${n}.csv`, lines.join('\n') + '\n');
}

/** Rows (per-row records and rows inside chunk records) and import markers in
 *  every Fannotate database of this origin. */
async function storedRows(page) {
  return page.evaluate(async () => {
    const out = { rows: 0, imports: 0 };
    const all = (db, store) => new Promise((res) => { const r = db.transaction(store).objectStore(store).getAll(); r.onsuccess = () => res(r.result); });
    for (const { name } of await indexedDB.databases()) {
      if (!name.startsWith('fannotate')) continue;
      const db = await new Promise((res, rej) => { const r = indexedDB.open(name); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
      const has = (s) => db.objectStoreNames.contains(s);
      if (has('rows')) out.rows += (await all(db, 'rows')).length;
      if (has('row_chunks')) for (const c of await all(db, 'row_chunks')) out.rows += JSON.parse(c.rows).length;
      if (has('imports')) out.imports += (await all(db, 'imports')).length;
      db.close();
    }
    return out;
  });
}

/** Pick `file` on the Data step and start its import. Asserts nothing about the
 * progress bar: a small file can finish before an assertion sees it (CI did). */
async function pickBig(app, file) {
  await app.step('data');
  await app.pickFile(file);
  await expect(app.byTest('import-mapping')).toBeVisible({ timeout: 60_000 });
  await app.byTest('import-button').click();
}

test('cancel in the middle of a large import: nothing stored, the old dataset stays', async ({ page }) => {
  const app = new Fannotate(page);
  await app.open(servers.web.url);
  await app.createProject('Cancel import');
  await app.importCsv(spamSample(20).file, { text: 'text', id: 'id', gold: 'label' });
  await pickBig(app, bigCsv(300_000));
  await app.byTest('cancel-import').click();
  await expect(page.getByText('Import cancelled; nothing was stored.')).toBeVisible({ timeout: 60_000 });
  await expect(app.byTest('dataset-rows')).toHaveText('20');
  expect(await storedRows(page)).toEqual({ rows: 20, imports: 0 });
});

test('a reload in the middle of a large import leaves no half dataset', async ({ page }) => {
  const app = new Fannotate(page);
  await app.open(servers.web.url);
  await app.createProject('Reload import');
  await app.importCsv(spamSample(20).file, { text: 'text', id: 'id', gold: 'label' });
  await pickBig(app, bigCsv(300_000));
  await expect.poll(async () => (await storedRows(page)).rows, { timeout: 60_000 }).toBeGreaterThan(20);
  await app.reload();
  await app.step('data');
  await expect(app.byTest('dataset-rows')).toHaveText('20');
  expect(await storedRows(page)).toEqual({ rows: 20, imports: 0 });
  // The same file imports fine afterwards, and replaces the old dataset.
  await pickBig(app, bigCsv(30_000));
  await expect(app.byTest('dataset-rows')).toHaveText('30000', { timeout: 60_000 });
  expect(await storedRows(page)).toEqual({ rows: 30_000, imports: 0 });
});

test('a full disk (quota) stops an import with a clear message and nothing half-written', async ({ browserName }, testInfo) => {
  // Quotas are only enforced for on-disk profiles, so this test opens one.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fa-quota-'));
  const { launchOptions } = testInfo.project.use;
  // No service worker: its precache of the app's files (over 3 MB with the
  // compute worker's) counts against the same quota and would race the writes.
  const ctx = await chromium.launchPersistentContext(dir, { ...launchOptions, headless: true, serviceWorkers: 'block' });
  try {
    const page = await ctx.newPage();
    // Chromium reads the quota when the database opens: shrink it first, to far
    // less than the large file needs.
    const cdp = await ctx.newCDPSession(page);
    const origin = new URL(servers.web.url).origin;
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 3_000_000 });
    const app = new Fannotate(page);
    await app.open(servers.web.url);
    await app.createProject('Quota');
    await app.importCsv(spamSample(20).file, { text: 'text', id: 'id', gold: 'label' });
    await app.step('data');
    await app.pickFile(bigCsv(100_000, { random: true }));
    await expect(app.byTest('import-mapping')).toBeVisible({ timeout: 60_000 });
    await app.byTest('import-button').click();
    await expect(app.byTest('import-error')).toContainText("The browser's storage for this site is full. Nothing was half-written.", { timeout: 60_000 });
    await expect(app.byTest('dataset-rows')).toHaveText('20');
    expect(await storedRows(page)).toEqual({ rows: 20, imports: 0 });
    // The project list shows what each project keeps in this browser.
    await app.byTest('nav-projects').click();
    await expect(app.byTest('project-size')).toContainText('20 rows');
    expect(browserName).toBe('chromium');
  } finally {
    await ctx.close();
  }
});

test('a malformed CSV never loses a row silently: strict errors name the line, lenient reads are the user\'s choice and list what they repaired (issue #14)', async ({ page }) => {
  const app = new Fannotate(page);
  await app.open(servers.web.url);
  await app.createProject('Malformed');
  // Row 3 used to vanish into row 2's text without a word.
  await app.pickFile(tempFile('quote.csv', 'id,text,label\n1,"ok",a\n2,"unterminated quote,c\n3,"x",d\n'));
  await expect(app.byTest('import-error')).toContainText('line 4, column 4');
  await expect(app.byTest('import-error')).toContainText('opened on line 3');
  await expect(app.byTest('import-button')).toBeDisabled();
  await app.byTest('quote-mode').selectOption('lenient');
  await expect(app.byTest('import-repairs')).toContainText('1 misplaced quote read leniently');
  await expect(app.byTest('import-repairs')).toContainText('line 4, column 4');
  await expect(app.byTest('file-summary')).toContainText('2 rows');

  // Rows with too few or too many fields: listed, then padded or left out by choice.
  await app.pickFile(tempFile('ragged.csv', 'id,text,label\n1,a,x\n2,b\n3,c,y\n4,d,z,extra\n5,e,x\n'));
  await expect(app.byTest('import-error')).toContainText('2 rows do not have the header\'s 3 fields (line 3 has 2, line 5 has 4)');
  await app.byTest('ragged-rows').selectOption('drop');
  await expect(app.byTest('file-summary')).toContainText('3 rows');
  await expect(app.byTest('import-repairs')).toContainText('2 rows with a different number of fields than the header left out: lines 3, 5');
  await app.byTest('ragged-rows').selectOption('pad');
  await expect(app.byTest('file-summary')).toContainText('5 rows');
  await expect(app.byTest('import-repairs')).toContainText('1 short row padded with empty fields: line 3');
  await expect(app.byTest('import-repairs')).toContainText('1 long row cut');
  await app.byTest('import-button').click();
  await expect(app.byTest('dataset-rows')).toHaveText('5');
});
