// Tests for the mock's batch routes (OpenAI Files + Batch API, Anthropic Message
// Batches) and the mock batch engine (tests/mock/engine.mjs). Run with:
// node --test tests/mock/
// No test sleeps: a batch moves one state per GET of it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

import OpenAI, { toFile } from 'openai';
import Anthropic from '@anthropic-ai/sdk';

import { startMock, buildGold, createAnswerer, shareOf, chatBodyFromAnthropic, checkBatchInput, shuffleLines, STOPPED_RAN_SHARE } from './server.mjs';
import { answerBatch, answerBatchLines, splitJsonl, ENGINE_BATCH_ID, ENGINE_CREATED } from './engine.mjs';

const GOLD = '/work/shared/data/spamassassin_emails.csv';
const KEY = 'sk-batch-test';
const ORIGIN = 'http://app.test';

let mock;
let gold;
let goldCsv;
/** The official client, without retries (a retried request would advance a batch twice). */
let client;

before(async () => {
  goldCsv = fs.readFileSync(GOLD, 'utf8');
  gold = buildGold(goldCsv);
  mock = await startMock({ goldCsv, latencyMs: 0, apiKey: KEY });
  client = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: KEY, maxRetries: 0 });
});

after(async () => {
  await mock?.close();
});

// --- helpers -----------------------------------------------------------------

const admin = (p, body) =>
  fetch(`${mock.url}/__admin/${p}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then((r) => r.json());

/** Reset log, files, batches and config (keeping the API key), then apply `config`. */
async function setup(config = {}) {
  await admin('reset', { config: true });
  await admin('config', { latency_ms: 0, ...config });
}

const auth = { Authorization: `Bearer ${KEY}` };
const api = (p, init = {}) => fetch(`${mock.url}${p}`, { ...init, headers: { ...auth, ...(init.headers ?? {}) } });

const prompt = (row) => `Classify the e-mail as ham or spam.\n\nText:\n${row.text.slice(0, 600)}\n\nAnswer with the category only.`;
const schema = {
  type: 'json_schema',
  json_schema: { name: 'label', strict: true, schema: { type: 'object', properties: { label: { type: 'string', enum: ['ham', 'spam'] } }, required: ['label'] } },
};

/**
 * Request bodies like the app's: a spread of rows and of the body features
 * that change an answer (constraints, n, logprobs, temperature with seeds).
 */
function bodies(count, model = 'mock-model') {
  return Array.from({ length: count }, (_, i) => {
    const body = { model, messages: [{ role: 'system', content: 'You label e-mails.' }, { role: 'user', content: prompt(gold.rows[i * 7]) }], max_tokens: 8 };
    switch (i % 5) {
      case 0:
        body.temperature = 0;
        break;
      case 1:
        Object.assign(body, { temperature: 0.7, seed: i, n: 3, logprobs: true, top_logprobs: 2 });
        break;
      case 2:
        Object.assign(body, { response_format: schema, logprobs: true });
        break;
      case 3:
        Object.assign(body, { guided_choice: ['spam', 'ham'], temperature: 1, seed: 1000 + i });
        break;
      default:
        Object.assign(body, { grammar: 'root ::= "ham" | "spam"' });
    }
    return body;
  });
}

const customId = (i, rep = 0) => `fa-run7-${i}-${rep}`;
const inputLines = (bs) => bs.map((body, i) => JSON.stringify({ custom_id: customId(i), method: 'POST', url: '/v1/chat/completions', body }));
const jsonlOf = (lines) => `${lines.join('\n')}\n`;
const parseLines = (text) => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));

async function upload(text, name = 'b.jsonl') {
  return client.files.create({ file: await toFile(Buffer.from(text), name), purpose: 'batch' });
}

async function createBatch(text, extra = {}) {
  const file = await upload(text);
  return client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', ...extra });
}

/** Retrieve until a terminal state; the statuses seen, from creation on. */
async function drive(batch) {
  const seen = [batch.status];
  for (let i = 0; i < 10 && !['completed', 'failed', 'expired', 'cancelled'].includes(batch.status); i++) {
    batch = await client.batches.retrieve(batch.id);
    seen.push(batch.status);
  }
  return { batch, seen };
}

const fileText = async (id) => (await client.files.content(id)).text();

/** The live answer to a body, from the chat route. */
async function live(body) {
  const res = await api('/v1/chat/completions', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200);
  return res.json();
}

// --- OpenAI: files and batches through the official client ------------------------

test('openai client: upload, batch through validating → in_progress → finalizing → completed, output equals live answers', async () => {
  await setup();
  const bs = bodies(25);
  const text = jsonlOf(inputLines(bs));
  const file = await upload(text, 'run7.jsonl');
  assert.match(file.id, /^file-/);
  assert.equal(file.object, 'file');
  assert.equal(file.bytes, Buffer.byteLength(text));
  assert.equal(file.filename, 'run7.jsonl');
  assert.equal(file.purpose, 'batch');
  assert.equal(typeof file.created_at, 'number');
  assert.deepEqual(await client.files.retrieve(file.id), file);
  assert.equal(await fileText(file.id), text);

  let batch = await client.batches.create({
    input_file_id: file.id,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
    metadata: { run: 'run7' },
  });
  assert.match(batch.id, /^batch_/);
  assert.equal(batch.object, 'batch');
  assert.equal(batch.input_file_id, file.id);
  assert.deepEqual(batch.metadata, { run: 'run7' });
  assert.deepEqual(batch.request_counts, { total: 0, completed: 0, failed: 0 });
  for (const k of ['output_file_id', 'error_file_id', 'errors', 'in_progress_at', 'finalizing_at', 'completed_at', 'failed_at', 'expired_at', 'cancelling_at', 'cancelled_at']) {
    assert.equal(batch[k], null, k);
  }
  const { batch: done, seen } = await drive(batch);
  batch = done;
  assert.deepEqual(seen, ['validating', 'in_progress', 'finalizing', 'completed']);
  // Terminal: further GETs change nothing.
  assert.deepEqual(await client.batches.retrieve(batch.id), batch);
  assert.deepEqual(batch.request_counts, { total: 25, completed: 25, failed: 0 });
  assert.equal(batch.error_file_id, null);
  for (const k of ['in_progress_at', 'finalizing_at', 'completed_at']) assert.equal(typeof batch[k], 'number', k);

  const outFile = await client.files.retrieve(batch.output_file_id);
  assert.equal(outFile.purpose, 'batch_output');
  const out = await fileText(batch.output_file_id);
  assert.equal(outFile.bytes, Buffer.byteLength(out));
  const lines = parseLines(out);
  assert.deepEqual(lines.map((l) => l.custom_id).sort(), bs.map((_, i) => customId(i)).sort(), 'every request answered once');
  assert.notDeepEqual(lines.map((l) => l.custom_id), bs.map((_, i) => customId(i)), 'shuffled');
  for (const l of lines) {
    assert.deepEqual(Object.keys(l), ['id', 'custom_id', 'response', 'error']);
    assert.match(l.id, /^batch_req_/);
    assert.equal(l.error, null);
    assert.equal(l.response.status_code, 200);
    assert.match(l.response.request_id, /^req_/);
    // Byte for byte the live answer to the same body (ids and created aside).
    const i = Number(l.custom_id.split('-')[2]);
    const liveAnswer = await live(bs[i]);
    assert.equal(JSON.stringify(l.response.body.choices), JSON.stringify(liveAnswer.choices), l.custom_id);
    assert.deepEqual(l.response.body.usage, liveAnswer.usage);
    assert.equal(l.response.body.object, 'chat.completion');
    assert.equal(l.response.body.model, 'mock-model');
  }
  // The bodies do reach every feature: several choices, logprobs, JSON answers.
  const byId = new Map(lines.map((l) => [l.custom_id, l.response.body]));
  assert.equal(byId.get(customId(1)).choices.length, 3);
  assert.ok(byId.get(customId(1)).choices[0].logprobs);
  assert.match(byId.get(customId(2)).choices[0].message.content, /^\{"label":"(ham|spam)"\}$/);

  // The engine, told the batch's seed, id and time, writes the same file.
  const engineOut = answerBatch(text, { completion: createAnswerer({ goldCsv }).complete, seed: `1:${batch.id}`, batchId: batch.id, created: batch.completed_at });
  assert.equal(engineOut, out);
});

test("azure: a batch of Azure's /chat/completions lines on that endpoint completes; lines must match the batch's endpoint", async () => {
  await setup();
  const bs = bodies(5);
  const azure = bs.map((body, i) => JSON.stringify({ custom_id: customId(i), method: 'POST', url: '/chat/completions', body }));
  const file = await upload(jsonlOf(azure));
  const { batch, seen } = await drive(await client.batches.create({ input_file_id: file.id, endpoint: '/chat/completions', completion_window: '24h' }));
  assert.deepEqual(seen, ['validating', 'in_progress', 'finalizing', 'completed']);
  assert.equal(batch.endpoint, '/chat/completions');
  assert.equal(parseLines(await fileText(batch.output_file_id)).length, 5);
  // OpenAI's lines in an Azure batch fail validation, as a real one would.
  const mixed = await drive(await createBatch(jsonlOf(inputLines(bs)), { endpoint: '/chat/completions' }));
  assert.equal(mixed.batch.status, 'failed');
  assert.equal(mixed.batch.errors.data[0].code, 'url_mismatch');
  await assert.rejects(client.batches.create({ input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h' }));
});

test('openai client: batch_error_rate sends a share of requests, by custom_id, to the error file', async () => {
  await setup({ batch_error_rate: 0.3 });
  const bs = bodies(60);
  const { batch, seen } = await drive(await createBatch(jsonlOf(inputLines(bs))));
  assert.deepEqual(seen, ['validating', 'in_progress', 'finalizing', 'completed']);
  const ids = bs.map((_, i) => customId(i));
  const failing = ids.filter((id) => shareOf(id) < 0.3);
  assert.ok(failing.length >= 8 && failing.length <= 30, `failing ${failing.length}`);
  assert.deepEqual(batch.request_counts, { total: 60, completed: 60 - failing.length, failed: failing.length });

  const ok = parseLines(await fileText(batch.output_file_id));
  const errors = parseLines(await fileText(batch.error_file_id));
  assert.deepEqual(errors.map((l) => l.custom_id).sort(), [...failing].sort());
  assert.deepEqual([...ok, ...errors].map((l) => l.custom_id).sort(), [...ids].sort(), 'each request in exactly one file');
  for (const l of errors) {
    assert.deepEqual(Object.keys(l), ['id', 'custom_id', 'response', 'error']);
    assert.equal(l.error, null);
    assert.equal(l.response.status_code, 500);
    assert.match(l.response.request_id, /^req_/);
    assert.equal(l.response.body.error.type, 'server_error');
    assert.equal(typeof l.response.body.error.message, 'string');
  }
  assert.equal((await client.files.retrieve(batch.error_file_id)).purpose, 'batch_output');
});

test('openai client: list pages newest first without advancing; files list and delete', async () => {
  await setup();
  const made = [];
  for (let i = 0; i < 3; i++) made.push(await createBatch(jsonlOf(inputLines(bodies(2)))));
  const page = await client.batches.list({ limit: 2 });
  assert.deepEqual(page.data.map((b) => b.id), [made[2].id, made[1].id]);
  assert.equal(page.has_more, true);
  const all = [];
  for await (const b of client.batches.list({ limit: 2 })) all.push(b);
  assert.deepEqual(all.map((b) => b.id), made.map((b) => b.id).reverse());
  assert.ok(all.every((b) => b.status === 'validating'), 'listing does not advance a batch');
  const raw = await (await api('/v1/batches?limit=1')).json();
  assert.deepEqual(Object.keys(raw).sort(), ['data', 'first_id', 'has_more', 'last_id', 'object']);
  assert.equal(raw.object, 'list');
  assert.equal(raw.first_id, made[2].id);
  assert.equal(raw.last_id, made[2].id);

  const files = [];
  for await (const f of client.files.list({ purpose: 'batch' })) files.push(f);
  assert.equal(files.length, 3);
  const gone = await client.files.delete(files[0].id);
  assert.deepEqual(gone, { id: files[0].id, object: 'file', deleted: true });
  await assert.rejects(client.files.retrieve(files[0].id), (e) => e.status === 404);
  await assert.rejects(client.files.content(files[0].id), (e) => e.status === 404);
  // A batch whose input was deleted before validation fails, saying so.
  const { batch } = await drive(await client.batches.retrieve(made[2].id));
  assert.equal(batch.status, 'failed');
  assert.equal(batch.errors.data[0].code, 'file_not_found');
});

test('openai client: cancel while validating or in progress; a finished batch cannot be cancelled', async () => {
  await setup();
  const bs = bodies(40);
  const text = jsonlOf(inputLines(bs));

  // While validating: nothing has run, so no files.
  let batch = await createBatch(text);
  batch = await client.batches.cancel(batch.id);
  assert.equal(batch.status, 'cancelling');
  assert.equal(typeof batch.cancelling_at, 'number');
  assert.equal((await client.batches.cancel(batch.id)).status, 'cancelling', 'cancelling again is harmless');
  batch = await client.batches.retrieve(batch.id);
  assert.equal(batch.status, 'cancelled');
  assert.equal(typeof batch.cancelled_at, 'number');
  assert.deepEqual([batch.output_file_id, batch.error_file_id], [null, null]);
  assert.deepEqual(batch.request_counts, { total: 0, completed: 0, failed: 0 });

  // In progress: the requests run so far are in the output, the rest are errors.
  batch = await createBatch(text);
  batch = await client.batches.retrieve(batch.id);
  assert.equal(batch.status, 'in_progress');
  assert.equal(batch.request_counts.total, 40);
  assert.equal((await client.batches.cancel(batch.id)).status, 'cancelling');
  const { batch: done, seen } = await drive(await client.batches.retrieve(batch.id));
  assert.deepEqual(seen, ['cancelled']);
  const ran = bs.map((_, i) => customId(i)).filter((id) => shareOf(`ran:${id}`) < STOPPED_RAN_SHARE);
  assert.ok(ran.length > 5 && ran.length < 35, `ran ${ran.length}`);
  const ok = parseLines(await fileText(done.output_file_id));
  const errors = parseLines(await fileText(done.error_file_id));
  assert.deepEqual(ok.map((l) => l.custom_id).sort(), [...ran].sort());
  assert.equal(errors.length, 40 - ran.length);
  for (const l of errors) {
    assert.equal(l.response, null);
    assert.equal(l.error.code, 'batch_cancelled');
  }
  assert.deepEqual(done.request_counts, { total: 40, completed: ran.length, failed: 40 - ran.length });

  // Finished: 400 (not 409, which clients retry).
  await assert.rejects(client.batches.cancel(done.id), (e) => e.status === 400 && /cancelled/.test(e.message));
});

test('openai client: a bad input file fails the batch with errors by line; batch_outcome "failed"', async () => {
  await setup();
  const good = inputLines(bodies(3));
  const lines = [
    good[0],
    '{"custom_id": "x", ',
    JSON.stringify({ custom_id: 'fa-run7-9-0', method: 'POST', url: '/v1/embeddings', body: {} }),
    good[0],
    JSON.stringify({ custom_id: 'fa-run7-8-0', url: '/v1/chat/completions', body: {} }),
    '',
    '[1, 2]',
    JSON.stringify({ custom_id: 'fa-run7-7-0', method: 'POST', url: '/v1/chat/completions', body: { ...bodies(1)[0], model: 'other' } }),
  ];
  let { batch, seen } = await drive(await createBatch(jsonlOf(lines)));
  assert.deepEqual(seen, ['validating', 'failed']);
  assert.equal(typeof batch.failed_at, 'number');
  assert.equal(batch.errors.object, 'list');
  assert.deepEqual(
    batch.errors.data.map((e) => [e.line, e.code]),
    [
      [2, 'invalid_json_line'],
      [3, 'url_mismatch'],
      [4, 'duplicate_custom_id'],
      [5, 'missing_required_parameter'],
      [7, 'invalid_json_line'],
      [8, 'model_mismatch'],
    ],
  );
  assert.equal(batch.errors.data[3].param, 'method');
  assert.ok(batch.errors.data.every((e) => typeof e.message === 'string' && e.message.length > 0));
  assert.deepEqual([batch.output_file_id, batch.error_file_id], [null, null]);

  ({ batch, seen } = await drive(await createBatch('\n\n')));
  assert.deepEqual(seen, ['validating', 'failed']);
  assert.equal(batch.errors.data[0].code, 'empty_file');

  // The knob fails a good file; the batch keeps the config it was made under.
  await admin('config', { batch_outcome: 'failed' });
  const doomed = await createBatch(jsonlOf(good));
  await admin('config', { batch_outcome: 'completed' });
  ({ batch, seen } = await drive(doomed));
  assert.deepEqual(seen, ['validating', 'failed']);
  assert.equal(batch.errors.data[0].code, 'mock_failure');
  assert.equal(checkBatchInput(jsonlOf(good)).errors.length, 0);
});

test('openai client: batch_outcome "expired": in progress, then expired with the unrun requests as batch_expired', async () => {
  await setup({ batch_outcome: 'expired', batch_error_rate: 0.2 });
  const bs = bodies(30);
  const { batch, seen } = await drive(await createBatch(jsonlOf(inputLines(bs))));
  assert.deepEqual(seen, ['validating', 'in_progress', 'expired']);
  assert.equal(typeof batch.expired_at, 'number');
  assert.equal(batch.completed_at, null);
  const ids = bs.map((_, i) => customId(i));
  const ran = ids.filter((id) => shareOf(`ran:${id}`) < STOPPED_RAN_SHARE);
  const answered = ran.filter((id) => shareOf(id) >= 0.2);
  const ok = parseLines(await fileText(batch.output_file_id));
  const errors = parseLines(await fileText(batch.error_file_id));
  assert.deepEqual(ok.map((l) => l.custom_id).sort(), [...answered].sort());
  const expired = errors.filter((l) => l.error?.code === 'batch_expired');
  assert.deepEqual(expired.map((l) => l.custom_id).sort(), ids.filter((id) => !ran.includes(id)).sort());
  assert.ok(expired.every((l) => l.response === null && typeof l.error.message === 'string'));
  assert.equal(errors.length - expired.length, ran.length - answered.length, 'the ones run can still fail with a 500');
  assert.deepEqual(batch.request_counts, { total: 30, completed: answered.length, failed: 30 - answered.length });
});

// --- OpenAI: the raw protocol ----------------------------------------------------

test('files and batches: bad calls, auth, CORS preflights and the request log', async () => {
  await setup();
  // Auth as for the other routes.
  assert.equal((await fetch(`${mock.url}/v1/files`)).status, 401);
  assert.equal((await fetch(`${mock.url}/v1/batches`, { headers: { 'api-key': KEY } })).status, 200);

  // Multipart as a browser's FormData sends it.
  const form = new FormData();
  form.append('purpose', 'batch');
  form.append('file', new Blob([jsonlOf(inputLines(bodies(2)))]), 'web.jsonl');
  const up = await api('/v1/files', { method: 'POST', body: form, headers: { Origin: ORIGIN } });
  assert.equal(up.status, 200);
  assert.equal(up.headers.get('access-control-allow-origin'), ORIGIN);
  const file = await up.json();
  assert.equal(file.filename, 'web.jsonl');

  const bad = async (p, init, status = 400) => {
    const res = await api(p, init);
    assert.equal(res.status, status, `${p} ${init?.body ?? ''}`);
    const body = await res.json();
    assert.equal(typeof body.error.message, 'string');
    return body;
  };
  const wrongPurpose = new FormData();
  wrongPurpose.append('purpose', 'fine-tune');
  wrongPurpose.append('file', new Blob(['{}']), 'x.jsonl');
  await bad('/v1/files', { method: 'POST', body: wrongPurpose });
  const noFile = new FormData();
  noFile.append('purpose', 'batch');
  await bad('/v1/files', { method: 'POST', body: noFile });
  await bad('/v1/files', { method: 'POST', body: '{}', headers: { 'Content-Type': 'application/json' } });
  await bad('/v1/files/file-nope', undefined, 404);
  const post = (body) => ({ method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const create = { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' };
  await bad('/v1/batches', post({ ...create, endpoint: '/v1/embeddings' }));
  await bad('/v1/batches', post({ ...create, completion_window: '1h' }));
  await bad('/v1/batches', post({ ...create, input_file_id: undefined }));
  await bad('/v1/batches', post({ ...create, input_file_id: 'file-nope' }), 404);
  await bad('/v1/batches/batch_nope', undefined, 404);
  await bad('/v1/batches/batch_nope/cancel', { method: 'POST' }, 404);
  await bad('/v1/batches', post('nope'));
  const res = await api('/v1/batches', { ...post(create), headers: { 'Content-Type': 'application/json', Origin: ORIGIN } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
  const batch = await res.json();

  // Preflights: the browser's upload (Authorization, multipart), its delete, Anthropic's headers.
  for (const [p, method, headers] of [
    ['/v1/files', 'POST', 'authorization,content-type'],
    [`/v1/files/${file.id}`, 'DELETE', 'authorization'],
    [`/v1/batches/${batch.id}`, 'GET', 'authorization'],
    ['/v1/messages/batches', 'POST', 'x-api-key,anthropic-version,anthropic-dangerous-direct-browser-access,content-type'],
  ]) {
    const pre = await fetch(`${mock.url}${p}`, {
      method: 'OPTIONS',
      headers: { Origin: ORIGIN, 'Access-Control-Request-Method': method, 'Access-Control-Request-Headers': headers },
    });
    assert.equal(pre.status, 204, p);
    assert.equal(pre.headers.get('access-control-allow-origin'), ORIGIN);
    assert.ok(pre.headers.get('access-control-allow-methods').split(', ').includes(method), p);
    const allowed = pre.headers.get('access-control-allow-headers').toLowerCase().split(', ');
    for (const h of headers.split(',')) assert.ok(allowed.includes(h), `${p}: ${h}`);
  }

  // Every batch route is logged like the chat route.
  await api(`/v1/batches/${batch.id}`);
  await api(`/v1/files/${file.id}/content`);
  const log = (await admin('log')).requests;
  const batchGets = log.filter((e) => e.method === 'GET' && e.path === `/v1/batches/${batch.id}`);
  assert.equal(batchGets.length, 1);
  assert.equal(batchGets[0].status, 200);
  assert.equal(batchGets[0].authorization, true);
  assert.equal(log.filter((e) => e.path === '/v1/files' && e.method === 'POST').length, 4);
  assert.ok(log.some((e) => e.path === `/v1/files/${file.id}/content` && e.status === 200));
  assert.ok(log.some((e) => e.method === 'OPTIONS' && e.path === '/v1/messages/batches' && e.status === 204));

  // Reset forgets files and batches.
  await admin('reset', {});
  assert.equal((await api(`/v1/batches/${batch.id}`)).status, 404);
  assert.equal((await api(`/v1/files/${file.id}`)).status, 404);
});

test('batch knobs: validated, shown in the config, restored by reset; startMock options', async () => {
  await setup();
  const cfg = await admin('config');
  assert.equal(cfg.batch_error_rate, 0);
  assert.equal(cfg.batch_outcome, 'completed');
  for (const badCfg of [{ batch_error_rate: 2 }, { batch_error_rate: -0.1 }, { batch_outcome: 'exploded' }]) {
    const res = await fetch(`${mock.url}/__admin/config`, { method: 'POST', body: JSON.stringify(badCfg) });
    assert.equal(res.status, 400, JSON.stringify(badCfg));
  }
  await admin('config', { batch_error_rate: 0.5, batch_outcome: 'expired' });
  const reset = await admin('reset', { config: true });
  assert.equal(reset.config.batch_error_rate, 0);
  assert.equal(reset.config.batch_outcome, 'completed');
  const m = await startMock({ goldCsv, latencyMs: 0, batchErrorRate: 0.25, batchOutcome: 'failed' });
  try {
    const c = await (await fetch(`${m.url}/__admin/config`)).json();
    assert.deepEqual([c.batch_error_rate, c.batch_outcome], [0.25, 'failed']);
  } finally {
    await m.close();
  }
  await assert.rejects(startMock({ goldCsv, batchOutcome: 'nope' }), /batch_outcome/);
});

// --- Anthropic Message Batches ----------------------------------------------------

const ANTHROPIC_HEADERS = {
  'x-api-key': KEY,
  'anthropic-version': '2023-06-01',
  'anthropic-dangerous-direct-browser-access': 'true',
  'Content-Type': 'application/json',
};
const anthropic = (p, init = {}) => fetch(`${mock.url}${p}`, { ...init, headers: { ...ANTHROPIC_HEADERS, ...(init.headers ?? {}) } });

function anthropicRequests(count) {
  return Array.from({ length: count }, (_, i) => ({
    custom_id: customId(i),
    params: {
      model: 'claude-mock',
      max_tokens: 8,
      temperature: 0,
      system: 'You label e-mails.',
      messages: [{ role: 'user', content: prompt(gold.rows[i * 5]) }],
    },
  }));
}

test('anthropic: create, in_progress → ended on the next GET, results equal the live answers', async () => {
  await setup({ batch_error_rate: 0.25 });
  const requests = anthropicRequests(24);
  // One request the API would refuse on its own: it errors, the others run.
  requests.push({ custom_id: 'fa-run7-99-0', params: { model: 'claude-mock', messages: [] } });
  const res = await anthropic('/v1/messages/batches', { method: 'POST', body: JSON.stringify({ requests }), headers: { Origin: ORIGIN } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
  let batch = await res.json();
  assert.match(batch.id, /^msgbatch_/);
  assert.equal(batch.type, 'message_batch');
  assert.equal(batch.processing_status, 'in_progress');
  assert.deepEqual(batch.request_counts, { processing: 25, succeeded: 0, errored: 0, canceled: 0, expired: 0 });
  assert.equal(batch.results_url, null);
  assert.equal(batch.ended_at, null);
  assert.equal(batch.cancel_initiated_at, null);
  assert.ok(Date.parse(batch.expires_at) - Date.parse(batch.created_at) === 24 * 3600 * 1000);
  const early = await anthropic(`/v1/messages/batches/${batch.id}/results`);
  assert.equal(early.status, 400);
  assert.equal((await early.json()).type, 'error');

  batch = await (await anthropic(`/v1/messages/batches/${batch.id}`)).json();
  assert.equal(batch.processing_status, 'ended');
  assert.equal(typeof batch.ended_at, 'string');
  assert.equal(batch.results_url, `${mock.url}/v1/messages/batches/${batch.id}/results`);
  const failing = requests.slice(0, 24).filter((r) => shareOf(r.custom_id) < 0.25).length;
  assert.deepEqual(batch.request_counts, { processing: 0, succeeded: 24 - failing, errored: failing + 1, canceled: 0, expired: 0 });

  const results = parseLines(await (await anthropic(new URL(batch.results_url).pathname)).text());
  assert.deepEqual(results.map((r) => r.custom_id).sort(), requests.map((r) => r.custom_id).sort());
  assert.notDeepEqual(results.map((r) => r.custom_id), requests.map((r) => r.custom_id), 'shuffled');
  for (const r of results) {
    const request = requests.find((q) => q.custom_id === r.custom_id);
    if (r.custom_id === 'fa-run7-99-0') {
      assert.deepEqual(r.result.type, 'errored');
      assert.equal(r.result.error.error.type, 'invalid_request_error');
      continue;
    }
    if (shareOf(r.custom_id) < 0.25) {
      assert.deepEqual(r.result, { type: 'errored', error: { type: 'error', error: { type: 'api_error', message: r.result.error.error.message } } });
      continue;
    }
    assert.equal(r.result.type, 'succeeded');
    const msg = r.result.message;
    assert.match(msg.id, /^msg_/);
    assert.deepEqual([msg.type, msg.role, msg.model, msg.stop_reason], ['message', 'assistant', 'claude-mock', 'end_turn']);
    // The text is the live chat answer to the equivalent chat body.
    const liveAnswer = await live(chatBodyFromAnthropic(request.params));
    assert.deepEqual(msg.content, [{ type: 'text', text: liveAnswer.choices[0].message.content }]);
    assert.deepEqual(msg.usage, { input_tokens: liveAnswer.usage.prompt_tokens, output_tokens: liveAnswer.usage.completion_tokens });
    const row = gold.find(request.params.messages[0].content);
    assert.equal(msg.content[0].text, row.label);
  }
  // Ended stays ended.
  assert.deepEqual(await (await anthropic(`/v1/messages/batches/${batch.id}`)).json(), batch);
});

test('anthropic: cancel, expire, list, delete; auth, version header and shape errors', async () => {
  await setup();
  const create = async (requests) =>
    (await anthropic('/v1/messages/batches', { method: 'POST', body: JSON.stringify({ requests }) })).json();
  const requests = anthropicRequests(30);
  const ran = requests.filter((r) => shareOf(`ran:${r.custom_id}`) < STOPPED_RAN_SHARE).length;

  let batch = await create(requests);
  batch = await (await anthropic(`/v1/messages/batches/${batch.id}/cancel`, { method: 'POST' })).json();
  assert.equal(batch.processing_status, 'canceling');
  assert.equal(typeof batch.cancel_initiated_at, 'string');
  batch = await (await anthropic(`/v1/messages/batches/${batch.id}`)).json();
  assert.equal(batch.processing_status, 'ended');
  assert.deepEqual(batch.request_counts, { processing: 0, succeeded: ran, errored: 0, canceled: 30 - ran, expired: 0 });
  const canceled = parseLines(await (await anthropic(`/v1/messages/batches/${batch.id}/results`)).text()).filter((r) => r.result.type === 'canceled');
  assert.equal(canceled.length, 30 - ran);
  assert.deepEqual(canceled[0].result, { type: 'canceled' });
  assert.equal((await anthropic(`/v1/messages/batches/${batch.id}/cancel`, { method: 'POST' })).status, 400);

  await admin('config', { batch_outcome: 'expired' });
  const expiring = await create(requests);
  batch = await (await anthropic(`/v1/messages/batches/${expiring.id}`)).json();
  assert.deepEqual(batch.request_counts, { processing: 0, succeeded: ran, errored: 0, canceled: 0, expired: 30 - ran });
  await admin('config', { batch_outcome: 'failed' });
  const failing = await create(requests.slice(0, 3));
  batch = await (await anthropic(`/v1/messages/batches/${failing.id}`)).json();
  assert.deepEqual(batch.request_counts, { processing: 0, succeeded: 0, errored: 3, canceled: 0, expired: 0 });

  const list = await (await anthropic('/v1/messages/batches?limit=2')).json();
  assert.deepEqual(Object.keys(list).sort(), ['data', 'first_id', 'has_more', 'last_id']);
  assert.deepEqual(list.data.map((b) => b.id), [failing.id, expiring.id]);
  assert.equal(list.has_more, true);
  const rest = await (await anthropic(`/v1/messages/batches?after_id=${list.last_id}`)).json();
  assert.equal(rest.data.length, 1);
  assert.equal(rest.has_more, false);

  const inProgress = await create(requests.slice(0, 1));
  assert.equal((await anthropic(`/v1/messages/batches/${inProgress.id}`, { method: 'DELETE' })).status, 400);
  const del = await anthropic(`/v1/messages/batches/${failing.id}`, { method: 'DELETE' });
  assert.deepEqual(await del.json(), { id: failing.id, type: 'message_batch_deleted' });
  assert.equal((await anthropic(`/v1/messages/batches/${failing.id}`)).status, 404);

  // Anthropic's own key header (or a Bearer token, as its SDK sends), version header and error shape.
  const version = { 'anthropic-version': '2023-06-01' };
  for (const headers of [version, { ...version, 'x-api-key': 'wrong' }, { ...version, Authorization: 'Bearer wrong' }]) {
    const noKey = await fetch(`${mock.url}/v1/messages/batches`, { headers });
    assert.equal(noKey.status, 401);
    assert.deepEqual(await noKey.json(), { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
  }
  assert.equal((await fetch(`${mock.url}/v1/messages/batches`, { headers: { ...version, Authorization: `Bearer ${KEY}` } })).status, 200);
  const noVersion = await fetch(`${mock.url}/v1/messages/batches`, { headers: { 'x-api-key': KEY } });
  assert.equal(noVersion.status, 400);
  assert.equal((await noVersion.json()).error.type, 'invalid_request_error');
  for (const body of [
    {},
    { requests: [] },
    { requests: [{ custom_id: 'has space', params: {} }] },
    { requests: [{ custom_id: 'a', params: {} }, { custom_id: 'a', params: {} }] },
    { requests: [{ custom_id: 'a' }] },
  ]) {
    const res = await anthropic('/v1/messages/batches', { method: 'POST', body: JSON.stringify(body) });
    assert.equal(res.status, 400, JSON.stringify(body));
    const err = await res.json();
    assert.equal(err.type, 'error');
    assert.equal(err.error.type, 'invalid_request_error');
  }
});

test('anthropic: the official SDK creates, polls and streams results', async () => {
  await setup();
  const sdk = new Anthropic({ baseURL: mock.url, apiKey: KEY, maxRetries: 0 });
  const requests = anthropicRequests(6);
  let batch = await sdk.messages.batches.create({ requests });
  assert.equal(batch.processing_status, 'in_progress');
  batch = await sdk.messages.batches.retrieve(batch.id);
  assert.equal(batch.processing_status, 'ended');
  const results = [];
  for await (const r of await sdk.messages.batches.results(batch.id)) results.push(r);
  assert.deepEqual(results.map((r) => r.custom_id).sort(), requests.map((r) => r.custom_id).sort());
  assert.ok(results.every((r) => r.result.type === 'succeeded' && ['ham', 'spam'].includes(r.result.message.content[0].text)));
  const listed = [];
  for await (const b of sdk.messages.batches.list()) listed.push(b.id);
  assert.deepEqual(listed, [batch.id]);
});

// --- engine.mjs ---------------------------------------------------------------------

test('engine: deterministic, shuffled, and answers like the live route', async () => {
  await setup();
  const { complete } = createAnswerer({ goldCsv });
  const bs = bodies(40);
  const input = jsonlOf(inputLines(bs));
  const a = answerBatch(input, { seed: 3, completion: complete });
  assert.equal(answerBatch(input, { seed: 3, completion: createAnswerer({ goldCsv }) }), a, 'same input and seed, same bytes');
  assert.notEqual(answerBatch(input, { seed: 4, completion: complete }), a, 'another seed, another order');
  assert.ok(a.endsWith('\n'));
  const lines = parseLines(a);
  const ids = bs.map((_, i) => customId(i));
  assert.notDeepEqual(lines.map((l) => l.custom_id), ids);
  assert.deepEqual(lines.map((l) => l.custom_id).sort(), [...ids].sort());
  const ordered = parseLines(answerBatch(input, { seed: 3, completion: complete, shuffle: false }));
  assert.deepEqual(ordered.map((l) => l.custom_id), ids);
  for (const l of lines) {
    const i = Number(l.custom_id.split('-')[2]);
    assert.equal(l.response.status_code, 200);
    assert.equal(l.response.body.created, ENGINE_CREATED);
    assert.equal(JSON.stringify(l.response.body.choices), JSON.stringify((await live(bs[i])).choices), l.custom_id);
  }
  // The streaming variant over the whole file is the same file; a small window
  // still gives every line once, in another order.
  assert.equal(jsonlOf([...answerBatchLines(input.split('\n'), { seed: 3, completion: complete, window: Infinity })]), a);
  const windowed = [...answerBatchLines(input.split('\n'), { seed: 3, completion: complete, window: 4 })];
  assert.deepEqual([...windowed].sort(), a.trimEnd().split('\n').sort());
  assert.notEqual(jsonlOf(windowed), a);
});

test('engine: error share in both kinds, duplicates, foreign lines', () => {
  const { complete } = createAnswerer({ goldCsv });
  const bs = bodies(200);
  const input = jsonlOf(inputLines(bs));
  const ids = bs.map((_, i) => customId(i));
  const out = parseLines(answerBatch(input, { seed: 1, errorRate: 0.2, duplicate: 5, foreign: 3, completion: complete }));
  assert.equal(out.length, 200 + 5 + 3);
  const failing = new Set(ids.filter((id) => shareOf(id) < 0.2));
  assert.ok(failing.size > 20 && failing.size < 60, `failing ${failing.size}`);
  const errorLines = out.filter((l) => l.error !== null || l.response.status_code !== 200);
  const http500 = errorLines.filter((l) => l.response?.status_code === 500);
  const expired = errorLines.filter((l) => l.response === null && l.error.code === 'batch_expired');
  assert.ok(http500.length > 0 && expired.length > 0, `500s ${http500.length}, expired ${expired.length}`);
  assert.equal(http500.length + expired.length, errorLines.length);
  assert.ok(expired.every((l) => typeof l.error.message === 'string'));
  assert.ok(http500.every((l) => l.error === null && l.response.body.error.type === 'server_error'));
  // Duplicates: the first five requests, each line written twice, byte for byte.
  const counts = new Map();
  for (const l of out) counts.set(l.custom_id, (counts.get(l.custom_id) ?? 0) + 1);
  assert.deepEqual([...counts].filter(([, c]) => c === 2).map(([id]) => id).sort(), ids.slice(0, 5).sort());
  assert.equal(new Set(errorLines.map((l) => l.custom_id)).size, failing.size);
  assert.deepEqual(new Set(errorLines.map((l) => l.custom_id)), failing);
  const raw = answerBatch(input, { seed: 1, duplicate: 1, shuffle: false, completion: complete }).split('\n');
  assert.equal(raw[0], raw[1]);
  // Foreign lines: another tool's ids, well-formed answers.
  const foreign = out.filter((l) => !l.custom_id.startsWith('fa-'));
  assert.deepEqual(foreign.map((l) => l.custom_id).sort(), ['other-tool-1', 'other-tool-2', 'other-tool-3']);
  assert.ok(foreign.every((l) => l.response.status_code === 200 && l.response.body.choices[0].message.content.length > 0));
  // The same ids fail as in the server's batches for the same rate.
  assert.deepEqual(new Set(ids.filter((id) => shareOf(id) < 0.2)), failing);
});

test('engine: streams lazily with a bounded window; bad input throws with its line', () => {
  const { complete } = createAnswerer({ goldCsv });
  const body = bodies(1)[0];
  let made = 0;
  function* input() {
    for (let i = 0; i < 1_000_000; i++) {
      made += 1;
      yield JSON.stringify({ custom_id: `fa-big-${i}-0`, method: 'POST', url: '/v1/chat/completions', body });
    }
  }
  const it = answerBatchLines(input(), { seed: 1, window: 100, completion: complete });
  const first = [];
  for (let k = 0; k < 10; k++) first.push(it.next().value);
  it.return();
  assert.ok(made <= 110, `read ${made} input lines for 10 output lines`);
  assert.ok(first.every((l) => JSON.parse(l).response.status_code === 200));

  const good = inputLines(bodies(2));
  assert.throws(() => answerBatch(`${good[0]}\nnot json\n`, { completion: complete }), (e) => e.code === 'invalid_json_line' && e.line === 2 && /^line 2: /.test(e.message));
  assert.throws(() => answerBatch(`${good[0]}\n${good[0]}\n`, { completion: complete }), (e) => e.code === 'duplicate_custom_id');
  assert.throws(() => answerBatch('\n', { completion: complete }), (e) => e.code === 'empty_file');
  assert.throws(() => answerBatch(good[0], {}), /completion is required/);
  assert.throws(() => answerBatch(good[0], { completion: complete, duplicate: -1 }), /duplicate/);
  assert.throws(() => answerBatch(good[0], { completion: complete, errorRate: 2 }), /errorRate/);
  // CRLF input and a missing final newline are fine.
  assert.equal(parseLines(answerBatch(`${good[0]}\r\n${good[1]}`, { completion: complete })).length, 2);
});

test('engine: splitJsonl cuts at line boundaries into N parts that join back', () => {
  const { complete } = createAnswerer({ goldCsv });
  const out = answerBatch(jsonlOf(inputLines(bodies(10))), { completion: complete, batchId: ENGINE_BATCH_ID });
  for (const n of [1, 2, 3, 7, 10, 13]) {
    const parts = splitJsonl(out, n);
    assert.equal(parts.length, n);
    assert.equal(parts.join(''), out);
    const sizes = parts.map((p) => (p === '' ? 0 : p.trimEnd().split('\n').length));
    assert.equal(sizes.reduce((a, b) => a + b, 0), 10);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `${n}: ${sizes}`);
    for (const p of parts) if (p !== '') assert.ok(p.endsWith('\n') && parseLines(p).length > 0);
  }
  assert.deepEqual(splitJsonl('a\nb', 2), ['a\n', 'b']);
  assert.deepEqual(splitJsonl('', 2), ['', '']);
  assert.throws(() => splitJsonl(out, 0), /parts/);
});

test('shuffleLines: a seeded permutation, windowed or whole', () => {
  const items = Array.from({ length: 1000 }, (_, i) => i);
  const whole = [...shuffleLines(items, 'x')];
  assert.deepEqual([...whole].sort((a, b) => a - b), items);
  assert.deepEqual([...shuffleLines(items, 'x')], whole);
  assert.notDeepEqual([...shuffleLines(items, 'y')], whole);
  const windowed = [...shuffleLines(items, 'x', 10)];
  assert.deepEqual([...windowed].sort((a, b) => a - b), items);
  // Within a window of 10 an item leaves at most ~10 places early.
  assert.ok(windowed.every((v, i) => v <= i + 10));
  assert.throws(() => [...shuffleLines(items, 'x', 0)], /window/);
});
