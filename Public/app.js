import { api, deviceName, showError } from './api.js';

const $ = (id) => document.getElementById(id);
const loginForm = $('login-form');
const registerForm = $('register-form');

function selectTab(register) {
  loginForm.hidden = register;
  registerForm.hidden = !register;
  $('tab-login').setAttribute('aria-selected', String(!register));
  $('tab-register').setAttribute('aria-selected', String(register));
}

function showSignedIn(me) {
  $('loading').hidden = true;
  $('signed-out').hidden = true;
  $('signed-in').hidden = false;
  $('me-username').textContent = me.user.username;
  $('me-device').textContent = me.device.name;
}

function showSignedOut() {
  $('loading').hidden = true;
  $('signed-in').hidden = true;
  $('signed-out').hidden = false;
  const invite = location.pathname.match(/^\/invite\/([A-Za-z0-9]+)$/);
  if (invite) {
    registerForm.invite.value = invite[1];
    selectTab(true);
  }
}

async function start() {
  try {
    showSignedIn(await api('GET', '/me'));
  } catch {
    showSignedOut();
  }
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
    showSignedIn(await api('GET', '/me'));
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
$('logout').addEventListener('click', async () => {
  try {
    await api('POST', '/logout');
  } finally {
    showSignedOut();
  }
});

start();
