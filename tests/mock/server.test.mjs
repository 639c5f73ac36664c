// Tests for the mock LLM endpoint (tests/mock/server.mjs) and the static server
// (scripts/serve.mjs). Run with: node --test tests/mock/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import https from 'node:https';
import http2 from 'node:http2';
import { spawn, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { startMock, buildGold, parseCsv, grammarChoices, INVALID_ANSWER, FREE_ANSWER } from './server.mjs';
import { selfSignedCert } from './tls.mjs';
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

test('no matching row: a free sentence, or the first allowed choice when constrained; bad JSON is a 400', async () => {
  await setup();
  const unknown = (extra = {}) => chat({ model: 'x', messages: [{ role: 'user', content: 'nothing known here' }], ...extra });
  assert.equal(await content(await unknown()), FREE_ANSWER);
  assert.ok(!gold.labels.includes(FREE_ANSWER));
  // json_object allows "some label" without saying which: the first gold label.
  assert.deepEqual(JSON.parse(await content(await unknown({ response_format: { type: 'json_object' } }))), { label: 'ham' });
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
  assert.equal(e.http, '1.1');
  assert.equal(e.status, 200);
  assert.equal(e.fault, null);
  assert.equal(e.origin, 'http://o.test');
  assert.equal(e.authorization, false);
  assert.ok(e.ms >= 190 && typeof e.ts === 'number');
  assert.deepEqual(new Set(log.requests.map((r) => r.model)), new Set(['mock-model', 'mock-model-b']));
  assert.deepEqual(log.requests.map((r) => r.n).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8]);
  // The cheap counters agree with the log; a preflight is not a chat request.
  await fetch(`${mock.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { Origin: 'http://o.test' } });
  assert.deepEqual(await admin('stats'), { chat_ended: 8, max_in_flight: log.max_in_flight, in_flight: 0 });

  await admin('reset', {});
  const cleared = await admin('log');
  assert.deepEqual(cleared, { requests: [], max_in_flight: 0, in_flight: 0 });
  assert.deepEqual(await admin('stats'), { chat_ended: 0, max_in_flight: 0, in_flight: 0 });
  assert.equal((await admin('config')).latency_ms, 200, 'reset keeps config unless asked');
});

// --- mock: constraints, capabilities, answer styles ------------------------------

/** Like the app's capability probe: a tiny prompt about no gold row. */
const PROBE = 'Reply with one of: ham, spam';
const probe = (extra = {}) =>
  chat({ model: 'mock-model', messages: [{ role: 'user', content: PROBE }], temperature: 0, max_tokens: 8, ...extra });
/** The three constraint shapes the app sends, for a list of choices. */
const shapes = (choices) => ({
  guided_choice: { guided_choice: choices },
  grammar: { grammar: `root ::= ${choices.map((c) => JSON.stringify(c)).join(' | ')}` },
  json_schema: {
    response_format: {
      type: 'json_schema',
      json_schema: {
        name: 'label',
        strict: true,
        schema: {
          type: 'object',
          properties: { label: { type: 'string', enum: choices } },
          required: ['label'],
          additionalProperties: false,
        },
      },
    },
  },
});
/** The label in a completion: json_schema answers are {"label": …}. */
const labelOf = async (res, mechanism) => {
  const c = await content(res);
  return mechanism === 'json_schema' ? JSON.parse(c).label : c;
};

test('grammarChoices parses quoted GBNF alternatives with escapes, else null', () => {
  assert.deepEqual(grammarChoices('root ::= "ham" | "spam"'), ['ham', 'spam']);
  assert.deepEqual(grammarChoices('root ::= "ham" | "spam" | "say \\"hi\\"\\\\"'), ['ham', 'spam', 'say "hi"\\']);
  assert.deepEqual(grammarChoices(' root::="a\\nb"|"\\t\\x41\\u00e9" '), ['a\nb', '\tAé']);
  assert.equal(grammarChoices('root ::= label\nlabel ::= "a" | "b"'), null);
  assert.equal(grammarChoices('root ::= [a-z]+'), null);
  assert.equal(grammarChoices('root ::= "a" "b"'), null);
  assert.equal(grammarChoices('root ::= "a" |'), null);
});

test('choices come from each constraint shape; honoured ones keep answers among them', async () => {
  await setup({ wrong_rate: 0, invalid_rate: 1 });
  assert.equal(gold.find(PROBE), null, 'the probe is about no gold row');
  for (const [mechanism, extra] of Object.entries(shapes(['spam', 'ham', 'say "hi"']))) {
    // Probe: the first allowed choice, so the app sees the constraint works.
    assert.equal(await labelOf(await probe(extra), mechanism), 'spam', mechanism);
    // Gold row whose label is allowed: the label (never INVALID while constrained).
    assert.equal(await labelOf(await ask(hamRow, extra), mechanism), 'ham', mechanism);
  }
  for (const [mechanism, extra] of Object.entries(shapes(['say "hi"', 'ham']))) {
    assert.equal(await labelOf(await probe(extra), mechanism), 'say "hi"', mechanism);
    // Gold label not allowed: the first allowed choice.
    assert.equal(await labelOf(await ask(spamRow, extra), mechanism), 'say "hi"', mechanism);
    assert.equal(await labelOf(await ask(hamRow, extra), mechanism), 'ham', mechanism);
  }
  // json_schema content is exactly {"label":…}.
  assert.equal(await content(await probe(shapes(['spam', 'ham']).json_schema)), '{"label":"spam"}');
  // A grammar the mock cannot parse is still honoured, over the gold labels.
  assert.equal(await content(await probe({ grammar: 'root ::= [a-z]+' })), 'ham');
  assert.equal(await content(await ask(spamRow, { grammar: 'root ::= [a-z]+' })), 'spam');
});

test('capabilities: a switched-off mechanism is ignored like an unknown one', async () => {
  await setup({ wrong_rate: 0, invalid_rate: 0 });
  const all = shapes(['spam', 'ham']);
  assert.deepEqual((await admin('config')).capabilities, { guided_choice: true, json_schema: true, grammar: true, logprobs: true });

  // Partial patches merge into the current capabilities.
  let cfg = await admin('config', { capabilities: { guided_choice: false } });
  assert.deepEqual(cfg.capabilities, { guided_choice: false, json_schema: true, grammar: true, logprobs: true });
  cfg = await admin('config', { capabilities: { grammar: false } });
  assert.deepEqual(cfg.capabilities, { guided_choice: false, json_schema: true, grammar: false, logprobs: true });
  assert.equal(await content(await probe(all.guided_choice)), FREE_ANSWER);
  assert.equal(await content(await probe(all.grammar)), FREE_ANSWER);
  assert.equal(await labelOf(await probe(all.json_schema), 'json_schema'), 'spam');
  // Ignored constraints leave the answer free: styled, and INVALID possible again.
  await admin('config', { invalid_rate: 1, answer_style: 'emoji' });
  assert.equal(await content(await ask(spamRow, all.grammar)), INVALID_ANSWER);
  await admin('config', { invalid_rate: 0 });
  assert.equal(await content(await ask(spamRow, all.guided_choice)), '✅ spam');
  // Several mechanisms at once: only the honoured one counts.
  assert.equal(await content(await probe({ ...all.guided_choice, grammar: 'root ::= "ham"' })), FREE_ANSWER);
  await admin('config', { capabilities: { grammar: true } });
  assert.equal(await content(await probe({ ...all.guided_choice, grammar: 'root ::= "ham"' })), 'ham');

  // json_schema off: plain text, not JSON, for json_schema and json_object alike.
  await admin('config', { answer_style: 'plain', capabilities: { json_schema: false } });
  assert.equal(await content(await probe(all.json_schema)), FREE_ANSWER);
  assert.equal(await content(await probe({ response_format: { type: 'json_object' } })), FREE_ANSWER);
  assert.equal(await content(await ask(spamRow, all.json_schema)), 'spam');

  for (const bad of [{ capabilities: { grammer: false } }, { capabilities: { grammar: 'no' } }, { capabilities: [] }]) {
    const res = await fetch(`${mock.url}/__admin/config`, { method: 'POST', body: JSON.stringify(bad) });
    assert.equal(res.status, 400, JSON.stringify(bad));
  }
  // reset {config: true} restores the start-up capabilities.
  assert.equal((await admin('reset', { config: true })).config.capabilities.guided_choice, true);
});

test('capabilities as a startMock option; logprobs off never returns logprobs', async () => {
  const m = await startMock({ gold: GOLD, latencyMs: 0, capabilities: { logprobs: false, grammar: false } });
  try {
    const cfg = await (await fetch(`${m.url}/__admin/config`)).json();
    assert.deepEqual(cfg.capabilities, { guided_choice: true, json_schema: true, grammar: false, logprobs: false });
    const req = (extra) =>
      fetch(`${m.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: 'mock-model', messages: [{ role: 'user', content: promptFor(spamRow) }], ...extra }),
      }).then((r) => r.json());
    const body = await req({ logprobs: true, top_logprobs: 2, n: 2 });
    assert.equal(body.choices.length, 2);
    for (const c of body.choices) {
      assert.equal(c.message.content, 'spam');
      assert.equal('logprobs' in c, false);
    }
    const probed = await (await fetch(`${m.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ messages: [{ role: 'user', content: PROBE }], grammar: 'root ::= "spam" | "ham"' }),
    }).then((r) => r.json()));
    assert.equal(probed.choices[0].message.content, FREE_ANSWER);
  } finally {
    await m.close();
  }
  await assert.rejects(startMock({ gold: GOLD, capabilities: { regex: true } }), /unknown capability/);

  // Logprobs on: alternatives are the allowed choices, in the output format.
  await setup();
  const body = await (await ask(spamRow, { logprobs: true, ...shapes(['spam', 'ham']).json_schema })).json();
  const lp = body.choices[0].logprobs.content[0];
  assert.equal(lp.token, '{"label":"spam"}');
  assert.deepEqual(lp.top_logprobs.map((t) => t.token), ['{"label":"spam"}', '{"label":"ham"}']);
});

test('answer styles for unconstrained answers, per-model overrides, INVALID unchanged', async () => {
  const expected = {
    plain: 'spam',
    explain: 'spam. The message has the typical signs of this category.',
    json: '{"label": "spam"}',
    emoji: '✅ spam',
  };
  for (const [style, answer] of Object.entries(expected)) {
    await setup({ wrong_rate: 0, invalid_rate: 0, answer_style: style });
    assert.equal(await content(await ask(spamRow)), answer, style);
    // Constrained answers are exact in every style.
    assert.equal(await content(await ask(spamRow, { guided_choice: ['ham', 'spam'] })), 'spam', style);
    assert.equal(await content(await ask(spamRow, { response_format: { type: 'json_object' } })), '{"label":"spam"}', style);
    // Neither INVALID nor the free sentence are labels: never styled.
    assert.equal(await content(await probe()), FREE_ANSWER, style);
    await admin('config', { invalid_rate: 1 });
    assert.equal(await content(await ask(spamRow)), INVALID_ANSWER, style);
  }
  await setup({ answer_style: 'explain', model_styles: { 'mock-model-b': 'json' } });
  assert.equal(await content(await ask(hamRow)), 'ham. The message has the typical signs of this category.');
  assert.equal(await content(await ask(hamRow, { model: 'mock-model-b' })), '{"label": "ham"}');
  // Logprobs tokens use the same wording.
  const lp = (await (await ask(hamRow, { model: 'mock-model-b', logprobs: true })).json()).choices[0].logprobs.content[0];
  assert.equal(lp.token, '{"label": "ham"}');
  assert.deepEqual(lp.top_logprobs.map((t) => t.token), ['{"label": "ham"}', '{"label": "spam"}']);

  for (const bad of [{ answer_style: 'shouty' }, { model_styles: { 'mock-model': 'shouty' } }, { model_styles: 'json' }]) {
    const res = await fetch(`${mock.url}/__admin/config`, { method: 'POST', body: JSON.stringify(bad) });
    assert.equal(res.status, 400, JSON.stringify(bad));
    assert.match((await res.json()).error.message, /answer style|model_styles/);
  }
  await assert.rejects(startMock({ gold: GOLD, answerStyle: 'shouty' }), /unknown answer style/);
  await assert.rejects(startMock({ gold: GOLD, modelStyles: { m: 'shouty' } }), /unknown answer style/);
  const styled = await startMock({ gold: GOLD, latencyMs: 0, answerStyle: 'emoji', modelStyles: { b: 'plain' } });
  try {
    const cfg = await (await fetch(`${styled.url}/__admin/config`)).json();
    assert.equal(cfg.answer_style, 'emoji');
    assert.deepEqual(cfg.model_styles, { b: 'plain' });
  } finally {
    await styled.close();
  }
});

// --- mock: fault schedules and new fault types -------------------------------------

const statusesOf = async (k, extra = {}) => {
  const out = [];
  for (let i = 0; i < k; i++) {
    const res = await ask(spamRow, extra);
    await res.arrayBuffer();
    out.push(res.status);
  }
  return out;
};

test('fault schedules: after and until fire on exactly the intended requests', async () => {
  await setup({ faults: [{ type: '500', after: 2, count: 2 }] });
  assert.deepEqual(await statusesOf(6), [200, 200, 500, 500, 200, 200]);

  await setup({ faults: [{ type: '429', after: 1, until: 3 }] });
  assert.deepEqual(await statusesOf(5), [200, 429, 429, 200, 200]);

  await setup({ faults: [{ type: '503', until: 2 }] });
  assert.deepEqual(await statusesOf(4), [503, 503, 200, 200]);

  // Only applicable requests count: other models neither fire nor advance the rule.
  await setup({ faults: [{ type: '500', after: 1, until: 2, models: ['mock-model-b'] }] });
  assert.deepEqual(await statusesOf(3), [200, 200, 200]);
  assert.deepEqual(await statusesOf(3, { model: 'mock-model-b' }), [200, 500, 200]);
  const log = await admin('log');
  assert.deepEqual(log.requests.map((e) => e.fault), [null, null, null, null, '500', null]);

  // An earlier rule that fires hides the request from later ones.
  await setup({ faults: [{ type: '429', count: 1 }, { type: '500', after: 1, count: 1 }] });
  assert.deepEqual(await statusesOf(4), [429, 200, 500, 200]);

  // nocors with a window: preflights lack CORS only while the next request would.
  await setup({ faults: [{ type: 'nocors', after: 1, count: 1 }] });
  const preflight = () =>
    fetch(`${mock.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { Origin: 'http://o.test' } });
  assert.equal((await preflight()).headers.get('access-control-allow-origin'), 'http://o.test');
  assert.deepEqual(await statusesOf(1), [200]);
  assert.equal((await preflight()).headers.get('access-control-allow-origin'), null);
  assert.deepEqual(await statusesOf(1), [200]);
  assert.equal((await preflight()).headers.get('access-control-allow-origin'), 'http://o.test');

  for (const bad of [
    [{ type: '500', after: 3, until: 3 }],
    [{ type: '500', after: -1 }],
    [{ type: '500', until: 1.5 }],
    [{ type: '500', count: 'x' }],
    [{ type: '500', rate: 2 }],
    [{ type: '500', afterr: 1 }],
    [{ type: '404' }],
    [{ type: '503', retry_after: -1 }],
  ]) {
    const res = await fetch(`${mock.url}/__admin/config`, { method: 'POST', body: JSON.stringify({ faults: bad }) });
    assert.equal(res.status, 400, JSON.stringify(bad));
  }
});

test('400 and 503 faults', async () => {
  await setup({ faults: [{ type: '400', count: 1 }, { type: '503', count: 1 }, { type: '503', count: 1, retry_after: 5 }] });
  const bad = await chat(
    { model: 'mock-model', messages: [{ role: 'user', content: promptFor(spamRow) }] },
    { headers: { Origin: 'http://o.test' } },
  );
  assert.equal(bad.status, 400);
  assert.equal(bad.headers.get('retry-after'), null);
  assert.equal(bad.headers.get('access-control-allow-origin'), 'http://o.test');
  assert.equal((await bad.json()).error.type, 'invalid_request_error');
  const busy = await ask(spamRow);
  assert.equal(busy.status, 503);
  assert.equal(busy.headers.get('retry-after'), '1');
  assert.equal((await busy.json()).error.type, 'server_error');
  const busy5 = await ask(spamRow);
  assert.equal(busy5.status, 503);
  assert.equal(busy5.headers.get('retry-after'), '5');
  await busy5.arrayBuffer();
  assert.equal(await content(await ask(spamRow)), 'spam');
  assert.deepEqual((await admin('log')).requests.map((e) => [e.fault, e.status]), [
    ['400', 400],
    ['503', 503],
    ['503', 503],
    [null, 200],
  ]);
});

// --- mock: HTTPS and HTTP/2 ---------------------------------------------------------

test('selfSignedCert: key, cert for 127.0.0.1/localhost and its SPKI hash', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tls-test-'));
  try {
    const c = selfSignedCert(dir);
    assert.equal(c.keyFile, path.join(dir, 'key.pem'));
    assert.equal(c.cert, fs.readFileSync(c.certFile, 'utf8'));
    assert.match(c.key, /^-----BEGIN PRIVATE KEY-----/);
    assert.match(c.spki, /^[A-Za-z0-9+/]{43}=$/);
    // Independently: the openssl pipeline Chromium's docs give for the SPKI list.
    const viaOpenssl = execFileSync(
      '/bin/sh',
      ['-c', 'openssl x509 -pubkey -noout -in "$1" | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64', 'sh', c.certFile],
      { encoding: 'utf8' },
    ).trim();
    assert.equal(c.spki, viaOpenssl);
    const text = execFileSync('/usr/bin/openssl', ['x509', '-noout', '-text', '-in', c.certFile], { encoding: 'utf8' });
    assert.match(text, /IP Address:127\.0\.0\.1, DNS:localhost/);
    assert.match(text, /prime256v1|P-256/);
    assert.match(text, /CA:FALSE/);
    // A second call makes a different key.
    assert.notEqual(selfSignedCert(path.join(dir, 'b')).spki, c.spki);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('HTTPS: HTTP/2 and HTTP/1.1 on one port, 128 concurrent streams, preflight, hang and close', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tls-test-'));
  const cert = selfSignedCert(dir);
  const tlsMock = await startMock({ gold: GOLD, latencyMs: 0, tls: { key: cert.key, cert: cert.cert } });
  let session;
  try {
    assert.match(tlsMock.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    session = http2.connect(tlsMock.url, { ca: cert.cert });
    const h2 = (headers, body) =>
      new Promise((resolve, reject) => {
        const req = session.request(headers);
        let data = '';
        let head;
        req.setEncoding('utf8');
        req.on('response', (h) => (head = h));
        req.on('data', (d) => (data += d));
        req.on('end', () => resolve({ status: head[':status'], headers: head, body: data }));
        req.on('error', reject);
        req.end(body);
      });
    const h2chat = (body, headers = {}) =>
      h2({ ':method': 'POST', ':path': '/v1/chat/completions', 'content-type': 'application/json', ...headers }, JSON.stringify(body));
    const adminTls = (p, body) =>
      h2({ ':method': body === undefined ? 'GET' : 'POST', ':path': `/__admin/${p}` }, body === undefined ? undefined : JSON.stringify(body)).then((r) =>
        JSON.parse(r.body),
      );

    const one = await h2chat(
      { model: 'mock-model', messages: [{ role: 'user', content: promptFor(spamRow) }] },
      { origin: 'http://app.test' },
    );
    assert.equal(one.status, 200);
    assert.equal(one.headers['access-control-allow-origin'], 'http://app.test');
    assert.equal(JSON.parse(one.body).choices[0].message.content, 'spam');
    let log = await adminTls('log');
    assert.equal(log.requests.length, 1);
    assert.equal(log.requests[0].http, '2.0');
    assert.equal(log.requests[0].status, 200);

    // Preflight over HTTP/2: same answer as over HTTP/1.1.
    const pre = await h2({
      ':method': 'OPTIONS',
      ':path': '/v1/chat/completions',
      origin: 'http://app.test',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type',
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], 'http://app.test');
    assert.equal(pre.headers['access-control-allow-methods'], 'GET, POST, OPTIONS');
    assert.equal(pre.headers['access-control-allow-headers'], 'Content-Type, Authorization, api-key');
    assert.equal(pre.headers['access-control-max-age'], '600');

    // 128 requests in flight at once on one connection.
    await adminTls('reset', {});
    await adminTls('config', { latency_ms: 300 });
    const many = await Promise.all(
      Array.from({ length: 128 }, (_, i) =>
        h2chat({ model: 'mock-model', messages: [{ role: 'user', content: promptFor(i % 2 ? spamRow : hamRow) }] }),
      ),
    );
    assert.deepEqual(new Set(many.map((r) => r.status)), new Set([200]));
    assert.deepEqual(many.map((r) => JSON.parse(r.body).choices[0].message.content).slice(0, 2), ['ham', 'spam']);
    log = await adminTls('log');
    assert.equal(log.requests.length, 128);
    assert.ok(log.max_in_flight >= 100, `max_in_flight ${log.max_in_flight}`);
    assert.equal(log.in_flight, 0);
    assert.ok(log.requests.every((e) => e.http === '2.0' && e.status === 200));

    // HTTP/1.1 over TLS (ALPN fallback) with the cert as CA.
    await adminTls('config', { latency_ms: 0 });
    const h1 = await new Promise((resolve, reject) => {
      const req = https.request(
        `${tlsMock.url}/v1/chat/completions`,
        { method: 'POST', ca: cert.cert, headers: { 'Content-Type': 'application/json', Origin: 'http://app.test' } },
        (res) => {
          let data = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (data += d));
          res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: data, version: res.httpVersion }));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ model: 'mock-model', messages: [{ role: 'user', content: promptFor(hamRow) }] }));
    });
    assert.equal(h1.status, 200);
    assert.equal(h1.version, '1.1');
    assert.equal(h1.headers['access-control-allow-origin'], 'http://app.test');
    assert.equal(JSON.parse(h1.body).choices[0].message.content, 'ham');
    log = await adminTls('log');
    assert.equal(log.requests.at(-1).http, '1.1');

    // A cancelled hanging stream is noticed; a second hang is cut by close().
    await adminTls('reset', {});
    await adminTls('config', { faults: [{ type: 'hang', count: 2 }] });
    const hung = session.request({ ':method': 'POST', ':path': '/v1/chat/completions' });
    hung.on('error', () => {});
    hung.end(JSON.stringify({ model: 'mock-model', messages: [{ role: 'user', content: 'x' }] }));
    await new Promise((r) => setTimeout(r, 100));
    hung.close(http2.constants.NGHTTP2_CANCEL);
    for (let i = 0; i < 50; i++) {
      log = await adminTls('log');
      if (log.requests.length === 1 && log.in_flight === 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(log.in_flight, 0);
    assert.deepEqual([log.requests[0].fault, log.requests[0].status, log.requests[0].http], ['hang', null, '2.0']);
    const hung2 = session.request({ ':method': 'POST', ':path': '/v1/chat/completions' });
    const hung2Done = new Promise((resolve) => {
      hung2.on('error', resolve);
      hung2.on('close', resolve);
    });
    hung2.end(JSON.stringify({ model: 'mock-model', messages: [{ role: 'user', content: 'x' }] }));
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await tlsMock.close(); // the session is still open: close() must not wait for it
    await hung2Done;
    assert.ok(Date.now() - t0 < 2000, `close took ${Date.now() - t0} ms`);
  } finally {
    session?.destroy();
    await tlsMock.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
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
  const cert = selfSignedCert(path.join(tmp, 'tls'));
  const t = await startCli(
    ['tests/mock/server.mjs', '--port', '0', '--gold', GOLD, '--tls-key', cert.keyFile, '--tls-cert', cert.certFile],
    /^mock listening on https:\/\/127\.0\.0\.1:\d+$/,
  );
  const sUrl = s.line.split(' at ')[1];
  const mUrl = m.line.split(' on ')[1];
  const tUrl = t.line.split(' on ')[1];
  assert.deepEqual(await (await fetch(`${sUrl}config.json`)).json(), CONFIG);
  assert.equal((await fetch(`${mUrl}/v1/models`)).status, 401);
  assert.equal((await fetch(`${mUrl}/v1/models`, { headers: { Authorization: 'Bearer k' } })).status, 200);
  const models = await new Promise((resolve, reject) =>
    https.get(`${tUrl}/v1/models`, { ca: cert.cert }, (res) => resolve(res.statusCode)).on('error', reject),
  );
  assert.equal(models, 200);

  const [sCode, mCode, tCode] = [exited(s.child), exited(m.child), exited(t.child)];
  s.child.kill('SIGTERM');
  m.child.kill('SIGINT');
  t.child.kill('SIGTERM');
  assert.equal(await sCode, 0);
  assert.equal(await mCode, 0);
  assert.equal(await tCode, 0);
});
