// Codebook: a live prompt preview on a real row, and the diff between versions.
import { test, expect } from '@playwright/test';
import { Fannotate, startServers, spamSample } from './support.mjs';

let servers;
test.beforeAll(async () => { servers = await startServers(); });
test.afterAll(async () => servers?.close());

test('the preview renders a chosen row as a run would; versions show what changed', async ({ page }) => {
  const app = new Fannotate(page);
  const sample = spamSample(5);
  await app.open(servers.web.url);
  await app.createProject('Codebook');
  await app.importCsv(sample.file, { text: 'text', id: 'id', gold: 'label' });
  await app.defineAttribute('spam', [['ham', 'a normal email'], ['spam', 'unsolicited bulk email']]);
  await app.step('codebook');
  await app.byTest('preview-row').selectOption({ label: sample.rows[2][0] });
  await expect(app.byTest('prompt-preview')).toContainText('── user ──');
  await expect(app.byTest('prompt-preview')).toContainText(sample.rows[2][1].split('\n')[0]);
  await expect(app.byTest('prompt-preview')).toContainText('ham: a normal email');
  // Live: editing the instruction changes the preview before saving.
  await app.byTest('instruction').fill('Is this spam? <<categories>>\n\n<<text>>\n\nOne word.');
  await expect(app.byTest('prompt-preview')).toContainText('Is this spam?');
  await app.byTest('save-codebook').click();
  await expect(page.getByText('Codebook saved as version 2.').last()).toBeVisible();
  await expect(app.byTest('codebook-versions')).toBeVisible();
  await expect(app.byTest('diff-added')).toContainText(['Is this spam?']);
  await expect(app.byTest('diff-removed').first()).toContainText('Classify the text');
  await app.byTest('diff-from').selectOption('2');
  await expect(app.byTest('codebook-diff')).toHaveText('No differences.');
});
