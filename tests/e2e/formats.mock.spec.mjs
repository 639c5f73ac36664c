// Every format users bring: XLSX (the original tool's sample sheet), Windows-1252
// with ';', UTF-16, JSON Lines, and overriding what was detected.
import { test, expect } from '@playwright/test';
import path from 'node:path';
import { Fannotate, startServers, tempFile, SHARED } from './support.mjs';

let servers;
test.beforeAll(async () => { servers = await startServers(); });
test.afterAll(async () => servers?.close());

function cp1252(text) {
  // Latin-1 covers æøå; this is how a Norwegian Excel "CSV (semicolon)" export looks.
  return Buffer.from(text, 'latin1');
}

test('the original sample sheet (XLSX) imports with its Norwegian text intact', async ({ page }) => {
  const app = new Fannotate(page);
  await app.open(servers.web.url);
  await app.createProject('Excel');
  await app.pickFile(path.join(SHARED, 'fixtures/fannotate/dummy_calls.xlsx'));
  await expect(app.byTest('file-summary')).toContainText('4 rows, 2 columns · Excel sheet Sheet1');
  await app.importCsv(path.join(SHARED, 'fixtures/fannotate/dummy_calls.xlsx'), { text: 'input_text', id: 'ID', gold: null });
  await expect(app.byTest('dataset-rows')).toHaveText('4');
  await expect(app.byTest('dataset-summary')).toContainText(/[æøå]/);
});

test('Windows-1252 with semicolons, UTF-16 and JSON Lines are detected; overrides re-parse', async ({ page }) => {
  const app = new Fannotate(page);
  await app.open(servers.web.url);
  await app.createProject('Encodings');

  await app.pickFile(tempFile('nor.csv', cp1252('id;tekst;svar\n1;Blåbærsyltetøy er godt;Løst\n2;Hei på deg;Uløst\n')));
  await expect(app.byTest('file-summary')).toContainText('2 rows, 3 columns · Windows-1252 · delimiter ";"');
  await expect(app.byTest('import-mapping')).toContainText('Blåbærsyltetøy');
  // Forcing UTF-8 shows the damage, forcing ',' gives one column: the user sees why.
  await app.byTest('encoding').selectOption('UTF-8');
  await expect(app.byTest('import-mapping')).toContainText('\uFFFD');
  await app.byTest('encoding').selectOption('Windows-1252');
  await app.byTest('delimiter').selectOption(',');
  await expect(app.byTest('file-summary')).toContainText('1 columns');
  await app.byTest('delimiter').selectOption(';');
  await app.byTest('import-button').click();
  await expect(app.byTest('import-mapping')).toBeHidden();
  await expect(app.byTest('dataset-summary')).toContainText('Blåbærsyltetøy er godt');

  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('id\ttext\n1\tSjø og fjell\n', 'utf16le')]);
  await app.pickFile(tempFile('u16.tsv', utf16));
  await expect(app.byTest('file-summary')).toContainText('UTF-16 LE · delimiter tab');
  await expect(app.byTest('import-mapping')).toContainText('Sjø og fjell');

  await app.pickFile(tempFile('d.jsonl', '{"id": "a", "text": "første"}\n{"id": "b", "text": "andre", "label": "x"}\n'));
  await expect(app.byTest('file-summary')).toContainText('2 rows, 3 columns · JSON Lines');
  await app.pickFile(tempFile('bad.jsonl', '{"id": 1}\n[2]\n'));
  await expect(app.byTest('import-error')).toContainText('line 2: expected a JSON object');
});
