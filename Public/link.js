// Device linking: showing a QR and answering requests on a signed-in device, and the
// /link/<code> page on the new one.
import { api, deviceName } from './api.js';

const $ = (id) => document.getElementById(id);

// ---- The signed-in device -------------------------------------------------------------------

let pendingCode = null;

/** Wires the buttons; call once. */
export function initLinking(onDevicesChanged) {
  $('link-device').addEventListener('click', async () => {
    $('link-result').textContent = '';
    try {
      const link = await api('POST', '/devices/link');
      pendingCode = link.code;
      $('link-qr').src = `/api/v1/devices/link/${encodeURIComponent(link.code)}/qr.svg`;
      $('link-url').textContent = link.url;
      $('link-url').href = link.url;
      $('link-expiry').textContent = new Date(link.expiresAt).toLocaleTimeString();
      $('link-panel').hidden = false;
    } catch (error) {
      $('link-result').textContent = error.message;
    }
  });
  $('link-approve').addEventListener('click', () => decide(true, onDevicesChanged));
  $('link-deny').addEventListener('click', () => decide(false, onDevicesChanged));
}

/** A `link_request` frame from the chat's socket: ask this user whether to approve. */
export function handleLinkRequest(frame) {
  pendingCode = frame.code;
  $('link-question').textContent = `A new device asks to sign in as you: “${frame.deviceName}”. Is it yours?`;
  // In words (“Safari on iPhone, from 192.168.1.23”); the whole user agent only on request.
  $('link-request-device').textContent = [frame.device, frame.ip && `from ${frame.ip}`].filter(Boolean).join(', ');
  $('link-agent').textContent = frame.userAgent || '';
  $('link-agent-details').hidden = !frame.userAgent;
  $('link-request').hidden = false;
  $('link-panel').hidden = true;
  $('link-approve').focus();
}

async function decide(approve, onDevicesChanged) {
  $('link-request').hidden = true;
  try {
    await api('POST', `/devices/link/${encodeURIComponent(pendingCode)}/${approve ? 'approve' : 'deny'}`);
    $('link-result').textContent = approve ? 'Device linked.' : 'Request denied.';
    onDevicesChanged();
  } catch (error) {
    $('link-result').textContent = error.message;
  }
}

// ---- The new device, on /link/<code> -------------------------------------------------------------

export function showLinkPage(code) {
  $('link-page').hidden = false;
  $('link-device-name').value = deviceName();
  const status = $('link-status');
  $('link-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    $('link-form').hidden = true;
    try {
      const claim = await api('POST', `/devices/link/${encodeURIComponent(code)}/claim`, {
        deviceName: $('link-device-name').value.trim(),
        session: 'cookie',
      });
      if (claim.status !== 'approved') {
        status.textContent = 'Waiting for your other device to approve…';
        await waitForDecision(code);
      }
      status.textContent = 'Approved. Signing in…';
      location.replace('/');
    } catch (error) {
      status.textContent = error.message;
    }
  });
}

async function waitForDecision(code) {
  for (;;) {
    try {
      await api('GET', `/devices/link/${encodeURIComponent(code)}/wait`);
      return;
    } catch (error) {
      if (error.code === 'link_pending' || error.code === 'offline') {
        if (error.code === 'offline') await new Promise((resolve) => setTimeout(resolve, 2000));
        continue;
      }
      throw error;
    }
  }
}
