// The page: signed out (sign in, register), the /link/<code> page, or the chat.
import { api, deviceName, showError } from './api.js';
import { Chat } from './chat.js';
import { initLinking, showLinkPage } from './link.js';
import { watchDialogs } from './dialogs.js';
import { Search } from './search.js';
import { describePush, registerServiceWorker } from './pwa.js';
import { initProfile, showProfile } from './profile.js';

const $ = (id) => document.getElementById(id);
const loginForm = $('login-form');
const registerForm = $('register-form');
let chat = null;

function selectTab(register) {
  loginForm.hidden = register;
  registerForm.hidden = !register;
  $('tab-login').setAttribute('aria-selected', String(!register));
  $('tab-register').setAttribute('aria-selected', String(register));
}

async function showSignedIn(me) {
  $('loading').hidden = true;
  $('signed-out').hidden = true;
  $('link-page').hidden = true;
  $('signed-in').hidden = false;
  showProfile(me.user);
  $('me-device').textContent = me.device.name;
  $('admin-link-row').hidden = !['admin', 'moderator'].includes(me.user.role);
  // Kept for a start without a network (the service worker has the page; this says who).
  localStorage.setItem(SIGNED_IN, JSON.stringify(me));
  // Nothing of the last person's search stays on a shared screen.
  $('search').value = '';
  $('search-status').textContent = '';
  $('search-results').replaceChildren();
  $('search-results').hidden = true;
  $('room-list').hidden = false;
  chat = new Chat(me, { onSignedOut: () => signOut(false) });
  await chat.start();
}

/** localStorage's copy of `GET /me`, for opening the app offline. */
const SIGNED_IN = 'hearth:me';

async function loadDevices() {
  const list = $('device-list');
  try {
    const { devices } = await api('GET', '/devices');
    list.replaceChildren(...devices.filter((device) => device.active).map((device) => {
      const item = document.createElement('li');
      const label = document.createElement('span');
      const seen = new Date(device.lastSeenAt).toLocaleString();
      label.textContent = `${device.name}${device.current ? ' (this device)' : ''} · last seen ${seen}`;
      item.append(label);
      if (!device.current) {
        const revoke = document.createElement('button');
        revoke.type = 'button';
        revoke.className = 'secondary small';
        revoke.textContent = 'Sign out';
        revoke.dataset.testid = 'device-revoke';
        revoke.addEventListener('click', async () => {
          await api('DELETE', `/devices/${device.id}`);
          loadDevices();
        });
        item.append(revoke);
      }
      return item;
    }));
  } catch (error) {
    list.textContent = error.message;
  }
}

function showSignedOut() {
  $('loading').hidden = true;
  $('signed-in').hidden = true;
  $('signed-out').hidden = false;
  document.title = 'Hearth';
  const invite = location.pathname.match(/^\/invite\/([A-Za-z0-9]+)$/);
  if (invite) {
    registerForm.invite.value = invite[1];
    selectTab(true);
    explainInvite(invite[1]);
  }
}

/** Says who invited you, to which Hearth, and what it is — or why the invite no longer works. */
async function explainInvite(code) {
  const box = $('invitation');
  const place = location.host;
  try {
    const invitation = await api('GET', `/invites/${encodeURIComponent(code)}`);
    const who = invitation.invitedBy ? `${invitation.invitedBy} invited you` : 'You are invited';
    box.textContent = `${who} to Hearth at ${place}: a private messenger that runs on a computer at home, `
      + 'for the people there and those close to them. Choose a username and a password to join'
      + (invitation.admin ? ', as one of its admins.' : '.');
  } catch (error) {
    box.textContent = `${error.message} (Hearth at ${place})`;
  }
  box.hidden = false;
}

async function signOut(callServer) {
  if (chat) chat.stop();
  chat = null;
  localStorage.removeItem(SIGNED_IN);
  $('settings').hidden = true;
  if (callServer) {
    try {
      await api('POST', '/logout');
    } catch {
      // Signed out locally either way.
    }
  }
  showSignedOut();
}

async function start() {
  const link = location.pathname.match(/^\/link\/([A-Za-z0-9_-]+)$/);
  if (link) {
    $('loading').hidden = true;
    showLinkPage(link[1]);
    return;
  }
  let me;
  try {
    me = await api('GET', '/me');
  } catch (error) {
    // No network: the app opens as it was, with its outbox, and reconnects by itself.
    const known = error.code === 'offline' ? JSON.parse(localStorage.getItem(SIGNED_IN) || 'null') : null;
    if (!known) {
      showSignedOut();
      return;
    }
    me = known;
  }
  await showSignedIn(me);
}

async function submit(form, errorBox, path, extra) {
  errorBox.hidden = true;
  const button = form.querySelector('button[type=submit]');
  button.disabled = true;
  try {
    await api('POST', path, {
      username: form.username.value.trim(),
      password: form.password.value,
      deviceName: deviceName(),
      session: 'cookie',
      ...extra,
    });
    form.password.value = '';
    if (location.pathname !== '/') history.replaceState(null, '', '/');
    await showSignedIn(await api('GET', '/me'));
  } catch (error) {
    showError(errorBox, error);
  } finally {
    button.disabled = false;
  }
}

$('tab-login').addEventListener('click', () => selectTab(false));
$('tab-register').addEventListener('click', () => selectTab(true));
loginForm.addEventListener('submit', (event) => {
  event.preventDefault();
  submit(loginForm, $('login-error'), '/login', {});
});
registerForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const invite = registerForm.invite.value.trim();
  submit(registerForm, $('register-error'), '/register', invite ? { invite } : {});
});
$('logout').addEventListener('click', () => signOut(true));
$('open-settings').addEventListener('click', () => {
  $('settings').hidden = false;
  loadDevices();
  loadPushSettings();
  $('link-device').focus();
});

/** The notification choices in the settings: what a notification shows, quiet hours. */
async function loadPushSettings() {
  try {
    const prefs = await api('GET', '/me/push');
    const widest = ['full', 'sender', 'none'].indexOf(prefs.serverPreview);
    for (const option of $('push-preview').options) option.disabled = ['full', 'sender', 'none'].indexOf(option.value) < widest;
    $('push-preview').value = prefs.preview || prefs.serverPreview;
    $('quiet-on').checked = Boolean(prefs.quietHours);
    $('quiet-times').hidden = !prefs.quietHours;
    if (prefs.quietHours) {
      $('quiet-from').value = prefs.quietHours.from;
      $('quiet-to').value = prefs.quietHours.to;
      $('quiet-mode').value = prefs.quietHours.mode;
    }
    $('push-result').textContent = widest > 0 ? 'This server shows less in notifications; some choices are off.' : '';
  } catch (error) {
    $('push-result').textContent = error.message;
  }
  $('push-state').textContent = describePush(chat?.pushState);
}

async function savePushSettings() {
  $('quiet-times').hidden = !$('quiet-on').checked;
  try {
    await api('PATCH', '/me/push', {
      preview: $('push-preview').value,
      quietHours: $('quiet-on').checked
        ? { from: $('quiet-from').value, to: $('quiet-to').value, mode: $('quiet-mode').value } : null,
      timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    });
    $('push-result').textContent = 'Saved.';
  } catch (error) {
    $('push-result').textContent = error.message;
  }
}

for (const id of ['push-preview', 'quiet-on', 'quiet-from', 'quiet-to', 'quiet-mode']) {
  $(id).addEventListener('change', savePushSettings);
}

$('password-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const result = $('password-result');
  try {
    const { signedOut } = await api('PUT', '/me/password', {
      current: $('password-current').value, new: $('password-new').value, signOutOthers: $('password-others').checked,
    });
    event.target.reset();
    result.textContent = 'Your password is changed.'
      + (signedOut > 0 ? ` ${signedOut} other device${signedOut === 1 ? ' was' : 's were'} signed out.` : '');
    loadDevices();
  } catch (error) {
    result.textContent = error.message;
  }
});

$('close-settings').addEventListener('click', () => {
  $('settings').hidden = true;
});
$('new-chat-focus').addEventListener('click', () => $('new-chat-username').focus());
$('new-chat-username').addEventListener('input', (event) => {
  $('new-chat-name-row').hidden = event.target.value.split(/[\s,]+/).filter(Boolean).length < 2;
});
$('new-chat-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const error = $('new-chat-error');
  error.hidden = true;
  try {
    await chat.startChat($('new-chat-username').value, $('new-chat-name').value.trim());
    $('new-chat-username').value = '';
    $('new-chat-name').value = '';
    $('new-chat-name-row').hidden = true;
  } catch (failure) {
    showError(error, failure);
  }
});

watchDialogs();
initProfile();
new Search(() => chat).wire();
initLinking(() => loadDevices());
registerServiceWorker();
navigator.serviceWorker?.addEventListener('message', (event) => {
  // A notification was clicked while this tab was open: its room.
  if (event.data?.type === 'open-room' && event.data.room && chat) chat.open(event.data.room);
});
start();
