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
// the start-up config).

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
  };
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

  function readBody(req) {
    return new Promise((resolve, reject) => {
      const chunks = [];
      let size = 0;
      req.on('data', (c) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) {
          reject(Object.assign(new Error('request body too large'), { status: 413 }));
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });
  }

  async function readJson(req) {
    const text = await readBody(req);
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
        resetFaultState();
        return sendJson(res, 200, { ok: true, config });
      }
      return sendJson(res, 404, errorBody(`No admin route ${req.method} ${path}`, 'not_found'));
    } catch (e) {
      return sendJson(res, e.status ?? 400, errorBody(e.message, 'invalid_request_error'));
    }
  }

  function preflight(res) {
    res.writeHead(204, {
      'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
      'Access-Control-Allow-Headers': 'Content-Type, Authorization, api-key',
      'Access-Control-Max-Age': '600',
    });
    res.end();
  }

  async function handleChat(req, res, entry) {
    let body;
    try {
      body = await readJson(req);
    } catch (e) {
      return sendJson(res, e.status ?? 400, errorBody(e.message, 'invalid_request_error'));
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      return sendJson(res, 400, errorBody('Request body must be a JSON object', 'invalid_request_error'));
    }
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
      authorization: Boolean(req.headers.authorization || req.headers['api-key']),
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
      return preflight(res);
    }
    cors(req, res);

    if (!path.startsWith('/v1/')) {
      return sendJson(res, 404, errorBody(`Unknown path ${path}`, 'invalid_request_error', 'not_found'));
    }
    if (!authorized(req)) return sendUnauthorized(res);

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
