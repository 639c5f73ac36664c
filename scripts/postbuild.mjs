#!/usr/bin/env node
// Trunk post-build hook (Trunk.toml `[[hooks]] stage = "post_build"`): makes the built
// page work under a strict Content-Security-Policy and adds the offline service worker.
// Dependency-free (node: built-ins only). Works on $TRUNK_STAGING_DIR (Trunk copies it
// to dist/ afterwards), or on a directory given as the only argument.
//
//  1. Trunk's inline start-up <script type="module"> moves to boot.js (plus the service
//     worker registration), so no inline script is left: the build fails if Trunk's
//     script is not found or if any other inline script or handler remains.
//  2. A <meta http-equiv="Content-Security-Policy"> becomes the first element of <head>.
//     connect-src is 'self' plus $FANNOTATE_CONNECT_SRC (space-separated origins, baked
//     in at build time), by default local endpoints only. FANNOTATE_CSP=permissive
//     allows any http(s) endpoint instead. <meta name="fannotate-csp"> says which.
//  3. sw.js is written from scripts/sw.template.js with VERSION (a hash of the built
//     files) and each shell file's SHA-256, so every build changes the worker and a
//     worker only ever caches one consistent set of files.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SW_TEMPLATE = path.join(HERE, 'sw.template.js');

/** connect-src origins of the strict default: endpoints on this machine only. */
export const DEFAULT_CONNECT_SRC = ['http://127.0.0.1:*', 'http://localhost:*', 'https://127.0.0.1:*', 'https://localhost:*'];

/** Files the service worker precaches (paths relative to the app's directory). */
export const SHELL_FILES = [
  'index.html', 'boot.js', 'fannotate.js', 'fannotate_bg.wasm', 'app.css', 'fannotate-element.js',
  // The compute worker, fetched on first use but cached up front for offline use.
  'fannotate-worker_loader.js', 'fannotate-worker.js', 'fannotate-worker_bg.wasm',
];

/** Marks Trunk's start-up script (wasm-bindgen init + its "started" event). */
const TRUNK_MARKERS = ['TrunkApplicationStarted', 'init('];

export class PostbuildError extends Error {}

/** A source expression for connect-src: a scheme, or a host with optional scheme/port/path. */
const SOURCE_RE = /^(?:[a-z][a-z0-9+.-]*:|(?:[a-z][a-z0-9+.-]*:\/\/)?(?:\*|(?:\*\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::(?:\d{1,5}|\*))?(?:\/[^\s;,'"<>]*)?)$/i;

/**
 * The policy for a build.
 * @param {{csp?: string, connectSrc?: string}} env  FANNOTATE_CSP and FANNOTATE_CONNECT_SRC
 * @returns {{mode: 'strict'|'permissive', policy: string}}
 */
export function buildPolicy(env = {}) {
  const mode = (env.csp ?? '').trim() || 'strict';
  if (mode !== 'strict' && mode !== 'permissive') {
    throw new PostbuildError(`FANNOTATE_CSP must be "strict" or "permissive", not ${JSON.stringify(env.csp)}`);
  }
  let connect;
  if (mode === 'permissive') {
    connect = ["'self'", 'https:', 'http:'];
  } else {
    const given = (env.connectSrc ?? '').trim();
    const list = given ? given.split(/\s+/) : DEFAULT_CONNECT_SRC;
    for (const s of list) {
      if (!SOURCE_RE.test(s)) {
        throw new PostbuildError(`FANNOTATE_CONNECT_SRC: ${JSON.stringify(s)} is not an origin such as https://llm.example.org or http://10.0.0.5:8080`);
      }
    }
    connect = ["'self'", ...new Set(list)];
  }
  const policy = [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connect.join(' ')}`,
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return { mode, policy };
}

const attr = (s) => s.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;');

/** SRI value (sha384) of some bytes. */
export function sri(bytes) {
  return `sha384-${crypto.createHash('sha384').update(bytes).digest('base64')}`;
}

/** Every <script> element of an HTML text with its attributes and body. */
function scripts(html) {
  const out = [];
  const re = /<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi;
  for (let m; (m = re.exec(html)); ) out.push({ start: m.index, end: m.index + m[0].length, attrs: m[1], body: m[2] });
  return out;
}

/**
 * Rewrite Trunk's index.html.
 * @param {string} html
 * @param {{policy: string, mode: string}} opts
 * @returns {{html: string, bootJs: string}}
 */
export function transformHtml(html, { policy, mode }) {
  if (/http-equiv\s*=\s*["']?content-security-policy/i.test(html)) {
    throw new PostbuildError('index.html already has a Content-Security-Policy <meta>: remove it, postbuild.mjs adds the policy');
  }
  const all = scripts(html);
  const inline = all.filter((s) => !/\ssrc\s*=/i.test(` ${s.attrs}`));
  const trunk = inline.filter((s) => TRUNK_MARKERS.every((m) => s.body.includes(m)));
  if (trunk.length !== 1) {
    throw new PostbuildError(
      trunk.length === 0
        ? "Trunk's inline start-up <script type=\"module\"> (wasm-bindgen init + TrunkApplicationStarted) was not found in index.html; did Trunk change its output?"
        : `expected one Trunk start-up script in index.html, found ${trunk.length}`,
    );
  }
  const [boot] = trunk;
  const others = inline.filter((s) => s !== boot);
  if (others.length) {
    const autoreload = others.some((s) => s.body.includes('.well-known/trunk/ws'));
    throw new PostbuildError(
      `index.html has ${others.length} other inline <script> the Content-Security-Policy would block` +
        (autoreload ? " (Trunk's autoreload from `trunk serve`: use `trunk serve --no-autoreload`, or ./dev serve)" : '') +
        `: ${others.map((s) => JSON.stringify(s.body.trim().slice(0, 60))).join(', ')}`,
    );
  }

  const bootJs = bootScript(boot.body);
  const tag = `<script type="module" src="./boot.js" integrity="${sri(bootJs)}"></script>`;
  let out = html.slice(0, boot.start) + tag + html.slice(boot.end);

  // Inline handlers and style attributes are blocked just like inline scripts.
  const tags = out.match(/<[a-z][^>]*>/gi) ?? [];
  const bad = tags.filter((t) => /\s(?:on[a-z]+|style)\s*=/i.test(t));
  if (bad.length) {
    throw new PostbuildError(`index.html has inline handlers or style attributes the policy blocks: ${bad.join(' ')}`);
  }
  if (/<style\b/i.test(out)) throw new PostbuildError('index.html has an inline <style> element the policy blocks');

  const head = /<head\b[^>]*>/i.exec(out);
  if (!head) throw new PostbuildError('index.html has no <head>');
  const at = head.index + head[0].length;
  const metas =
    `\n    <meta http-equiv="Content-Security-Policy" content="${attr(policy)}" />` +
    `\n    <meta name="fannotate-csp" content="${attr(mode)}" />`;
  out = out.slice(0, at) + metas + out.slice(at);
  return { html: out, bootJs };
}

/** boot.js: Trunk's start-up code, then the service worker registration. */
export function bootScript(trunkCode) {
  return `// Fannotate start-up, written by scripts/postbuild.mjs (no inline scripts: see the CSP).
// Trunk's start-up code, unchanged:
${trunkCode.trim()}

// Offline use: the service worker caches the app's files (not for file: pages). A new
// version it installs while this page runs is used from the next load; the app is told
// through window.fannotateUpdate = 'ready' and a 'fannotate:update-ready' event.
if ('serviceWorker' in navigator && location.protocol !== 'file:') {
  const sw = navigator.serviceWorker;
  const hadController = !!sw.controller;
  let told = false;
  const updateReady = () => {
    if (told || !hadController) return;
    told = true;
    window.fannotateUpdate = 'ready';
    dispatchEvent(new CustomEvent('fannotate:update-ready'));
  };
  sw.addEventListener('controllerchange', updateReady);
  const watch = (worker) => {
    if (worker) worker.addEventListener('statechange', () => { if (worker.state === 'activated') updateReady(); });
  };
  sw.register('./sw.js', { scope: './' }).then((reg) => {
    watch(reg.installing);
    watch(reg.waiting);
    reg.addEventListener('updatefound', () => watch(reg.installing));
  }, (e) => console.warn('Fannotate: no offline use, the service worker could not be registered:', e));
}
`;
}

const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest();

/** Files under `dir/sub` (recursively), as paths relative to `dir` with `/`. */
function filesUnder(dir, sub) {
  const root = path.join(dir, sub);
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath ?? d.path, d.name)).split(path.sep).join('/'))
    .sort();
}

/**
 * Write `dir/sw.js` from the template for the files now in `dir`.
 * @returns {{version: string, shell: Record<string, string>}}
 */
export function writeServiceWorker(dir, template = fs.readFileSync(SW_TEMPLATE, 'utf8')) {
  // wasm-bindgen puts JS snippets of dependencies under snippets/: part of the shell too.
  const files = [...SHELL_FILES, ...filesUnder(dir, 'snippets')];
  const shell = {};
  const all = crypto.createHash('sha256');
  for (const f of files) {
    const p = path.join(dir, f);
    if (!fs.existsSync(p)) throw new PostbuildError(`${f} is missing from the build (${dir}); the service worker needs it`);
    const bytes = fs.readFileSync(p);
    shell[f] = sha256(bytes).toString('base64');
    all.update(f).update('\0').update(bytes).update('\0');
  }
  const version = all.digest('hex').slice(0, 12);
  if (!template.includes("'__VERSION__'") || !template.includes('__SHELL__')) {
    throw new PostbuildError(`${SW_TEMPLATE} lacks the '__VERSION__' or __SHELL__ placeholder`);
  }
  const js = template.replace("'__VERSION__'", JSON.stringify(version)).replace('__SHELL__', JSON.stringify(shell, null, 2));
  fs.writeFileSync(path.join(dir, 'sw.js'), js);
  return { version, shell };
}

/** The whole hook on one directory. */
export function postbuild(dir, env = process.env) {
  const index = path.join(dir, 'index.html');
  if (!fs.existsSync(index)) throw new PostbuildError(`no index.html in ${dir}`);
  const { mode, policy } = buildPolicy({ csp: env.FANNOTATE_CSP, connectSrc: env.FANNOTATE_CONNECT_SRC });
  const { html, bootJs } = transformHtml(fs.readFileSync(index, 'utf8'), { policy, mode });
  // Check before writing anything, so a failed hook leaves the staging dir as it was.
  for (const f of SHELL_FILES) {
    if (f !== 'boot.js' && !fs.existsSync(path.join(dir, f))) {
      throw new PostbuildError(`${f} is missing from the build (${dir}); the service worker needs it`);
    }
  }
  fs.writeFileSync(path.join(dir, 'boot.js'), bootJs);
  fs.writeFileSync(index, html);
  const { version } = writeServiceWorker(dir);
  return { mode, policy, version };
}

function main() {
  const dir = process.argv[2] ?? process.env.TRUNK_STAGING_DIR;
  if (!dir) throw new PostbuildError('TRUNK_STAGING_DIR is not set (run as a Trunk hook, or pass the directory)');
  const { mode, policy, version } = postbuild(dir);
  console.log(`postbuild: ${mode} Content-Security-Policy: ${policy}`);
  console.log(`postbuild: boot.js written, sw.js version ${version}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main();
  } catch (e) {
    console.error(`postbuild: FAILED: ${e instanceof PostbuildError ? e.message : e.stack}`);
    process.exit(1);
  }
}
