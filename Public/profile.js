// "Your profile" in the settings: the name you go by and your picture, which everyone who shares
// a chat with you sees (PATCH /api/v1/me).
import { api, upload } from './api.js';
import { squareAvatar } from './images.js';
import { avatar, learn } from './people.js';
import { $ } from './views.js';

let current = null;

/** Shows `user`'s profile in the settings and the sidebar. */
export function showProfile(user) {
  current = user;
  learn([user]);
  $('profile-avatar').replaceChildren(avatar(user.username, { size: 72 }));
  $('me-avatar').replaceChildren(avatar(user.username, { size: 32 }));
  $('me-username').textContent = user.displayName || user.username;
  $('me-username').title = `@${user.username}`;
  $('me-username-2').textContent = user.displayName ? `${user.displayName} (@${user.username})` : user.username;
  if (document.activeElement !== $('profile-name')) $('profile-name').value = user.displayName || '';
  $('profile-remove').hidden = !user.avatar;
}

async function save(change, done) {
  const result = $('profile-result');
  try {
    const { user } = await api('PATCH', '/me', change);
    showProfile(user);
    result.textContent = done;
    window.dispatchEvent(new CustomEvent('hearth-profile', { detail: user }));
  } catch (error) {
    result.textContent = error.message;
  }
}

/** Wires the profile form once. */
export function initProfile() {
  $('profile-form').addEventListener('submit', (event) => {
    event.preventDefault();
    save({ displayName: $('profile-name').value }, 'Your name is saved.');
  });
  $('profile-photo').addEventListener('change', async (event) => {
    const file = event.target.files[0];
    event.target.value = '';
    if (!file) return;
    const result = $('profile-result');
    result.textContent = 'Saving your picture…';
    try {
      const { attachment } = await upload(await squareAvatar(file), 'avatar.jpg');
      await save({ avatar: attachment.id }, 'Your picture is saved.');
    } catch (error) {
      result.textContent = error.message;
    }
  });
  $('profile-remove').addEventListener('click', () => save({ avatar: null }, 'Your picture is removed.'));
}

export const profileUser = () => current;
