// A mock batch engine for end-to-end tests and benchmarks: answers an OpenAI
// Batch API input file the way the mock server's /v1/batches does, without a
// server, and writes the kinds of output files real engines (OpenAI, Azure,
// `vllm run-batch`) hand back: in any order, with failed requests, a request
// answered twice (a part downloaded twice) and lines of another tool's batch
// (files of two runs concatenated). Test tool only, never shipped with the app.
//
//   import { createAnswerer } from './server.mjs';
//   import { answerBatch, answerBatchLines, splitJsonl } from './engine.mjs';
//   const { complete } = createAnswerer({ goldCsv });
//   const out = answerBatch(inputJsonl, { seed: 1, errorRate: 0.1, completion: complete });
//
// Answers come from the same answerer as the live route (createAnswerer in
// server.mjs), so an answer here equals the live answer to the same body, and
// with the same `seed`, `batchId` and `created` (and no errors, duplicates or
// foreign lines) the output equals the output file of the server's batch.

import {
  BATCH_ENDPOINT,
  batchCompletion,
  batchInputChecker,
  batchOutputLine,
  batchResultLines,
  fnv1a,
  shareOf,
  shuffleLines,
} from './server.mjs';

/** The id the engine's lines are made under unless told another (ids derive from it). */
export const ENGINE_BATCH_ID = 'batch_mock_engine';
/** `created` of every completion unless told another: a fixed time keeps output files identical run after run. */
export const ENGINE_CREATED = 1_700_000_000;
/** Lines the streaming variant holds at most for its shuffle, unless told another. */
export const DEFAULT_WINDOW = 65_536;

/**
 * @typedef {object} EngineOptions
 * @property {string|number} [seed=1]   seeds the shuffle
 * @property {number} [errorRate=0]     share of requests (by FNV-1a of their custom_id, like the
 *   server's batch_error_rate) that fail: half of them (by another bit of the hash) as a response
 *   with status 500, the others as never run (`response: null`, `error.code` "batch_expired")
 * @property {number} [duplicate=0]     how many lines are written twice: the first so many, in input order
 * @property {number} [foreign=0]       how many lines of another tool's batch are added
 *   (custom_ids `other-tool-1`, `other-tool-2`…), answered like a request about no gold row
 * @property {boolean} [shuffle=true]   false keeps input order (duplicates follow their original,
 *   foreign lines come last)
 * @property {(body: object, opts?: object) => object} completion  answers a chat request body:
 *   `createAnswerer(...).complete` (or the answerer itself)
 * @property {string} [batchId=ENGINE_BATCH_ID] the batch the line, request and completion ids derive from
 * @property {number} [created=ENGINE_CREATED]  `created` of every completion
 * @property {number} [window=DEFAULT_WINDOW]   answerBatchLines only: lines held for the shuffle
 *   (Infinity shuffles the whole file, as answerBatch does)
 */

/** A completion function from the option (a function or an answerer). */
function completerOf(completion) {
  if (typeof completion === 'function') return completion;
  if (completion && typeof completion.complete === 'function') return completion.complete;
  throw new Error('completion is required: createAnswerer({goldCsv}).complete, or the answerer');
}

/** The Error for an input line that would fail the batch, with its `code`, `line` and `param`. */
function inputError({ code, line, message, param }) {
  return Object.assign(new Error(line == null ? message : `line ${line}: ${message}`), { code, line, param });
}

/** A non-negative integer option. */
function count(name, v) {
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name} must be a non-negative integer`);
  return v;
}

/**
 * Answer an OpenAI batch input file, line by line: yields the output lines
 * (without newlines), so a benchmark can write a million-line file without
 * holding it. The input is checked as the server's validating step checks it;
 * a line that would fail the batch throws an Error with `code` and `line`.
 * The shuffle holds `window` lines at most (see shuffleLines). Options are
 * checked at once; the input only as it is read.
 * @param {Iterable<string>} lineIterable input lines (a trailing "\r" or blank lines are fine)
 * @param {EngineOptions} opts
 * @returns {Generator<string>}
 */
export function answerBatchLines(lineIterable, opts = {}) {
  const {
    seed = 1,
    errorRate = 0,
    duplicate = 0,
    foreign = 0,
    shuffle = true,
    batchId = ENGINE_BATCH_ID,
    created = ENGINE_CREATED,
    window = DEFAULT_WINDOW,
  } = opts;
  const complete = completerOf(opts.completion);
  if (!(errorRate >= 0 && errorRate <= 1)) throw new Error('errorRate must be between 0 and 1');
  count('duplicate', duplicate);
  count('foreign', foreign);
  // The server's result loop wants an answerer; only its complete() is used.
  const answerer = { complete };
  let model;
  // The requests, checked as the server's validating step checks them, lazily.
  const requests = function* () {
    const checker = batchInputChecker(BATCH_ENDPOINT);
    for (const text of lineIterable) {
      const r = checker.line(text);
      if (r === null) continue;
      if (r.error) throw inputError(r.error);
      model ??= r.request.body.model;
      yield r.request;
    }
    const empty = checker.end();
    if (empty) throw inputError(empty);
  };
  const fate = (request) => {
    if (shareOf(request.custom_id) >= errorRate) return 'ok';
    // Bit 20 of the hash is independent enough of the low digits that chose the error.
    return (fnv1a(request.custom_id) >>> 20) & 1 ? 'batch_expired' : '500';
  };
  const ordered = function* () {
    let written = 0;
    for (const { line } of batchResultLines(requests(), { answerer, batchId, created, fate })) {
      yield line;
      if (written < duplicate) yield line;
      written += 1;
    }
    for (let k = 1; k <= foreign; k++) {
      const request = {
        custom_id: `other-tool-${k}`,
        body: { model: model ?? 'other-model', messages: [{ role: 'user', content: `Request ${k} of another tool` }] },
      };
      yield batchOutputLine(`${batchId}-other`, request.custom_id, batchCompletion(answerer, `${batchId}-other`, request, { created }));
    }
  };
  return shuffle ? shuffleLines(ordered(), seed, window) : ordered();
}

/**
 * Answer an OpenAI batch input file: the output JSONL (each line ending in a
 * newline), shuffled over the whole file. Same as joining
 * answerBatchLines(lines, {...opts, window: Infinity}).
 * @param {string} inputJsonl
 * @param {EngineOptions} opts
 * @returns {string}
 */
export function answerBatch(inputJsonl, opts = {}) {
  let out = '';
  for (const line of answerBatchLines(inputJsonl.split('\n'), { ...opts, window: Infinity })) out += `${line}\n`;
  return out;
}

/**
 * Cut a JSONL text into `parts` pieces at line boundaries, as equal in line
 * count as can be (an engine that splits its output, or a user who downloads
 * it in parts). Joined, the pieces give the text back; with more parts than
 * lines some pieces are empty.
 * @param {string} text
 * @param {number} parts a positive integer
 * @returns {string[]}
 */
export function splitJsonl(text, parts) {
  if (!Number.isInteger(parts) || parts < 1) throw new Error('parts must be a positive integer');
  // Line starts: 0 and after every newline that is not the last character.
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1 && i < text.length - 1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  const lines = text === '' ? 0 : starts.length;
  const out = [];
  for (let p = 0; p < parts; p++) {
    const a = Math.floor((p * lines) / parts);
    const b = Math.floor(((p + 1) * lines) / parts);
    const from = a < lines ? starts[a] : text.length;
    const to = b < lines ? starts[b] : text.length;
    out.push(text.slice(from, to));
  }
  return out;
}
