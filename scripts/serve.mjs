#!/usr/bin/env node
// Static file server for the built Fannotate app. Dependency-free (node: built-ins only).
//
//   node scripts/serve.mjs --dir dist --host 127.0.0.1 --port 8080
//     [--base /some/sub/path/] [--config-json '{"default_endpoint":"...","default_model":"..."}']
//
// Serves --dir under the URL prefix --base. With --config-json, `<base>config.json`
// answers with that JSON instead of a file: this is how the run command tells the
// app where the local LLM is. Prints `serving <dir> at http://HOST:PORT<base>`.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.map': 'application/json',
};

/** Content-Type for a file name. */
export function contentType(file) {
  return MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** Normalise a base path so it starts and ends with `/` (`''` and `/` give `/`). */
export function normaliseBase(base = '/') {
  let b = String(base).trim();
  if (!b.startsWith('/')) b = `/${b}`;
  if (!b.endsWith('/')) b = `${b}/`;
  return b.replace(/\/{2,}/g, '/');
}

/**
 * Start the static server.
 * @param {object} options
 * @param {string} options.dir            directory to serve
 * @param {string} [options.host='127.0.0.1']
 * @param {number} [options.port=0]
 * @param {string} [options.base='/']     URL prefix
 * @param {string|object} [options.configJson]  served as `<base>config.json`
 * @returns {Promise<{url: string, port: number, close: () => Promise<void>}>}
 */
export async function startStatic(options) {
  if (!options?.dir) throw new Error('--dir is required');
  const root = path.resolve(options.dir);
  const stat = await fs.promises.stat(root).catch(() => null);
  if (!stat?.isDirectory()) throw new Error(`not a directory: ${options.dir}`);
  const host = options.host ?? '127.0.0.1';
  const port = Number(options.port ?? 0);
  const base = normaliseBase(options.base ?? '/');

  // Parsed once up front so a typo fails at start, and re-serialised compactly.
  let configBody = null;
  if (options.configJson != null) {
    const value = typeof options.configJson === 'string' ? JSON.parse(options.configJson) : options.configJson;
    configBody = JSON.stringify(value);
  }

  const send = (req, res, status, body, type = 'text/plain; charset=utf-8', extra = {}) => {
    const buf = Buffer.from(body);
    res.writeHead(status, {
      'Content-Type': type,
      'Content-Length': buf.length,
      'Cache-Control': 'no-cache',
      ...extra,
    });
    res.end(req.method === 'HEAD' ? undefined : buf);
  };

  async function handle(req, res) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(req, res, 405, 'method not allowed\n', undefined, { Allow: 'GET, HEAD' });
    }
    // Work on the raw path: WHATWG URL parsing would silently collapse `..` and
    // `%2e%2e` segments, hiding traversal attempts instead of rejecting them.
    const raw = (req.url ?? '/').split(/[?#]/)[0];
    let pathname;
    try {
      pathname = decodeURIComponent(raw);
    } catch {
      return send(req, res, 400, 'bad request\n');
    }
    if (pathname.includes('\0')) return send(req, res, 400, 'bad request\n');

    // `/base` without its trailing slash: redirect so relative asset URLs resolve.
    if (`${pathname}/` === base && base !== '/') {
      return send(req, res, 301, 'moved\n', undefined, { Location: base });
    }
    if (!pathname.startsWith(base)) return send(req, res, 404, 'not found\n');

    const rel = pathname.slice(base.length);
    if (rel.split(/[/\\]/).includes('..')) return send(req, res, 403, 'forbidden\n');

    if (configBody !== null && rel === 'config.json') {
      return send(req, res, 200, configBody, 'application/json');
    }

    let file = path.resolve(root, rel);
    // Belt and braces after the `..` check: the resolved path must stay inside root.
    if (file !== root && !file.startsWith(root + path.sep)) return send(req, res, 403, 'forbidden\n');

    let st = await fs.promises.stat(file).catch(() => null);
    if (st?.isDirectory()) {
      if (!pathname.endsWith('/')) {
        return send(req, res, 301, 'moved\n', undefined, { Location: `${raw}/` });
      }
      file = path.join(file, 'index.html');
      st = await fs.promises.stat(file).catch(() => null);
    }
    if (!st?.isFile()) return send(req, res, 404, 'not found\n');

    res.writeHead(200, {
      'Content-Type': contentType(file),
      'Content-Length': st.size,
      'Cache-Control': 'no-cache',
    });
    if (req.method === 'HEAD') return res.end();
    const stream = fs.createReadStream(file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(req, res, 500, 'internal error\n');
      else res.destroy();
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = server.address().port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}${base}`;

  let closing = null;
  const close = () =>
    (closing ??= new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }));
  return { url, port: actualPort, close };
}

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
  for (const k of Object.keys(args)) {
    if (!['dir', 'host', 'port', 'base', 'config-json'].includes(k)) throw new Error(`unknown option --${k}`);
  }
  const s = await startStatic({
    dir: args.dir,
    host: args.host ?? '127.0.0.1',
    port: args.port ?? 8080,
    base: args.base ?? '/',
    configJson: args['config-json'],
  });
  console.log(`serving ${args.dir} at ${s.url}`);
  const stop = () => s.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(`serve: ${e.message}`);
    process.exit(1);
  });
}
