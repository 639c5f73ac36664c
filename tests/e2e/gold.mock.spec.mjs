// Gold labels per attribute: pick the column after import, see which values do
// not name a category, and get metrics that read "Spam " as spam.
import { test, expect } from '@playwright/test';
import { Fannotate, startServers, spamSample, tempFile } from './support.mjs';

let servers;
test.beforeAll(async () => { servers = await startServers(); });
test.afterAll(async () => servers?.close());

test('a gold column per attribute, its unmapped values previewed, loose matches counted', async ({ page }) => {
  const app = new Fannotate(page);
  const sample = spamSample(20);
  // Two label columns: the import's gold "label", and "verdict" with messy values.
  const messy = (l, i) => (i === 0 ? 'maybe' : i === 1 ? 'n/a' : i % 2 ? ` ${l.toUpperCase()} ` : l);
  const lines = [[...sample.header, 'verdict'].join(',')];
  sample.rows.forEach((r, i) => lines.push([...r, messy(r[2], i)].map((c) => (/[",\n\r]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(',')));
  await app.open(servers.web.url);
  await app.createProject('Gold');
  await app.importCsv(tempFile('gold.csv', lines.join('\n') + '\n'), { text: 'text', id: 'id', gold: 'label' });
  await app.defineAttribute('spam', [['ham', 'normal'], ['spam', 'junk']]);
  await app.step('data');
  await expect(app.byTest('gold-check')).toHaveText(/^20 labels name a category$/);
  await app.byTest('gold-attribute-col').selectOption({ label: 'verdict' });
  await expect(app.byTest('gold-check')).toContainText('18 labels name a category; 2 do not: "maybe" ×1, "n/a" ×1');
  await expect(app.byTest('gold-attribute-col')).toHaveValue('3');

  await app.configureEndpoint({ baseUrl: `${servers.llm.url}/v1`, model: 'mock-model', provider: 'generic', constraint: 'guided_choice' });
  await app.startRun();
  await app.waitRunFinished(20);
  await app.step('results');
  await expect(app.byTest('results-scope')).toContainText('compared with the gold column verdict');
  // The mock answers the true label: 18 of 20 agree; "maybe" and "n/a" cannot.
  await expect(app.byTest('accuracy')).toHaveAttribute('data-value', '0.9');
});
