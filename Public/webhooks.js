// A group's webhooks, in its settings. Incoming: programs (a doorbell, Home Assistant, a backup
// job) that post into the group through a secret address; its admins add, rename and revoke
// them, and the address is shown once, when made. Outgoing: addresses the group's messages are
// sent to, signed; only its admins see them, with how the last delivery went, and the signing
// secret is shown once.
import { api } from './api.js';
import { $, el } from './views.js';

let roomId = null;

/** Shows the webhooks of `room` in the group dialog: the list to members, the controls to its admins. */
export async function showWebhooks(room, manages) {
  roomId = room.id;
  $('group-webhooks').hidden = false;
  $('group-outgoing').hidden = !manages;
  if (manages) showOutgoing(room.id);
  else $('outgoing-created').hidden = true;
  $('webhook-add').hidden = !manages;
  if (!manages) $('webhook-created').hidden = true;
  try {
    const { webhooks } = await api('GET', `/rooms/${room.id}/webhooks`);
    if (roomId !== room.id) return;
    $('webhook-list').replaceChildren(...webhooks.map((hook) => item(hook, manages)));
    $('webhook-none').hidden = webhooks.length > 0;
  } catch (error) {
    $('webhook-result').textContent = error.message;
  }
}

function item(hook, manages) {
  const row = el('li');
  row.dataset.testid = 'webhook-item';
  const used = hook.lastUsedAt ? `last posted ${new Date(hook.lastUsedAt).toLocaleString()}` : 'not used yet';
  row.append(el('span', null, `🤖 ${hook.name}`), el('span', 'hint', ` — ${used}`));
  if (manages) {
    const actions = el('span', 'row');
    const rename = el('button', 'secondary small', 'Rename');
    rename.type = 'button';
    rename.addEventListener('click', async () => {
      const name = prompt('A new name for this webhook', hook.name);
      if (!name) return;
      await change('PATCH', hook, { name });
    });
    const revoke = el('button', 'secondary small', 'Revoke');
    revoke.type = 'button';
    revoke.dataset.testid = 'webhook-revoke';
    revoke.addEventListener('click', async () => {
      if (!confirm(`Revoke “${hook.name}”? Its address stops working at once; what it posted stays.`)) return;
      await change('DELETE', hook);
    });
    actions.append(rename, revoke);
    row.append(actions);
  }
  return row;
}

async function change(method, hook, body) {
  const room = roomId;
  try {
    await api(method, `/rooms/${room}/webhooks/${hook.id}`, body);
    $('webhook-result').textContent = method === 'DELETE' ? `“${hook.name}” is revoked.` : 'Renamed.';
    $('webhook-created').hidden = true;
    await showWebhooks({ id: room }, true);
  } catch (error) {
    $('webhook-result').textContent = error.message;
  }
}

/** A delivery in a few words, as the admin panel says it. */
function delivery(last) {
  if (!last) return 'nothing sent yet';
  const detail = [last.status, last.latencyMs != null ? `${last.latencyMs} ms` : null].filter((x) => x != null).join(', ');
  if (last.state === 'delivered') return `last delivered${detail ? ` (${detail})` : ''}`;
  if (last.state === 'failed') return `last failed: ${last.error || 'no answer'}`;
  return last.attempts ? `trying again${last.error ? `: ${last.error}` : ''}` : 'sending…';
}

async function showOutgoing(room) {
  try {
    const { webhooks } = await api('GET', `/rooms/${room}/outgoing-webhooks`);
    if (roomId !== room) return;
    $('outgoing-list').replaceChildren(...webhooks.map((hook) => outgoingItem(hook)));
    $('outgoing-none').hidden = webhooks.length > 0;
  } catch (error) {
    $('outgoing-result').textContent = error.message;
  }
}

function outgoingItem(hook) {
  const row = el('li');
  row.dataset.testid = 'outgoing-item';
  const host = (() => {
    try { return new URL(hook.url).host; } catch { return hook.url; }
  })();
  const mode = hook.commandsOnly ? 'commands' : 'every message';
  const state = el('span', 'hint', ` — ${host}, ${mode}; ${delivery(hook.lastDelivery)}`);
  state.dataset.testid = 'outgoing-state';
  row.append(el('span', null, `↗ ${hook.name}`), state);
  const remove = el('button', 'secondary small', 'Remove');
  remove.type = 'button';
  remove.dataset.testid = 'outgoing-remove';
  remove.addEventListener('click', async () => {
    if (!confirm(`Remove “${hook.name}”? Nothing more is sent to ${host}.`)) return;
    const room = roomId;
    try {
      await api('DELETE', `/rooms/${room}/outgoing-webhooks/${hook.id}`);
      $('outgoing-result').textContent = `“${hook.name}” is removed.`;
      $('outgoing-created').hidden = true;
      await showOutgoing(room);
    } catch (error) {
      $('outgoing-result').textContent = error.message;
    }
  });
  const actions = el('span', 'row');
  actions.append(remove);
  row.append(actions);
  return row;
}

/** Copies the read-only field `id` to the clipboard, saying so in `result`. */
async function copy(id, result) {
  try {
    await navigator.clipboard.writeText($(id).value);
    $(result).textContent = 'Copied.';
  } catch {
    $(id).select();
    $(result).textContent = 'Select it and copy it.';
  }
}

/** Wires the "Add a webhook" forms once. */
export function initWebhooks() {
  $('webhook-add').addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = $('webhook-name').value.trim();
    if (!name) return;
    const room = roomId;
    try {
      const { url } = await api('POST', `/rooms/${room}/webhooks`, { name });
      $('webhook-name').value = '';
      $('webhook-url').value = url;
      $('webhook-curl').textContent = `curl -d "Hello from ${name}" ${url}`;
      $('webhook-created').hidden = false;
      $('webhook-result').textContent = '';
      await showWebhooks({ id: room }, true);
      $('webhook-url').select();
    } catch (error) {
      $('webhook-result').textContent = error.message;
    }
  });
  $('webhook-copy').addEventListener('click', () => copy('webhook-url', 'webhook-result'));
  $('outgoing-add').addEventListener('submit', async (event) => {
    event.preventDefault();
    const room = roomId;
    const body = {
      name: $('outgoing-name').value.trim(),
      url: $('outgoing-url').value.trim(),
      commandsOnly: $('outgoing-commands').checked,
    };
    try {
      const { secret } = await api('POST', `/rooms/${room}/outgoing-webhooks`, body);
      $('outgoing-add').reset();
      $('outgoing-secret').value = secret;
      $('outgoing-created').hidden = false;
      $('outgoing-result').textContent = '';
      await showOutgoing(room);
      $('outgoing-secret').select();
    } catch (error) {
      $('outgoing-result').textContent = error.message;
    }
  });
  $('outgoing-copy').addEventListener('click', () => copy('outgoing-secret', 'outgoing-result'));
}
