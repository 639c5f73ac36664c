// Fannotate's service worker: the app works offline once loaded. Written to sw.js by
// scripts/postbuild.mjs, which fills in VERSION (a hash of the built files) and SHELL
// (each app file with its SHA-256), so every build gives a new worker.
//
// - install: fetch the app's files, check each against its hash (a half-finished
//   deployment fails the install, to be retried on a later load) and cache them under
//   VERSION; the new worker then takes over at once. Pages keep running the code they
//   started with, since they load all of it at start: the new files are used from the
//   next load on.
// - activate: delete this app's caches of other versions; control open pages.
// - fetch: the app page and its files come from the cache (one consistent version:
//   index.html pins the others with integrity hashes), the network only if missing;
//   config.json from the network, the cached copy when offline. Nothing else is
//   touched: requests to other origins (LLM endpoints), POSTs and other files go to
//   the network as if there were no worker, and are never cached.

const VERSION = '__VERSION__';
/** App file (relative to this worker's directory) -> base64 SHA-256. */
const SHELL = __SHELL__;

/** The app's directory: the worker may live under any sub-path. */
const BASE = new URL('./', self.location.href);
/** Caches are per origin: the path keeps apps at other sub-paths apart. */
const PREFIX = `fannotate:${BASE.pathname}:`;
const CACHE = PREFIX + VERSION;
/** How long config.json may take before a cached copy is used. */
const CONFIG_WAIT_MS = 3000;

const here = (file) => new URL(file, BASE).href;

function base64(buffer) {
  let s = '';
  for (const b of new Uint8Array(buffer)) s += String.fromCharCode(b);
  return btoa(s);
}

async function precache() {
  const cache = await caches.open(CACHE);
  try {
    await Promise.all(
      Object.entries(SHELL).map(async ([file, hash]) => {
        const res = await fetch(here(file), { cache: 'no-cache' });
        if (!res.ok) throw new Error(`${file}: HTTP ${res.status}`);
        const body = await res.arrayBuffer();
        if (base64(await crypto.subtle.digest('SHA-256', body)) !== hash) {
          throw new Error(`${file} is not the one of version ${VERSION}`);
        }
        const type = res.headers.get('Content-Type');
        await cache.put(here(file), new Response(body, { headers: type ? { 'Content-Type': type } : {} }));
      }),
    );
  } catch (e) {
    await caches.delete(CACHE);
    throw e;
  }
}

self.addEventListener('install', (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const old = (await caches.keys()).filter((n) => n.startsWith(PREFIX) && n !== CACHE);
      await Promise.all(old.map((n) => caches.delete(n)));
      await self.clients.claim();
    })(),
  );
});

async function fromCache(file, request) {
  const hit = await (await caches.open(CACHE)).match(here(file));
  return hit ?? fetch(request);
}

async function networkFirst(file, request) {
  const cache = await caches.open(CACHE);
  const network = fetch(request).then(async (res) => {
    if (res.ok) await cache.put(here(file), res.clone());
    else if (res.status === 404 || res.status === 410) await cache.delete(here(file));
    return res;
  });
  network.catch(() => {}); // handled below; not an unhandled rejection when the cache won
  const cached = () => cache.match(here(file));
  const slow = new Promise((resolve) => setTimeout(resolve, CONFIG_WAIT_MS)).then(async () => (await cached()) ?? network);
  try {
    return await Promise.race([network, slow]);
  } catch (e) {
    const hit = await cached();
    if (hit) return hit;
    throw e;
  }
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== BASE.origin || !url.pathname.startsWith(BASE.pathname)) return;
  const file = url.pathname.slice(BASE.pathname.length);
  if (request.mode === 'navigate') {
    if (file === '' || file === 'index.html') event.respondWith(fromCache('index.html', request));
  } else if (file === 'config.json') {
    event.respondWith(networkFirst(file, request));
  } else if (Object.hasOwn(SHELL, file) && !url.search) {
    event.respondWith(fromCache(file, request));
  }
});
