// Who people are: the names they go by and their avatars, learned from the rooms' member lists
// and kept current by `profile` frames. Everything that shows a person asks here.

const known = new Map(); // username → { username, displayName, avatar }

/** Remembers the profiles in a room's member list (or one profile). */
export function learn(members) {
  for (const member of members || []) {
    if (member?.username) {
      known.set(member.username, {
        username: member.username, displayName: member.displayName || null, avatar: member.avatar || null,
        bot: Boolean(member.bot || known.get(member.username)?.bot),
      });
    }
  }
}

/** The name someone goes by, else their username. */
export function nameOf(username) {
  return known.get(username)?.displayName || username || 'someone';
}

/** "Mum (@mum)" where a display name hides the username; just the username otherwise. */
export function fullName(username) {
  const name = known.get(username)?.displayName;
  return name && name !== username ? `${name} (@${username})` : username;
}

/** Whether someone is a program (a webhook's bot), not a person. */
export function isBot(username) {
  return Boolean(known.get(username)?.bot);
}

/** Where someone's avatar image is, or null. */
export function avatarURL(username) {
  const avatar = known.get(username)?.avatar;
  return avatar ? `/api/v1/avatars/${encodeURIComponent(avatar)}` : null;
}

/**
 * A round avatar: the person's picture, or their initials on a colour of their own (a group's
 * when `label` is given without a username). Decorative: the name is always written beside it.
 */
export function avatar(username, { size = 40, label } = {}) {
  const text = label || nameOf(username);
  const node = document.createElement('span');
  node.className = 'avatar';
  node.style.setProperty('--size', `${size}px`);
  node.setAttribute('aria-hidden', 'true');
  const url = username ? avatarURL(username) : null;
  if (url) {
    const image = document.createElement('img');
    image.src = url;
    image.alt = '';
    image.width = size;
    image.height = size;
    image.loading = 'lazy';
    node.append(image);
  } else {
    const initials = text.split(/\s+/).filter(Boolean).slice(0, 2).map((word) => [...word][0]).join('').toUpperCase();
    node.textContent = initials || '?';
    let hash = 0;
    for (const char of username || text) hash = (hash * 31 + char.codePointAt(0)) % 360;
    node.style.setProperty('--hue', String(hash));
  }
  return node;
}
