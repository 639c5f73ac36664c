// Large imports are chunked, cancellable and atomic: a cancel or a reload in the
// middle leaves the previous dataset and no stray rows.
import { test, expect } from '@playwright/test';
import { Fannotate, startServers, spamSample, tempFile } from './support.mjs';

let servers;
test.beforeAll(async () => { servers = await startServers(); });
test.afterAll(async () => servers?.close());

/** A CSV of `n` short rows. */
function bigCsv(n) {
  const lines = ['id,text,label'];
  for (let i = 0; i < n; i++) lines.push(`b${i},message number ${i} about nothing much,${i % 3 ? 'ham' : 'spam'}`);
  return tempFile(`big-${n}.csv`, lines.join('\n') + '\n');
}

/** Rows and import markers in every Fannotate database of this origin. */
async function storedRows(page) {
  return page.evaluate(async () => {
    const out = { rows: 0, imports: 0 };
    for (const { name } of await indexedDB.databases()) {
      if (!name.startsWith('fannotate')) continue;
      const db = await new Promise((res, rej) => { const r = indexedDB.open(name); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
      for (const store of ['rows', 'imports']) {
        if (!db.objectStoreNames.contains(store)) continue;
        out[store] += await new Promise((res) => { const r = db.transaction(store).objectStore(store).count(); r.onsuccess = () => res(r.result); });
      }
      db.close();
    }
    return out;
  });
}

async function pickBig(app, file) {
  await app.step('data');
  await app.pickFile(file);
  await expect(app.byTest('import-mapping')).toBeVisible({ timeout: 60_000 });
  await app.byTest('import-button').click();
  await expect(app.byTest('import-progress')).toBeVisible();
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
  await page.reload();
  await app.byTest('open-project').first().click();
  await app.step('data');
  await expect(app.byTest('dataset-rows')).toHaveText('20');
  expect(await storedRows(page)).toEqual({ rows: 20, imports: 0 });
  // The same file imports fine afterwards, and replaces the old dataset.
  await pickBig(app, bigCsv(30_000));
  await expect(app.byTest('dataset-rows')).toHaveText('30000', { timeout: 60_000 });
  expect(await storedRows(page)).toEqual({ rows: 30_000, imports: 0 });
});
