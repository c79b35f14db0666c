// The installable app's page side: the service worker (and its "new version" prompt), Web Push
// subscriptions, the app badge, and closing the notifications of rooms read here.
import { api } from './api.js';

const $ = (id) => document.getElementById(id);

/** Registers the service worker; offers a reload when a new version is waiting. */
export async function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return null;
  let registration;
  try {
    registration = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  } catch {
    return null;
  }
  const offer = (worker) => {
    // Only an update: the first worker has nothing to replace.
    if (!worker || !navigator.serviceWorker.controller) return;
    $('update-banner').hidden = false;
    $('update-reload').onclick = () => worker.postMessage({ type: 'skip-waiting' });
  };
  offer(registration.waiting);
  registration.addEventListener('updatefound', () => {
    const worker = registration.installing;
    worker?.addEventListener('statechange', () => {
      if (worker.state === 'installed') offer(worker);
    });
  });
  let reloading = false;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (reloading || $('update-banner').hidden) return;
    reloading = true;
    location.reload();
  });
  return registration;
}

function keyBytes(base64url) {
  const text = atob(base64url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - base64url.length % 4) % 4));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function sameKey(subscription, key) {
  const current = subscription.options?.applicationServerKey;
  if (!current) return true;
  const a = new Uint8Array(current);
  const b = keyBytes(key);
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/**
 * Subscribes this device to pushes (or renews its subscription: the server's key may have been
 * rotated). `ask` asks for permission; without it, only a device that already gave it is
 * subscribed. Returns 'on', 'denied', 'unsupported', or 'default' (not asked yet).
 */
export async function subscribePush({ ask }) {
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) return 'unsupported';
  let permission = Notification.permission;
  if (permission === 'default' && ask) permission = await Notification.requestPermission();
  if (permission !== 'granted') return permission;
  const registration = await navigator.serviceWorker.ready;
  const { publicKey } = await api('GET', '/push/key');
  let subscription = await registration.pushManager.getSubscription();
  if (subscription && !sameKey(subscription, publicKey)) {
    await subscription.unsubscribe();
    subscription = null;
  }
  subscription ||= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(publicKey) });
  const json = subscription.toJSON();
  await api('POST', '/push/subscriptions', { endpoint: json.endpoint, keys: json.keys });
  return 'on';
}

/** The app badge and this device's notifications follow what is unread. */
export async function showUnread(rooms) {
  const total = rooms.reduce((sum, room) => sum + (room.unread || 0), 0);
  try {
    if (total > 0) await navigator.setAppBadge?.(total);
    else await navigator.clearAppBadge?.();
  } catch {
    // Badges are not everywhere.
  }
  if (!('serviceWorker' in navigator)) return;
  const registration = await navigator.serviceWorker.getRegistration();
  if (!registration) return;
  const read = new Set(rooms.filter((room) => !room.unread).map((room) => room.id));
  for (const notification of await registration.getNotifications()) {
    if (read.has(notification.data?.room)) notification.close();
  }
}

/** What this device's notification state means, and what to do about it. */
export function describePush(state) {
  const words = {
    on: 'This device gets notifications, also when Hearth is closed.',
    denied: 'This browser blocks notifications from Hearth. Allow them in the site settings (the icon left of the address), then reload.',
    unsupported: 'This browser cannot show notifications while Hearth is closed. On an iPhone, add Hearth to the home screen first (Share, then “Add to Home Screen”).',
    default: 'Notifications are off on this device: use “Turn on notifications”.',
    failed: 'Could not turn on notifications here; try again later.',
  };
  return words[state] || '';
}
