/**
 * The continuity inbox's service worker: keeps the app shell (the page, its bundles, its icons) so the
 * inbox opens at once and also without a network. It never stores mail or API answers: the app keeps
 * the last loaded messages itself and marks them as offline (addin/inbox/offline.ts).
 */

interface ExtendableEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  request: Request;
  respondWith(r: Promise<Response> | Response): void;
}
interface WorkerScope {
  addEventListener(type: 'install' | 'activate', listener: (e: ExtendableEvent) => void): void;
  addEventListener(type: 'fetch', listener: (e: FetchEvent) => void): void;
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void> };
  location: Location;
}
const worker = self as unknown as WorkerScope;

const CACHE = 'lifeboat-shell-v1';
const SHELL = '/';
/** Content-hashed bundles and icons: the same URL never changes, so the cached copy is always right. */
const STATIC = /^\/(inbox|addin\/assets)\//;

async function precache(): Promise<void> {
  const cache = await caches.open(CACHE);
  const page = await fetch(SHELL, { cache: 'no-store' });
  if (!page.ok) return;
  const html = await page.clone().text();
  await cache.put(SHELL, page);
  // The production build leaves attribute values unquoted where it can.
  const assets = [...html.matchAll(/(?:src|href)=["']?(\/(?:inbox|addin\/assets)\/[^"'\s>]+)/g)].map((m) => m[1]!);
  await Promise.all(assets.map((url) => cache.add(url).catch(() => undefined)));
}

worker.addEventListener('install', (event) => {
  event.waitUntil(precache().then(() => worker.skipWaiting()));
});

worker.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => worker.clients.claim()),
  );
});

worker.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== worker.location.origin) return;
  if (request.mode === 'navigate' && url.pathname === SHELL) {
    // The shell from the cache at once; the network refreshes it for next time.
    event.respondWith(
      caches.open(CACHE).then(async (cache) => {
        const cached = await cache.match(SHELL);
        const fresh = fetch(request)
          .then((res) => {
            if (res.ok) void cache.put(SHELL, res.clone());
            return res;
          })
          .catch(() => cached ?? Response.error());
        return cached ?? fresh;
      }),
    );
    return;
  }
  if (STATIC.test(url.pathname)) {
    event.respondWith(
      caches.open(CACHE).then(async (cache) => {
        const cached = await cache.match(request);
        if (cached) return cached;
        const res = await fetch(request);
        if (res.ok) void cache.put(request, res.clone());
        return res;
      }),
    );
  }
});
