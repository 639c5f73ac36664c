// TEMPORARY diagnostics (removed after use).
import fs from 'node:fs';
import path from 'node:path';
import { Fannotate } from '../e2e/support.mjs';
import { ROOT, launchBrowser, newContext, startWeb, tempDir, csvField, spamTexts, CAPTURE_WASM, importThroughUi } from './common.mjs';

const mode = process.argv[2] ?? 'profile';
const file = process.argv[3];
const web = await startWeb();
const browser = await launchBrowser();
const context = await newContext(browser);
await context.addInitScript(CAPTURE_WASM);
const page = await context.newPage();
const app = new Fannotate(page);
await app.open(web.url);
if (mode === 'profile') {
  await app.createProject('Diag');
  await app.step('data');
  const cdp = await context.newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 1000 });
  await cdp.send('Profiler.start');
  const r = await importThroughUi(app, file);
  const { profile } = await cdp.send('Profiler.stop');
  console.log(r);
  fs.writeFileSync('/tmp/fa-diag/import.cpuprofile', JSON.stringify(profile));
  const self = new Map();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const dt = profile.timeDeltas;
  const total = profile.endTime - profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const n = byId.get(profile.samples[i]);
    const cf = n.callFrame;
    const key = `${cf.functionName || '(anon)'} ${cf.url.split('/').pop()}:${cf.lineNumber}`;
    self.set(key, (self.get(key) ?? 0) + (dt[i + 1] ?? 0));
  }
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 30);
  console.log(`profile ${(total / 1e6).toFixed(1)} s`);
  for (const [k, us] of top) console.log(`${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
} else if (mode === 'idb') {
  await page.addScriptTag({ path: path.join(ROOT, 'node_modules/papaparse/papaparse.min.js') });
  await page.evaluate(() => { const i = document.createElement('input'); i.type = 'file'; i.id = 'f'; document.body.append(i); });
  await page.setInputFiles('#f', file);
  await page.evaluate((p) => { window.__plan = p; }, JSON.parse(process.argv[4]));
  const res = await page.evaluate(async () => {
    const text = await document.getElementById('f').files[0].text();
    const data = Papa.parse(text, { skipEmptyLines: true }).data.slice(1);
    const rows = data.map((cells, idx) => ({ dataset_id: 'ds-abcdefgh', idx, id: cells[0], cells }));
    const out = [];
    const openDb = (name) => new Promise((res, rej) => {
      const r = indexedDB.open(name, 1);
      r.onupgradeneeded = () => r.result.createObjectStore('rows', { keyPath: ['dataset_id', 'idx'] });
      r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error);
    });
    let k = 0;
    const plan = (window.__plan ?? []);
    for (const [chunk, durability, shape, per] of plan) {
      const db = await openDb(`bench-${k++}`);
      const t0 = performance.now();
      let putMs = 0, maxTx = 0;
      for (let s = 0; s < rows.length; s += chunk) {
        const ta = performance.now();
        const tx = db.transaction(['rows'], 'readwrite', { durability });
        const st = tx.objectStore('rows');
        const part = rows.slice(s, s + chunk);
        if (shape === 'page') {
          for (let j = 0; j < part.length; j += per) {
            const pg = part.slice(j, j + per);
            st.put({ dataset_id: pg[0].dataset_id, idx: pg[0].idx, rows: pg.map((r) => [r.id, r.cells]) });
          }
        } else if (shape === 'pagejson') {
          for (let j = 0; j < part.length; j += per) {
            const pg = part.slice(j, j + per);
            st.put({ dataset_id: pg[0].dataset_id, idx: pg[0].idx, rows: JSON.stringify(pg.map((r) => [r.id, r.cells])) });
          }
        } else for (const r of part) st.put(shape === 'json' ? { dataset_id: r.dataset_id, idx: r.idx, id: r.id, cells: JSON.stringify(r.cells) } : r);
        putMs += performance.now() - ta;
        await new Promise((res, rej) => { tx.oncomplete = res; tx.onerror = () => rej(tx.error); });
        maxTx = Math.max(maxTx, performance.now() - ta);
        await new Promise((r) => setTimeout(r, 0));
      }
      const total = performance.now() - t0;
      const tr = performance.now();
      const got = await new Promise((res, rej) => { const q = db.transaction(['rows'], 'readonly').objectStore('rows').getAll(); q.onsuccess = () => res(q.result); q.onerror = () => rej(q.error); });
      const readMs = performance.now() - tr;
      out.push({ chunk, durability, shape, per, total_s: total / 1000, put_s: putMs / 1000, commit_wait_s: (total - putMs) / 1000, max_tx_ms: maxTx, read_s: readMs / 1000, records: got.length });
      db.close();
    }
    return out;
  });
  console.table(res);
}
await browser.close();
await web.close();
