// 10 rows through a real llama-server + SmolLM2 with a grammar-constrained answer.
import { test, expect } from '@playwright/test';
import { startStatic } from '../../scripts/serve.mjs';
import { Fannotate, DIST, spamSample } from './support.mjs';

const LLM = process.env.REAL_LLM_URL;

let web;
test.beforeAll(async () => { web = await startStatic({ dir: DIST, host: '127.0.0.1', port: 0 }); });
test.afterAll(async () => web?.close());

test('SmolLM2 labels 10 rows, every label in the category set', async ({ page }) => {
  test.skip(!LLM, 'REAL_LLM_URL is not set (./dev test sets it)');
  const app = new Fannotate(page);
  await app.open(web.url);
  await app.createProject('Real LLM');
  await app.importCsv(spamSample(10).file, { text: 'text', id: 'id', gold: 'label' });
  await app.defineAttribute('spam', [['ham', 'a normal email'], ['spam', 'unsolicited bulk email']]);
  await app.configureEndpoint({ baseUrl: LLM, model: 'smollm2', concurrency: 4, constraint: 'grammar', provider: 'llamacpp' });
  await app.byTest('base-url').fill(LLM);
  await app.testConnection();
  await expect(app.byTest('connection-ok')).toContainText('constrained test answer was a valid category');
  await app.startRun();
  await app.waitRunFinished(10);
  await app.step('results');
  await expect(app.byTest('results-counts')).toHaveText('10 labelled · 0 invalid answers · 0 failed requests');
  const labels = await app.byTest('llm-label').allTextContents();
  expect(labels).toHaveLength(10);
  for (const l of labels) expect(['ham', 'spam']).toContain(l);
  // llama-server returns token probabilities, so every label has a confidence.
  for (const c of await app.byTest('confidence').allTextContents()) expect(c).toMatch(/^\d+ %$/);
});
