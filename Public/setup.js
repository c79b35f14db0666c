import { api, deviceName, showError } from './api.js';

const token = new URLSearchParams(location.search).get('token') || '';
const form = document.getElementById('setup-form');
const unavailable = document.getElementById('setup-unavailable');
const errorBox = document.getElementById('setup-error');

async function check() {
  try {
    const { available } = await api('POST', '/setup/status', { token });
    if (!available) {
      form.hidden = true;
      unavailable.hidden = false;
    }
  } catch (error) {
    showError(errorBox, error);
  }
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  errorBox.hidden = true;
  const button = form.querySelector('button');
  button.disabled = true;
  try {
    await api('POST', '/setup', {
      token,
      username: form.username.value.trim(),
      password: form.password.value,
      deviceName: deviceName(),
      session: 'cookie',
    });
    location.replace('/');
  } catch (error) {
    showError(errorBox, error);
  } finally {
    button.disabled = false;
  }
});

check();
