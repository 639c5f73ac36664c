// Tests for the mock LLM endpoint (tests/mock/server.mjs) and the static server
// (scripts/serve.mjs). Run with: node --test tests/mock/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { startMock, buildGold, parseCsv, INVALID_ANSWER } from './server.mjs';
import { startStatic } from '../../scripts/serve.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const GOLD = '/work/shared/data/spamassassin_emails.csv';
const BASE = '/some/sub/path/';
const CONFIG = { default_endpoint: 'http://127.0.0.1:8081/v1', default_model: 'smollm2' };

let mock;
let stat;
let tmp;
let gold;
let spamRow;
let hamRow;

before(async () => {
  gold = buildGold(fs.readFileSync(GOLD, 'utf8'));
  // Long, multi-line texts exercise both the CSV parser and prefix matching.
  spamRow = gold.rows.find((r) => r.label === 'spam' && r.text.length > 400 && r.text.includes('\n'));
  hamRow = gold.rows.find((r) => r.label === 'ham' && r.text.length > 400 && r.text.includes('\n'));
  mock = await startMock({ gold: GOLD, latencyMs: 0 });

  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'serve-test-'));
  fs.writeFileSync(path.join(tmp, 'index.html'), '<!doctype html><title>t</title>');
  fs.writeFileSync(path.join(tmp, 'a.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  fs.mkdirSync(path.join(tmp, 'sub'));
  fs.writeFileSync(path.join(tmp, 'sub', 'index.html'), 'sub index');
  stat = await startStatic({ dir: tmp, host: '127.0.0.1', port: 0, base: 'some/sub/path', configJson: JSON.stringify(CONFIG) });
});

after(async () => {
  await mock?.close();
  await stat?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

// --- helpers -----------------------------------------------------------------

const admin = (p, body) =>
  fetch(`${mock.url}/__admin/${p}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then((r) => r.json());

/** Reset log, counters and config, then apply `config`. */
async function setup(config = {}) {
  await admin('reset', { config: true });
  await admin('config', { latency_ms: 0, ...config });
}

const promptFor = (row, cut = 600) =>
  `Classify the e-mail as ham or spam.\nCategories:\n- ham\n- spam\n\nText:\n${row.text.slice(0, cut)}\n\nAnswer with the category only.`;

function chat(body, { headers = {}, signal } = {}) {
  return fetch(`${mock.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal,
  });
}

const ask = (row, extra = {}) =>
  chat({ model: 'mock-model', messages: [{ role: 'user', content: promptFor(row) }], temperature: 0, max_tokens: 8, ...extra });

const content = async (res) => (await res.json()).choices[0].message.content;

/** Raw GET/HEAD that keeps the path exactly as written (fetch would normalise `..`). */
function rawRequest(port, reqPath, method = 'GET') {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: reqPath, method }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

// --- mock: CSV and matching -----------------------------------------------------

test('CSV parser handles quotes, doubled quotes, CRLF and embedded newlines', () => {
  const rows = parseCsv('\ufeffa,b\r\n"x, ""y""","line1\nline2"\n3,\n');
  assert.deepEqual(rows, [['a', 'b'], ['x, "y"', 'line1\nline2'], ['3', '']]);
  assert.equal(gold.rows.length > 5000, true);
  assert.deepEqual(gold.labels, ['ham', 'spam']);
});

test('models list', async () => {
  await setup();
  const res = await fetch(`${mock.url}/v1/models`);
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.object, 'list');
  assert.deepEqual(body.data.map((m) => m.id), ['mock-model', 'mock-model-b']);
  assert.deepEqual(body.data[0], { id: 'mock-model', object: 'model', owned_by: 'mock' });
  await admin('config', { models: ['a', 'b', 'c'] });
  const again = await (await fetch(`${mock.url}/v1/models`)).json();
  assert.deepEqual(again.data.map((m) => m.id), ['a', 'b', 'c']);
});

test('gold label with wrong_rate=0, also for cut texts; usage and ids', async () => {
  await setup({ wrong_rate: 0, invalid_rate: 0 });
  for (const row of [spamRow, hamRow]) {
    const res = await ask(row);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.object, 'chat.completion');
    assert.match(body.id, /^chatcmpl-mock-\d+$/);
    assert.equal(body.model, 'mock-model');
    assert.equal(body.choices[0].message.content, row.label);
    assert.equal(body.choices[0].finish_reason, 'stop');
    const { prompt_tokens, completion_tokens, total_tokens } = body.usage;
    assert.ok(prompt_tokens > 100 && completion_tokens >= 1);
    assert.equal(total_tokens, prompt_tokens + completion_tokens);
  }
  // A prompt that cuts the text shorter than 120 characters still finds the row.
  const cut = await chat({ model: 'm', messages: [{ role: 'user', content: promptFor(spamRow, 70) }] });
  assert.equal(await content(cut), 'spam');
});

test('wrong_rate=1 gives a wrong label; per-model accuracy overrides', async () => {
  await setup({ wrong_rate: 1 });
  for (const row of [spamRow, hamRow]) {
    const answer = await content(await ask(row));
    assert.ok(gold.labels.includes(answer));
    assert.notEqual(answer, row.label);
  }
  await admin('config', { model_accuracy: { 'mock-model': 1 } });
  assert.equal(await content(await ask(spamRow)), 'spam');
  assert.equal(await content(await ask(spamRow, { model: 'mock-model-b' })), 'ham');
});

test('invalid answers without constraint, never with a constraint', async () => {
  await setup({ wrong_rate: 0, invalid_rate: 1 });
  assert.equal(await content(await ask(spamRow)), INVALID_ANSWER);
  assert.equal(await content(await ask(spamRow, { grammar: 'root ::= "ham" | "spam"' })), 'spam');
  assert.equal(await content(await ask(hamRow, { guided_choice: ['ham', 'spam'] })), 'ham');
});

test('json response_format gives {"label": ...}; logprobs and n', async () => {
  await setup({ wrong_rate: 0, invalid_rate: 1 });
  const schema = {
    type: 'json_schema',
    json_schema: { name: 'a', schema: { type: 'object', properties: { label: { enum: ['ham', 'spam'] } } } },
  };
  assert.deepEqual(JSON.parse(await content(await ask(spamRow, { response_format: schema }))), { label: 'spam' });
  const obj = await ask(hamRow, { response_format: { type: 'json_object' } });
  assert.deepEqual(JSON.parse(await content(obj)), { label: 'ham' });

  await admin('config', { invalid_rate: 0 });
  const body = await (await ask(spamRow, { logprobs: true, n: 3 })).json();
  assert.equal(body.choices.length, 3);
  assert.deepEqual(body.choices.map((c) => c.index), [0, 1, 2]);
  const lp = body.choices[0].logprobs.content[0];
  assert.equal(lp.token, 'spam');
  assert.equal(lp.logprob, -0.05);
  assert.ok(Array.isArray(lp.top_logprobs) && lp.top_logprobs[0].token === 'spam');
});

test('no matching row answers the first label; bad JSON is a 400', async () => {
  await setup();
  assert.equal(await content(await chat({ model: 'x', messages: [{ role: 'user', content: 'nothing known here' }] })), 'ham');
  const bad = await chat('{"model": ', { headers: { Origin: 'http://app.test' } });
  assert.equal(bad.status, 400);
  assert.equal(bad.headers.get('access-control-allow-origin'), 'http://app.test');
  assert.equal((await bad.json()).error.type, 'invalid_request_error');
});

test('CORS on success, on 401 and on preflight; API key', async () => {
  await setup({ api_key: 'sekrit' });
  const origin = 'http://localhost:8080';

  const denied = await ask(spamRow);
  assert.equal(denied.status, 401);
  assert.deepEqual(await denied.json(), {
    error: { message: 'Invalid API key', type: 'invalid_request_error', code: 'invalid_api_key' },
  });
  const denied2 = await fetch(`${mock.url}/v1/models`, { headers: { Origin: origin } });
  assert.equal(denied2.status, 401);
  assert.equal(denied2.headers.get('access-control-allow-origin'), origin);
  assert.equal(denied2.headers.get('vary'), 'Origin');

  const pre = await fetch(`${mock.url}/v1/chat/completions`, {
    method: 'OPTIONS',
    headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), origin);
  assert.equal(pre.headers.get('access-control-allow-methods'), 'GET, POST, OPTIONS');
  assert.equal(pre.headers.get('access-control-allow-headers'), 'Content-Type, Authorization, api-key');
  assert.equal(pre.headers.get('access-control-max-age'), '600');

  const ok = await chat(
    { model: 'mock-model', messages: [{ role: 'user', content: promptFor(spamRow) }] },
    { headers: { Origin: origin, Authorization: 'Bearer sekrit' } },
  );
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('access-control-allow-origin'), origin);
  assert.equal(ok.headers.get('vary'), 'Origin');
  const viaHeader = await fetch(`${mock.url}/v1/models`, { headers: { 'api-key': 'sekrit' } });
  assert.equal(viaHeader.status, 200);
  assert.equal(viaHeader.headers.get('access-control-allow-origin'), '*');

  const notFound = await fetch(`${mock.url}/nope`, { headers: { Origin: origin } });
  assert.equal(notFound.status, 404);
  assert.equal(notFound.headers.get('access-control-allow-origin'), origin);
});

test('429 with count 1 then 200; 500 and 401 faults', async () => {
  await setup({ faults: [{ type: '429', count: 1, retry_after: 2 }] });
  const first = await ask(spamRow);
  assert.equal(first.status, 429);
  assert.equal(first.headers.get('retry-after'), '2');
  assert.equal(first.headers.get('access-control-allow-origin'), '*');
  assert.equal((await first.json()).error.type, 'rate_limit_error');
  assert.equal((await ask(spamRow)).status, 200);

  await admin('config', { faults: [{ type: '500', count: 1 }, { type: '401', count: 1, models: ['mock-model-b'] }] });
  assert.equal((await ask(spamRow)).status, 500);
  assert.equal((await ask(spamRow)).status, 200);
  assert.equal((await ask(spamRow, { model: 'mock-model-b' })).status, 401);
  assert.equal((await ask(spamRow, { model: 'mock-model-b' })).status, 200);

  // rate: deterministic, roughly that share of requests.
  await admin('config', { faults: [{ type: '500', rate: 0.5 }] });
  const statuses = [];
  for (let i = 0; i < 20; i++) statuses.push((await ask(hamRow)).status);
  const fails = statuses.filter((s) => s === 500).length;
  assert.ok(fails >= 6 && fails <= 14, `500s: ${fails}`);
});

test('malformed body', async () => {
  await setup({ faults: [{ type: 'malformed', count: 1 }] });
  const res = await ask(spamRow);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json');
  const text = await res.text();
  assert.equal(text, '{"choices": [');
  assert.throws(() => JSON.parse(text));
});

test('nocors: no Access-Control-Allow-Origin on the answer and the preflight', async () => {
  await setup({ faults: [{ type: 'nocors', count: 1 }] });
  const origin = 'http://localhost:8080';
  const preflight = () =>
    fetch(`${mock.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { Origin: origin } });
  const request = () =>
    chat({ model: 'mock-model', messages: [{ role: 'user', content: promptFor(spamRow) }] }, { headers: { Origin: origin } });

  // Preflights do not consume the rule.
  const pre = await preflight();
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), null);
  const res = await request();
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), null);
  assert.equal(await content(res), 'spam');

  // Rule used up: CORS is back, on preflights too.
  const res2 = await request();
  assert.equal(res2.headers.get('access-control-allow-origin'), origin);
  await res2.text();
  assert.equal((await preflight()).headers.get('access-control-allow-origin'), origin);
});

test('hang never answers; the client times out', async () => {
  await setup({ faults: [{ type: 'hang', count: 1 }] });
  const body = { model: 'mock-model', messages: [{ role: 'user', content: promptFor(spamRow) }] };
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 300);
  const t0 = Date.now();
  await assert.rejects(chat(body, { signal: ctl.signal }), { name: 'AbortError' });
  clearTimeout(timer);
  assert.ok(Date.now() - t0 >= 280);

  // The server notices the disconnect: nothing in flight, logged as a hang with no status.
  let log;
  for (let i = 0; i < 50; i++) {
    log = await admin('log');
    if (log.in_flight === 0) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(log.in_flight, 0);
  assert.equal(log.requests[0].fault, 'hang');
  assert.equal(log.requests[0].status, null);
  // count 1: the next request is answered.
  assert.equal(await content(await chat(body)), 'spam');
});

test('log and max_in_flight', async () => {
  await setup({ latency_ms: 200 });
  const t0 = Date.now();
  const results = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      chat(
        { model: i % 2 ? 'mock-model-b' : 'mock-model', messages: [{ role: 'user', content: promptFor(hamRow) }] },
        { headers: { Origin: 'http://o.test' } },
      ).then((r) => r.json()),
    ),
  );
  assert.ok(Date.now() - t0 < 1500, 'requests ran concurrently');
  assert.equal(results.length, 8);
  const log = await admin('log');
  assert.ok(log.max_in_flight >= 4, `max_in_flight ${log.max_in_flight}`);
  assert.equal(log.in_flight, 0);
  assert.equal(log.requests.length, 8);
  const e = log.requests[0];
  assert.equal(e.method, 'POST');
  assert.equal(e.path, '/v1/chat/completions');
  assert.equal(e.status, 200);
  assert.equal(e.fault, null);
  assert.equal(e.origin, 'http://o.test');
  assert.equal(e.authorization, false);
  assert.ok(e.ms >= 190 && typeof e.ts === 'number');
  assert.deepEqual(new Set(log.requests.map((r) => r.model)), new Set(['mock-model', 'mock-model-b']));
  assert.deepEqual(log.requests.map((r) => r.n).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8]);

  await admin('reset', {});
  const cleared = await admin('log');
  assert.deepEqual(cleared, { requests: [], max_in_flight: 0, in_flight: 0 });
  assert.equal((await admin('config')).latency_ms, 200, 'reset keeps config unless asked');
});

// --- static server -------------------------------------------------------------

test('static: index, MIME, HEAD, base-only, traversal, config.json override', async () => {
  assert.equal(stat.url, `http://127.0.0.1:${stat.port}${BASE}`);
  const index = await fetch(stat.url);
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type'), /^text\/html/);
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  assert.match(await index.text(), /<title>t<\/title>/);

  const wasm = await fetch(`${stat.url}a.wasm`);
  assert.equal(wasm.status, 200);
  assert.equal(wasm.headers.get('content-type'), 'application/wasm');
  assert.equal((await wasm.arrayBuffer()).byteLength, 8);

  const head = await rawRequest(stat.port, `${BASE}a.wasm`, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], '8');
  assert.equal(head.body.length, 0);

  assert.equal((await rawRequest(stat.port, `${BASE}sub/`)).body.toString(), 'sub index');
  assert.equal((await rawRequest(stat.port, `${BASE}sub`)).status, 301);
  assert.equal((await rawRequest(stat.port, `${BASE}missing.js`)).status, 404);
  assert.equal((await rawRequest(stat.port, '/')).status, 404);
  assert.equal((await rawRequest(stat.port, '/index.html')).status, 404);
  assert.equal((await rawRequest(stat.port, '/some/other/a.wasm')).status, 404);

  for (const p of [
    `${BASE}../../../../etc/passwd`,
    `${BASE}%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd`,
    `${BASE}..%2f..%2f..%2f..%2fetc%2fpasswd`,
    `${BASE}sub/..%5c..%5cetc%5cpasswd`,
    `${BASE}%2fetc%2fpasswd`,
    `${BASE}%E0%A4%A`,
  ]) {
    const r = await rawRequest(stat.port, p);
    assert.ok([400, 403, 404].includes(r.status), `${p} -> ${r.status}`);
    assert.ok(!r.body.toString().includes('root:'), p);
  }

  const cfg = await fetch(`${stat.url}config.json`);
  assert.equal(cfg.headers.get('content-type'), 'application/json');
  assert.deepEqual(await cfg.json(), CONFIG);
  assert.equal((await rawRequest(stat.port, `${BASE}a.wasm`, 'POST')).status, 405);

  // Without --config-json, config.json comes from disk (here: absent, so 404).
  const plain = await startStatic({ dir: tmp, port: 0 });
  try {
    assert.equal((await fetch(`${plain.url}config.json`)).status, 404);
    assert.equal((await fetch(plain.url)).status, 200);
  } finally {
    await plain.close();
  }
});

test('CLIs print their ready line and exit on SIGTERM', async () => {
  const startCli = (args, pattern) =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, args, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) {
          const line = out.split('\n')[0];
          if (pattern.test(line)) resolve({ child, line });
          else reject(new Error(`unexpected line: ${line}`));
        }
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
    });
  const exited = (child) => new Promise((resolve) => child.on('exit', (code, sig) => resolve(code ?? sig)));

  const s = await startCli(
    ['scripts/serve.mjs', '--dir', tmp, '--host', '127.0.0.1', '--port', '0', '--base', BASE, '--config-json', JSON.stringify(CONFIG)],
    /^serving .+ at http:\/\/127\.0\.0\.1:\d+\/some\/sub\/path\/$/,
  );
  const m = await startCli(
    ['tests/mock/server.mjs', '--port', '0', '--host', '127.0.0.1', '--gold', GOLD, '--api-key', 'k', '--latency-ms', '0'],
    /^mock listening on http:\/\/127\.0\.0\.1:\d+$/,
  );
  const sUrl = s.line.split(' at ')[1];
  const mUrl = m.line.split(' on ')[1];
  assert.deepEqual(await (await fetch(`${sUrl}config.json`)).json(), CONFIG);
  assert.equal((await fetch(`${mUrl}/v1/models`)).status, 401);
  assert.equal((await fetch(`${mUrl}/v1/models`, { headers: { Authorization: 'Bearer k' } })).status, 200);

  const [sCode, mCode] = [exited(s.child), exited(m.child)];
  s.child.kill('SIGTERM');
  m.child.kill('SIGINT');
  assert.equal(await sCode, 0);
  assert.equal(await mCode, 0);
});
