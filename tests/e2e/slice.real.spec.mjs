// 20 rows through a real llama-server + SmolLM2, constrained the way the
// capability probe chose.
import { test, expect } from '@playwright/test';
import { startStatic } from '../../scripts/serve.mjs';
import { Fannotate, DIST, spamSample } from './support.mjs';

const LLM = process.env.REAL_LLM_URL;

let web;
test.beforeAll(async () => { web = await startStatic({ dir: DIST, host: '127.0.0.1', port: 0 }); });
test.afterAll(async () => web?.close());

test('SmolLM2 labels 20 rows with the probe-selected constraint, every label in the category set', async ({ page }) => {
  test.skip(!LLM, 'REAL_LLM_URL is not set (./dev test sets it)');
  const app = new Fannotate(page);
  await app.open(web.url);
  await app.createProject('Real LLM');
  await app.importCsv(spamSample(20).file, { text: 'text', id: 'id', gold: 'label' });
  await app.defineAttribute('spam', [['ham', 'a normal email'], ['spam', 'unsolicited bulk email']]);
  // Start from "no constraint": the probe has to find one.
  await app.configureEndpoint({ baseUrl: LLM, model: 'smollm2', concurrency: 4, provider: 'generic' });
  await app.testConnection();
  await expect(app.byTest('connection-ok')).toContainText('Connected');
  // llama-server honours GBNF grammars (and JSON schemas) but not vLLM's guided_choice.
  await expect(app.byTest('cap-grammar')).toContainText('yes');
  await expect(app.byTest('cap-guided_choice')).toContainText('no');
  await expect(app.byTest('connection-ok')).toContainText('Runs will use: llama.cpp grammar (GBNF) (chosen automatically; saved)');
  const logprobs = (await app.byTest('cap-logprobs').textContent()).includes('yes');
  await app.startRun();
  await app.waitRunFinished(20);
  await app.step('results');
  await expect(app.byTest('results-counts')).toHaveText('20 labelled · 0 invalid answers · 0 failed requests');
  const labels = await app.byTest('llm-label').allTextContents();
  expect(labels).toHaveLength(20);
  for (const l of labels) expect(['ham', 'spam']).toContain(l);
  // When the server returns token probabilities, every label has a confidence.
  const confidence = await app.byTest('confidence').allTextContents();
  for (const c of confidence) expect(c).toMatch(logprobs ? /^\d+ %$/ : /^$/);
  test.info().annotations.push({ type: 'logprobs', description: String(logprobs) });
});
