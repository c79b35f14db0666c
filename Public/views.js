// Building the DOM for rooms and messages. Text always goes in through textContent, never as HTML.
import { avatar, isBot, nameOf } from './people.js';

export const $ = (id) => document.getElementById(id);

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' });

export const time = (ms) => timeFormat.format(new Date(ms));
const shortDay = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
export const dayKey = (ms) => new Date(ms).toDateString();

/** A moment in the reader's own words and time zone: "23:49 today", "09:00 tomorrow", "Mon 8 Dec, 09:00". */
export function when(ms) {
  const date = new Date(ms);
  const days = Math.round((new Date(dayKey(ms)) - new Date(new Date().toDateString())) / 86400000);
  if (days === 0) return `${time(ms)} today`;
  if (days === 1) return `${time(ms)} tomorrow`;
  return new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }).format(date);
}

/** "Today", "Yesterday", or the date. */
export function dayLabel(ms) {
  const today = new Date().toDateString();
  const yesterday = new Date(Date.now() - 86400000).toDateString();
  const key = dayKey(ms);
  return key === today ? 'Today' : key === yesterday ? 'Yesterday' : dayFormat.format(new Date(ms));
}

/** The name a room shows: the group's name, or the other person's. */
export function roomTitle(room, me) {
  if (room.kind === 'group') return room.name || 'Group';
  const other = room.members.find((member) => member.username !== me);
  return nameOf(other ? other.username : me);
}

/** One entry of the room list. */
export function roomItem(room, me, online, active) {
  const item = el('li');
  const button = el('button', 'room' + (active ? ' active' : ''));
  button.type = 'button';
  button.dataset.testid = 'room-item';
  button.dataset.roomId = String(room.id);
  if (active) button.setAttribute('aria-current', 'true');
  const other = room.kind === 'direct' ? room.members.find((member) => member.username !== me) : null;
  // The other person's face (a group's initials), with a green dot while they are online.
  const face = avatar(other?.username, { label: room.kind === 'group' ? roomTitle(room, me) : undefined });
  const dot = el('span', 'dot' + (other && online.has(other.username) ? ' on' : ''));
  face.append(dot);
  const text = el('span', 'room-text');
  const name = el('span', 'room-name', roomTitle(room, me));
  if (room.settings?.pinned) {
    const pin = el('span', 'pin', ' 📌');
    pin.setAttribute('aria-label', 'pinned');
    name.append(pin);
  }
  const last = room.lastMessage;
  if (last?.ts) {
    // When the last message came: its time today, else its day.
    const stamp = el('span', 'room-time', dayKey(last.ts) === dayKey(Date.now()) ? time(last.ts) : shortDay.format(new Date(last.ts)));
    name.append(stamp);
  }
  text.append(name);
  const summary = last
    ? `${room.kind === 'group' && !last.system && last.from.username ? nameOf(last.from.username) + ': ' : ''}${preview(last)}`
    : 'No messages yet';
  text.append(el('span', 'room-last', summary));
  button.append(face, text);
  if (room.unread > 0) {
    const badge = el('span', 'badge', String(room.unread));
    badge.setAttribute('aria-label', `${room.unread} unread`);
    button.append(badge);
  }
  item.append(button);
  return item;
}

function preview(message) {
  if (message.deleted) return 'Message deleted';
  if (message.body) return message.body;
  if (message.attachments && message.attachments.length) return fileKind(message.attachments[0]).label;
  return '';
}

const ticks = { pending: '🕓', sent: '✓', delivered: '✓✓', read: '✓✓', held: '⏸', failed: '!' };
const tickLabels = { pending: 'Sending', sent: 'Sent', delivered: 'Delivered', read: 'Read', held: 'Waiting for a moderator', failed: 'Not sent' };

/** One message bubble. `mine` bubbles carry a status; others the sender's name in groups. */
export function bubble(message, { mine, showSender, status, error, me }) {
  if (message.system) {
    const line = el('p', 'system', message.body);
    line.dataset.testid = 'system-line';
    if (message.seq) line.dataset.seq = String(message.seq);
    return line;
  }
  const node = el('div', 'msg ' + (mine ? 'mine' : 'theirs'));
  node.dataset.testid = 'message';
  node.dataset.id = message.clientId || String(message.id || '');
  if (message.seq) node.dataset.seq = String(message.seq);
  if (mine) node.dataset.status = status;
  if (showSender && !mine) {
    const sender = el('span', 'sender');
    sender.append(avatar(message.from.username, { size: 20 }), document.createTextNode(nameOf(message.from.username)));
    if (isBot(message.from.username)) sender.append(el('span', 'bot-badge', 'bot'));
    if (message.from.username) sender.title = `@${message.from.username}`;
    node.append(sender);
  }
  if (message.deleted) {
    node.classList.add('deleted');
    node.append(el('span', 'body gone', 'Message deleted'));
    node.append(el('span', 'meta', time(message.ts)));
    return node;
  }
  if (message.replyTo) node.append(quote(message.replyTo));
  for (const file of message.attachments || []) node.append(attachmentView(file));
  if (message.body) node.append(richText(message.body, message.mentions || [], me));
  const meta = el('span', 'meta', (message.editedAt ? 'edited · ' : '') + time(message.ts));
  if (mine) {
    const tick = el('span', 'tick ' + status, ticks[status] || '');
    tick.title = tickLabels[status] || '';
    tick.setAttribute('aria-label', tickLabels[status] || '');
    meta.append(' ', tick);
  }
  node.append(meta);
  if (status === 'held') node.append(el('span', 'hint held', 'Waiting for a moderator to approve it; nobody else sees it yet.'));
  if (error) node.append(el('span', 'failure', error));
  if (status === 'failed') {
    const resend = el('button', 'secondary small', 'Edit and resend');
    resend.type = 'button';
    resend.dataset.action = 'resend';
    resend.dataset.testid = 'resend';
    node.append(resend);
  }
  const reactions = Object.entries(message.reactions || {}).filter(([, users]) => users.length > 0);
  if (reactions.length > 0) {
    const row = el('div', 'reactions');
    for (const [emoji, users] of reactions) {
      const chip = el('button', 'reaction' + (users.includes(me) ? ' own' : ''), `${emoji} ${users.length}`);
      chip.type = 'button';
      chip.dataset.emoji = emoji;
      chip.dataset.action = 'react';
      chip.title = users.join(', ');
      chip.setAttribute('aria-label', `${emoji} from ${users.join(', ')}`);
      row.append(chip);
    }
    node.append(row);
  }
  if (message.seq && !message.held) {
    const more = el('button', 'more icon', '⋯');
    more.type = 'button';
    more.dataset.action = 'menu';
    more.dataset.testid = 'message-menu';
    more.setAttribute('aria-label', 'Message actions');
    node.append(more);
  }
  return node;
}

/** The quoted message a reply answers: a button that scrolls to it. */
function quote(reply) {
  const node = el('button', 'quote');
  node.type = 'button';
  node.dataset.action = 'jump';
  node.dataset.seq = String(reply.seq);
  node.append(el('span', 'sender', reply.from || 'someone'), el('span', 'excerpt', reply.excerpt || 'Message deleted'));
  return node;
}

/** Text with its http(s) links clickable and its mentions of `mentions` highlighted (mine more). */
function richText(text, mentions, me) {
  const node = el('span', 'body');
  let last = 0;
  for (const match of text.matchAll(/https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]|(?<![^\s([])@([A-Za-z0-9._-]+)/g)) {
    let piece;
    if (match[1] === undefined) {
      piece = el('a', null, match[0]);
      piece.href = match[0];
      piece.target = '_blank';
      piece.rel = 'noopener noreferrer';
    } else {
      const name = match[1].toLowerCase().replace(/\.+$/, '');
      if (!mentions.includes(name)) continue;
      piece = el('span', 'mention' + (name === me ? ' mine' : ''), '@' + match[1].replace(/\.+$/, ''));
      piece.dataset.testid = 'mention';
    }
    node.append(text.slice(last, match.index), piece);
    last = match.index + piece.textContent.length;
  }
  node.append(text.slice(last));
  return node;
}

const KINDS = [
  [/^audio\//, '🎤', 'Voice message', (file) => /^voice-note/.test(file.name || '')],
  [/^image\//, '🖼️', 'Photo'],
  [/^video\//, '🎬', 'Video'],
  [/^audio\//, '🎵', 'Sound'],
  [/wordprocessingml|opendocument\.text/, '📝', 'Document'],
  [/spreadsheetml|opendocument\.spreadsheet|^text\/csv/, '📊', 'Spreadsheet'],
  [/presentationml|opendocument\.presentation/, '📽️', 'Presentation'],
  [/^application\/pdf/, '📕', 'PDF'],
  [/^text\//, '📄', 'Text file'],
];

/** What a file is, in a word and an icon: `{icon, label}` ("Spreadsheet", "Video"…). */
export function fileKind(file) {
  const found = KINDS.find(([pattern, , , when]) => pattern.test(file.contentType) && (!when || when(file)));
  return found ? { icon: found[1], label: found[2] } : { icon: '📎', label: 'File' };
}

/** A link that downloads the file, with its kind, name and size. */
function fileLink(file, url) {
  const { icon, label } = fileKind(file);
  const link = el('a', 'file');
  link.href = url;
  link.download = file.name || '';
  link.append(el('span', 'file-icon', icon), el('span', 'file-name', file.name || label));
  link.append(el('span', 'file-size', `${label} · ${sizeLabel(file.size)}`));
  link.setAttribute('aria-label', `${label}: ${file.name || 'file'}, ${sizeLabel(file.size)}. Download.`);
  return link;
}

function sizeLabel(bytes) {
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.ceil(bytes / 1024))} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

const players = new Map();

function keep(id, node) {
  players.set(id, node);
  return node;
}

/** Forgets the players of other chats (called when a chat opens). */
export function forgetPlayers() {
  for (const [id, node] of players) if (!node.isConnected) players.delete(id);
}

const clock = (seconds) => `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;

/**
 * A voice message's player: play/pause, a bar that shows and moves the position, and the time
 * (the duration from the upload, as recorded: a recorded WebM says none in its header).
 */
function voicePlayer(file, url) {
  const box = el('div', 'voice-note');
  box.dataset.testid = 'voice-note';
  const audio = el('audio');
  audio.preload = 'metadata';
  audio.src = url;
  let total = file.durationMs ? file.durationMs / 1000 : 0;
  const play = el('button', 'play', '▶');
  play.type = 'button';
  play.setAttribute('aria-label', 'Play the voice message');
  const bar = el('input');
  bar.type = 'range';
  bar.min = '0';
  bar.step = '0.1';
  bar.value = '0';
  bar.setAttribute('aria-label', 'Position in the voice message');
  const time = el('span', 'clock');
  const show = () => {
    bar.max = String(total || 0);
    time.textContent = audio.currentTime > 0 ? `${clock(audio.currentTime)} / ${clock(total)}` : clock(total);
  };
  show();
  play.addEventListener('click', () => (audio.paused ? audio.play() : audio.pause()));
  audio.addEventListener('play', () => {
    play.textContent = '⏸';
    play.setAttribute('aria-label', 'Pause the voice message');
    box.classList.add('playing');
  });
  const stopped = () => {
    play.textContent = '▶';
    play.setAttribute('aria-label', 'Play the voice message');
    box.classList.remove('playing');
  };
  audio.addEventListener('pause', stopped);
  audio.addEventListener('ended', () => {
    stopped();
    audio.currentTime = 0;
    bar.value = '0';
    show();
  });
  audio.addEventListener('loadedmetadata', () => {
    if (!total && Number.isFinite(audio.duration)) total = audio.duration;
    show();
  });
  audio.addEventListener('timeupdate', () => {
    if (audio.currentTime > total) total = audio.currentTime;
    bar.value = String(audio.currentTime);
    show();
  });
  bar.addEventListener('input', () => {
    audio.currentTime = Number(bar.value);
  });
  box.append(play, bar, time, audio);
  return box;
}

function attachmentView(file) {
  const url = `/api/v1/attachments/${encodeURIComponent(file.id)}`;
  // A sound or video playing goes on playing while messages arrive: the list is drawn again, but
  // the same element moves into the new bubble (taken out and put back in one step, it never pauses).
  const kept = players.get(file.id);
  if (kept) return kept;
  if (file.contentType.startsWith('audio/')) return keep(file.id, voicePlayer(file, url));
  if (file.contentType.startsWith('video/')) {
    const video = keep(file.id, el('video'));
    video.controls = true;
    video.preload = 'metadata';
    video.playsInline = true;
    video.src = url;
    video.setAttribute('aria-label', `Video: ${file.name || 'video'}`);
    // A video this browser cannot play (a QuickTime file's codec, say) is offered as a download.
    video.addEventListener('error', () => video.replaceWith(fileLink(file, url)), { once: true });
    return video;
  }
  if (file.contentType.startsWith('image/')) {
    const link = el('a', 'photo');
    link.href = url;
    link.target = '_blank';
    link.rel = 'noopener';
    link.dataset.action = 'photo';
    link.dataset.name = file.name || 'photo';
    const image = el('img');
    image.src = url;
    image.alt = file.name || 'Photo';
    image.loading = 'lazy';
    if (file.width && file.height) {
      image.width = Math.min(280, file.width);
      image.height = Math.round(image.width * file.height / file.width);
    }
    // Most browsers cannot draw iPhone (HEIC) photos: those are offered as a download instead.
    image.addEventListener('error', () => link.replaceWith(fileLink(file, url)), { once: true });
    link.append(image);
    return link;
  }
  return fileLink(file, url);
}

export function daySeparator(ms) {
  const node = el('div', 'day', dayLabel(ms));
  node.dataset.day = dayKey(ms);
  node.setAttribute('role', 'separator');
  return node;
}
