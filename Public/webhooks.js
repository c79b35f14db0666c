// A group's incoming webhooks, in its settings: programs (a doorbell, Home Assistant, a backup
// job) that post into the group through a secret address. Its admins add, rename and revoke
// them; the address is shown once, when made.
import { api } from './api.js';
import { $, el } from './views.js';

let roomId = null;

/** Shows the webhooks of `room` in the group dialog: the list to members, the controls to its admins. */
export async function showWebhooks(room, manages) {
  roomId = room.id;
  $('group-webhooks').hidden = false;
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

/** Wires the "Add a webhook" form once. */
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
  $('webhook-copy').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText($('webhook-url').value);
      $('webhook-result').textContent = 'Copied.';
    } catch {
      $('webhook-url').select();
      $('webhook-result').textContent = 'Select the address and copy it.';
    }
  });
}
