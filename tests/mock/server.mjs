#!/usr/bin/env node
// Mock OpenAI-compatible LLM endpoint for Fannotate's end-to-end tests.
// Test tool only: never shipped with the app. Dependency-free (node: built-ins only).
//
// It "classifies" a prompt by finding which row of a gold CSV the prompt is about
// and answering with that row's label, deterministically perturbed by configurable
// wrong/invalid rates. Faults (429, 500, 503, 400, hangs, malformed JSON, missing
// CORS, 401), optionally scheduled to a window of requests, can be injected through
// an unauthenticated admin API under /__admin/.
//
// Output constraints (guided_choice, GBNF grammar, json_schema/json_object
// response_format) and logprobs can each be switched off (`capabilities`), so the
// mock also plays servers that silently ignore them; unconstrained answers can be
// worded in several styles (`answer_style`, `model_styles`) like chatty models.
//
// With a key and certificate it serves HTTPS with HTTP/2 (and HTTP/1.1 through
// ALPN) on the same port; see tls.mjs for a throwaway self-signed certificate.
//
// CLI:
//   node tests/mock/server.mjs --port 0 --host 127.0.0.1 --gold FILE.csv
//     [--text-col text] [--label-col label] [--api-key KEY] [--latency-ms 20]
//     [--wrong-rate 0.1] [--invalid-rate 0.05] [--seed 1]
//     [--tls-key KEY.pem --tls-cert CERT.pem]
// Prints `mock listening on http://HOST:PORT` (https:// with TLS) once ready.
//
// Admin API (JSON): GET/POST /__admin/config (POST merges a partial config; see
// applyConfig for the keys), GET /__admin/log, GET /__admin/stats (counts only, cheap
// to poll during a benchmark), POST /__admin/reset ({"config": true} also restores
// the start-up config; files and batches are always forgotten).
//
// Batch APIs. Every answer, live or batched, comes from one answerer
// (createAnswerer), so a batch answer's `choices` and `usage` equal byte for byte
// the live answer to the same body; only `id` and `created` differ. Nothing is
// timed: a batch moves one state on each GET of it (never on a list), so tests
// poll without sleeping. A batch runs under the config it was created with.
// Faults and latency apply to the chat route only.
//   OpenAI Files (auth as for chat: Bearer or api-key):
//     POST /v1/files            multipart/form-data, purpose=batch and file → File object
//     GET /v1/files[?purpose=]  list; GET /v1/files/{id}; GET /v1/files/{id}/content (bytes);
//     DELETE /v1/files/{id}
//   OpenAI Batch API (endpoint /v1/chat/completions, completion_window 24h only):
//     POST /v1/batches {input_file_id, endpoint, completion_window, metadata?} → Batch
//     GET /v1/batches/{id}        advances validating → in_progress → finalizing → completed;
//       validating → failed when the input is not valid (errors.data [{code, line, message,
//       param}]: invalid_json_line, missing_required_parameter, url_mismatch,
//       duplicate_custom_id, model_mismatch, empty_file…)
//     GET /v1/batches[?limit=&after=]  list, newest first ({object, data, first_id, last_id, has_more})
//     POST /v1/batches/{id}/cancel     → cancelling; the next GET → cancelled
//     At completion the output file holds the answered requests
//     ({"id":"batch_req_…","custom_id","response":{"status_code":200,"request_id","body"},"error":null})
//     and the error file the failed ones (status 500 in `response`; or, for a batch stopped
//     early, `response` null and `error.code` batch_expired / batch_cancelled), each in a
//     shuffled order seeded by `${seed}:${batch id}`. A batch stopped early (cancelled in
//     progress, expired) has run the requests whose FNV-1a share of "ran:"+custom_id is below
//     STOPPED_RAN_SHARE (0.5).
//   Anthropic Message Batches (x-api-key or Bearer; anthropic-version required):
//     POST /v1/messages/batches {requests: [{custom_id, params}]} → message_batch, in_progress
//     GET /v1/messages/batches/{id}          advances in_progress (or canceling) → ended
//     GET /v1/messages/batches/{id}/results  JSONL {"custom_id","result":{"type":"succeeded",
//       "message"}|{"type":"errored","error"}|{"type":"canceled"}|{"type":"expired"}}, shuffled
//     POST …/{id}/cancel → canceling; GET /v1/messages/batches[?limit=&after_id=]; DELETE …/{id}
//     The message text is the answer to chatBodyFromAnthropic(params) (system + messages).
//   Admin knobs for batches (also startMock options batchErrorRate, batchOutcome):
//     batch_error_rate  0–1, default 0: requests whose fnv1a(custom_id) share is below it
//                       fail (OpenAI: a 500 line in the error file; Anthropic: errored)
//     batch_outcome     "completed" (default) | "failed" (OpenAI: fails at validation;
//                       Anthropic, which has no failed batch: every request errored) |
//                       "expired" (in_progress → expired / ended with requests expired)
// engine.mjs answers batch input files the same way without a server.

import http from 'node:http';
import http2 from 'node:http2';
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';

/** Answer given when the mock decides to be "invalid" (outside the label set). */
export const INVALID_ANSWER = 'I am not sure';
/** Prompts may cut long texts; only this many leading characters identify a row. */
const KEY_CHARS = 120;
/** Length of the bucket prefix used to find candidate rows quickly. */
const BUCKET_CHARS = 40;
/** A hanging request is ended after this long at most, so the process can exit. */
const HANG_MAX_MS = 10 * 60 * 1000;
/** Request bodies above this size are rejected (413). */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** Batch uploads may be larger: Anthropic allows 256 MB per batch (OpenAI 200 MB per file). */
const MAX_UPLOAD_BYTES = 256 * 1024 * 1024;
/** What a browser may send to the batch routes: OpenAI's auth, and Anthropic's key, version and opt-in headers. */
const BATCH_CORS_HEADERS =
  'Content-Type, Authorization, api-key, x-api-key, anthropic-version, anthropic-beta, anthropic-dangerous-direct-browser-access';
/** Oldest log entries are dropped beyond this many (memory bound for long runs). */
const MAX_LOG = 100_000;
const FAULT_TYPES = new Set(['429', '500', '503', '400', 'hang', 'malformed', 'nocors', '401']);
const FAULT_KEYS = new Set(['type', 'rate', 'count', 'models', 'retry_after', 'after', 'until']);
/**
 * What an unconstrained request gets when its prompt matches no gold row: a real
 * model's small talk, deliberately none of the labels, so that a capability probe
 * ("Reply with one of: …") can tell an ignored constraint from an honoured one.
 */
export const FREE_ANSWER = 'Hello! How can I help you today?';
/** Constraint mechanisms and logprobs the mock honours unless switched off. */
const CAPABILITIES = ['guided_choice', 'json_schema', 'grammar', 'logprobs'];
/**
 * How unconstrained answers are worded, as different models do. Constrained
 * answers are always the exact label (that is what a constraint is for).
 */
export const ANSWER_STYLES = {
  plain: (label) => label,
  explain: (label) => `${label}. The message has the typical signs of this category.`,
  json: (label) => `{"label": ${JSON.stringify(label)}}`,
  emoji: (label) => `✅ ${label}`,
};

// ---------------------------------------------------------------------------
// CSV (RFC 4180)

/**
 * Parse RFC 4180 CSV text into an array of records (arrays of strings).
 * Quoted fields may contain delimiters, doubled quotes and newlines; CRLF and LF
 * line ends are both accepted. A leading UTF-8 BOM is ignored.
 */
export function parseCsv(text, delimiter = ',') {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const records = [];
  let record = [];
  let field = '';
  let inQuotes = false;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        inQuotes = false;
        i += 1;
        continue;
      }
      // Copy the run up to the next quote in one go (much faster than char by char).
      const next = text.indexOf('"', i);
      const end = next === -1 ? n : next;
      field += text.slice(i, end);
      i = end;
      continue;
    }
    if (c === '"' && field === '') {
      inQuotes = true;
      i += 1;
    } else if (c === delimiter) {
      record.push(field);
      field = '';
      i += 1;
    } else if (c === '\n' || c === '\r') {
      record.push(field);
      field = '';
      records.push(record);
      record = [];
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
    } else {
      field += c;
      i += 1;
    }
  }
  // Last record without a trailing newline.
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  // Drop blank lines (a record with a single empty field).
  return records.filter((r) => !(r.length === 1 && r[0] === ''));
}

// ---------------------------------------------------------------------------
// Gold index

/** Line ends are normalised so CRLF files and LF prompts still match. */
const normalise = (s) => s.replace(/\r\n?/g, '\n');

/** Base of the rolling hash over BUCKET_CHARS-long windows (odd, so no bits are lost mod 2^32). */
const ROLL_BASE = 0x01000193;
/** ROLL_BASE ** (BUCKET_CHARS - 1) mod 2^32: the weight of the character leaving a window. */
const ROLL_OUT = (() => {
  let p = 1;
  for (let i = 1; i < BUCKET_CHARS; i++) p = Math.imul(p, ROLL_BASE);
  return p;
})();
/** Bits of the window hash the bucket bitmap is indexed by (a 512 KiB bitmap). */
const ROLL_BITS = 22;

/** Rolling hash (mod 2^32) of the BUCKET_CHARS UTF-16 units of `s` from `pos`. */
function windowHash(s, pos) {
  let h = 0;
  for (let k = 0; k < BUCKET_CHARS; k++) h = (Math.imul(h, ROLL_BASE) + s.charCodeAt(pos + k)) | 0;
  return h >>> 0;
}

/** Length of the common prefix of `hay` starting at `pos` and `needle`. */
function matchLength(hay, pos, needle) {
  const max = Math.min(needle.length, hay.length - pos);
  let k = 0;
  while (k < max && hay.charCodeAt(pos + k) === needle.charCodeAt(k)) k++;
  return k;
}

/**
 * Load gold rows from CSV text and build an index for finding which row a
 * prompt is about.
 */
export function buildGold(csvText, { textCol = 'text', labelCol = 'label' } = {}) {
  const records = parseCsv(csvText);
  if (records.length === 0) throw new Error('gold file is empty');
  const header = records[0].map((h) => h.trim());
  const ti = header.indexOf(textCol);
  const li = header.indexOf(labelCol);
  if (ti < 0) throw new Error(`gold file has no column "${textCol}" (columns: ${header.join(', ')})`);
  if (li < 0) throw new Error(`gold file has no column "${labelCol}" (columns: ${header.join(', ')})`);

  const rows = [];
  for (const rec of records.slice(1)) {
    const text = normalise(rec[ti] ?? '').trim();
    const label = (rec[li] ?? '').trim();
    if (!text) continue;
    const key = text.slice(0, KEY_CHARS).trim();
    rows.push({ text, label, key });
  }
  const labels = [...new Set(rows.map((r) => r.label).filter((l) => l !== ''))].sort();
  // Position among the gold rows, so logs can say which row a request was about.
  rows.forEach((r, i) => {
    r.n = i;
  });

  // Rows are bucketed by the first BUCKET_CHARS characters of their key: a prompt
  // is then scanned once, looking up the substring at each position. Keys shorter
  // than that are few and are checked with a plain `includes`.
  const buckets = new Map();
  const short = [];
  rows.forEach((row, idx) => {
    if (row.key.length < BUCKET_CHARS) {
      short.push(idx);
      return;
    }
    const b = row.key.slice(0, BUCKET_CHARS);
    if (!buckets.has(b)) buckets.set(b, []);
    buckets.get(b).push(idx);
  });
  // A bitmap of the buckets' window hashes: find() rolls the hash along the
  // prompt and looks a window up in `buckets` only where its bit is set. Same
  // matches (the lookup still decides), but a prompt costs a few microseconds
  // instead of a substring and a Map lookup per character, which a million-line
  // batch notices.
  const bucketBits = new Uint32Array(1 << (ROLL_BITS - 5));
  for (const b of buckets.keys()) {
    const bit = windowHash(b, 0) >>> (32 - ROLL_BITS);
    bucketBits[bit >>> 5] |= 1 << (bit & 31);
  }

  /**
   * The gold row the prompt is about, or null.
   * A row matches fully when its whole key (first 120 characters) occurs in the
   * prompt. Among full matches the one whose text matches for the most characters
   * wins (so a text that is a prefix of a longer one loses to it); ties go to the
   * later occurrence. Without a full match, the longest partial match of at least
   * BUCKET_CHARS characters is used (the app may cut texts shorter than 120).
   * Short rows (< 40 characters) are only considered when nothing longer matched,
   * as they are the most likely to occur by accident.
   */
  function find(prompt) {
    prompt = normalise(prompt);
    let best = null; // { idx, len, full, pos }
    const consider = (idx, pos, len, full) => {
      if (
        !best ||
        (full && !best.full) ||
        (full === best.full && (len > best.len || (len === best.len && pos >= best.pos)))
      ) {
        best = { idx, len, full, pos };
      }
    };
    const last = prompt.length - BUCKET_CHARS;
    let h = last >= 0 ? windowHash(prompt, 0) : 0;
    for (let pos = 0; pos <= last; pos++) {
      if (pos > 0) {
        // Roll the window one character on: drop prompt[pos - 1], add prompt[pos + BUCKET_CHARS - 1].
        const out = Math.imul(prompt.charCodeAt(pos - 1), ROLL_OUT);
        h = (Math.imul(h - out, ROLL_BASE) + prompt.charCodeAt(pos + BUCKET_CHARS - 1)) >>> 0;
      }
      const bit = h >>> (32 - ROLL_BITS);
      if ((bucketBits[bit >>> 5] & (1 << (bit & 31))) === 0) continue;
      const cands = buckets.get(prompt.substr(pos, BUCKET_CHARS));
      if (!cands) continue;
      for (const idx of cands) {
        const row = rows[idx];
        const len = matchLength(prompt, pos, row.text);
        consider(idx, pos, len, len >= row.key.length);
      }
    }
    if (best) return rows[best.idx];
    for (const idx of short) {
      const pos = prompt.lastIndexOf(rows[idx].key);
      if (pos >= 0) consider(idx, pos, rows[idx].key.length, true);
    }
    return best ? rows[best.idx] : null;
  }

  return { rows, labels, find };
}

// ---------------------------------------------------------------------------
// Deterministic answers

/** FNV-1a 32-bit over the UTF-8 bytes of `str`. */
export function fnv1a(str) {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(str, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A non-empty list of strings, or null (the allowed values are then unknown). */
const stringList = (v) => (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string') ? [...v] : null);

/** Decode the body of a GBNF double-quoted literal (JSON-like backslash escapes). */
function gbnfUnescape(body) {
  const simple = { n: '\n', r: '\r', t: '\t' };
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[\s\S])/g, (_, e) => {
    if (e.length > 1) return String.fromCodePoint(Number.parseInt(e.slice(1), 16));
    return simple[e] ?? e; // \" \\ \[ \] … stand for the character itself
  });
}

/**
 * The alternatives of a grammar `root ::= "x" | "y" …` (the shape the app sends),
 * or null when the grammar is anything else: the mock cannot know what it allows.
 */
export function grammarChoices(grammar) {
  const m = /^\s*root\s*::=\s*([\s\S]*?)\s*$/.exec(grammar);
  if (!m) return null;
  const lit = /^"((?:[^"\\]|\\[\s\S])*)"\s*/;
  let rest = m[1];
  const out = [];
  for (;;) {
    const l = lit.exec(rest);
    if (!l) return null;
    out.push(gbnfUnescape(l[1]));
    rest = rest.slice(l[0].length);
    if (rest === '') return out;
    if (rest[0] !== '|') return null;
    rest = rest.slice(1).trimStart();
  }
}

/**
 * The output constraint a request carries, counting only the mechanisms the mock
 * honours: a switched-off one is ignored, as by a server that does not know it.
 * `choices` are the allowed answers (from guided_choice, else the json_schema's
 * `properties.label.enum`, else the grammar's alternatives), or null when the
 * constraint is honoured but its values are unknown (json_object, an unparsed
 * grammar): then the gold labels are what it allows.
 * @returns {{constrained: boolean, json: boolean, choices: string[]|null}}
 */
export function constraintOf(body, caps) {
  const rf = body.response_format;
  const json = Boolean(caps.json_schema && rf != null && (rf.type === 'json_schema' || rf.type === 'json_object'));
  const choice = Boolean(caps.guided_choice && body.guided_choice != null);
  const grammar = Boolean(caps.grammar && body.grammar != null && body.grammar !== '');
  let choices = null;
  if (choice) choices = stringList(body.guided_choice);
  if (!choices && json && rf.type === 'json_schema') choices = stringList(rf.json_schema?.schema?.properties?.label?.enum);
  if (!choices && grammar && typeof body.grammar === 'string') choices = grammarChoices(body.grammar);
  return { constrained: choice || json || grammar, json, choices };
}

/** Join message contents; content may be a string or OpenAI content parts. */
function promptOf(messages) {
  if (!Array.isArray(messages)) return '';
  return messages
    .map((m) => {
      const c = m?.content;
      if (typeof c === 'string') return c;
      if (Array.isArray(c)) return c.map((p) => (typeof p === 'string' ? p : p?.text ?? '')).join('');
      return '';
    })
    .join('\n');
}

/** Number of Unicode code points (token estimates use characters, not UTF-16 units). */
const charCount = (s) => [...s].length;

// ---------------------------------------------------------------------------
// Config

function defaultConfig(opts) {
  return {
    latency_ms: num(opts.latencyMs, 20),
    wrong_rate: num(opts.wrongRate, 0),
    invalid_rate: num(opts.invalidRate, 0),
    model_accuracy: { ...(opts.modelAccuracy ?? {}) },
    models: opts.models ? [...opts.models] : ['mock-model', 'mock-model-b'],
    faults: [],
    api_key: opts.apiKey ?? null,
    seed: opts.seed ?? 1,
    capabilities: mergeCapabilities(Object.fromEntries(CAPABILITIES.map((c) => [c, true])), opts.capabilities ?? {}),
    answer_style: checkStyle(opts.answerStyle ?? 'plain'),
    model_styles: checkModelStyles(opts.modelStyles ?? {}),
    batch_error_rate: checkRate('batch_error_rate', num(opts.batchErrorRate, 0)),
    batch_outcome: checkOutcome(opts.batchOutcome ?? 'completed'),
  };
}

function checkRate(name, v) {
  if (!(v >= 0 && v <= 1)) throw new Error(`${name} must be between 0 and 1`);
  return v;
}

function checkOutcome(v) {
  if (!BATCH_OUTCOMES.includes(v)) throw new Error(`unknown batch_outcome: ${v} (known: ${BATCH_OUTCOMES.join(', ')})`);
  return v;
}

/** `base` with the flags of the partial `patch` applied (unknown names and non-booleans throw). */
function mergeCapabilities(base, patch) {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) throw new Error('capabilities must be an object');
  const out = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (!CAPABILITIES.includes(k)) throw new Error(`unknown capability: ${k} (known: ${CAPABILITIES.join(', ')})`);
    if (typeof v !== 'boolean') throw new Error(`capability ${k} must be true or false`);
    out[k] = v;
  }
  return out;
}

function checkStyle(style) {
  if (!Object.hasOwn(ANSWER_STYLES, style)) {
    throw new Error(`unknown answer style: ${style} (known: ${Object.keys(ANSWER_STYLES).join(', ')})`);
  }
  return style;
}

function checkModelStyles(styles) {
  if (styles === null || typeof styles !== 'object' || Array.isArray(styles)) throw new Error('model_styles must be an object');
  for (const style of Object.values(styles)) checkStyle(style);
  return { ...styles };
}

function num(v, dflt) {
  if (v === undefined || v === null || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`not a number: ${v}`);
  return n;
}

// ---------------------------------------------------------------------------
// Answers: one completion body per request body, for the live route and batches

/**
 * The answer (a bare label, INVALID_ANSWER or FREE_ANSWER, not yet styled) for
 * choice `index`. `constraint` comes from constraintOf: an honoured constraint
 * keeps the answer among its choices (the first one when the gold answer is not
 * one of them, or when the prompt matches no row, e.g. a capability probe).
 */
function answerFor(gold, config, body, model, index, constraint, row) {
  const labels = gold.labels;
  const allowed = constraint.choices ?? labels;
  if (!row) return constraint.constrained ? allowed[0] ?? '' : FREE_ANSWER;
  const acc = config.model_accuracy?.[model];
  const wrongRate = acc != null ? 1 - Number(acc) : config.wrong_rate;
  const temp = body.temperature === undefined ? '' : String(body.temperature);
  // Index 0 hashes exactly like a single-choice request, so n=1 and the first of
  // n choices agree.
  // Above temperature 0 a request's own seed varies the answer, as sampling
  // would (the app sends a different seed per replication).
  const sampled = Number(body.temperature) > 0 && Number.isInteger(body.seed) ? `s${body.seed}` : '';
  const h = fnv1a(`${config.seed}${row.text}${model}${temp}${sampled}${index > 0 ? `#${index}` : ''}`);
  const u = (h % 10000) / 10000;
  let answer = row.label;
  if (u < wrongRate) {
    const i = labels.indexOf(row.label);
    answer = labels[(i + 1) % labels.length];
  } else if (u < wrongRate + config.invalid_rate && !constraint.constrained) {
    answer = INVALID_ANSWER;
  }
  if (constraint.constrained && !allowed.includes(answer)) answer = allowed[0] ?? answer;
  return answer;
}

/**
 * Deterministic logprobs: the whole content as one token at -0.05, with the
 * other allowed labels as lower-ranked alternatives (in the same output format).
 */
function logprobsFor(content, answer, labels, render, topN) {
  const alts = [answer, ...labels.filter((l) => l !== answer)];
  const limit = Number.isInteger(topN) && topN >= 0 ? topN : alts.length;
  const top = alts.slice(0, limit).map((l, i) => ({
    token: render(l),
    logprob: i === 0 ? -0.05 : -3 - i,
  }));
  return { content: [{ token: content, logprob: -0.05, top_logprobs: top }] };
}

/**
 * What answers chat requests: the gold index and the answer rules, without any
 * HTTP. The live route and both batch APIs of startMock, and engine.mjs, all
 * answer through one of these, so a batch answer equals the live answer to the
 * same body (choices and usage; only `id` and `created` differ).
 *
 * Takes startMock's answer options (goldCsv or gold, textCol, labelCol, seed,
 * wrongRate, invalidRate, modelAccuracy, models, capabilities, answerStyle,
 * modelStyles); the others are accepted and ignored.
 * @param {object} options
 * @param {string} [options.goldCsv] gold CSV text
 * @param {string} [options.gold]    path of the gold CSV (read synchronously)
 * @returns {{
 *   gold: ReturnType<typeof buildGold>,
 *   config: object,
 *   modelOf: (body: object, config?: object) => string,
 *   find: (body: object) => object|null,
 *   complete: (body: object, opts?: {row?: object|null, id?: string, created?: number, config?: object}) => object,
 * }}
 *   `config` is the full mock config the options give (the shape /__admin/config
 *   shows); `complete` uses it unless given another (startMock passes its live one).
 */
export function createAnswerer(options = {}) {
  let csvText = options.goldCsv;
  if (csvText == null) {
    if (!options.gold) throw new Error('--gold FILE.csv is required');
    csvText = fs.readFileSync(options.gold, 'utf8');
  }
  const gold = buildGold(csvText, { textCol: options.textCol, labelCol: options.labelCol });
  let completions = 0; // numbers default completion ids; never reset
  const answerer = {
    gold,
    config: defaultConfig(options),
    /** The model a body asks for (the first listed model when it names none). */
    modelOf(body, config = answerer.config) {
      return typeof body.model === 'string' ? body.model : config.models[0] ?? 'mock-model';
    },
    /** The gold row the body's prompt is about, or null (the costly part of an answer). */
    find(body) {
      return gold.find(promptOf(body.messages));
    },
    /**
     * The chat completion for a request body (a JSON object). `row` saves the
     * lookup when the caller has done it; `id` and `created` default to a
     * counter and the current time.
     */
    complete(body, { row, id, created, config = answerer.config } = {}) {
      if (row === undefined) row = answerer.find(body);
      const model = answerer.modelOf(body, config);
      const n = Math.max(1, Math.min(128, Number.parseInt(body.n, 10) || 1));
      const constraint = constraintOf(body, config.capabilities);
      const style = ANSWER_STYLES[config.model_styles[model] ?? config.answer_style];
      // Constrained answers are exact (a JSON object for json formats); free ones are
      // worded in the model's style, except answers that are not labels at all.
      const render = (answer) => {
        if (constraint.json) return JSON.stringify({ label: answer });
        if (constraint.constrained || answer === INVALID_ANSWER || answer === FREE_ANSWER) return answer;
        return style(answer);
      };
      const choices = [];
      for (let i = 0; i < n; i++) {
        const answer = answerFor(gold, config, body, model, i, constraint, row);
        const content = render(answer);
        const choice = { index: i, message: { role: 'assistant', content }, finish_reason: 'stop' };
        if (body.logprobs === true && config.capabilities.logprobs) {
          choice.logprobs = logprobsFor(content, answer, constraint.choices ?? gold.labels, render, body.top_logprobs);
        }
        choices.push(choice);
      }
      const promptTokens = Math.ceil(charCount(promptOf(body.messages)) / 4);
      const completionTokens = choices.reduce(
        (s, c) => s + Math.max(1, Math.ceil(charCount(c.message.content) / 4)),
        0,
      );
      return {
        id: id ?? `chatcmpl-mock-${++completions}`,
        object: 'chat.completion',
        created: created ?? Math.floor(Date.now() / 1000),
        model,
        choices,
        usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
      };
    },
  };
  return answerer;
}

// ---------------------------------------------------------------------------
// Batches: protocol pieces shared by startMock's batch routes and engine.mjs

/** The one endpoint the mock's batches run: the app batches chat completions only. */
export const BATCH_ENDPOINT = '/v1/chat/completions';
/** Azure OpenAI's name for the same endpoint (its batch lines and batches say it so). */
export const AZURE_BATCH_ENDPOINT = '/chat/completions';
/** Outcomes the `batch_outcome` knob can force on a batch. */
export const BATCH_OUTCOMES = ['completed', 'failed', 'expired'];
/** Share of its requests a batch stopped early (cancelled, expired) has run. */
export const STOPPED_RAN_SHARE = 0.5;
/** Anthropic's rule for a custom_id (OpenAI's is looser; the app keeps to this). */
const ANTHROPIC_CUSTOM_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Most requests one batch may hold (OpenAI's and Anthropic's limit alike). */
const MAX_BATCH_REQUESTS = 100_000;
/** Validation errors reported per batch at most, so a broken file gives a readable answer. */
const MAX_BATCH_ERRORS = 1000;

/**
 * Where a string falls in [0, 1), by FNV-1a: which requests a rate picks. It
 * depends on nothing but the string, so the server's batches and engine.mjs
 * pick the same custom_ids for the same rate.
 */
export const shareOf = (s) => (fnv1a(s) % 10000) / 10000;

/** 16 hex digits derived from `s`, for ids that stay the same run after run. */
const hexId = (s) => fnv1a(s).toString(16).padStart(8, '0') + fnv1a(`${s}#`).toString(16).padStart(8, '0');

/** One entry of a failed batch's `errors.data`. */
const batchError = (code, message, line = null, param = null) => ({ code, line, message, param });

/**
 * Checks an OpenAI batch input file line by line, as the Batch API's
 * validating step does: every non-blank line a JSON object with a custom_id,
 * `method: "POST"`, the batch's `url` and an object `body`; custom_ids unique;
 * one model throughout. Lines are counted from 1, blank ones included.
 * @param {string} [endpoint] the batch's endpoint
 * @returns {{line: (text: string) => {request?: {custom_id: string, body: object, line: number}, error?: object}|null,
 *            end: () => object|null}}
 *   `line` checks the next physical line (null for a blank one); `end` gives the
 *   error of a file without requests, else null.
 */
export function batchInputChecker(endpoint = BATCH_ENDPOINT) {
  const ids = new Set();
  let model;
  let lineNo = 0;
  return {
    line(text) {
      lineNo += 1;
      const line = lineNo;
      if (text.endsWith('\r')) text = text.slice(0, -1);
      if (text.trim() === '') return null;
      let v;
      try {
        v = JSON.parse(text);
      } catch {
        return { error: batchError('invalid_json_line', 'This line is not parseable as valid JSON.', line) };
      }
      if (v === null || typeof v !== 'object' || Array.isArray(v)) {
        return { error: batchError('invalid_json_line', 'This line is not a JSON object.', line) };
      }
      for (const k of ['custom_id', 'method', 'url', 'body']) {
        if (v[k] == null) return { error: batchError('missing_required_parameter', `Missing required parameter: '${k}'.`, line, k) };
      }
      if (typeof v.custom_id !== 'string' || v.custom_id === '') {
        return { error: batchError('invalid_custom_id', 'custom_id must be a non-empty string.', line, 'custom_id') };
      }
      if (v.method !== 'POST') return { error: batchError('invalid_method', `Unsupported method '${v.method}': only POST.`, line, 'method') };
      if (v.url !== endpoint) {
        return { error: batchError('url_mismatch', `The url '${v.url}' does not match the batch's endpoint '${endpoint}'.`, line, 'url') };
      }
      if (typeof v.body !== 'object' || Array.isArray(v.body)) {
        return { error: batchError('invalid_request', 'body must be a JSON object.', line, 'body') };
      }
      if (ids.has(v.custom_id)) {
        return { error: batchError('duplicate_custom_id', `The custom_id '${v.custom_id}' is used more than once.`, line, 'custom_id') };
      }
      ids.add(v.custom_id);
      if (ids.size > MAX_BATCH_REQUESTS) {
        return { error: batchError('too_many_tasks', `A batch holds at most ${MAX_BATCH_REQUESTS} requests.`, line) };
      }
      const m = typeof v.body.model === 'string' ? v.body.model : undefined;
      if (model === undefined) model = m;
      else if (m !== model) {
        return { error: batchError('model_mismatch', `The model '${m}' differs from the batch's model '${model}'.`, line, 'body.model') };
      }
      return { request: { custom_id: v.custom_id, body: v.body, line } };
    },
    end() {
      return ids.size === 0 ? batchError('empty_file', 'The input file holds no requests.') : null;
    },
  };
}

/**
 * Every request of an OpenAI batch input file, or the reasons it fails
 * validation (then the batch fails as a whole, as on OpenAI).
 * @returns {{requests: {custom_id: string, body: object, line: number}[], errors: object[]}}
 */
export function checkBatchInput(text, endpoint = BATCH_ENDPOINT) {
  const checker = batchInputChecker(endpoint);
  const requests = [];
  const errors = [];
  for (const line of text.split('\n')) {
    const r = checker.line(line);
    if (r?.error && errors.length < MAX_BATCH_ERRORS) errors.push(r.error);
    else if (r?.request) requests.push(r.request);
  }
  const empty = checker.end();
  if (empty && errors.length === 0) errors.push(empty);
  return { requests: errors.length ? [] : requests, errors };
}

/**
 * The chat completion a batch gives one request: the answerer's, with an id
 * that depends only on the batch and the custom_id.
 */
export function batchCompletion(answerer, batchId, request, { created, config } = {}) {
  return answerer.complete(request.body, { id: `chatcmpl-mockb${hexId(`${batchId}/${request.custom_id}`)}`, created, config });
}

/** An output-file line for an answered request (status 200), without its newline. */
export function batchOutputLine(batchId, customId, completion) {
  const key = `${batchId}/${customId}`;
  return JSON.stringify({
    id: `batch_req_${hexId(`line:${key}`)}`,
    custom_id: customId,
    response: { status_code: 200, request_id: `req_${hexId(`req:${key}`)}`, body: completion },
    error: null,
  });
}

/** What each kind of batch error line says. */
const BATCH_ERROR_MESSAGES = {
  batch_expired: 'This request could not be executed before the completion window expired.',
  batch_cancelled: 'This request was not executed because the batch was cancelled.',
};

/**
 * An error-file line, without its newline. `kind` '500' is a request the
 * engine ran and the model server failed (a response with status 500);
 * 'batch_expired' and 'batch_cancelled' are requests never run (no response,
 * an `error` instead), as OpenAI writes them.
 * @param {'500'|'batch_expired'|'batch_cancelled'} kind
 */
export function batchErrorLine(batchId, customId, kind) {
  const key = `${batchId}/${customId}`;
  const id = `batch_req_${hexId(`line:${key}`)}`;
  if (kind === '500') {
    return JSON.stringify({
      id,
      custom_id: customId,
      response: {
        status_code: 500,
        request_id: `req_${hexId(`req:${key}`)}`,
        body: { error: { message: 'Internal server error (mock batch error)', type: 'server_error', param: null, code: null } },
      },
      error: null,
    });
  }
  const message = BATCH_ERROR_MESSAGES[kind];
  if (!message) throw new Error(`unknown batch error kind: ${kind}`);
  return JSON.stringify({ id, custom_id: customId, response: null, error: { code: kind, message } });
}

/**
 * The result lines of a batch's requests, in input order (shuffle them after).
 * `fate(request)` says what becomes of each: 'ok' (answered), or an error kind
 * of batchErrorLine.
 * @returns {Generator<{ok: boolean, line: string}>}
 */
export function* batchResultLines(requests, { answerer, batchId, created, config, fate }) {
  for (const request of requests) {
    const kind = fate(request);
    if (kind === 'ok') {
      const completion = batchCompletion(answerer, batchId, request, { created, config });
      yield { ok: true, line: batchOutputLine(batchId, request.custom_id, completion) };
    } else {
      yield { ok: false, line: batchErrorLine(batchId, request.custom_id, kind) };
    }
  }
}

/** Mulberry32: a small seeded PRNG giving floats in [0, 1). */
function mulberry32(a) {
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `items` in a seeded random order. A batch engine writes its results in no
 * particular order; shuffling makes the app cope with that every time, yet the
 * same seed gives the same file. With `window` finite only that many items are
 * held at once (each leaves at a random time within it), so a million-line
 * file can stream; with `window` at least the item count the order is a
 * uniform random permutation.
 * @template T
 * @param {Iterable<T>} items
 * @param {string|number} seed
 * @param {number} [window=Infinity]
 * @returns {Generator<T>}
 */
export function* shuffleLines(items, seed, window = Infinity) {
  if (!(window >= 1)) throw new Error('window must be at least 1');
  const rand = mulberry32(fnv1a(`shuffle:${seed}`));
  const buf = [];
  for (const item of items) {
    if (buf.length < window) {
      buf.push(item);
      continue;
    }
    const j = Math.floor(rand() * buf.length);
    yield buf[j];
    buf[j] = item;
  }
  while (buf.length > 0) {
    const j = Math.floor(rand() * buf.length);
    yield buf[j];
    buf[j] = buf[buf.length - 1];
    buf.pop();
  }
}

/**
 * The chat request body an Anthropic Messages request amounts to: `system`
 * (a string or text blocks) as the first message, then the messages, model and
 * temperature. It reaches the same gold row and answer rules as the live
 * request the app would have sent (Anthropic has no constraints or seeds).
 */
export function chatBodyFromAnthropic(params) {
  const messages = [];
  if (params.system != null && params.system !== '') messages.push({ role: 'system', content: params.system });
  for (const m of Array.isArray(params.messages) ? params.messages : []) messages.push({ role: m?.role, content: m?.content });
  const body = { model: params.model, messages };
  if (params.temperature !== undefined) body.temperature = params.temperature;
  return body;
}

/** Why Anthropic params cannot run, or null (the API checks each request on its own). */
function anthropicParamsProblem(params) {
  if (typeof params.model !== 'string' || params.model === '') return 'model: Field required';
  if (!Number.isInteger(params.max_tokens) || params.max_tokens < 1) return 'max_tokens: Field required (a positive integer)';
  if (!Array.isArray(params.messages) || params.messages.length === 0) return 'messages: at least one message is required';
  return null;
}

/**
 * The `result` of one Anthropic batch request: a message with the answerer's
 * text, or an errored result, by `fate` ('ok', 'error', or 'canceled' and
 * 'expired' for requests never run).
 */
export function anthropicResult(answerer, batchId, request, fate, config) {
  if (fate === 'canceled' || fate === 'expired') return { type: fate };
  const problem = anthropicParamsProblem(request.params);
  const errored = (type, message) => ({ type: 'errored', error: { type: 'error', error: { type, message } } });
  if (problem) return errored('invalid_request_error', problem);
  if (fate === 'error') return errored('api_error', 'Internal server error (mock batch error)');
  // Only the text and token counts are kept: the id and time given are never seen.
  const completion = answerer.complete(chatBodyFromAnthropic(request.params), { id: '', created: 0, config });
  return {
    type: 'succeeded',
    message: {
      id: `msg_mock${hexId(`${batchId}/${request.custom_id}`)}`,
      type: 'message',
      role: 'assistant',
      model: request.params.model,
      content: [{ type: 'text', text: completion.choices[0].message.content }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: completion.usage.prompt_tokens, output_tokens: completion.usage.completion_tokens },
    },
  };
}

/** Lines of a JSONL file joined, with a newline after each (empty for none). */
const jsonl = (lines) => {
  let out = '';
  for (const l of lines) out += `${l}\n`;
  return out;
};

// ---------------------------------------------------------------------------
// Server

/**
 * Start the mock server.
 * @param {object} options
 * @param {string} [options.gold]      path of the gold CSV
 * @param {string} [options.goldCsv]   gold CSV text (instead of a path)
 * @param {string} [options.textCol='text']
 * @param {string} [options.labelCol='label']
 * @param {string} [options.host='127.0.0.1']
 * @param {number} [options.port=0]
 * @param {string} [options.apiKey]
 * @param {number} [options.latencyMs=20]
 * @param {number} [options.wrongRate=0]
 * @param {number} [options.invalidRate=0]
 * @param {number|string} [options.seed=1]
 * @param {string[]} [options.models]
 * @param {Record<string, number>} [options.modelAccuracy] per-model share of right answers
 * @param {{guided_choice?: boolean, json_schema?: boolean, grammar?: boolean, logprobs?: boolean}} [options.capabilities]
 *   mechanisms honoured (all true unless given false); a switched-off one is ignored
 * @param {'plain'|'explain'|'json'|'emoji'} [options.answerStyle='plain'] wording of unconstrained answers
 * @param {Record<string, string>} [options.modelStyles] answer style per model (overrides answerStyle)
 * @param {number} [options.batchErrorRate=0] share of batch requests that fail (admin knob batch_error_rate)
 * @param {'completed'|'failed'|'expired'} [options.batchOutcome='completed'] how batches end (admin knob batch_outcome)
 * @param {{key: string|Buffer, cert: string|Buffer}} [options.tls] serve HTTPS with HTTP/2 (and HTTP/1.1)
 * @returns {Promise<{url: string, port: number, close: () => Promise<void>}>}
 */
export async function startMock(options = {}) {
  const host = options.host ?? '127.0.0.1';
  const port = num(options.port, 0);
  let csvText = options.goldCsv;
  if (csvText == null) {
    if (!options.gold) throw new Error('--gold FILE.csv is required');
    csvText = await fs.promises.readFile(options.gold, 'utf8');
  }
  // Every answer, live or batched, comes from this one answerer, always given
  // the current `config` (the admin API replaces it).
  const answerer = createAnswerer({ ...options, goldCsv: csvText });

  const initialConfig = answerer.config;
  let config = structuredClone(initialConfig);

  // Mutable state, cleared by /__admin/reset.
  let faultState = []; // per rule: { seen, fired }
  let log = [];
  let requestCounter = 0; // numbers log entries (n)
  let inFlight = 0;
  let maxInFlight = 0;
  let chatEnded = 0; // chat requests answered or abandoned
  const hanging = new Set(); // { res, timer }
  let files = new Map(); // id → { file: File object, data: Buffer }, uploads and batch outputs
  let batches = new Map(); // id → { batch, config, requests }, OpenAI batches in creation order
  let messageBatches = new Map(); // id → { batch, config, requests, results }, Anthropic's
  let objectCounter = 0; // numbers file and batch ids; never reset, so an id never names two objects

  const resetFaultState = () => {
    faultState = config.faults.map(() => ({ seen: 0, fired: 0 }));
  };

  function applyConfig(patch) {
    if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
      throw new Error('config must be a JSON object');
    }
    const next = { ...config };
    for (const [k, v] of Object.entries(patch)) {
      switch (k) {
        case 'latency_ms':
        case 'wrong_rate':
        case 'invalid_rate':
          next[k] = num(v, 0);
          break;
        case 'model_accuracy':
          if (v !== null && (typeof v !== 'object' || Array.isArray(v))) throw new Error('model_accuracy must be an object');
          next[k] = { ...(v ?? {}) };
          break;
        case 'models':
          if (!Array.isArray(v) || !v.every((m) => typeof m === 'string')) throw new Error('models must be a list of strings');
          next[k] = [...v];
          break;
        case 'faults':
          next[k] = validateFaults(v ?? []);
          break;
        case 'api_key':
          next[k] = v === '' ? null : v;
          break;
        case 'seed':
          next[k] = v;
          break;
        case 'capabilities':
          // A partial patch: {"capabilities": {"grammar": false}} leaves the others.
          next[k] = mergeCapabilities(config.capabilities, v ?? {});
          break;
        case 'answer_style':
          next[k] = checkStyle(v ?? 'plain');
          break;
        case 'model_styles':
          next[k] = checkModelStyles(v ?? {});
          break;
        case 'batch_error_rate':
          next[k] = checkRate(k, num(v, 0));
          break;
        case 'batch_outcome':
          next[k] = checkOutcome(v ?? 'completed');
          break;
        default:
          throw new Error(`unknown config key: ${k}`);
      }
    }
    const faultsChanged = 'faults' in patch;
    config = next;
    if (faultsChanged) resetFaultState();
  }

  /**
   * Is the rule's window open for its `seen`-th applicable request? Before `after`
   * requests and beyond `until` it lets requests pass (so a test can let a run
   * start cleanly, then fail mid-way, then recover).
   */
  const inWindow = (rule, seen) => seen > (rule.after ?? 0) && (rule.until == null || seen <= rule.until);

  /** A rule fires on this (applicable) request? Updates its counters. */
  function ruleFires(rule, state) {
    state.seen += 1;
    let fire;
    if (!inWindow(rule, state.seen)) fire = false;
    else if (rule.count != null) fire = state.fired < rule.count;
    // Deterministic pseudo-random spread: 7919 is prime, so (c * 7919) % 1000
    // cycles through all residues and `rate` of any 1000 consecutive requests fire.
    else if (rule.rate != null) fire = (state.seen * 7919) % 1000 < rule.rate * 1000;
    else fire = true; // a rule with neither count nor rate always fires
    if (fire) state.fired += 1;
    return fire;
  }

  /** First fault rule that fires for this chat request, or null. */
  function pickFault(model) {
    for (let i = 0; i < config.faults.length; i++) {
      const rule = config.faults[i];
      if (rule.models && !rule.models.includes(model)) continue;
      if (ruleFires(rule, faultState[i])) return rule;
    }
    return null;
  }

  /** Is a nocors rule able to fire still (used for preflights, which carry no model)? */
  function nocorsActive() {
    return config.faults.some(
      (rule, i) =>
        rule.type === 'nocors' &&
        inWindow(rule, faultState[i].seen + 1) &&
        (rule.count != null ? faultState[i].fired < rule.count : rule.rate == null || rule.rate > 0),
    );
  }

  // --- HTTP helpers -------------------------------------------------------

  function cors(req, res) {
    res.setHeader('Access-Control-Allow-Origin', req.headers.origin ?? '*');
    res.setHeader('Vary', 'Origin');
  }

  function sendJson(res, status, obj, headers = {}) {
    const body = JSON.stringify(obj);
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      ...headers,
    });
    res.end(body);
  }

  const errorBody = (message, type, code) => ({
    error: { message, type, ...(code !== undefined ? { code } : {}) },
  });
  const sendUnauthorized = (res) =>
    sendJson(res, 401, errorBody('Invalid API key', 'invalid_request_error', 'invalid_api_key'));

  function readBuffer(req, limit = MAX_BODY_BYTES) {
    return new Promise((resolve, reject) => {
      const chunks = [];
      let size = 0;
      req.on('data', (c) => {
        size += c.length;
        if (size > limit) {
          reject(Object.assign(new Error('request body too large'), { status: 413 }));
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });
  }

  const readBody = async (req, limit) => (await readBuffer(req, limit)).toString('utf8');

  async function readJson(req, limit) {
    const text = await readBody(req, limit);
    try {
      return JSON.parse(text);
    } catch (e) {
      throw Object.assign(new Error(`Invalid JSON body: ${e.message}`), { status: 400 });
    }
  }

  function authorized(req) {
    const key = config.api_key;
    if (!key) return true;
    const auth = req.headers.authorization ?? '';
    return auth === `Bearer ${key}` || req.headers['api-key'] === key;
  }

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  /** Has the client gone? (An HTTP/2 compatibility response has no `destroyed`; its stream does.) */
  const clientGone = (res) => Boolean(res.destroyed || res.stream?.destroyed);

  // --- Handlers -----------------------------------------------------------

  async function handleAdmin(req, res, path) {
    cors(req, res);
    if (req.method === 'OPTIONS') return preflight(res);
    try {
      if (path === '/__admin/config' && req.method === 'GET') return sendJson(res, 200, config);
      if (path === '/__admin/config' && req.method === 'POST') {
        applyConfig(await readJson(req));
        return sendJson(res, 200, config);
      }
      if (path === '/__admin/log' && req.method === 'GET') {
        return sendJson(res, 200, { requests: log, max_in_flight: maxInFlight, in_flight: inFlight });
      }
      if (path === '/__admin/stats' && req.method === 'GET') {
        return sendJson(res, 200, { chat_ended: chatEnded, max_in_flight: maxInFlight, in_flight: inFlight });
      }
      if (path === '/__admin/reset' && req.method === 'POST') {
        const text = await readBody(req);
        const body = text.trim() ? JSON.parse(text) : {};
        if (body.config === true) config = structuredClone(initialConfig);
        log = [];
        requestCounter = 0;
        chatEnded = 0;
        maxInFlight = inFlight;
        files = new Map();
        batches = new Map();
        messageBatches = new Map();
        resetFaultState();
        return sendJson(res, 200, { ok: true, config });
      }
      return sendJson(res, 404, errorBody(`No admin route ${req.method} ${path}`, 'not_found'));
    } catch (e) {
      return sendJson(res, e.status ?? 400, errorBody(e.message, 'invalid_request_error'));
    }
  }

  /**
   * Answer a preflight. The batch routes also allow DELETE (files, message
   * batches) and the headers Anthropic's API wants from a browser; the chat and
   * admin routes keep the short list the app has always been served.
   */
  function preflight(res, path = '') {
    const batchRoute = /^\/v1\/(files|batches|messages)(\/|$)/.test(path);
    res.writeHead(204, {
      'Access-Control-Allow-Methods': batchRoute ? 'GET, POST, DELETE, OPTIONS' : 'GET, POST, OPTIONS',
      'Access-Control-Allow-Headers': batchRoute ? BATCH_CORS_HEADERS : 'Content-Type, Authorization, api-key',
      'Access-Control-Max-Age': '600',
    });
    res.end();
  }

  /**
   * The request's JSON object body; or, when it is not one, null after the
   * 400 that says so has been sent.
   */
  async function readObject(req, res) {
    let body;
    try {
      body = await readJson(req);
    } catch (e) {
      sendJson(res, e.status ?? 400, errorBody(e.message, 'invalid_request_error'));
      return null;
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      sendJson(res, 400, errorBody('Request body must be a JSON object', 'invalid_request_error'));
      return null;
    }
    return body;
  }

  async function handleChat(req, res, entry) {
    const body = await readObject(req, res);
    if (body === null) return undefined;
    const model = answerer.modelOf(body, config);
    entry.model = model;
    entry.temperature = typeof body.temperature === 'number' ? body.temperature : null;
    // Which gold row the prompt is about (null for probes): lets tests check that
    // no row was answered twice.
    const goldRow = answerer.find(body);
    entry.row = goldRow?.n ?? null;

    const fault = pickFault(model);
    entry.fault = fault?.type ?? null;
    if (fault && fault.type !== 'nocors') {
      switch (fault.type) {
        case '429':
          return sendJson(res, 429, errorBody('Rate limit reached (mock fault)', 'rate_limit_error', 'rate_limit_exceeded'), {
            'Retry-After': String(fault.retry_after ?? 1),
          });
        case '500':
          return sendJson(res, 500, errorBody('Internal server error (mock fault)', 'server_error'));
        case '503':
          return sendJson(res, 503, errorBody('Service unavailable, model loading (mock fault)', 'server_error', 'service_unavailable'), {
            'Retry-After': String(fault.retry_after ?? 1),
          });
        case '400':
          // A request the server rejects as such: retrying the same body cannot help.
          return sendJson(res, 400, errorBody('Invalid request (mock fault)', 'invalid_request_error', 'invalid_request'));
        case '401':
          return sendUnauthorized(res);
        case 'malformed':
          res.writeHead(200, { 'Content-Type': 'application/json' });
          return res.end('{"choices": [');
        case 'hang': {
          // Keep the socket open without answering; end it eventually so the
          // process is not kept alive forever, and on close() (see below).
          const h = { res, timer: null };
          h.timer = setTimeout(() => {
            hanging.delete(h);
            res.destroy();
          }, HANG_MAX_MS);
          hanging.add(h);
          res.on('close', () => {
            clearTimeout(h.timer);
            hanging.delete(h);
          });
          return;
        }
      }
    }
    if (fault?.type === 'nocors') res.removeHeader('Access-Control-Allow-Origin');

    if (config.latency_ms > 0) await sleep(config.latency_ms);
    if (clientGone(res)) return; // client went away while we "thought"

    return sendJson(res, 200, answerer.complete(body, { row: goldRow, config }));
  }

  // --- Files and batches (OpenAI), message batches (Anthropic) --------------
  //
  // No timing anywhere: a batch moves one state on each GET of it, so tests and
  // the app's poller see every state without sleeping. A batch runs under the
  // config of its creation (answers, error rate, outcome), so changing the
  // config later does not change a batch already made.

  const nowSec = () => Math.floor(Date.now() / 1000);
  const nextId = (prefix) => `${prefix}${++objectCounter}`;
  const fileNotFound = (res, id) => sendJson(res, 404, errorBody(`No such File object: ${id}`, 'invalid_request_error', 'not_found'));
  const batchNotFound = (res, id) => sendJson(res, 404, errorBody(`No batch found with id '${id}'.`, 'invalid_request_error', 'not_found'));

  /** Keep `data` as a file; returns its File object. */
  function storeFile(filename, purpose, data) {
    const file = {
      id: nextId('file-mock'),
      object: 'file',
      bytes: data.length,
      created_at: nowSec(),
      filename,
      purpose,
      status: 'processed',
      status_details: null,
      expires_at: null,
    };
    files.set(file.id, { file, data });
    return file;
  }

  /** A page of `items` (newest first), OpenAI's cursor style: `after` an id, `limit` 1–100. */
  function listPage(items, query) {
    const limit = Math.max(1, Math.min(100, Number.parseInt(query.get('limit') ?? '20', 10) || 20));
    const after = query.get('after');
    let start = 0;
    if (after) {
      const i = items.findIndex((x) => x.id === after);
      start = i < 0 ? items.length : i + 1;
    }
    const data = items.slice(start, start + limit);
    return { data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: start + limit < items.length };
  }

  async function handleFiles(req, res, path, query) {
    const m = /^\/v1\/files(?:\/([^/]+)(\/content)?)?$/.exec(path);
    if (!m) return sendJson(res, 404, errorBody(`Unknown path ${path}`, 'invalid_request_error', 'not_found'));
    const [, id, content] = m;
    if (!id) {
      if (req.method === 'GET') {
        const purpose = query.get('purpose');
        const all = [...files.values()].map((f) => f.file).filter((f) => !purpose || f.purpose === purpose).reverse();
        return sendJson(res, 200, { object: 'list', ...listPage(all, query) });
      }
      if (req.method !== 'POST') return sendJson(res, 405, errorBody('Method not allowed', 'invalid_request_error'));
      const type = req.headers['content-type'] ?? '';
      if (!/^multipart\/form-data/i.test(type)) {
        return sendJson(res, 400, errorBody('Uploads must be multipart/form-data with "purpose" and "file"', 'invalid_request_error'));
      }
      let form;
      try {
        const buf = await readBuffer(req, MAX_UPLOAD_BYTES);
        // undici's multipart parser (Node's own fetch), rather than one of ours.
        form = await new Request('http://mock.invalid/', { method: 'POST', headers: { 'content-type': type }, body: buf }).formData();
      } catch (e) {
        return sendJson(res, e.status ?? 400, errorBody(`Invalid multipart body: ${e.message}`, 'invalid_request_error'));
      }
      const purpose = form.get('purpose');
      const file = form.get('file');
      if (purpose !== 'batch') {
        return sendJson(res, 400, errorBody(`The mock accepts purpose "batch" only, not ${JSON.stringify(purpose)}`, 'invalid_request_error', 'invalid_value'));
      }
      if (file === null || typeof file === 'string') {
        return sendJson(res, 400, errorBody('Missing required parameter: file', 'invalid_request_error', 'missing_required_parameter'));
      }
      return sendJson(res, 200, storeFile(file.name || 'upload.jsonl', purpose, Buffer.from(await file.arrayBuffer())));
    }
    const stored = files.get(id);
    if (content) {
      if (req.method !== 'GET') return sendJson(res, 405, errorBody('Method not allowed', 'invalid_request_error'));
      if (!stored) return fileNotFound(res, id);
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': stored.data.length });
      return res.end(stored.data);
    }
    if (req.method === 'GET') return stored ? sendJson(res, 200, stored.file) : fileNotFound(res, id);
    if (req.method === 'DELETE') {
      if (!stored) return fileNotFound(res, id);
      files.delete(id);
      return sendJson(res, 200, { id, object: 'file', deleted: true });
    }
    return sendJson(res, 405, errorBody('Method not allowed', 'invalid_request_error'));
  }

  /** POST /v1/batches: checks the call itself now; the input file is checked on the first GET (validating). */
  async function createBatch(req, res) {
    const body = await readObject(req, res);
    if (body === null) return undefined;
    const bad = (message, param) => sendJson(res, 400, { error: { message, type: 'invalid_request_error', param, code: 'invalid_value' } });
    if (typeof body.input_file_id !== 'string') return bad('Missing required parameter: input_file_id', 'input_file_id');
    if (body.endpoint !== BATCH_ENDPOINT && body.endpoint !== AZURE_BATCH_ENDPOINT) {
      return bad(`The mock batches ${BATCH_ENDPOINT} (or Azure's ${AZURE_BATCH_ENDPOINT}) only, not ${JSON.stringify(body.endpoint)}`, 'endpoint');
    }
    if (body.completion_window !== '24h') return bad(`completion_window must be "24h", not ${JSON.stringify(body.completion_window)}`, 'completion_window');
    if (body.metadata != null && (typeof body.metadata !== 'object' || Array.isArray(body.metadata))) return bad('metadata must be an object', 'metadata');
    const input = files.get(body.input_file_id);
    if (!input) return fileNotFound(res, body.input_file_id);
    if (input.file.purpose !== 'batch') return bad(`File ${input.file.id} has purpose "${input.file.purpose}", not "batch"`, 'input_file_id');
    const created = nowSec();
    const batch = {
      id: nextId('batch_mock'),
      object: 'batch',
      endpoint: body.endpoint,
      errors: null,
      input_file_id: body.input_file_id,
      completion_window: body.completion_window,
      status: 'validating',
      output_file_id: null,
      error_file_id: null,
      created_at: created,
      in_progress_at: null,
      expires_at: created + 24 * 3600,
      finalizing_at: null,
      completed_at: null,
      failed_at: null,
      expired_at: null,
      cancelling_at: null,
      cancelled_at: null,
      request_counts: { total: 0, completed: 0, failed: 0 },
      metadata: body.metadata ?? null,
    };
    batches.set(batch.id, { batch, config: structuredClone(config), requests: null });
    return sendJson(res, 200, batch);
  }

  /** One step of an OpenAI batch's life (terminal states stay). */
  function advanceBatch(b) {
    const { batch, config: cfg } = b;
    const fail = (errors) => {
      batch.status = 'failed';
      batch.failed_at = nowSec();
      batch.errors = { object: 'list', data: errors };
    };
    switch (batch.status) {
      case 'validating': {
        if (cfg.batch_outcome === 'failed') {
          return fail([batchError('mock_failure', 'The batch failed (mock batch_outcome "failed").')]);
        }
        const input = files.get(batch.input_file_id);
        if (!input) return fail([batchError('file_not_found', `The input file ${batch.input_file_id} no longer exists.`)]);
        const { requests, errors } = checkBatchInput(input.data.toString('utf8'), batch.endpoint);
        if (errors.length > 0) return fail(errors);
        b.requests = requests;
        batch.request_counts.total = requests.length;
        batch.status = 'in_progress';
        batch.in_progress_at = nowSec();
        return;
      }
      case 'in_progress':
        if (cfg.batch_outcome === 'expired') return finishBatch(b, 'expired');
        batch.status = 'finalizing';
        batch.finalizing_at = nowSec();
        return;
      case 'finalizing':
        return finishBatch(b, 'completed');
      case 'cancelling':
        return finishBatch(b, 'cancelled');
    }
  }

  /**
   * End a batch as `status`, writing its output file (answered requests) and
   * error file (failed ones, and for a stopped batch those never run), each in
   * a seeded shuffled order and only when it has a line.
   */
  function finishBatch(b, status) {
    const { batch, config: cfg } = b;
    const now = nowSec();
    const stopped = status !== 'completed';
    const notRun = status === 'expired' ? 'batch_expired' : 'batch_cancelled';
    const fate = (r) => {
      if (stopped && shareOf(`ran:${r.custom_id}`) >= STOPPED_RAN_SHARE) return notRun;
      return shareOf(r.custom_id) < cfg.batch_error_rate ? '500' : 'ok';
    };
    const out = [];
    const err = [];
    for (const { ok, line } of batchResultLines(b.requests ?? [], { answerer, batchId: batch.id, created: now, config: cfg, fate })) {
      (ok ? out : err).push(line);
    }
    const seed = `${cfg.seed}:${batch.id}`;
    const write = (lines, suffix, purpose) =>
      lines.length ? storeFile(`${batch.id}_${suffix}.jsonl`, purpose, Buffer.from(jsonl(shuffleLines(lines, seed)))).id : null;
    batch.output_file_id = write(out, 'output', 'batch_output');
    batch.error_file_id = write(err, 'error', 'batch_output');
    batch.request_counts = { total: b.requests?.length ?? 0, completed: out.length, failed: err.length };
    batch.status = status;
    batch[`${status}_at`] = now;
  }

  async function handleBatches(req, res, path, query) {
    const m = /^\/v1\/batches(?:\/([^/]+)(\/cancel)?)?$/.exec(path);
    if (!m) return sendJson(res, 404, errorBody(`Unknown path ${path}`, 'invalid_request_error', 'not_found'));
    const [, id, cancel] = m;
    if (!id) {
      if (req.method === 'POST') return createBatch(req, res);
      if (req.method !== 'GET') return sendJson(res, 405, errorBody('Method not allowed', 'invalid_request_error'));
      const all = [...batches.values()].map((b) => b.batch).reverse();
      return sendJson(res, 200, { object: 'list', ...listPage(all, query) });
    }
    const b = batches.get(id);
    if (cancel) {
      if (req.method !== 'POST') return sendJson(res, 405, errorBody('Method not allowed', 'invalid_request_error'));
      if (!b) return batchNotFound(res, id);
      const { batch } = b;
      if (['validating', 'in_progress', 'finalizing'].includes(batch.status)) {
        batch.status = 'cancelling';
        batch.cancelling_at = nowSec();
      } else if (batch.status !== 'cancelling') {
        // 400, not 409: OpenAI's clients retry a 409.
        return sendJson(res, 400, errorBody(`Cannot cancel a batch with status '${batch.status}'.`, 'invalid_request_error', 'invalid_state'));
      }
      return sendJson(res, 200, batch);
    }
    if (req.method !== 'GET') return sendJson(res, 405, errorBody('Method not allowed', 'invalid_request_error'));
    if (!b) return batchNotFound(res, id);
    advanceBatch(b);
    return sendJson(res, 200, b.batch);
  }

  // Anthropic speaks its own error shape, key header and version header.
  const sendAnthropicError = (res, status, type, message) => sendJson(res, status, { type: 'error', error: { type, message } });
  const iso = (ms) => new Date(ms).toISOString();

  /** POST /v1/messages/batches: the shape is checked now; each request's params when it "runs". */
  async function createMessageBatch(req, res) {
    let body;
    try {
      body = await readJson(req, MAX_UPLOAD_BYTES);
    } catch (e) {
      return sendAnthropicError(res, e.status ?? 400, 'invalid_request_error', e.message);
    }
    const bad = (message) => sendAnthropicError(res, 400, 'invalid_request_error', message);
    const list = body?.requests;
    if (!Array.isArray(list) || list.length === 0) return bad('requests: a non-empty list is required');
    if (list.length > MAX_BATCH_REQUESTS) return bad(`requests: at most ${MAX_BATCH_REQUESTS} per batch`);
    const ids = new Set();
    for (const [i, r] of list.entries()) {
      if (r === null || typeof r !== 'object' || typeof r.custom_id !== 'string' || !ANTHROPIC_CUSTOM_ID.test(r.custom_id)) {
        return bad(`requests.${i}.custom_id: must match ${ANTHROPIC_CUSTOM_ID.source}`);
      }
      if (ids.has(r.custom_id)) return bad(`requests.${i}.custom_id: duplicate custom_id '${r.custom_id}'`);
      ids.add(r.custom_id);
      if (r.params === null || typeof r.params !== 'object' || Array.isArray(r.params)) return bad(`requests.${i}.params: an object is required`);
    }
    const now = Date.now();
    const batch = {
      id: nextId('msgbatch_mock'),
      type: 'message_batch',
      processing_status: 'in_progress',
      request_counts: { processing: list.length, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
      ended_at: null,
      created_at: iso(now),
      expires_at: iso(now + 24 * 3600 * 1000),
      archived_at: null,
      cancel_initiated_at: null,
      results_url: null,
    };
    const requests = list.map((r) => ({ custom_id: r.custom_id, params: r.params }));
    messageBatches.set(batch.id, { batch, config: structuredClone(config), requests, results: null });
    return sendJson(res, 200, batch);
  }

  /**
   * One step of a message batch's life: in_progress or canceling → ended. An
   * "expired" outcome ends it with part of its requests never run, as does a
   * cancel; a "failed" one (Anthropic has no failed batch) errors every request.
   */
  function advanceMessageBatch(b, origin) {
    const { batch, config: cfg } = b;
    if (batch.processing_status === 'ended') return;
    const canceled = batch.processing_status === 'canceling';
    const notRun = canceled ? 'canceled' : cfg.batch_outcome === 'expired' ? 'expired' : null;
    const counts = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
    const lines = b.requests.map((r) => {
      let fate = 'ok';
      if (notRun && shareOf(`ran:${r.custom_id}`) >= STOPPED_RAN_SHARE) fate = notRun;
      else if (cfg.batch_outcome === 'failed' || shareOf(r.custom_id) < cfg.batch_error_rate) fate = 'error';
      const result = anthropicResult(answerer, batch.id, r, fate, cfg);
      counts[result.type] += 1;
      return JSON.stringify({ custom_id: r.custom_id, result });
    });
    b.results = Buffer.from(jsonl(shuffleLines(lines, `${cfg.seed}:${batch.id}`)));
    batch.processing_status = 'ended';
    batch.request_counts = counts;
    batch.ended_at = iso(Date.now());
    batch.results_url = `${origin}/v1/messages/batches/${batch.id}/results`;
  }

  async function handleMessageBatches(req, res, path, query) {
    // The browser sends x-api-key; Anthropic's own SDK (1.x) sends the key as a Bearer token.
    const key = config.api_key;
    if (key && req.headers['x-api-key'] !== key && req.headers.authorization !== `Bearer ${key}`) {
      return sendAnthropicError(res, 401, 'authentication_error', 'invalid x-api-key');
    }
    if (!req.headers['anthropic-version']) {
      return sendAnthropicError(res, 400, 'invalid_request_error', 'anthropic-version: header is required');
    }
    const m = /^\/v1\/messages\/batches(?:\/([^/]+)(\/cancel|\/results)?)?$/.exec(path);
    if (!m) return sendAnthropicError(res, 404, 'not_found_error', `Unknown path ${path}`);
    const [, id, action] = m;
    const notAllowed = () => sendAnthropicError(res, 405, 'invalid_request_error', 'Method not allowed');
    if (!id) {
      if (req.method === 'POST') return createMessageBatch(req, res);
      if (req.method !== 'GET') return notAllowed();
      const all = [...messageBatches.values()].map((b) => b.batch).reverse();
      const page = listPage(all, new URLSearchParams({ limit: query.get('limit') ?? '20', after: query.get('after_id') ?? '' }));
      return sendJson(res, 200, page);
    }
    const b = messageBatches.get(id);
    if (!b) return sendAnthropicError(res, 404, 'not_found_error', `No message batch with id '${id}'`);
    const { batch } = b;
    if (action === '/cancel') {
      if (req.method !== 'POST') return notAllowed();
      if (batch.processing_status === 'ended') {
        return sendAnthropicError(res, 400, 'invalid_request_error', `Batch ${id} has ended and can no longer be canceled`);
      }
      if (batch.processing_status === 'in_progress') {
        batch.processing_status = 'canceling';
        batch.cancel_initiated_at = iso(Date.now());
      }
      return sendJson(res, 200, batch);
    }
    if (action === '/results') {
      if (req.method !== 'GET') return notAllowed();
      if (!b.results) {
        return sendAnthropicError(res, 400, 'invalid_request_error', `Batch ${id} is still ${batch.processing_status}; results are available once it has ended`);
      }
      res.writeHead(200, { 'Content-Type': 'application/x-jsonl', 'Content-Length': b.results.length });
      return res.end(b.results);
    }
    if (req.method === 'DELETE') {
      if (batch.processing_status !== 'ended') {
        return sendAnthropicError(res, 400, 'invalid_request_error', `Batch ${id} is still ${batch.processing_status}; cancel it first`);
      }
      messageBatches.delete(id);
      return sendJson(res, 200, { id, type: 'message_batch_deleted' });
    }
    if (req.method !== 'GET') return notAllowed();
    // results_url names this server as the client reached it (a proxy, localhost…).
    const authority = req.headers.host ?? req.headers[':authority'] ?? `${host}:${actualPort}`;
    advanceMessageBatch(b, `${tls ? 'https' : 'http'}://${authority}`);
    return sendJson(res, 200, batch);
  }

  async function handle(req, res) {
    const path = (req.url ?? '/').split('?')[0];
    if (path.startsWith('/__admin/')) return handleAdmin(req, res, path);

    const start = Date.now();
    const entry = {
      n: ++requestCounter,
      ts: start,
      method: req.method,
      path,
      http: req.httpVersion, // '1.1', or '2.0' over HTTP/2
      model: null,
      temperature: null,
      row: null,
      status: null,
      fault: null,
      origin: req.headers.origin ?? null,
      authorization: Boolean(req.headers.authorization || req.headers['api-key'] || req.headers['x-api-key']),
      ms: null,
    };
    log.push(entry);
    if (log.length > MAX_LOG) log.splice(0, log.length - MAX_LOG);

    const isChat = path === '/v1/chat/completions' && req.method === 'POST';
    if (isChat) {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
    }
    let done = false;
    // 'close' fires both after a full response and when the client disconnects;
    // status stays null when nothing was sent (e.g. a hang).
    res.on('close', () => {
      if (done) return;
      done = true;
      if (isChat) {
        inFlight -= 1;
        chatEnded += 1;
      }
      entry.status = res.headersSent ? res.statusCode : null;
      entry.ms = Date.now() - start;
    });

    if (req.method === 'OPTIONS') {
      // While a nocors rule can still fire, the chat preflight lacks CORS too, as
      // a misconfigured real server would.
      if (!(path === '/v1/chat/completions' && nocorsActive())) cors(req, res);
      return preflight(res, path);
    }
    cors(req, res);

    if (!path.startsWith('/v1/')) {
      return sendJson(res, 404, errorBody(`Unknown path ${path}`, 'invalid_request_error', 'not_found'));
    }
    const query = new URL(req.url ?? '/', 'http://mock.invalid').searchParams;
    // Anthropic's routes check their own key header and answer in their own shape.
    if (path === '/v1/messages/batches' || path.startsWith('/v1/messages/batches/')) {
      return handleMessageBatches(req, res, path, query);
    }
    if (!authorized(req)) return sendUnauthorized(res);
    if (path === '/v1/files' || path.startsWith('/v1/files/')) return handleFiles(req, res, path, query);
    if (path === '/v1/batches' || path.startsWith('/v1/batches/')) return handleBatches(req, res, path, query);

    if (path === '/v1/models') {
      if (req.method !== 'GET') return sendJson(res, 405, errorBody('Method not allowed', 'invalid_request_error'));
      return sendJson(res, 200, {
        object: 'list',
        data: config.models.map((id) => ({ id, object: 'model', owned_by: 'mock' })),
      });
    }
    if (path === '/v1/chat/completions') {
      if (req.method !== 'POST') return sendJson(res, 405, errorBody('Method not allowed', 'invalid_request_error'));
      return handleChat(req, res, entry);
    }
    return sendJson(res, 404, errorBody(`Unknown path ${path}`, 'invalid_request_error', 'not_found'));
  }

  resetFaultState();
  const onRequest = (req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) sendJson(res, 500, errorBody(String(e?.message ?? e), 'server_error'));
      else res.destroy();
    });
  };
  const tls = options.tls;
  if (tls != null && (!tls.key || !tls.cert)) throw new Error('tls needs both key and cert');
  // Over TLS, HTTP/2 and HTTP/1.1 (chosen by ALPN) share the port and the handler
  // through Node's compatibility API, as a real HTTPS endpoint behind a proxy would.
  const server = tls
    ? http2.createSecureServer({
        key: tls.key,
        cert: tls.cert,
        allowHTTP1: true,
        // A run keeps up to 128 requests in flight on one connection: advertise a
        // stream limit well above that (clients assume 100 until they are told one)
        // and allow more than the 10 MB default session memory for long prompts.
        settings: { maxConcurrentStreams: 1000 },
        peerMaxConcurrentStreams: 1000,
        maxSessionMemory: 64,
      }, onRequest)
    : http.createServer(onRequest);
  // Long prompts with many concurrent requests: do not let Node's defaults cut us off.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  // http2 servers have no closeAllConnections(): track connections to end them in close().
  const sockets = new Set();
  const sessions = new Set();
  if (tls) {
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    server.on('session', (session) => {
      sessions.add(session);
      session.on('close', () => sessions.delete(session));
    });
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = server.address().port;
  const url = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;

  let closing = null;
  function close() {
    closing ??= new Promise((resolve) => {
      for (const h of hanging) {
        clearTimeout(h.timer);
        h.res.destroy();
      }
      hanging.clear();
      server.close(() => resolve());
      if (server.closeAllConnections) server.closeAllConnections();
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
    });
    return closing;
  }

  return { url, port: actualPort, close };
}

/**
 * Check fault rules strictly (a typo would otherwise silently disable a test's
 * fault): known keys and types only, counts as non-negative integers, rates in
 * [0, 1], and a window `after < until` that can fire at all.
 */
function validateFaults(faults) {
  if (!Array.isArray(faults)) throw new Error('faults must be a list');
  return faults.map((r, i) => {
    if (r === null || typeof r !== 'object' || Array.isArray(r)) throw new Error(`fault ${i} must be an object`);
    for (const k of Object.keys(r)) if (!FAULT_KEYS.has(k)) throw new Error(`fault ${i}: unknown key ${k}`);
    const type = String(r.type);
    if (!FAULT_TYPES.has(type)) throw new Error(`fault ${i}: unknown type ${r.type}`);
    const rule = { type };
    const count = (k) => {
      const v = num(r[k], 0);
      if (!Number.isInteger(v) || v < 0) throw new Error(`fault ${i}: ${k} must be a non-negative integer`);
      return v;
    };
    if (r.count != null) rule.count = count('count');
    if (r.rate != null) {
      rule.rate = num(r.rate, 0);
      if (rule.rate < 0 || rule.rate > 1) throw new Error(`fault ${i}: rate must be between 0 and 1`);
    }
    if (r.after != null) rule.after = count('after');
    if (r.until != null) rule.until = count('until');
    if (rule.until != null && rule.until <= (rule.after ?? 0)) {
      throw new Error(`fault ${i}: until (${rule.until}) must be greater than after (${rule.after ?? 0})`);
    }
    if (r.retry_after != null) {
      const v = num(r.retry_after, 0);
      if (v < 0) throw new Error(`fault ${i}: retry_after must be a non-negative number of seconds`);
      rule.retry_after = r.retry_after;
    }
    if (r.models != null) {
      if (!Array.isArray(r.models)) throw new Error(`fault ${i}: models must be a list`);
      rule.models = r.models.map(String);
    }
    return rule;
  });
}

// ---------------------------------------------------------------------------
// CLI

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument: ${a}`);
    const eq = a.indexOf('=');
    if (eq >= 0) out[a.slice(2, eq)] = a.slice(eq + 1);
    else {
      if (i + 1 >= argv.length) throw new Error(`missing value for ${a}`);
      out[a.slice(2)] = argv[++i];
    }
  }
  return out;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const known = ['port', 'host', 'gold', 'text-col', 'label-col', 'api-key', 'latency-ms', 'wrong-rate', 'invalid-rate', 'seed', 'tls-key', 'tls-cert'];
  for (const k of Object.keys(args)) if (!known.includes(k)) throw new Error(`unknown option --${k}`);
  if (('tls-key' in args) !== ('tls-cert' in args)) throw new Error('--tls-key and --tls-cert go together');
  const tls = args['tls-key'] ? { key: fs.readFileSync(args['tls-key']), cert: fs.readFileSync(args['tls-cert']) } : undefined;
  const mock = await startMock({
    port: args.port ?? 0,
    host: args.host ?? '127.0.0.1',
    gold: args.gold,
    textCol: args['text-col'],
    labelCol: args['label-col'],
    apiKey: args['api-key'],
    latencyMs: args['latency-ms'],
    wrongRate: args['wrong-rate'],
    invalidRate: args['invalid-rate'],
    seed: args.seed,
    tls,
  });
  console.log(`mock listening on ${mock.url}`);
  const stop = () => mock.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(`mock: ${e.message}`);
    process.exit(1);
  });
}
