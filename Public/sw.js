// Hearth's service worker: the app shell offline, and push notifications.
//
// The server fills in VERSION (a fingerprint of the build's files) and SHELL (the files the
// page needs to start) when it starts, so a new build is a new worker: it installs beside the
// old one and the page offers to reload. Only the shell is cached — never messages,
// attachments, tokens or anything else a signed-in person sees.
const VERSION = '__VERSION__';
const SHELL = ['__SHELL__'];
const CACHE = `hearth-shell-${VERSION}`;
/** The pages the chat app answers; the admin panel and setup page are the network's alone. */
const APP_PAGES = /^\/((invite|link)\/[^/]+)?$/;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL.map((path) => new Request(path, { cache: 'reload' })))));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith('hearth-shell-') && key !== CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;
  if (request.mode === 'navigate') {
    if (!APP_PAGES.test(url.pathname)) return;
    // The network first (it has the newest page); without one, the cached shell.
    event.respondWith(fetch(request).catch(async () => (await caches.match('/', { cacheName: CACHE })) || Response.error()));
    return;
  }
  if (!SHELL.includes(url.pathname)) return;
  event.respondWith(caches.match(request, { cacheName: CACHE, ignoreSearch: true }).then((hit) => hit || fetch(request)));
});

self.addEventListener('message', (event) => {
  const data = event.data || {};
  if (data.type === 'skip-waiting') self.skipWaiting();
});

self.addEventListener('push', (event) => {
  let data = null;
  try {
    data = event.data ? event.data.json() : null;
  } catch {
    data = null;
  }
  event.waitUntil(show(data));
});

/** Shows a push (docs/PROTOCOL.md, "Push notifications"): one notification per room. */
async function show(data) {
  if (!data || typeof data.title !== 'string') {
    await self.registration.showNotification('Hearth', { body: 'New message', tag: 'hearth', icon: '/icon-192.png' });
    return;
  }
  // Rooms read on another device since their notification: it goes.
  if (data.unread) {
    for (const notification of await self.registration.getNotifications()) {
      const room = notification.data?.room;
      if (room && room !== data.room && !data.unread[String(room)]) notification.close();
    }
  }
  try {
    if (data.badge > 0) await navigator.setAppBadge?.(data.badge);
    else await navigator.clearAppBadge?.();
  } catch {
    // Badges are not everywhere.
  }
  const ring = data.kind === 'call';
  await self.registration.showNotification(data.title, {
    body: data.body,
    tag: data.tag || 'hearth',
    renotify: true,
    silent: Boolean(data.silent),
    // A ring stays until answered or dismissed, and vibrates like one.
    requireInteraction: ring,
    vibrate: ring ? [400, 200, 400, 200, 400] : undefined,
    // The sender's avatar when the server's and the user's preview settings let it name them.
    icon: data.icon || '/icon-192.png',
    badge: '/icon-192.png',
    timestamp: Date.now(),
    data: { url: data.url || '/', room: data.room || null, kind: data.kind },
  });
}

self.addEventListener('notificationclick', (event) => {
  event.waitUntil(clicked(event.notification));
});

/** Opens the notification's room: in a Hearth tab already open (focused), else a new one. */
async function clicked(notification) {
  notification.close();
  const { url = '/', room = null } = notification.data || {};
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find((client) => new URL(client.url).origin === self.location.origin);
  if (open) {
    await open.focus?.().catch(() => {});
    open.postMessage({ type: 'open-room', room });
    return;
  }
  await self.clients.openWindow(new URL(url, self.location.origin).href);
}
