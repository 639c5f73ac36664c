// TEMPORARY diagnostics (removed after use).
import fs from 'node:fs';
import { Fannotate } from '../e2e/support.mjs';
import { launchBrowser, newContext, startWeb } from './common.mjs';

const file = process.argv[2];
const web = await startWeb();
const browser = await launchBrowser();
const context = await newContext(browser);
const page = await context.newPage();
const app = new Fannotate(page);
await app.open(web.url);
await app.byTest('restore-file').setInputFiles(file);
await app.byTest('project-list').getByText('Bench export').waitFor({ timeout: 600_000 });
await app.byTest('open-project').first().click();
await app.byTest('dataset-summary').waitFor();
const raw = await page.evaluate(async () => {
  const db = await new Promise((res, rej) => { const r = indexedDB.open('fannotate:default'); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
  const getAll = (store, range) => new Promise((res, rej) => {
    const r = db.transaction([store], 'readonly').objectStore(store).getAll(range);
    r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error);
  });
  const ds = 'bench-export-dataset';
  const out = {};
  for (let k = 0; k < 2; k++) {
    let t = performance.now();
    const rows = await getAll('row_chunks', IDBKeyRange.bound([ds, 0], [ds, 100000]));
    out[`rows_getAll_ms_${k}`] = performance.now() - t;
    t = performance.now();
    const ann = await getAll('annotations', IDBKeyRange.bound([ds], [ds, []]));
    out[`ann_getAll_ms_${k}`] = performance.now() - t;
    out.n = [rows.length, ann.length];
  }
  let t = performance.now();
  await Promise.all([getAll('row_chunks', IDBKeyRange.bound([ds, 0], [ds, 100000])), getAll('annotations', IDBKeyRange.bound([ds], [ds, []]))]);
  out.parallel_ms = performance.now() - t;
  db.close();
  return out;
});
console.log('raw getAll', raw);
await app.step('results');
await app.byTest('labels-table').waitFor({ timeout: 300_000 });
await app.byTest('export-format').selectOption(process.argv[3] ?? 'csv');
const cdp = await context.newCDPSession(page);
await cdp.send('Profiler.enable');
await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
await cdp.send('Profiler.start');
const download = page.waitForEvent('download');
await app.byTest('export-data').click();
await download;
await app.byTest('export-timing').waitFor();
const { profile } = await cdp.send('Profiler.stop');
console.log('app ms', await app.byTest('export-timing').getAttribute('data-ms'));
fs.writeFileSync('/tmp/fa-diag/export.cpuprofile', JSON.stringify(profile));
const self = new Map();
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
for (let i = 0; i < profile.samples.length; i++) {
  const cf = byId.get(profile.samples[i]).callFrame;
  const key = `${cf.functionName || '(anon)'} ${cf.url.split('/').pop()}:${cf.lineNumber}`;
  self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
}
console.log(`profile ${((profile.endTime - profile.startTime) / 1e6).toFixed(2)} s`);
for (const [k, us] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
await browser.close();
await web.close();
