// Exports in every format carry all rows with provenance; spreadsheet formulas
// in the data are made inert.
import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { Fannotate, startServers, tempFile, ROOT } from './support.mjs';
import { parseCsv } from '../mock/server.mjs';

let servers;
test.beforeAll(async () => { servers = await startServers(); });
test.afterAll(async () => servers?.close());

test('CSV, CSV for Excel, XLSX and JSON Lines exports; formula cells are inert', async ({ page }) => {
  const app = new Fannotate(page);
  await app.open(servers.web.url);
  await app.createProject('Exports');
  const file = tempFile('evil.csv', [
    'id,text,label',
    'a1,=HYPERLINK("http://evil.example"),spam',
    'a2,+cmd|calc,spam',
    'a3,@SUM(A1:A9),ham',
    'a4,"Blåbærsyltetøy, takk",ham',
    'a5,-2+3,ham',
  ].join('\n') + '\n');
  await app.importCsv(file, { text: 'text', id: 'id', gold: 'label' });
  await app.defineAttribute('spam', [['ham', 'normal'], ['spam', 'junk']]);
  // The mock does not know these texts; it answers its first label for each.
  await app.configureEndpoint({ baseUrl: `${servers.llm.url}/v1`, model: 'mock-model', provider: 'generic', constraint: 'guided_choice' });
  await app.startRun();
  await app.waitRunFinished(5);

  const csv = fs.readFileSync(await app.exportCsv('csv'), 'utf8');
  const [header, ...rows] = parseCsv(csv);
  expect(header.slice(0, 8)).toEqual(['id', 'text', 'label', 'spam_gold', 'spam_reviewer', 'spam_reviewed_at', 'spam_llm', 'spam_run1_label']);
  expect(rows.map((r) => r[1])).toEqual([
    "'=HYPERLINK(\"http://evil.example\")", "'+cmd|calc", "'@SUM(A1:A9)", 'Blåbærsyltetøy, takk', "'-2+3",
  ]);
  await expect(app.byTest('export-timing')).toHaveAttribute('data-rows', '5');

  const excel = fs.readFileSync(await app.exportCsv('csv-excel'));
  expect([...excel.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  expect(excel.subarray(3).toString('utf8')).toBe(csv);

  const xlsxFile = await app.exportCsv('xlsx');
  expect(xlsxFile.endsWith('.xlsx')).toBe(true);
  const inspected = JSON.parse(execFileSync('cargo', ['run', '-q', '--locked', '-p', 'fannotate-core', '--example', 'inspect', '--', xlsxFile], { cwd: ROOT, encoding: 'utf8' }));
  expect(inspected.format).toBe('xlsx');
  expect(inspected.columns).toEqual(header);
  expect(inspected.rows).toBe(5);
  // Workbook cells are inline strings: never formulas.
  const raw = fs.readFileSync(xlsxFile);
  expect(raw.subarray(0, 2).toString()).toBe('PK');

  const jsonl = fs.readFileSync(await app.exportCsv('jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(jsonl).toHaveLength(5);
  expect(Object.keys(jsonl[0])).toEqual(header);
  expect(jsonl[0].text).toBe('=HYPERLINK("http://evil.example")');
  expect(jsonl[3].text).toBe('Blåbærsyltetøy, takk');
  expect(jsonl[0].spam_run1_model).toBe('mock-model');
  expect(jsonl[0].spam_gold).toBe('spam');
  expect(jsonl[0].spam_reviewer).toBe('');
});
