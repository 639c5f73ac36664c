// Issue #18: a run goes out as a batch file, is answered by the mock's engine
// (shuffled, some errors, a duplicate, a foreign line) and comes back in two
// parts; nothing is lost or doubled, and its metrics equal a live run's.
import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import { Fannotate, startServers, spamSample, tempFile, mockAdmin, SPAM_CSV } from './support.mjs';
import { answerBatch, splitJsonl } from '../mock/engine.mjs';
import { createAnswerer } from '../mock/server.mjs';

let servers;
let sample;
// Answers as the live mock gives them, for the same request bodies.
let completion;
test.beforeAll(async () => {
  servers = await startServers();
  sample = spamSample(60);
  completion = createAnswerer({ goldCsv: fs.readFileSync(SPAM_CSV, 'utf8') }).complete;
});
test.afterAll(async () => servers?.close());

async function setUp(app, name, endpoint = {}) {
  await app.open(servers.web.url);
  await app.createProject(name);
  await app.importCsv(sample.file, { text: 'text', id: 'id', gold: 'label' });
  await app.defineAttribute('spam', [['ham', 'normal'], ['spam', 'junk']]);
  await app.configureEndpoint({ baseUrl: `${servers.llm.url}/v1`, model: 'mock-model', concurrency: 4, provider: 'generic', ...endpoint });
}

/** Click `control` and read every download it starts (`count` of them). */
async function downloads(page, control, count = 1) {
  const files = [];
  const done = new Promise((resolve) => {
    page.on('download', async function on(d) {
      files.push({ name: d.suggestedFilename(), text: fs.readFileSync(await d.path(), 'utf8') });
      if (files.length === count) {
        page.off('download', on);
        resolve();
      }
    });
  });
  await control.click();
  await done;
  return files;
}

const lines = (text) => text.split('\n').filter((l) => l.trim() !== '');
const ids = (text) => lines(text).map((l) => JSON.parse(l).custom_id);

/** Import `parts` (file names and texts) into the waiting run, one pick. */
async function importParts(app, parts) {
  const paths = parts.map(([name, text]) => tempFile(name, text));
  const before = Number(await app.byTest('batch-last').getAttribute('data-version'));
  await app.byTest('batch-import').setInputFiles(paths);
  // This import's report, not the one before.
  const report = app.page.locator(`[data-testid="batch-last"][data-version="${before + 1}"] [data-testid="batch-report"]`);
  await expect(report).toBeVisible();
  await expect(report.getByTestId('batch-file-report')).toHaveCount(parts.length);
  return report;
}

/** Accuracy and kappa as the Results step shows them. */
async function metrics(app) {
  await app.step('results');
  await expect(app.byTest('accuracy')).toBeVisible();
  return { accuracy: await app.byTest('accuracy').textContent(), kappa: await app.byTest('kappa').textContent(), counts: await app.byTest('results-counts').textContent() };
}

test('export, answer shuffled with errors, a duplicate and a foreign line, import in two parts: every row once, metrics as live', async ({ page, browser }) => {
  test.setTimeout(180_000);
  const app = new Fannotate(page);
  await setUp(app, 'Batch');
  await app.step('run');
  const [out] = await downloads(page, app.byTest('batch-export'));
  expect(out.name).toMatch(/^fannotate-batch-[A-Za-z0-9]+-1\.jsonl$/);
  const requests = lines(out.text).map((l) => JSON.parse(l));
  expect(requests).toHaveLength(60);
  for (const r of requests) {
    expect(r.custom_id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(r.method).toBe('POST');
    expect(r.url).toBe('/v1/chat/completions');
    expect(r.body.model).toBe('mock-model');
  }
  expect(new Set(requests.map((r) => r.custom_id)).size).toBe(60);
  const item = app.byTest('batch-run');
  await expect(item).toHaveAttribute('data-status', 'waiting for batch results');
  await expect(app.byTest('run-status').first()).toHaveText('waiting for batch results');

  // The engine answers in its own order, one line twice and one foreign line;
  // two requests (3 %) fail, one with a 500 and one never run. (Chosen here: the
  // engine's own error share hashes the custom_ids, whose run id is random.)
  const answered = lines(answerBatch(out.text, { seed: 7, duplicate: 1, foreign: 1, completion }));
  const times = new Map();
  for (const l of answered) times.set(JSON.parse(l).custom_id, (times.get(JSON.parse(l).custom_id) ?? 0) + 1);
  // Not the duplicated request: its other copy would answer it.
  const ours = answered.map((l, i) => [i, JSON.parse(l)]).filter(([, v]) => v.custom_id.startsWith('fa-') && times.get(v.custom_id) === 1);
  const [[i500, a], [iExpired, b]] = [ours.at(-1), ours.at(-2)];
  answered[i500] = JSON.stringify({ id: a.id, custom_id: a.custom_id, response: { status_code: 500, request_id: 'r', body: { error: { message: 'busy', type: 'server_error' } } }, error: null });
  answered[iExpired] = JSON.stringify({ id: b.id, custom_id: b.custom_id, response: null, error: { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' } });
  const output = `${answered.join('\n')}\n`;
  const [first, second] = splitJsonl(output, 2);
  // The waiting run survives a reload.
  await app.reload();
  await app.step('run');
  await expect(app.byTest('batch-run')).toHaveAttribute('data-status', 'waiting for batch results');

  await importParts(app, [['output-1.jsonl', first]]);
  const firstOurs = new Set(ids(first).filter((id) => id.startsWith('fa-')));
  await expect(app.byTest('batch-run')).toHaveAttribute('data-done', String(firstOurs.size));
  await expect(app.byTest('batch-run')).toHaveAttribute('data-status', 'waiting for batch results');

  // What is still missing goes out as a new file: exactly the rows part 1 did not answer.
  const [missing] = await downloads(page, app.byTest('batch-missing'));
  expect(missing.name).toMatch(/missing/);
  const expected = requests.map((r) => r.custom_id).filter((id) => !firstOurs.has(id));
  expect(ids(missing.text).sort()).toEqual(expected.sort());

  const report = await importParts(app, [['output-2.jsonl', second]]);
  await expect(app.byTest('batch-run')).toHaveAttribute('data-status', 'completed');
  await expect(app.byTest('batch-run')).toHaveAttribute('data-done', '60');
  // The duplicate and the foreign line are listed with their line numbers,
  // whichever part they fell in; nothing else is.
  const all = [...lines(first).map((l, i) => ['output-1.jsonl', i + 1, l]), ...lines(second).map((l, i) => ['output-2.jsonl', i + 1, l])];
  const seen = new Set();
  const problems = [];
  for (const [file, n, l] of all) {
    const id = JSON.parse(l).custom_id;
    if (!id.startsWith('fa-') || seen.has(id)) problems.push([file, n]);
    seen.add(id);
  }
  expect(problems).toHaveLength(2);
  const inSecond = problems.filter(([f]) => f === 'output-2.jsonl');
  await expect(report.getByTestId('batch-problem')).toHaveCount(inSecond.length);
  for (const [, n] of inSecond) await expect(report.locator(`[data-testid="batch-problem"][data-line="${n}"]`)).toBeVisible();
  // Provenance: both imports are recorded on the run.
  await expect(app.byTest('batch-import-line')).toHaveCount(2);

  // The engine's failures are failed rows, retried live like any other.
  const failed = lines(output).filter((l) => { const v = JSON.parse(l); return v.custom_id.startsWith('fa-') && (v.error || v.response?.status_code !== 200); });
  const failedRows = new Set(failed.map((l) => JSON.parse(l).custom_id)).size;
  expect(failedRows).toBe(2);
  await expect(app.byTest('run-row').first().locator('td').nth(7)).toHaveText(String(failedRows));
  await app.startsRun(app.byTest('retry-failed'));
  await app.waitRunFinished(60);
  const batch = await metrics(app);
  expect(batch.counts).toContain('60 labelled');

  expect(await liveMetrics(browser)).toEqual(batch);
});

let live;
/** The figures of the same configuration run live, in a fresh profile (once per worker). */
async function liveMetrics(browser) {
  if (live) return live;
  const context = await browser.newContext();
  try {
    const app = new Fannotate(await context.newPage());
    await setUp(app, 'Live');
    await app.startRun();
    await app.waitRunFinished(60);
    live = await metrics(app);
    return live;
  } finally {
    await context.close();
  }
}

test('submitted to the batch API, polled across a reload, imported with its error file: the figures of a live run', async ({ page, browser }) => {
  test.setTimeout(180_000);
  const app = new Fannotate(page);
  await setUp(app, 'Submitted');
  await mockAdmin(servers.llm, 'reset', {});
  // A quarter fail, by a hash of the random run id's custom_ids: some always do
  // (none out of 60 has odds of 3e-8).
  await mockAdmin(servers.llm, 'config', { batch_error_rate: 0.25 });
  try {
    await app.step('run');
    await app.byTest('batch-submit').click();
    await expect(app.byTest('batch-remote')).toHaveCount(1);
    await expect(app.byTest('batch-run')).toHaveAttribute('data-status', 'waiting for batch results');
    // The batch id is stored: after a reload the page asks again, and imports.
    await app.reload();
    await app.step('run');
    await expect(app.byTest('batch-run')).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
    await expect(app.byTest('batch-remote')).toHaveAttribute('data-status', 'completed');
    await expect(app.byTest('batch-run')).toHaveAttribute('data-done', '60');
    const log = (await mockAdmin(servers.llm, 'log')).requests.filter((r) => r.method !== 'OPTIONS');
    const count = (m, re) => log.filter((r) => r.method === m && re.test(r.path)).length;
    expect(count('POST', /^\/v1\/files$/)).toBe(1);
    expect(count('POST', /^\/v1\/batches$/)).toBe(1);
    // validating → in_progress → finalizing → completed: three status requests
    // (one more if the reload cut a poll short after the server answered).
    expect(count('GET', /^\/v1\/batches\/[^/]+$/)).toBeGreaterThanOrEqual(3);
    // The output file and the error file.
    expect(count('GET', /^\/v1\/files\/[^/]+\/content$/)).toBeGreaterThanOrEqual(2);
    expect(count('POST', /^\/v1\/chat\/completions$/)).toBe(0);
    // Provenance names the batch; its failed requests are failed rows, retried live.
    await expect(app.byTest('batch-import-line').first()).toContainText('batch batch_');
    const failed = Number(await app.byTest('run-row').first().locator('td').nth(7).textContent());
    expect(failed).toBeGreaterThan(0);
    await app.startsRun(app.byTest('retry-failed'));
    await app.waitRunFinished(60);
    expect(await metrics(app)).toEqual(await liveMetrics(browser));
  } finally {
    await mockAdmin(servers.llm, 'config', { batch_error_rate: 0 });
  }
});

test('replications split between two files merge into one annotation per row', async ({ page }) => {
  const app = new Fannotate(page);
  await setUp(app, 'Replicated', { temperature: 0.7, replications: 3 });
  await app.step('run');
  const [out] = await downloads(page, app.byTest('batch-export'));
  expect(lines(out.text)).toHaveLength(180);
  const output = answerBatch(out.text, { seed: 3, completion });
  const [a, b] = splitJsonl(output, 2);
  const both = await importParts(app, [['r-1.jsonl', a], ['r-2.jsonl', b]]);
  await expect(app.byTest('batch-run')).toHaveAttribute('data-status', 'completed');
  await expect(both).toHaveAttribute('data-problems', '0');
  await expect(both).toHaveAttribute('data-applied', '180');
  const { counts } = await metrics(app);
  expect(counts).toMatch(/^60 labelled/);
  // Importing a file again applies nothing twice.
  await app.step('run');
  const again = await importParts(app, [['r-1.jsonl', a]]);
  await expect(again).toHaveAttribute('data-applied', '0');
  await expect(again).toHaveAttribute('data-problems', String(lines(a).length));
});

test('a file that is not batch output is refused by name, and changes nothing', async ({ page }) => {
  const app = new Fannotate(page);
  await setUp(app, 'Wrong file');
  await app.step('run');
  const [out] = await downloads(page, app.byTest('batch-export'));
  // The request file itself, picked by mistake.
  await importParts(app, [['requests.jsonl', out.text]]);
  await expect(app.byTest('batch-file-error')).toContainText('input file, not output');
  await expect(app.byTest('batch-run')).toHaveAttribute('data-done', '0');
  await expect(app.byTest('batch-run')).toHaveAttribute('data-status', 'waiting for batch results');
});

test('a run waiting for batch results can be done live instead', async ({ page }) => {
  const app = new Fannotate(page);
  await setUp(app, 'Live instead');
  await app.step('run');
  await downloads(page, app.byTest('batch-export'));
  await expect(app.byTest('batch-run')).toHaveAttribute('data-status', 'waiting for batch results');
  await app.startsRun(app.byTest('resume-run'));
  await app.waitRunFinished(60);
  await expect(app.byTest('batch-run')).toHaveAttribute('data-status', 'completed');
  await expect(app.byTest('batch-run')).toHaveAttribute('data-done', '60');
});

test('submitted as Anthropic Message Batches: polled, its results imported', async ({ page }) => {
  const app = new Fannotate(page);
  await setUp(app, 'Anthropic');
  await mockAdmin(servers.llm, 'reset', {});
  await app.step('run');
  await app.byTest('batch-engine').selectOption('anthropic');
  await app.byTest('batch-submit').click();
  await expect(app.byTest('batch-run')).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
  await expect(app.byTest('batch-remote')).toHaveAttribute('data-status', 'ended');
  await expect(app.byTest('batch-run')).toHaveAttribute('data-done', '60');
  const log = (await mockAdmin(servers.llm, 'log')).requests;
  const created = log.filter((r) => r.method === 'POST' && r.path === '/v1/messages/batches');
  expect(created).toHaveLength(1);
  expect(log.filter((r) => r.method === 'GET' && /^\/v1\/messages\/batches\/[^/]+\/results$/.test(r.path)).length).toBeGreaterThanOrEqual(1);
  const { counts } = await metrics(app);
  expect(counts).toMatch(/^\d+ labelled/);
  expect(counts).toContain('0 failed');
});

test('a leaderboard configuration exports every row as a batch file', async ({ page }) => {
  test.setTimeout(120_000);
  const app = new Fannotate(page);
  await setUp(app, 'From the board');
  await app.step('experiments');
  await app.byTest('grid-models').fill('mock-model, mock-model-b');
  await app.byTest('grid-validation-all').check();
  await expect(app.byTest('grid-cell')).toHaveCount(2);
  await app.byTest('grid-start').click();
  await expect(app.byTest('experiment-status')).toHaveAttribute('data-complete', 'true', { timeout: 60_000 });
  const row = app.byTest('leaderboard').locator('[data-testid=leaderboard-row][data-model="mock-model-b"]');
  const [out] = await downloads(page, row.getByTestId('batch-everything'));
  const requests = lines(out.text).map((l) => JSON.parse(l));
  expect(requests).toHaveLength(60);
  expect(new Set(requests.map((r) => r.body.model))).toEqual(new Set(['mock-model-b']));
  await expect(app.byTest('run-view')).toBeVisible();
  await expect(app.byTest('batch-run')).toHaveAttribute('data-status', 'waiting for batch results');
  await expect(app.byTest('batch-run')).toHaveAttribute('data-total', '60');
});

test('submitted to an Azure batch API: Azure lines and endpoint at the resource, polled and imported', async ({ page }) => {
  const app = new Fannotate(page);
  await setUp(app, 'Azure batch', { provider: 'azure' });
  await mockAdmin(servers.llm, 'reset', {});
  await app.step('run');
  // An Azure endpoint's batches take Azure's shape.
  await expect(app.byTest('batch-engine')).toHaveValue('azure');
  await app.byTest('batch-submit').click();
  await expect(app.byTest('batch-run')).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
  await expect(app.byTest('batch-run')).toHaveAttribute('data-done', '60');
  const list = await (await fetch(`${servers.llm.url}/v1/batches`)).json();
  expect(list.data.map((b) => b.endpoint)).toEqual(['/chat/completions']);
  const input = await (await fetch(`${servers.llm.url}/v1/files/${list.data[0].input_file_id}/content`)).text();
  const first = JSON.parse(lines(input)[0]);
  expect(first.url).toBe('/chat/completions');
  expect(first.body.model).toBe('mock-model');
  const { counts } = await metrics(app);
  expect(counts).toMatch(/^\d+ labelled/);
});
