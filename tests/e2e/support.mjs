// Shared e2e support: servers, sample data and the Fannotate page object.
import { expect } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startMock, parseCsv } from '../mock/server.mjs';
import { startStatic } from '../../scripts/serve.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED = process.env.FANNOTATE_SHARED || path.resolve(ROOT, '../shared');
export const SPAM_CSV = path.join(SHARED, 'data/spamassassin_emails.csv');
// FANNOTATE_DIST: test another build than dist/ (e.g. while a benchmark uses dist/).
export const DIST = process.env.FANNOTATE_DIST || path.join(ROOT, 'dist');

/** Quote a CSV field when needed. */
function csvField(s) {
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Write the header and first `n` rows of the SpamAssassin sample to a temp CSV. */
export function spamSample(n) {
  const records = parseCsv(fs.readFileSync(SPAM_CSV, 'utf8'));
  const [header, ...rows] = records;
  const take = rows.slice(0, n);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fa-e2e-')), `spam-${n}.csv`);
  fs.writeFileSync(file, [header, ...take].map((r) => r.map(csvField).join(',')).join('\n') + '\n');
  return { file, header, rows: take };
}

/** Write arbitrary bytes to a temp file. */
export function tempFile(name, content) {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fa-e2e-')), name);
  fs.writeFileSync(file, content);
  return file;
}

/** Start the static server for dist/ (at `base`) and the mock endpoint. */
export async function startServers({ base = '/', mock = {} } = {}) {
  if (!fs.existsSync(path.join(DIST, 'index.html'))) throw new Error('dist/ is missing: run trunk build --release first');
  const web = await startStatic({ dir: DIST, host: '127.0.0.1', port: 0, base });
  const llm = await startMock({ host: '127.0.0.1', port: 0, gold: SPAM_CSV, latencyMs: 50, ...mock });
  return { web, llm, close: async () => { await web.close(); await llm.close(); } };
}

/** POST JSON to the mock's admin API. */
export async function mockAdmin(llm, route, body) {
  const r = await fetch(`${llm.url}/__admin/${route}`, body === undefined ? {} : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  return r.json();
}

/** The mock's logged chat completions (preflights and other paths left out). */
export async function chatPosts(llm) {
  const log = await mockAdmin(llm, 'log');
  return log.requests.filter((r) => r.method === 'POST' && r.path === '/v1/chat/completions');
}

/** Metrics computed by fannotate-core's `classify` example over two CSV columns. */
export function coreClassify(file, gold, pred) {
  const out = execFileSync('cargo', ['run', '-q', '--locked', '-p', 'fannotate-core', '--example', 'metrics', '--', 'classify', file, gold, pred], {
    cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out);
}

/** Page object for the Fannotate workbench. */
export class Fannotate {
  constructor(page) {
    this.page = page;
  }

  byTest(id) {
    return this.page.getByTestId(id);
  }

  async open(url) {
    await this.page.goto(url);
    await expect(this.byTest('projects-view').or(this.byTest('data-view'))).toBeVisible();
  }

  /** Reload the page: the app comes back to the project it had open (issue #14). */
  async reload() {
    const project = await this.byTest('current-project').textContent();
    await this.page.reload();
    await expect(this.byTest('current-project')).toHaveText(project);
  }

  async createProject(name) {
    await this.byTest('project-name').fill(name);
    await this.byTest('create-project').click();
    await expect(this.byTest('current-project')).toHaveText(name);
    await expect(this.byTest('data-view')).toBeVisible();
  }

  async step(name) {
    await this.byTest(`step-${name}`).click();
    await expect(this.byTest(`${name}-view`)).toBeVisible();
  }

  async pickFile(file) {
    await this.byTest('file-input').setInputFiles(file);
  }

  /** Import a CSV choosing columns by header name (`null` = none). */
  async importCsv(file, { text, id, gold } = {}) {
    await this.step('data');
    await this.pickFile(file);
    await expect(this.byTest('import-mapping')).toBeVisible();
    if (text) await this.byTest('text-col').selectOption({ label: text });
    if (id !== undefined) await this.byTest('id-col').selectOption({ label: id ?? '(none)' });
    if (gold !== undefined) await this.byTest('gold-col').selectOption({ label: gold ?? '(none)' });
    await this.byTest('import-button').click();
    // The mapping form closes only when the rows are stored.
    await expect(this.byTest('import-mapping')).toBeHidden();
    await expect(this.byTest('dataset-summary')).toBeVisible();
  }

  /** Define and save the first attribute with `categories` ([name, description] pairs). */
  async defineAttribute(name, categories) {
    await this.step('codebook');
    await this.byTest('attribute-name').fill(name);
    const rows = this.byTest('category-row');
    for (let i = 0; i < categories.length; i++) {
      if ((await rows.count()) <= i) await this.byTest('add-category').click();
      await rows.nth(i).getByTestId('category-name').fill(categories[i][0]);
      await rows.nth(i).getByTestId('category-description').fill(categories[i][1]);
    }
    await this.byTest('save-codebook').click();
    await expect(this.page.getByText(/Codebook saved as version/).last()).toBeVisible();
  }

  /** Fill a number (or text) input that commits on `change`. */
  async setField(id, value) {
    await this.byTest(id).fill(String(value));
    await this.byTest(id).dispatchEvent('change');
  }

  async configureEndpoint({ baseUrl, model, concurrency, constraint, provider, temperature, timeout, replications, replicas, priceIn, priceOut }) {
    await this.step('endpoint');
    if (provider) await this.byTest('provider').selectOption(provider);
    await this.byTest('base-url').fill(baseUrl);
    if (model !== undefined) await this.byTest('model').fill(model);
    if (concurrency !== undefined) await this.setField('concurrency', concurrency);
    if (temperature !== undefined) await this.setField('temperature', temperature);
    if (timeout !== undefined) await this.setField('timeout', timeout);
    if (replications !== undefined) await this.setField('replications', replications);
    if (priceIn !== undefined) await this.setField('price-in', priceIn);
    if (priceOut !== undefined) await this.setField('price-out', priceOut);
    if (replicas) await this.setField('replicas', replicas.join('\n'));
    if (constraint) await this.byTest('constraint').selectOption(constraint);
    await this.byTest('save-endpoint').click();
    await expect(this.page.getByText('Endpoint saved.').last()).toBeVisible();
  }

  async testConnection() {
    await this.byTest('test-connection').click();
    await expect(this.byTest('connection-ok').or(this.byTest('connection-error'))).toBeVisible();
  }

  /** How many runs this page has launched (the header's `data-run-seq`, there whatever the view; 0 before the first). */
  async runSeq() {
    return Number(await this.byTest('app-header').getAttribute('data-run-seq'));
  }

  /**
   * Click a control that launches a run (Start, Resume, Retry failed, an
   * experiment's Run) and wait until the progress panel is about that new launch,
   * so later waits can never match an earlier run's finished panel (issue #14).
   */
  async startsRun(control) {
    const before = await this.runSeq();
    await control.click();
    await expect.poll(() => this.runSeq(), { message: 'a new run was launched' }).toBeGreaterThan(before);
    this.lastRunSeq = await this.runSeq();
    return this.lastRunSeq;
  }

  async startRun({ scope } = {}) {
    await this.step('run');
    if (scope) await this.byTest('run-scope').selectOption(scope);
    return this.startsRun(this.byTest('start-run'));
  }

  /** Wait until the run launched last (or launch `seq`) has finished with `total` tasks done. */
  async waitRunFinished(total, seq = this.lastRunSeq) {
    if (!seq) throw new Error('waitRunFinished: no run was launched through startRun/startsRun');
    const panel = this.page.locator(`[data-testid="run-progress"][data-run-seq="${seq}"][data-state="finished"]`);
    await expect(panel).toBeVisible({ timeout: 150_000 });
    await expect(panel.getByTestId('run-done')).toHaveText(`${total} / ${total}`);
    await expect(this.byTest('cancel-run')).toBeDisabled();
  }

  async exportCsv(format = 'csv') {
    await this.step('results');
    await this.byTest('export-format').selectOption(format);
    const download = this.page.waitForEvent('download');
    await this.byTest('export-data').click();
    const d = await download;
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fa-export-')), d.suggestedFilename());
    await d.saveAs(file);
    return file;
  }
}
