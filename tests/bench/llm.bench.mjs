#!/usr/bin/env node
// Client throughput benchmark: how close a run of the release app in headless
// Chromium gets to what the browser's connection limits allow, against the mock
// endpoint with a fixed latency. Run by `.ci/bench llm`; needs dist/ built.
//
//   node tests/bench/llm.bench.mjs [--out bench-results/llm.json] [--only http1,http2,sequential]
//
// Scenarios (one browser, a fresh context and project each, results persisted):
//   sequential  plain HTTP/1.1, concurrency 1 (the original tool's design): ideal 1 / latency
//   http1       plain HTTP/1.1, concurrency 8: Chromium allows 6 connections per host,
//               so ideal = 6 / latency
//   http2       HTTPS with HTTP/2 (self-signed certificate made now, trusted by this
//               browser only through its key hash), concurrency 64: ideal 64 / latency
// items_per_s is the app's own figure (run-rate's data-rate: finished items over the
// time since the run started, taken after the last results are written);
// server_items_per_s is the mock's view (first request start to last response end).
// The mock runs in its own process: sharing this one's event loop with Playwright's
// client delays its answers by several milliseconds at times.
//
// The harness is not attached while requests run: Chromium is started by hand with
// a DevTools port, Playwright connects to set the project up and click Start, then
// disconnects until the mock has answered every request, and reconnects to read the
// figures. An attached DevTools client (Playwright enables the Network domain)
// costs the browser about a quarter of its HTTP/2 throughput on two cores, which no
// user pays. FANNOTATE_PROFILE=1 stays attached and prints a CPU profile instead.
//
// Beside the app, each scenario measures in the same run what bounds it on this
// machine: the same requests from a bare fetch loop in the same page (also
// detached), from Node's own client (no browser), and the CPU time the browser's
// processes and the mock spend per item, from /proc.

import { expect } from '@playwright/test';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { Fannotate, ROOT, SPAM_CSV, DIST } from '../e2e/support.mjs';
import { spawn } from 'node:child_process';
import { selfSignedCert } from '../mock/tls.mjs';
import { CHROMIUM_ARGS, CHROMIUM_PATH, check, csvField, spamTexts, tempDir } from './common.mjs';
import { chromium } from 'playwright-core';
import http from 'node:http';
import http2 from 'node:http2';
import { startStatic } from '../../scripts/serve.mjs';

const LATENCY_MS = 100;
/** Chromium's connections per host over HTTP/1.1. */
const H1_CONNECTIONS = 6;
const SPAM = [['ham', 'a normal email'], ['spam', 'unsolicited bulk email']];
const SCENARIOS = {
  sequential: { tls: false, concurrency: 1, items: 50 },
  http1: { tls: false, concurrency: 8, items: 600 },
  http2: { tls: true, concurrency: 64, items: 6400 },
};

function parseArgs(argv) {
  const out = { out: path.join(ROOT, 'bench-results/llm.json'), only: Object.keys(SCENARIOS) };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') out.out = path.resolve(argv[++i]);
    else if (argv[i] === '--only') out.only = argv[++i].split(',');
    else throw new Error(`unknown argument: ${argv[i]}`);
  }
  for (const s of out.only) if (!SCENARIOS[s]) throw new Error(`unknown scenario: ${s}`);
  return out;
}

/** Give up waiting for a scenario's requests after this long. */
const SCENARIO_TIMEOUT_MS = 300_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The app's default cut of a text before it goes into the prompt (Project::max_text_chars). */
const MAX_TEXT_CHARS = 4000;

/**
 * A CSV of `n` SpamAssassin rows with only text and label (no id column, so the
 * app generates ids); rows cycle when `n` exceeds the sample, repeating texts.
 */
function spamRows(sample, n) {
  const lines = ['text,label'];
  for (let i = 0; i < n; i++) {
    const r = sample[i % sample.length];
    lines.push(`${csvField(r.text)},${csvField(r.label)}`);
  }
  const file = path.join(tempDir(), `spam-${n}.csv`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** The mock's admin API over HTTP or HTTPS (trusting `ca`). */
function admin(llm, route, body, ca) {
  const url = `${llm.url}/__admin/${route}`;
  if (!ca) {
    return fetch(url, body === undefined ? {} : {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    }).then((r) => r.json());
  }
  return new Promise((resolve, reject) => {
    const data = body === undefined ? null : JSON.stringify(body);
    const req = https.request(url, {
      method: data ? 'POST' : 'GET', ca, headers: data ? { 'Content-Type': 'application/json' } : {},
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))); } catch (e) { reject(e); }
      });
    });
    req.on('error', reject);
    req.end(data ?? undefined);
  });
}

/** Print the functions with the most self time in a CDP CPU profile. */
function printProfile(name, profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const total = profile.samples.length;
  for (const id of profile.samples) {
    const f = byId.get(id).callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url ? path.basename(f.url) : ''}`.trim();
    self.set(key, (self.get(key) ?? 0) + 1);
  }
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 30);
  console.log(`CPU profile, ${name}: ${total} samples`);
  for (const [k, n] of top) console.log(`  ${((100 * n) / total).toFixed(1).padStart(5)} %  ${k}`);
}

/** Start tests/mock/server.mjs in a child process; resolves to {url, close}. */
async function startMockProcess(cert) {
  const args = [path.join(ROOT, 'tests/mock/server.mjs'), '--host', '127.0.0.1', '--port', '0', '--gold', SPAM_CSV,
    '--latency-ms', String(LATENCY_MS)];
  if (cert) args.push('--tls-key', cert.keyFile, '--tls-cert', cert.certFile);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  // Never leave the mock behind, whatever way this script ends.
  process.once('exit', () => child.exitCode === null && child.kill());
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /mock listening on (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`mock exited with ${code}`)));
  });
  const close = () => new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    process.kill(child.pid, 'SIGTERM');
  });
  return { url, close, pid: child.pid };
}

/** CPU time (user + system) of a process in ms, from /proc; 0 once it is gone. */
function cpuMs(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may hold spaces: utime and stime are 14 and 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}
/** Linux reports CPU times in clock ticks of 1/100 s on every supported architecture. */
const CLOCK_TICKS = 100;

/** Chromium's process role from its command line: browser, renderer, network, storage, gpu, … */
function chromiumRole(pid) {
  let cmd = '';
  try {
    cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return 'gone';
  }
  const type = /--type=([a-z-]+)/.exec(cmd)?.[1];
  if (!type) return 'browser';
  if (type !== 'utility') return type;
  const sub = /--utility-sub-type=([a-z_.]+)/.exec(cmd)?.[1] ?? '';
  if (sub.startsWith('network.')) return 'network';
  if (sub.startsWith('storage.')) return 'storage';
  return 'utility';
}

/**
 * CPU ms of `root` and all its descendants (Chromium's browser, zygotes, renderers,
 * utilities), by process role, with the sum under `total`.
 */
function treeCpuMs(root) {
  const out = { total: 0 };
  for (const pid of [root, ...descendants(root)]) {
    const ms = cpuMs(pid);
    const role = chromiumRole(pid);
    out[role] = (out[role] ?? 0) + ms;
    out.total += ms;
  }
  return out;
}

/** Every process below `root`, from the parent links in /proc. */
function descendants(root) {
  const parent = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended while listing.
    }
  }
  const below = (pid) => {
    for (let p = parent.get(pid); p > 1; p = parent.get(p)) if (p === root) return true;
    return false;
  };
  return [...parent.keys()].filter(below);
}

/** Per-item CPU ms between two `treeCpuMs` readings, by role (rounded for printing). */
function cpuPerItem(before, after, items) {
  const out = {};
  for (const [role, ms] of Object.entries(after)) out[role] = Number(((ms - (before[role] ?? 0)) / items).toFixed(3));
  return out;
}

/**
 * Debian's Chromium with the e2e flags and a DevTools port, started by hand so that
 * Playwright can connect over CDP, disconnect while the page works, and reconnect.
 */
async function startChromium(extraArgs) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fa-bench-profile-'));
  const child = spawn(CHROMIUM_PATH, [...CHROMIUM_ARGS, '--remote-debugging-port=0', `--user-data-dir=${dir}`, ...extraArgs, 'about:blank'],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  process.once('exit', () => child.exitCode === null && child.kill());
  const ws = await new Promise((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`chromium exited with ${code}: ${err.slice(-500)}`)));
  });
  return {
    pid: child.pid,
    connect: () => chromium.connectOverCDP(ws),
    close: async () => {
      // Chromium's helper processes outlive the browser process for a moment and
      // may still write to the profile: wait for every one of them.
      const helpers = descendants(child.pid);
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill();
        await exited;
      }
      for (let i = 0; i < 50 && helpers.some((pid) => fs.existsSync(`/proc/${pid}`)); i++) await sleep(100);
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    },
  };
}

/** Wait until the mock has ended `n` chat requests since its last reset. */
async function waitChatEnded(llm, n, ca) {
  const until = Date.now() + SCENARIO_TIMEOUT_MS;
  for (;;) {
    const stats = await admin(llm, 'stats', undefined, ca);
    if (stats.chat_ended >= n) return stats;
    if (Date.now() > until) throw new Error(`the mock ended ${stats.chat_ended} of ${n} chat requests in time`);
    await sleep(250);
  }
}

/**
 * Node's own HTTP client against the mock, `n` chat requests with `conc` at once
 * (over HTTP/2 on one session, or over 6 kept-alive HTTP/1.1 connections like a
 * browser): what the mock and this machine deliver without a browser.
 */
async function nativeClient(llm, ca, bodies, n, conc) {
  const url = new URL(`${llm.url}/v1/chat/completions`);
  const headers = { 'content-type': 'application/json' };
  let send;
  let close = () => {};
  if (ca) {
    const session = http2.connect(url.origin, { ca });
    close = () => session.close();
    send = (body) => new Promise((resolve, reject) => {
      const req = session.request({ ':method': 'POST', ':path': url.pathname, ...headers });
      req.on('response', () => {});
      req.on('data', () => {});
      req.on('end', resolve);
      req.on('error', reject);
      req.end(body);
    });
  } else {
    const agent = new http.Agent({ keepAlive: true, maxSockets: H1_CONNECTIONS });
    close = () => agent.destroy();
    send = (body) => new Promise((resolve, reject) => {
      const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
        res.on('data', () => {});
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end(body);
    });
  }
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < n) await send(bodies[next++ % bodies.length]);
  };
  await Promise.all(Array.from({ length: conc }, worker));
  const rate = n / ((performance.now() - t0) / 1000);
  close();
  return rate;
}

/** The page of the app among the connected browser's pages. */
function appPage(browser, web) {
  const page = browser.contexts()[0].pages().find((p) => p.url().startsWith(web.url));
  check(page, 'the app page is still open after reconnecting');
  return page;
}

async function runScenario(web, llm, cert, name, { concurrency, items }, sample) {
  const file = spamRows(sample, items);
  const ca = cert?.cert ?? null;
  const profile = Boolean(process.env.FANNOTATE_PROFILE);
  // Only this browser trusts the throwaway certificate.
  const chrome = await startChromium(cert ? [`--ignore-certificate-errors-spki-list=${cert.spki}`] : []);
  try {
    let browser = await chrome.connect();
    const page = await browser.contexts()[0].newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    let app = new Fannotate(page);
    await app.open(web.url);
    await app.createProject(`Bench ${name}`);
    await app.importCsv(file, { text: 'text', id: null, gold: 'label' });
    await expect(app.byTest('dataset-rows')).toHaveText(String(items), { timeout: 30_000 });
    await app.defineAttribute('spam', SPAM);
    await app.configureEndpoint({
      baseUrl: `${llm.url}/v1`, model: 'mock-model', concurrency, constraint: 'none', provider: 'generic', timeout: 60,
    });
    await app.step('run');
    await admin(llm, 'reset', {}, ca);
    // FANNOTATE_PROFILE=1: stay attached, sample the page's CPU during the run and print where it went.
    const cdp = profile ? await page.context().newCDPSession(page) : null;
    if (cdp) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
      await cdp.send('Profiler.start');
    }
    const cpu0 = { browser: treeCpuMs(chrome.pid), mock: cpuMs(llm.pid) };
    const seq = await app.startRun();
    if (!profile) await browser.close(); // disconnects; the page and its run go on
    await waitChatEnded(llm, items, ca);
    const cpu1 = { browser: treeCpuMs(chrome.pid), mock: cpuMs(llm.pid) };
    if (!profile) {
      browser = await chrome.connect();
      app = new Fannotate(appPage(browser, web));
    }
    await app.waitRunFinished(items, seq);
    if (cdp) printProfile(name, (await cdp.send('Profiler.stop')).profile);
    const rate = Number(await app.byTest('run-rate').getAttribute('data-rate'));
    const appMax = Number(await app.byTest('run-max-in-flight').textContent());
    check(Number.isFinite(rate) && rate > 0, `${name}: run-rate data-rate is a positive number (${rate})`);

    const log = await admin(llm, 'log', undefined, ca);
    const posts = log.requests.filter((r) => r.method === 'POST' && r.path === '/v1/chat/completions');
    check(posts.length === items, `${name}: ${posts.length} chat requests for ${items} items`);
    check(posts.every((r) => r.status === 200), `${name}: every chat request answered 200`);
    const versions = [...new Set(posts.map((r) => r.http))];
    const preflights = log.requests.filter((r) => r.method === 'OPTIONS').length;
    if (ca) {
      check(versions.length === 1 && versions[0] === '2.0', `${name}: HTTP/2 only (got ${versions})`);
      check(log.max_in_flight >= 60, `${name}: mock saw ≥ 60 in flight (got ${log.max_in_flight})`);
    } else {
      check(versions.every((v) => v === '1.1'), `${name}: HTTP/1.1 (got ${versions})`);
      check(log.max_in_flight <= H1_CONNECTIONS, `${name}: mock saw ≤ ${H1_CONNECTIONS} in flight (got ${log.max_in_flight})`);
    }
    const first = Math.min(...posts.map((r) => r.ts));
    const last = Math.max(...posts.map((r) => r.ts + r.ms));
    const serverMs = posts.map((r) => r.ms).sort((a, b) => a - b);

    await app.step('results');
    const counts = await app.byTest('results-counts').textContent();
    const m = /(\d+) labelled · (\d+) invalid answers · (\d+) failed requests/.exec(counts ?? '');
    check(m, `${name}: results-counts reads "${counts}"`);
    const persisted = Number(m[1]) + Number(m[2]) + Number(m[3]);
    check(persisted === items, `${name}: ${persisted} results persisted for ${items} items`);

    // The browser's own ceiling on this machine: the same number of chat
    // requests about the same texts (so the mock has the same matching work), as
    // many at once, from a bare fetch loop in the same page (no app, no parsing,
    // no storage), detached like the app's run.
    const bodies = sample.slice(0, items).map(({ text }) => JSON.stringify({ model: 'mock-model', temperature: 0, max_tokens: 16,
      stream: false, messages: [{ role: 'user', content: `Is this spam? ${text.slice(0, MAX_TEXT_CHARS)}` }] }));
    let bare = null;
    if (items > 1) {
      await admin(llm, 'reset', {}, ca);
      if (cdp) await cdp.send('Profiler.start');
      const cpu2 = { browser: treeCpuMs(chrome.pid), mock: cpuMs(llm.pid) };
      await app.page.evaluate(({ url, n, conc, bodies }) => {
        let next = 0;
        const t0 = performance.now();
        const worker = async () => {
          while (next < n) {
            const body = bodies[next++ % bodies.length];
            const r = await fetch(url, { method: 'POST', mode: 'cors', headers: { 'Content-Type': 'application/json' }, body });
            await r.text();
          }
        };
        window.__bareRate = Promise.all(Array.from({ length: conc }, worker)).then(() => n / ((performance.now() - t0) / 1000));
      }, { url: `${llm.url}/v1/chat/completions`, n: items, conc: concurrency, bodies });
      if (!profile) await browser.close();
      await waitChatEnded(llm, items, ca);
      const cpu3 = { browser: treeCpuMs(chrome.pid), mock: cpuMs(llm.pid) };
      if (!profile) browser = await chrome.connect();
      const rateBare = await appPage(browser, web).evaluate(() => window.__bareRate);
      if (cdp) printProfile(`${name}, bare fetch loop`, (await cdp.send('Profiler.stop')).profile);
      bare = { rate: rateBare, browserCpu: (cpu3.browser.total - cpu2.browser.total) / items, roles: cpuPerItem(cpu2.browser, cpu3.browser, items), mockCpu: (cpu3.mock - cpu2.mock) / items };
    }
    await browser.close();
    // What the mock and the machine deliver without a browser.
    const native = items > 1 ? await nativeClient(llm, ca, bodies, items, concurrency) : null;

    const ideal = Math.min(concurrency, ca ? Infinity : H1_CONNECTIONS) / (LATENCY_MS / 1000);
    const browserCpu = (cpu1.browser.total - cpu0.browser.total) / items;
    const mockCpu = (cpu1.mock - cpu0.mock) / items;
    return {
      concurrency,
      latency_ms: LATENCY_MS,
      items,
      items_per_s: rate,
      ideal_items_per_s: ideal,
      ratio_to_ideal: rate / ideal,
      server_items_per_s: items / ((last - first) / 1000),
      max_in_flight: log.max_in_flight,
      browser_cpu_ms_per_item: browserCpu,
      mock_cpu_ms_per_item: mockCpu,
      // CPU cores the browser and the mock together would need at the ideal rate.
      cores_needed_at_ideal: ((browserCpu + mockCpu) * ideal) / 1000,
      ...(bare ? {
        browser_fetch_items_per_s: bare.rate,
        ratio_to_browser_fetch: rate / bare.rate,
        browser_fetch_cpu_ms_per_item: bare.browserCpu,
        browser_fetch_cores_needed_at_ideal: ((bare.browserCpu + bare.mockCpu) * ideal) / 1000,
      } : {}),
      ...(native ? { native_client_items_per_s: native, native_ratio_to_ideal: native / ideal } : {}),
      // Not in the JSON: for the table and for investigating a missed target.
      _extra: {
        http: versions.join('/'), app_max_in_flight: appMax, preflights,
        cpu_roles: { ...cpuPerItem(cpu0.browser, cpu1.browser, items), mock: mockCpu }, bare_cpu_roles: bare && { ...bare.roles, mock: bare.mockCpu },
        server_ms_median: serverMs[Math.floor(serverMs.length / 2)], server_ms_max: serverMs.at(-1),
      },
    };
  } finally {
    await chrome.close();
  }
}

function table(results) {
  const cols = ['scenario', 'http', 'conc', 'items', 'items/s', 'ideal', 'ratio', 'bare fetch/s', 'node/s', 'server/s', 'in flight',
    'srv ms p50/max', 'browser cpu ms/item app (bare)', 'cores at ideal app (bare)'];
  const rows = Object.entries(results).map(([name, r]) => [
    name, r._extra.http, r.concurrency, r.items, r.items_per_s.toFixed(1), r.ideal_items_per_s.toFixed(0),
    r.ratio_to_ideal.toFixed(3), r.browser_fetch_items_per_s?.toFixed(1) ?? '–', r.native_client_items_per_s?.toFixed(1) ?? '–',
    r.server_items_per_s.toFixed(1), r.max_in_flight, `${r._extra.server_ms_median}/${r._extra.server_ms_max}`,
    `${r.browser_cpu_ms_per_item.toFixed(2)} (${r.browser_fetch_cpu_ms_per_item?.toFixed(2) ?? '–'})`,
    `${r.cores_needed_at_ideal.toFixed(2)} (${r.browser_fetch_cores_needed_at_ideal?.toFixed(2) ?? '–'})`,
  ].map(String));
  const width = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const line = (r) => r.map((v, i) => (i === 0 ? v.padEnd(width[i]) : v.padStart(width[i]))).join('  ');
  return [line(cols), ...rows.map(line)].join('\n');
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  // The figures are CPU-bound on small machines: say how busy this one was.
  const load = () => os.loadavg()[0].toFixed(2);
  const loadBefore = load();
  const sample = spamTexts();
  const cert = selfSignedCert();
  const web = await startStatic({ dir: DIST, host: '127.0.0.1', port: 0 });
  const [plain, secure] = await Promise.all([startMockProcess(null), startMockProcess(cert)]);
  const results = {};
  try {
    for (const name of args.only) {
      const sc = SCENARIOS[name];
      results[name] = await runScenario(web, sc.tls ? secure : plain, sc.tls ? cert : null, name, sc, sample);
    }
  } finally {
    await Promise.all([web.close(), plain.close(), secure.close()]);
  }

  console.log(table(results));
  console.log(`${os.cpus().length} CPUs; 1-min load average ${loadBefore} before, ${load()} after`);
  for (const [name, r] of Object.entries(results)) {
    console.log(`${name}: CPU ms per item by process (total: all of Chromium; mock: the mock server), app ${JSON.stringify(r._extra.cpu_roles)}; bare fetch ${JSON.stringify(r._extra.bare_cpu_roles ?? {})}`);
  }
  console.log('browser cpu ms/item: all of Chromium\'s processes, per item, from /proc; cores at ideal: that plus the mock\'s, at the ideal rate');
  const seq = results.sequential?.items_per_s;
  const out = {};
  for (const [name, r] of Object.entries(results)) {
    const { _extra, ...fields } = r;
    out[name] = seq ? { ...fields, ratio_to_sequential: r.items_per_s / seq } : fields;
    out[name].cpus = os.cpus().length;
  }
  if (seq) {
    out.sequential_items_per_s = seq;
    if (results.http2) out.ratio_to_sequential = results.http2.items_per_s / seq;
    console.log(`http2 / sequential: ${(out.ratio_to_sequential ?? NaN).toFixed(1)}×  (${((Date.now() - t0) / 1000).toFixed(0)} s in all)`);
  }
  fs.mkdirSync(path.dirname(args.out), { recursive: true });
  fs.writeFileSync(args.out, JSON.stringify(out, null, 2) + '\n');
  const missed = Object.entries(results).filter(([, r]) => r.ratio_to_ideal < 0.95).map(([n, r]) => `${n} ${r.ratio_to_ideal.toFixed(3)}`);
  if (missed.length) console.log(`below 0.95 of ideal: ${missed.join(', ')}`);
}

main().catch((e) => {
  console.error(`bench llm: ${e.stack ?? e.message}`);
  process.exit(1);
});
