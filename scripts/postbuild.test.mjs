// node --test scripts/postbuild.test.mjs: the Trunk post-build hook on fake builds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPolicy, DEFAULT_CONNECT_SRC } from './postbuild.mjs';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'postbuild.mjs');

/** What Trunk 0.21 writes into index.html for `<link data-trunk rel="rust">`. */
const TRUNK_SCRIPT = `<script type="module">
import init, * as bindings from './fannotate.js';
const wasm = await init({ module_or_path: './fannotate_bg.wasm' });


window.wasmBindings = bindings;


dispatchEvent(new CustomEvent("TrunkApplicationStarted", {detail: {wasm}}));

</script>`;

const page = (headExtra = TRUNK_SCRIPT, body = '<div id="app" data-fannotate-mount></div>') =>
  `<!doctype html>\n<html lang="en">\n  <head>\n    <meta charset="utf-8" />\n    <title>Fannotate</title>\n    ${headExtra}\n    <link rel="stylesheet" href="./app.css"/>\n  </head>\n  <body>\n    ${body}\n  </body>\n</html>\n`;

/** A staging dir with a fake build. */
function staging(html, files = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fa-postbuild-'));
  const all = {
    'index.html': html,
    'fannotate.js': 'export default function init() {}\n',
    'fannotate_bg.wasm': '\0asm\x01\0\0\0',
    'app.css': 'body{}\n',
    'fannotate-element.js': "import init from './fannotate.js';\n",
    // The compute worker's files, as Trunk's worker link writes them.
    'fannotate-worker_loader.js': 'importScripts("./fannotate-worker.js");wasm_bindgen("./fannotate-worker_bg.wasm");',
    'fannotate-worker.js': 'let wasm_bindgen = () => {};\n',
    'fannotate-worker_bg.wasm': '\0asm\x01\0\0\0',
    ...files,
  };
  for (const [f, content] of Object.entries(all)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), content);
  }
  return dir;
}

/** Run the hook as Trunk does: TRUNK_STAGING_DIR in the environment. */
function run(dir, env = {}) {
  const clean = { ...process.env };
  delete clean.FANNOTATE_CSP;
  delete clean.FANNOTATE_CONNECT_SRC;
  const r = spawnSync(process.execPath, [SCRIPT], { env: { ...clean, TRUNK_STAGING_DIR: dir, ...env }, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const read = (dir, f) => fs.readFileSync(path.join(dir, f), 'utf8');
const metaPolicy = (html) => html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]*)"/)[1];

test('a Trunk build gets boot.js, the strict CSP first in <head> and sw.js', () => {
  const dir = staging(page());
  const r = run(dir);
  assert.equal(r.code, 0, r.err);
  const strict =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
    "connect-src 'self' http://127.0.0.1:* http://localhost:* https://127.0.0.1:* https://localhost:*; worker-src 'self'; " +
    "manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";
  assert.match(r.out, new RegExp(`strict Content-Security-Policy: ${strict.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n`));
  const html = read(dir, 'index.html');
  assert.match(html, /<head>\s*<meta http-equiv="Content-Security-Policy" content="[^"]*" \/>\s*<meta name="fannotate-csp" content="strict" \/>\s*<meta charset/);
  assert.equal(metaPolicy(html), strict);
  assert.match(html, /<script type="module" src="\.\/boot\.js" integrity="sha384-[A-Za-z0-9+/=]+"><\/script>/);
  assert.doesNotMatch(html, /<script[^>]*>[^<]/);
  const boot = read(dir, 'boot.js');
  assert.ok(boot.includes("const wasm = await init({ module_or_path: './fannotate_bg.wasm' });"));
  assert.ok(boot.includes('TrunkApplicationStarted'));
  assert.ok(boot.includes("register('./sw.js', { scope: './' })"));
  assert.ok(boot.includes("location.protocol !== 'file:'"));
  assert.ok(boot.includes("window.fannotateUpdate = 'ready'") && boot.includes("new CustomEvent('fannotate:update-ready')"));
  const sw = read(dir, 'sw.js');
  assert.match(sw, /const VERSION = "[0-9a-f]{12}";/);
  assert.doesNotMatch(sw, /__VERSION__|__SHELL__/);
  for (const f of ['index.html', 'boot.js', 'fannotate.js', 'fannotate_bg.wasm', 'app.css', 'fannotate-element.js']) {
    assert.ok(sw.includes(`"${f}": "`), f);
  }
  // The worker is valid JavaScript.
  assert.doesNotThrow(() => new Function(sw));
});

test('every change to a built file gives a new worker VERSION; the same build the same', () => {
  const version = (files) => {
    const dir = staging(page(), files);
    assert.equal(run(dir).code, 0);
    return read(dir, 'sw.js').match(/const VERSION = "([0-9a-f]+)"/)[1];
  };
  const a = version({});
  assert.equal(version({}), a);
  assert.notEqual(version({ 'fannotate_bg.wasm': '\0asm\x01\0\0\0\x01' }), a);
  assert.notEqual(version({ 'app.css': 'body{color:red}\n' }), a);
  assert.notEqual(version({ 'fannotate.js': 'export default 1;\n' }), a);
  assert.notEqual(version({ 'snippets/dep-1/inline0.js': 'export const x = 1;\n' }), a);
});

test('FANNOTATE_CONNECT_SRC replaces the local-only list; FANNOTATE_CSP=permissive allows any http(s)', () => {
  let dir = staging(page());
  let r = run(dir, { FANNOTATE_CONNECT_SRC: '  https://llm.example.org   http://10.0.0.5:8080 https://*.openai.azure.com ' });
  assert.equal(r.code, 0, r.err);
  let html = read(dir, 'index.html');
  assert.match(metaPolicy(html), /; connect-src 'self' https:\/\/llm\.example\.org http:\/\/10\.0\.0\.5:8080 https:\/\/\*\.openai\.azure\.com; worker-src/);
  assert.match(html, /<meta name="fannotate-csp" content="strict" \/>/);

  dir = staging(page());
  r = run(dir, { FANNOTATE_CSP: 'permissive', FANNOTATE_CONNECT_SRC: 'https://ignored.example' });
  assert.equal(r.code, 0, r.err);
  html = read(dir, 'index.html');
  assert.match(metaPolicy(html), /; connect-src 'self' https: http:; worker-src/);
  assert.match(html, /<meta name="fannotate-csp" content="permissive" \/>/);
  assert.match(r.out, /permissive Content-Security-Policy: .*connect-src 'self' https: http:;/);
  assert.equal(buildPolicy({}).policy, buildPolicy({ csp: 'strict', connectSrc: DEFAULT_CONNECT_SRC.join(' ') }).policy);
});

test('bad settings fail the build', () => {
  for (const env of [
    { FANNOTATE_CSP: 'off' },
    { FANNOTATE_CONNECT_SRC: "https://x.org; script-src 'unsafe-inline'" },
    { FANNOTATE_CONNECT_SRC: "'unsafe-eval'" },
    { FANNOTATE_CONNECT_SRC: 'https://x.org,https://y.org' },
    { FANNOTATE_CONNECT_SRC: 'https://x.org/"><script>' },
  ]) {
    const r = run(staging(page()), env);
    assert.equal(r.code, 1, JSON.stringify(env));
    assert.match(r.err, /postbuild: FAILED: FANNOTATE_/);
  }
});

test("an index.html without Trunk's start-up script fails the build", () => {
  const dir = staging(page('<script type="module" src="./other.js"></script>'));
  const before = read(dir, 'index.html');
  const r = run(dir);
  assert.equal(r.code, 1);
  assert.match(r.err, /postbuild: FAILED: Trunk's inline start-up <script type="module"> .* was not found/);
  assert.equal(read(dir, 'index.html'), before, 'nothing is written on failure');
  assert.ok(!fs.existsSync(path.join(dir, 'boot.js')));
});

test('any other inline script, handler or style fails the build', () => {
  const cases = [
    [page(`${TRUNK_SCRIPT}\n<script>console.log(1)</script>`), /1 other inline <script>.*console\.log/],
    [page(`${TRUNK_SCRIPT}\n<script>new WebSocket('ws://x/.well-known/trunk/ws')</script>`), /trunk serve --no-autoreload/],
    [page(TRUNK_SCRIPT, '<button onclick="go()">Go</button>'), /inline handlers or style attributes.*onclick/],
    [page(TRUNK_SCRIPT, '<div style="color:red"></div>'), /inline handlers or style attributes.*style="color:red"/],
    [page(`${TRUNK_SCRIPT}\n<style>body{}</style>`), /inline <style>/],
    [page(`<meta http-equiv="Content-Security-Policy" content="default-src *">\n${TRUNK_SCRIPT}`), /already has a Content-Security-Policy/],
    [page(`${TRUNK_SCRIPT}\n${TRUNK_SCRIPT}`), /expected one Trunk start-up script/],
  ];
  for (const [html, message] of cases) {
    const r = run(staging(html));
    assert.equal(r.code, 1, html);
    assert.match(r.err, message);
  }
});

test('a build without TRUNK_STAGING_DIR or a shell file fails clearly', () => {
  const r = spawnSync(process.execPath, [SCRIPT], { env: { PATH: process.env.PATH }, encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /TRUNK_STAGING_DIR is not set/);
  const dir = staging(page());
  fs.rmSync(path.join(dir, 'fannotate-element.js'));
  const r2 = run(dir);
  assert.equal(r2.code, 1);
  assert.match(r2.err, /fannotate-element\.js is missing/);
});
