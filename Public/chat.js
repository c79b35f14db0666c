// The chat itself: rooms, messages, sending with an outbox, receipts, typing, presence,
// attachments and notifications, over one Connection.
import { api, upload } from './api.js';
import { Connection } from './socket.js';
import { Store } from './store.js';
import { $, bubble, dayKey, daySeparator, el, forgetPlayers, roomItem, roomTitle, when } from './views.js';
import { handleLinkRequest } from './link.js';
import { prepareImage } from './images.js';
import { QUICK_REACTIONS, emojiPicker } from './emoji.js';
import { describePush, showUnread, subscribePush } from './pwa.js';
import { avatar, avatarURL, fullName, learn, nameOf } from './people.js';
import { showProfile } from './profile.js';
import { VoiceRecorder } from './voice.js';
import { initWebhooks, showWebhooks } from './webhooks.js';
import { Calls } from './calls.js';

const PAGE = 50;
/** How long a finger rests on a message before its menu opens. */
const LONG_PRESS_MS = 500;
/** Refusals worth retrying later; any other error is final and shown on the bubble. */
const TRANSIENT = new Set(['storage_full', 'busy', 'internal_error']);

export class Chat {
  constructor(me, { onSignedOut }) {
    this.me = me.user;
    learn([this.me]);
    this.onSignedOut = onSignedOut;
    this.store = new Store(this.me.id);
    this.rooms = new Map();
    /** roomId → { list: [message], loadedAll, loading } */
    this.histories = new Map();
    /** roomId → Map(username → { delivered, read }): each other member's receipts. */
    this.receipts = new Map();
    this.online = new Set();
    this.typing = new Map();
    this.current = null;
    this.lastTypingSent = 0;
    this.readSent = new Map();
    /** Reactions, edits and deletions sent and not yet acked, by id. */
    this.changes = new Map();
    /** Until when a click is the release of the long press that opened a menu, not a choice in it. */
    this.releaseUntil = 0;
    this.connection = new Connection({
      onFrame: (frame) => this.onFrame(frame),
      onOpen: () => this.onOpen(),
      onStatus: (status) => this.setStatus(status),
      onRefused: () => this.onSignedOut(),
      onCheckSession: () => this.checkSession(),
    });
  }

  async start() {
    this.calls = new Calls({ send: (frame) => this.connection.send(frame), roomOf: (id) => this.rooms.get(id), me: this.me });
    this.calls.wire();
    this.wire();
    this.onOwnProfile = (event) => this.onProfile(event.detail);
    new VoiceRecorder({
      onRecorded: (file, durationMs) => this.sendVoice(file, durationMs),
      onProblem: (text) => { $('attach-status').textContent = text; },
    }).wire();
    window.addEventListener('hearth-profile', this.onOwnProfile);
    await this.loadRooms();
    if (this.store.read('cursor', null) === null) {
      // A new device starts from what the room list already shows; history fills in the past.
      const newest = Math.max(0, ...[...this.rooms.values()].map((room) => room.lastMessage?.seq || 0));
      this.store.write('cursor', newest);
    }
    this.connection.start();
    const wanted = Number(new URLSearchParams(location.hash.slice(1)).get('room'));
    if (wanted && this.rooms.has(wanted)) this.open(wanted);
    window.hearthDebug = { drop: () => this.connection.drop(), chat: this };
  }

  stop() {
    this.connection.stop();
    window.removeEventListener('hearth-profile', this.onOwnProfile);
  }

  // ---- Rooms ---------------------------------------------------------------------------------

  async loadRooms() {
    let rooms;
    try {
      ({ rooms } = await api('GET', '/rooms'));
      this.store.write('rooms', rooms);
      this.offline = false;
    } catch (error) {
      // Opened without a network: the list as it was last seen, until the connection is back.
      if (error.code !== 'offline') throw error;
      rooms = this.store.read('rooms', []);
      this.offline = true;
    }
    for (const room of rooms) this.addRoom(room);
    this.renderRooms();
  }

  addRoom(room) {
    const known = this.rooms.get(room.id);
    // A room I was removed from (or left) stays, read-only, with what it had.
    const left = !room.members.some((member) => member.username === this.me.username);
    learn(room.members);
    this.rooms.set(room.id, { ...known, ...room, left, unread: room.unread ?? known?.unread ?? 0 });
    const marks = this.receipts.get(room.id) || new Map();
    for (const member of room.members.filter((m) => m.username !== this.me.username)) {
      const mark = marks.get(member.username) || { delivered: 0, read: 0 };
      mark.read = Math.max(mark.read, member.lastReadSeq || 0);
      mark.delivered = Math.max(mark.delivered, mark.read);
      marks.set(member.username, mark);
    }
    this.receipts.set(room.id, marks);
  }

  /** Pinned chats first, then the most recently active; archived ones apart. */
  sortedRooms(archived = false) {
    return [...this.rooms.values()]
      .filter((room) => Boolean(room.settings?.archived) === archived)
      .sort((a, b) => Number(Boolean(b.settings?.pinned)) - Number(Boolean(a.settings?.pinned))
        || (b.lastMessage?.seq || 0) - (a.lastMessage?.seq || 0) || b.id - a.id);
  }

  renderRooms() {
    const list = $('room-list');
    const item = (room) => roomItem(room, this.me.username, this.online, room.id === this.current);
    const archived = this.sortedRooms(true);
    const items = this.sortedRooms().map(item);
    if (archived.length > 0) {
      // Archived chats wait under a toggle at the end of the list.
      const toggle = el('li', 'archived-toggle');
      const button = el('button', 'secondary small', `${this.showArchived ? 'Hide' : 'Show'} archived chats (${archived.length})`);
      button.type = 'button';
      button.dataset.testid = 'archived-toggle';
      button.setAttribute('aria-expanded', String(Boolean(this.showArchived)));
      button.addEventListener('click', () => {
        this.showArchived = !this.showArchived;
        this.renderRooms();
      });
      toggle.append(button);
      items.push(toggle, ...(this.showArchived ? archived.map(item) : []));
    }
    list.replaceChildren(...items);
    this.showFirstRun();
    if (!this.listShown) {
      this.listShown = true;
      performance.mark('hearth-rooms-shown');
    }
    const unread = [...this.rooms.values()].reduce((sum, room) => sum + (room.unread || 0), 0);
    document.title = unread > 0 ? `(${unread}) Hearth` : 'Hearth';
    this.keepRooms();
    if (unread !== this.shownUnread) {
      this.shownUnread = unread;
      showUnread([...this.rooms.values()]).catch(() => {});
    }
  }

  /** While there are no chats, the empty side says what to do next (admins can invite). */
  showFirstRun() {
    const first = this.rooms.size === 0;
    $('first-run').hidden = !first;
    const admin = this.me.role === 'admin';
    $('first-invite-step').hidden = !admin;
    $('first-admin-step').hidden = !['admin', 'moderator'].includes(this.me.role);
  }

  /** "Make an invite link": an invite for ten, for a week, with its QR code, shown this once. */
  async makeInvite() {
    try {
      const invite = await api('POST', '/admin/invites', { uses: 10, days: 7 });
      $('first-invite-url').textContent = invite.url;
      $('first-invite-url').href = invite.url;
      $('first-invite-qr').src = invite.qr;
      $('first-invite-result').hidden = false;
      $('first-invite').hidden = true;
    } catch (error) {
      $('first-invite').textContent = `${error.message} Try again`;
    }
  }

  /** Keeps the room list for a start without a network (at most once a second). */
  keepRooms() {
    if (this.keepTimer) return;
    this.keepTimer = setTimeout(() => {
      this.keepTimer = null;
      this.store.write('rooms', [...this.rooms.values()]);
    }, 1000);
  }

  async startChat(text, groupName) {
    const usernames = text.split(/[\s,]+/).map((name) => name.trim().toLowerCase()).filter(Boolean);
    if (usernames.length === 0) return;
    const direct = usernames.length === 1;
    const body = direct ? { members: usernames, direct: true } : { members: usernames, name: groupName || usernames.join(', ') };
    const { room } = await api('POST', '/rooms', body);
    this.addRoom(room);
    this.renderRooms();
    this.open(room.id);
  }

  // ---- The open room -------------------------------------------------------------------------

  async open(roomId) {
    // A room shown around a search result starts again from its newest messages when reopened.
    if (this.histories.get(roomId)?.partial && !this.opening) this.histories.delete(roomId);
    this.current = roomId;
    history.replaceState(null, '', `#room=${roomId}`);
    document.body.classList.add('chat-open');
    $('chat').hidden = false;
    $('empty').hidden = true;
    const room = this.rooms.get(roomId);
    this.renderHeader();
    this.renderOptions();
    this.renderRooms();
    $('messages').replaceChildren();
    forgetPlayers();
    if (!this.histories.has(roomId)) {
      this.histories.set(roomId, { list: [], loadedAll: false, loading: false });
      await this.loadOlder(roomId);
    }
    this.renderMessages({ toBottom: true });
    performance.mark('hearth-room-shown');
    this.markRead();
    $('composer').focus();
  }

  /**
   * Opens a room at the message `seq` (a search result), with the history around it. A message
   * older than what is loaded replaces the room's history with the messages around it until the
   * room is opened again ("Show the newest messages" at its end does that).
   */
  async openAt(roomId, seq) {
    const history = this.histories.get(roomId);
    if (!history || !history.list.some((message) => message.seq === seq)) {
      const { messages } = await api('GET', `/rooms/${roomId}/messages?around=${seq}&limit=${PAGE}`);
      const list = messages.reverse();
      const newest = this.rooms.get(roomId)?.lastMessage?.seq || 0;
      this.histories.set(roomId, { list, loadedAll: false, loading: false, partial: !list.some((m) => m.seq >= newest) });
    }
    this.opening = true;
    try {
      await this.open(roomId);
    } finally {
      this.opening = false;
    }
    // At once, not smoothly: a render while still near the bottom would pull it back down.
    this.jumpTo(seq, { smooth: false });
  }

  close() {
    this.current = null;
    history.replaceState(null, '', location.pathname);
    document.body.classList.remove('chat-open');
    $('chat').hidden = true;
    $('empty').hidden = false;
    this.renderRooms();
  }

  renderHeader() {
    const room = this.rooms.get(this.current);
    if (!room) return;
    $('chat-title').textContent = roomTitle(room, this.me.username);
    const other = room.kind === 'direct' ? room.members.find((m) => m.username !== this.me.username) : null;
    $('chat-avatar').replaceChildren(avatar(other?.username, { label: room.kind === 'group' ? roomTitle(room, this.me.username) : undefined }));
    if (room.left || room.kind !== 'group') {
      // A direct chat's header names the username under a display name, so it is never in doubt.
      const online = other && this.online.has(other.username);
      const handle = other && nameOf(other.username) !== other.username ? `@${other.username}` : '';
      $('chat-members').textContent = room.left
        ? 'You are no longer in this group.'
        : [handle, online ? 'online' : ''].filter(Boolean).join(' · ');
    } else {
      // Who is online shows as a green ● after the name (and in words, for screen readers).
      const people = room.members.flatMap((member, index) => {
        const name = el('span', null, (index > 0 ? ', ' : '') + nameOf(member.username));
        if (!this.online.has(member.username)) return [name];
        const dot = el('span', 'online-mark', ' ●');
        dot.title = 'online';
        dot.setAttribute('aria-label', 'online');
        return [name, dot];
      });
      $('chat-members').replaceChildren(`${room.members.length} members: `, ...people);
    }
    $('composer').disabled = Boolean(room.left);
    $('send').disabled = Boolean(room.left);
    $('open-group').hidden = room.kind !== 'group' || Boolean(room.left);
    this.calls.showFor(room.left ? null : room);
    if (!$('group').hidden) this.renderGroup();
  }

  async loadOlder(roomId) {
    const history = this.histories.get(roomId);
    if (!history || history.loading || history.loadedAll) return;
    history.loading = true;
    try {
      const oldest = history.list.find((message) => message.seq)?.seq;
      const query = oldest ? `?before=${oldest}&limit=${PAGE}` : `?limit=${PAGE}`;
      let messages = [];
      try {
        ({ messages } = await api('GET', `/rooms/${roomId}/messages${query}`));
      } catch (error) {
        // Offline: the outbox still shows; the history comes once the connection is back.
        if (error.code !== 'offline') throw error;
        history.offline = true;
      }
      const older = messages.reverse().filter((message) => !history.list.some((m) => m.seq === message.seq));
      history.list = [...older, ...history.list];
      if (messages.length < PAGE && !history.offline) history.loadedAll = true;
      if (!oldest) {
        // The outbox's messages for this room go below the history, still pending.
        for (const entry of this.store.outbox.filter((e) => e.room === roomId)) this.insert(roomId, this.pending(entry));
      }
    } finally {
      history.loading = false;
    }
  }

  pending(entry) {
    return {
      clientId: entry.id, room: entry.room, body: entry.body, attachments: entry.files || [], ts: entry.ts,
      from: { id: this.me.id, username: this.me.username }, status: 'pending', replyTo: entry.replyTo,
    };
  }

  /** Adds or replaces a message in a room's loaded history, keeping seq order (pending last). */
  insert(roomId, message) {
    const history = this.histories.get(roomId);
    if (!history) return;
    // Shown around a search result: newer messages from others wait for "Show the newest messages".
    if (history.partial && message.seq && !message.clientId && message.from?.id !== this.me.id) return;
    const same = (m) => (message.seq && m.seq === message.seq)
      || (message.clientId && m.clientId === message.clientId) || (message.id && m.id === message.id);
    const existing = history.list.filter(same);
    if (existing.length > 0) {
      // One message, however it came (history, the outbox, an ack, a retry's ack): merge them.
      history.list = history.list.filter((m) => !same(m));
      history.list.push(Object.assign({}, ...existing, message));
    } else {
      const last = history.list.at(-1);
      history.list.push(message);
      // Live messages arrive in seq order: only an out-of-order one needs a sort.
      if (!last || !message.seq || !last.seq || last.seq < message.seq) return;
    }
    history.list.sort((a, b) => (a.seq || Infinity) - (b.seq || Infinity) || a.ts - b.ts);
  }

  statusOf(message) {
    if (message.status === 'pending' || message.status === 'failed' || message.status === 'held') return message.status;
    // In a group, blue only once every other member has read it; delivered once all have it.
    const others = (this.rooms.get(message.room)?.members || []).filter((m) => m.username !== this.me.username);
    const marks = this.receipts.get(message.room) || new Map();
    const every = (key) => others.length > 0 && others.every((m) => (marks.get(m.username)?.[key] || 0) >= message.seq);
    if (every('read')) return 'read';
    if (every('delivered')) return 'delivered';
    return 'sent';
  }

  /** Renders the open room once per frame however many events arrive (a sync brings hundreds). */
  scheduleRender() {
    if (this.renderPending) return;
    this.renderPending = true;
    requestAnimationFrame(() => {
      this.renderPending = false;
      this.renderMessages();
    });
  }

  renderMessages({ toBottom = false, keepOffset = null } = {}) {
    const box = $('messages');
    const history = this.histories.get(this.current);
    if (!history) return;
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    const room = this.rooms.get(this.current);
    const nodes = [];
    if (history.loadedAll) nodes.push(el('p', 'hint center', 'The beginning of this chat.'));
    let day = null;
    for (const message of history.list) {
      if (dayKey(message.ts) !== day) {
        day = dayKey(message.ts);
        nodes.push(daySeparator(message.ts));
      }
      const mine = message.from && message.from.id === this.me.id;
      nodes.push(bubble(message, {
        mine, showSender: room.kind === 'group', status: mine ? this.statusOf(message) : undefined, error: message.error,
        me: this.me.username,
      }));
    }
    if (history.partial) {
      const newest = el('button', 'secondary small newest', 'Show the newest messages ↓');
      newest.type = 'button';
      newest.dataset.testid = 'show-newest';
      newest.addEventListener('click', () => this.open(this.current));
      nodes.push(newest);
    }
    box.replaceChildren(...nodes);
    if (keepOffset !== null) box.scrollTop = box.scrollHeight - keepOffset;
    else if (toBottom || atBottom) box.scrollTop = box.scrollHeight;
  }

  markRead() {
    if (!this.current || document.hidden) return;
    const room = this.rooms.get(this.current);
    const history = this.histories.get(this.current);
    const newest = Math.max(0, ...(history?.list || []).filter((m) => m.seq).map((m) => m.seq));
    if (room.unread) {
      room.unread = 0;
      this.renderRooms();
    }
    if (newest > (this.readSent.get(this.current) || 0) && this.connection.send({ type: 'read', room: this.current, seq: newest })) {
      this.readSent.set(this.current, newest);
    }
  }

  // ---- Sending -------------------------------------------------------------------------------

  send(body, files = []) {
    const roomId = this.current;
    if (!roomId || (!body.trim() && files.length === 0)) return;
    if (this.editing && files.length > 0) {
      // Files (a photo, a voice note) are a new message, never part of an edit: the edit is
      // dropped and the files go on their own.
      this.cancelCompose();
      body = '';
    }
    if (this.editing) {
      const { seq } = this.editing;
      this.cancelCompose();
      if (body.trim()) this.change({ type: 'edit', room: roomId, seq, body });
      return;
    }
    const entry = {
      id: crypto.randomUUID(), room: roomId, body, attachments: files.map((file) => file.id), files, ts: Date.now(),
    };
    if (this.replyTo) {
      entry.replyTo = this.replyTo;
      this.cancelCompose();
    }
    this.store.enqueue(entry);
    this.insert(roomId, this.pending(entry));
    this.renderMessages({ toBottom: true });
    this.transmit(entry);
  }

  transmit(entry) {
    const frame = { type: 'send', id: entry.id, room: entry.room, body: entry.body };
    if (entry.attachments.length) frame.attachments = entry.attachments;
    if (entry.replyTo) frame.replyTo = entry.replyTo.seq;
    this.connection.send(frame);
  }

  /** Sends a reaction, an edit or a deletion; the server's event updates every device, this one too. */
  change(frame) {
    const id = crypto.randomUUID();
    this.changes.set(id, frame);
    if (!this.connection.send({ ...frame, id })) $('attach-status').textContent = 'Not connected: try again in a moment.';
  }

  // ---- Message actions -----------------------------------------------------------------------

  messageAt(seq) {
    return this.histories.get(this.current)?.list.find((message) => message.seq === seq);
  }

  /** The menu of a message (its bubble `node`), opened by ⋯, a right click or a long press. */
  showMenu(node) {
    this.hideMenu();
    const message = this.messageAt(Number(node?.dataset.seq));
    if (!message || message.held) return;
    const mine = message.from?.id === this.me.id;
    const menu = el('div', 'menu');
    menu.id = 'message-actions';
    menu.setAttribute('role', 'menu');
    const item = (label, testid, action) => {
      const entry = el('button', 'menu-item', label);
      entry.type = 'button';
      entry.dataset.testid = testid;
      entry.setAttribute('role', 'menuitem');
      entry.addEventListener('click', () => {
        this.hideMenu();
        action();
      });
      menu.append(entry);
    };
    const own = Object.entries(message.reactions || {})
      .filter(([, users]) => users.includes(this.me.username)).map(([emoji]) => emoji);
    const react = (emoji) => {
      this.hideMenu();
      const on = !own.includes(emoji);
      if (on) this.store.write('recentEmoji', [emoji, ...this.store.read('recentEmoji', []).filter((e) => e !== emoji)].slice(0, 16));
      this.change({ type: 'react', room: message.room, seq: message.seq, emoji, on });
    };
    const reactions = el('div', 'quick-reactions');
    reactions.setAttribute('role', 'group');
    reactions.setAttribute('aria-label', 'Reactions');
    for (const emoji of QUICK_REACTIONS) {
      const chip = el('button', 'reaction' + (own.includes(emoji) ? ' own' : ''), emoji);
      chip.type = 'button';
      chip.dataset.testid = 'react-' + emoji;
      chip.setAttribute('role', 'menuitemcheckbox');
      chip.setAttribute('aria-checked', String(own.includes(emoji)));
      chip.setAttribute('aria-label', (own.includes(emoji) ? 'Take back ' : 'React with ') + emoji);
      chip.addEventListener('click', () => react(emoji));
      reactions.append(chip);
    }
    const more = el('button', 'reaction', '+');
    more.type = 'button';
    more.dataset.testid = 'react-more';
    more.setAttribute('role', 'menuitem');
    more.setAttribute('aria-label', 'More reactions');
    more.addEventListener('click', () => {
      const picker = emojiPicker({ recent: this.store.read('recentEmoji', []), own, pick: react });
      // The picker is a small dialog of its own (a search box and a grid), no longer a menu.
      menu.setAttribute('role', 'dialog');
      menu.setAttribute('aria-label', 'Pick a reaction');
      menu.replaceChildren(picker);
      this.placeMenu(menu, place);
      picker.querySelector('input').focus();
    });
    reactions.append(more);
    if (!message.deleted) menu.append(reactions);
    if (!message.deleted) item('Reply', 'action-reply', () => this.startReply(message));
    if (mine && !message.deleted && message.body) item('Edit', 'action-edit', () => this.startEdit(message));
    if (message.body) item('Copy', 'action-copy', () => navigator.clipboard?.writeText(message.body));
    if (mine && !message.deleted) item('Info', 'action-info', () => this.showInfo(message, node));
    if (!message.deleted && (mine || ['moderator', 'admin'].includes(this.me.role))) {
      item('Delete for everyone', 'action-delete', () => {
        if (confirm('Delete this message for everyone?')) this.change({ type: 'delete', room: message.room, seq: message.seq });
      });
    }
    if (!mine && !message.deleted) item('Report…', 'action-report', () => this.report(message));
    // Outside the message list, which re-renders as frames arrive: the menu stays put meanwhile.
    const place = (node.querySelector('[data-action=menu]') || node).getBoundingClientRect();
    // Arrow keys move between the menu's items, as in any menu.
    menu.addEventListener('keydown', (event) => {
      if (menu.getAttribute('role') !== 'menu' || !event.key.startsWith('Arrow')) return;
      const items = [...menu.querySelectorAll('[role^=menuitem]')];
      const step = event.key === 'ArrowDown' || event.key === 'ArrowRight' ? 1 : -1;
      const at = items.indexOf(document.activeElement);
      items[(at + step + items.length) % items.length]?.focus();
      event.preventDefault();
    });
    document.body.append(menu);
    this.placeMenu(menu, place);
    menu.querySelector('button')?.focus();
  }

  /** Puts a menu under the rectangle `place`, right-aligned to it, inside the window. */
  placeMenu(menu, place) {
    const top = Math.min(place.bottom + 4, window.innerHeight - menu.offsetHeight - 8);
    const left = Math.min(Math.max(8, place.right - menu.offsetWidth), window.innerWidth - menu.offsetWidth - 8);
    menu.style.top = `${Math.max(8, top)}px`;
    menu.style.left = `${Math.max(8, left)}px`;
  }

  // ---- Group settings ------------------------------------------------------------------------

  /** Whether I manage the open group: one of its room admins, or a server admin. */
  managesGroup(room) {
    return this.me.role === 'admin' || room.members.some((m) => m.username === this.me.username && m.admin);
  }

  renderGroup() {
    const room = this.rooms.get(this.current);
    if (!room || room.kind !== 'group') return;
    const manages = this.managesGroup(room);
    $('group-title').textContent = room.name || 'Group';
    if (document.activeElement !== $('group-name')) $('group-name').value = room.name || '';
    $('group-rename').hidden = !manages;
    $('group-add').hidden = !manages;
    $('group-members').replaceChildren(...room.members.map((member) => {
      const item = el('li');
      item.dataset.username = member.username;
      const who = el('span', 'member');
      const what = member.bot ? ' (bot)' : member.admin ? ' (admin)' : '';
      who.append(avatar(member.username, { size: 28 }), el('span', null, fullName(member.username) + what + (member.username === this.me.username ? ' — you' : '')));
      item.append(who);
      if (manages && member.username !== this.me.username && !member.bot) {
        const actions = el('span', 'row');
        const role = el('button', 'secondary small', member.admin ? 'Make member' : 'Make admin');
        role.type = 'button';
        role.dataset.testid = 'group-role';
        role.addEventListener('click', () => this.groupAction('PATCH', `/members/${member.username}`, { admin: !member.admin }));
        const remove = el('button', 'secondary small', 'Remove');
        remove.type = 'button';
        remove.dataset.testid = 'group-remove';
        remove.addEventListener('click', () => {
          if (confirm(`Remove ${fullName(member.username)} from the group?`)) this.groupAction('DELETE', `/members/${member.username}`);
        });
        actions.append(role, remove);
        item.append(actions);
      }
      return item;
    }));
  }

  async groupAction(method, path, body) {
    try {
      const { room } = await api(method, `/rooms/${this.current}${path}`, body);
      this.addRoom(room);
      $('group-result').textContent = '';
      this.renderGroup();
      this.renderHeader();
      this.renderRooms();
    } catch (error) {
      $('group-result').textContent = error.message;
    }
  }

  /** Who has read the message, who has it, who has neither: a small panel by the bubble. */
  async showInfo(message, node) {
    try {
      const info = await api('GET', `/rooms/${message.room}/messages/${message.seq}/receipts`);
      const panel = el('div', 'menu info');
      panel.id = 'message-actions';
      panel.dataset.testid = 'message-info';
      const line = (label, names) => panel.append(el('p', null, `${label}: ${names.length ? names.map(nameOf).join(', ') : 'nobody yet'}`));
      line('Read by', info.read);
      line('Delivered to', info.delivered);
      if (info.waiting.length) line('Not yet delivered to', info.waiting);
      document.body.append(panel);
      this.placeMenu(panel, (node.querySelector('[data-action=menu]') || node).getBoundingClientRect());
    } catch (error) {
      $('attach-status').textContent = error.message;
    }
  }

  hideMenu() {
    document.getElementById('message-actions')?.remove();
  }

  /** Shows a photo full screen; ← and → go through the open chat's photos. */
  showPhoto(url) {
    this.photos = [...$('messages').querySelectorAll('[data-action=photo]')].map((link) => ({
      url: link.getAttribute('href'), name: link.dataset.name,
    }));
    this.photoIndex = Math.max(0, this.photos.findIndex((photo) => photo.url === url));
    $('viewer').hidden = false;
    this.renderPhoto();
    $('viewer-close').focus();
  }

  renderPhoto() {
    const photo = this.photos[this.photoIndex];
    if (!photo) return;
    $('viewer-image').src = photo.url;
    $('viewer-image').alt = photo.name;
    $('viewer-download').href = photo.url;
    $('viewer-download').download = photo.name;
    $('viewer-position').textContent = `${this.photoIndex + 1} of ${this.photos.length}`;
    $('viewer-previous').disabled = this.photoIndex === 0;
    $('viewer-next').disabled = this.photoIndex === this.photos.length - 1;
  }

  stepPhoto(by) {
    const next = this.photoIndex + by;
    if (next < 0 || next >= this.photos.length) return;
    this.photoIndex = next;
    this.renderPhoto();
  }

  /** While the word being typed starts with `@`, offers the room's members it could name. */
  suggestMentions() {
    const composer = $('composer');
    const list = $('mention-list');
    const room = this.rooms.get(this.current);
    const typed = composer.value.slice(0, composer.selectionStart).match(/(?:^|[\s([])@([A-Za-z0-9._-]*)$/);
    const names = typed && room
      ? room.members.map((m) => m.username).filter((name) => name !== this.me.username && name.startsWith(typed[1].toLowerCase()))
      : [];
    list.replaceChildren(...names.slice(0, 8).map((name) => {
      const item = el('li');
      const button = el('button', 'secondary small', nameOf(name) === name ? '@' + name : `${nameOf(name)} @${name}`);
      button.type = 'button';
      button.dataset.username = name;
      button.dataset.testid = 'mention-option';
      button.setAttribute('role', 'option');
      item.append(button);
      return item;
    }));
    list.hidden = names.length === 0;
  }

  insertMention(name) {
    const composer = $('composer');
    const before = composer.value.slice(0, composer.selectionStart).replace(/@[A-Za-z0-9._-]*$/, `@${name} `);
    composer.value = before + composer.value.slice(composer.selectionStart);
    composer.setSelectionRange(before.length, before.length);
    $('mention-list').hidden = true;
    composer.focus();
  }

  /** A refused message goes back into the composer, to change and send again. */
  editAndResend(clientId) {
    const history = this.histories.get(this.current);
    const message = history?.list.find((m) => m.clientId === clientId && m.status === 'failed');
    if (!message) return;
    history.list = history.list.filter((m) => m !== message);
    this.cancelCompose();
    $('composer').value = message.body || '';
    $('composer').focus();
    this.renderMessages();
  }

  startReply(message) {
    this.editing = null;
    this.replyTo = { seq: message.seq, from: message.from?.username, excerpt: (message.body || '').slice(0, 120) };
    this.renderCompose(`Replying to ${this.replyTo.from || 'someone'}: ${this.replyTo.excerpt}`);
  }

  startEdit(message) {
    this.replyTo = null;
    this.editing = { seq: message.seq };
    $('composer').value = message.body;
    this.renderCompose('Editing your message');
  }

  cancelCompose() {
    if (this.editing) $('composer').value = '';
    this.replyTo = null;
    this.editing = null;
    this.renderCompose(null);
  }

  renderCompose(text) {
    const bar = $('compose-context');
    bar.hidden = !text;
    $('compose-context-text').textContent = text || '';
    if (text) $('composer').focus();
  }

  async report(message) {
    const reason = prompt('Why are you reporting this message? A moderator will read it.');
    if (!reason || !reason.trim()) return;
    try {
      await api('POST', '/reports', { messageId: message.id, reason: reason.trim() });
      $('attach-status').textContent = 'Reported. A moderator will look at it.';
    } catch (error) {
      $('attach-status').textContent = error.message;
    }
  }

  jumpTo(seq, { smooth = true } = {}) {
    const target = $('messages').querySelector(`[data-testid=message][data-seq="${seq}"]`);
    if (!target) return;
    target.scrollIntoView({ block: 'center', behavior: smooth ? 'smooth' : 'auto' });
    target.classList.add('flash');
    setTimeout(() => target.classList.remove('flash'), 1500);
  }

  /** Uploads a recorded voice note and sends it on its own (what is typed stays in the box). */
  async sendVoice(file, durationMs) {
    const status = $('attach-status');
    status.textContent = 'Sending the voice message…';
    try {
      const { attachment } = await upload(file, file.name, { durationMs });
      status.textContent = '';
      this.send('', [{ ...attachment, name: file.name }]);
    } catch (error) {
      status.textContent = error.message;
    }
  }

  async attach(fileList) {
    const status = $('attach-status');
    const uploaded = [];
    try {
      for (const original of fileList) {
        status.textContent = `Uploading ${original.name}…`;
        const file = await prepareImage(original);
        const { attachment } = await upload(file, original.name);
        uploaded.push({ ...attachment, name: original.name });
      }
      status.textContent = '';
      this.send($('composer').value, uploaded);
      $('composer').value = '';
    } catch (error) {
      status.textContent = error.message;
    }
  }

  // ---- The connection ------------------------------------------------------------------------

  onOpen() {
    if (this.offline) this.catchUpAfterOfflineStart();
    this.connection.send({ type: 'sync', after: this.store.cursor });
    for (const entry of this.store.outbox) this.transmit(entry);
    this.markRead();
  }

  /** The app opened without a network and the server is back: the real room list and history. */
  async catchUpAfterOfflineStart() {
    await this.loadRooms().catch(() => {});
    for (const [roomId, history] of this.histories) {
      if (!history.offline) continue;
      this.histories.delete(roomId);
      if (roomId === this.current) this.open(roomId);
    }
  }

  setStatus(status) {
    const node = $('connection-status');
    node.textContent = status;
    node.className = 'status ' + status;
    // On a phone the sidebar is hidden while a chat is open: the chat's header says it instead.
    const header = $('chat-connection');
    header.textContent = status === 'online' ? '' : `${status}…`;
    header.hidden = status === 'online';
    if (status !== 'online' && this.online.size > 0) {
      // Who is online is unknown while we are not: no green dots from before the cut.
      this.online.clear();
      this.renderRooms();
      this.renderHeader();
    }
  }

  async checkSession() {
    try {
      await api('GET', '/me');
    } catch (error) {
      if (error.status === 401) this.onSignedOut();
    }
  }

  onFrame(frame) {
    if (typeof frame.seq === 'number' && ['message', 'ack', 'synced'].includes(frame.type)) this.store.advance(frame.seq);
    if (typeof frame.eventSeq === 'number') this.store.advance(frame.eventSeq);
    switch (frame.type) {
      case 'message': return this.onMessage(frame);
      case 'ack': return this.onAck(frame);
      case 'error': return this.onError(frame);
      case 'receipt': return this.onReceipt(frame);
      case 'typing': return this.onTyping(frame);
      case 'presence': return this.onPresence(frame);
      case 'deleted': return this.onDeleted(frame);
      case 'reaction': return this.onReaction(frame);
      case 'edited': return this.onEdited(frame);
      case 'room': return this.onRoom(frame);
      case 'settings': return this.onSettings(frame.room, frame.settings);
      case 'profile': return this.onProfile(frame.user);
      case 'link_request': return handleLinkRequest(frame);
      case 'call':
      case 'rtc': return this.calls.onFrame(frame);
      default: return undefined;
    }
  }

  async onMessage(frame) {
    if (!this.rooms.has(frame.room)) {
      try {
        const { room } = await api('GET', `/rooms/${frame.room}`);
        this.addRoom(room);
      } catch {
        return;
      }
    }
    const room = this.rooms.get(frame.room);
    const mine = frame.from.id === this.me.id;
    room.lastMessage = frame;
    // A message of mine that was held comes back approved, with a new seq: it replaces the held one.
    this.insert(frame.room, { ...frame, status: undefined });
    this.typing.get(frame.room)?.delete(frame.from.username);
    const visible = this.current === frame.room && !document.hidden;
    if (!mine && !visible) room.unread = (room.unread || 0) + 1;
    this.renderRooms();
    if (this.current === frame.room) {
      this.scheduleRender();
      this.renderTyping();
      this.markRead();
    }
    if (!mine && document.hidden) this.notify(room, frame);
  }

  onAck(frame) {
    const change = this.changes.get(frame.id);
    if (change) {
      // The socket that made a change gets its ack instead of the event: apply it here.
      this.changes.delete(frame.id);
      const event = { ...change, eventSeq: frame.seq, user: this.me.username };
      if (change.type === 'react') this.onReaction({ ...event, type: 'reaction' });
      if (change.type === 'edit') this.onEdited({ ...event, type: 'edited', body: frame.body ?? change.body, editedAt: frame.ts });
      if (change.type === 'delete') this.onDeleted({ ...event, type: 'deleted' });
      return;
    }
    const entry = this.store.outbox.find((e) => e.id === frame.id);
    this.store.settle(frame.id);
    if (!entry) return;
    // `messageId` is the id the message's frames carry: an approved held message matches it.
    const message = {
      ...this.pending(entry), id: frame.messageId, seq: frame.seq, ts: frame.ts, status: frame.held ? 'held' : 'sent',
      body: frame.body ?? entry.body,
    };
    this.insert(entry.room, message);
    const room = this.rooms.get(entry.room);
    if (room && !frame.held) {
      room.lastMessage = { ...message, from: { id: this.me.id, username: this.me.username } };
      this.renderRooms();
    }
    if (this.current === entry.room) this.scheduleRender();
  }

  onError(frame) {
    if (!frame.id) return;
    if (frame.id.startsWith('call-')) return this.calls.onError(frame);
    if (this.changes.delete(frame.id)) {
      $('attach-status').textContent = frame.message;
      return;
    }
    const entry = this.store.outbox.find((e) => e.id === frame.id);
    if (!entry) return;
    if (TRANSIENT.has(frame.code)) {
      setTimeout(() => this.transmit(entry), 5000);
      return;
    }
    this.store.settle(frame.id);
    const error = frame.code === 'muted' && frame.until
      ? `A moderator muted you until ${when(frame.until)}; this message was not sent.` : frame.message;
    this.insert(entry.room, { ...this.pending(entry), status: 'failed', error });
    if (this.current === entry.room) this.renderMessages();
  }

  onReceipt(frame) {
    if (frame.user === this.me.username) return;
    const marks = this.receipts.get(frame.room) || new Map();
    const mark = marks.get(frame.user) || { delivered: 0, read: 0 };
    mark.delivered = Math.max(mark.delivered, frame.seq);
    if (frame.kind === 'read') mark.read = Math.max(mark.read, frame.seq);
    marks.set(frame.user, mark);
    this.receipts.set(frame.room, marks);
    if (this.current === frame.room) this.scheduleRender();
  }

  onTyping(frame) {
    if (frame.user === this.me.username) return;
    const room = this.typing.get(frame.room) || new Map();
    clearTimeout(room.get(frame.user));
    room.set(frame.user, setTimeout(() => {
      room.delete(frame.user);
      this.renderTyping();
    }, 5000));
    this.typing.set(frame.room, room);
    this.renderTyping();
  }

  renderTyping() {
    const names = [...(this.typing.get(this.current)?.keys() || [])];
    $('typing').textContent = names.length === 0 ? '' : `${names.map(nameOf).join(', ')} ${names.length === 1 ? 'is' : 'are'} typing…`;
  }

  onPresence(frame) {
    if (frame.online) this.online.add(frame.user);
    else this.online.delete(frame.user);
    this.renderRooms();
    this.renderHeader();
  }

  onDeleted(frame) {
    const history = this.histories.get(frame.room);
    const room = this.rooms.get(frame.room);
    if (frame.eventSeq) {
      // Deleted for everyone: its place stays, saying so.
      this.update(frame.room, frame.seq, (message) => ({ ...message, deleted: true, body: '', attachments: [], reactions: {} }));
      if (room?.lastMessage?.seq === frame.seq) room.lastMessage = { ...room.lastMessage, body: 'Message deleted', attachments: [] };
    } else {
      // A held message a moderator removed: only its sender had it.
      if (history) history.list = history.list.filter((message) => message.seq !== frame.seq);
      if (room?.lastMessage?.seq === frame.seq) room.lastMessage = history?.list.filter((m) => m.seq).at(-1) || null;
    }
    this.renderRooms();
    if (this.current === frame.room) this.renderMessages();
  }

  /** Applies `change` to the loaded message at `seq` of a room, if it is loaded. */
  update(roomId, seq, change) {
    const history = this.histories.get(roomId);
    const index = history?.list.findIndex((message) => message.seq === seq) ?? -1;
    if (index < 0) return;
    history.list[index] = change(history.list[index]);
    // Replies quoting it show its text as it is now.
    const quoted = history.list[index];
    for (const [i, message] of history.list.entries()) {
      if (message.replyTo?.seq === seq) {
        history.list[i] = { ...message, replyTo: { ...message.replyTo, excerpt: quoted.deleted ? '' : (quoted.body || '').slice(0, 120) } };
      }
    }
  }

  onReaction(frame) {
    this.update(frame.room, frame.seq, (message) => {
      const reactions = { ...(message.reactions || {}) };
      const users = (reactions[frame.emoji] || []).filter((user) => user !== frame.user);
      if (frame.on) users.push(frame.user);
      reactions[frame.emoji] = users;
      if (users.length === 0) delete reactions[frame.emoji];
      return { ...message, reactions };
    });
    if (this.current === frame.room) this.scheduleRender();
  }

  onEdited(frame) {
    this.update(frame.room, frame.seq, (message) => ({ ...message, body: frame.body, editedAt: frame.editedAt }));
    const room = this.rooms.get(frame.room);
    if (room?.lastMessage?.seq === frame.seq) room.lastMessage = { ...room.lastMessage, body: frame.body };
    this.renderRooms();
    if (this.current === frame.room) this.scheduleRender();
  }

  /** This user's own settings for a chat changed (here or on another device of theirs). */
  onSettings(roomId, settings) {
    const room = this.rooms.get(roomId);
    if (!room) return;
    room.settings = settings;
    this.renderRooms();
    if (this.current === roomId) this.renderOptions();
  }

  /** Pin, archive and mute for the open chat: what each button says follows the settings. */
  renderOptions() {
    const settings = this.rooms.get(this.current)?.settings || {};
    $('option-pin').textContent = settings.pinned ? 'Unpin' : 'Pin to the top';
    $('option-archive').textContent = settings.archived ? 'Unarchive' : 'Archive';
    const muted = settings.mutedUntil && settings.mutedUntil > Date.now();
    $('option-mute-state').textContent = !muted ? 'Notifications on'
      : settings.mutedUntil > Date.now() + 5 * 365 * 86400000 ? 'Muted' : `Muted until ${when(settings.mutedUntil)}`;
  }

  async changeSettings(change) {
    const roomId = this.current;
    try {
      const { settings } = await api('PATCH', `/rooms/${roomId}/settings`, change);
      this.onSettings(roomId, settings);
      $('chat-options').open = false;
    } catch (error) {
      $('option-mute-state').textContent = error.message;
    }
  }

  /** Someone (perhaps this user, on another device) changed their name or picture. */
  onProfile(user) {
    learn([user]);
    for (const room of this.rooms.values()) {
      room.members = room.members.map((member) => member.username === user.username
        ? { ...member, displayName: user.displayName, avatar: user.avatar } : member);
    }
    if (user.id === this.me.id) {
      this.me = { ...this.me, displayName: user.displayName, avatar: user.avatar };
      showProfile(this.me);
    }
    this.renderRooms();
    if (this.current) {
      this.renderHeader();
      this.renderMessages();
    }
  }

  onRoom(frame) {
    const room = frame.room;
    this.addRoom(room);
    this.renderRooms();
    if (this.current === room.id) {
      $('chat-title').textContent = roomTitle(this.rooms.get(room.id), this.me.username);
      this.renderHeader();
    }
  }

  notify(room, message) {
    if (!('Notification' in window) || Notification.permission !== 'granted') return;
    const sender = nameOf(message.from.username);
    const title = room.kind === 'group' ? `${sender} in ${roomTitle(room, this.me.username)}` : sender;
    const options = {
      body: message.body || 'Sent a file', tag: `room-${room.id}`, renotify: true,
      icon: avatarURL(message.from.username) || '/icon-192.png',
      data: { room: room.id, url: `/#room=${room.id}` },
    };
    // Through the service worker where there is one (phones allow no other way); its click
    // handler opens the room here.
    if (navigator.serviceWorker?.controller) {
      navigator.serviceWorker.ready.then((registration) => registration.showNotification(title, options)).catch(() => {});
      return;
    }
    const notification = new Notification(title, options);
    notification.addEventListener('click', () => {
      window.focus();
      this.open(room.id);
    });
  }

  // ---- The page ------------------------------------------------------------------------------

  /**
   * A message's menu also opens from a right click, and from a finger held still on the bubble
   * (phones: iOS sends no contextmenu for a long press, Android does; either opens it once).
   */
  wireLongPress() {
    const open = (node) => {
      if (document.getElementById('message-actions')?.dataset.seq === node.dataset.seq) return;
      this.showMenu(node);
      const menu = document.getElementById('message-actions');
      if (menu) menu.dataset.seq = node.dataset.seq;
    };
    const bubbleAt = (target) => (target.closest('a, button, audio, video, input') ? null : target.closest('.msg[data-seq]'));
    $('messages').addEventListener('contextmenu', (event) => {
      const node = bubbleAt(event.target);
      if (!node || window.getSelection()?.toString()) return;
      event.preventDefault();
      open(node);
    });
    let press = null;
    const cancel = () => {
      if (press) clearTimeout(press.timer);
      press = null;
    };
    $('messages').addEventListener('pointerdown', (event) => {
      cancel();
      const node = event.pointerType === 'mouse' ? null : bubbleAt(event.target);
      if (!node) return;
      press = { x: event.clientX, y: event.clientY, opened: false };
      press.timer = setTimeout(() => {
        press.opened = true;
        open(node);
      }, LONG_PRESS_MS);
    });
    $('messages').addEventListener('pointermove', (event) => {
      if (press && !press.opened && Math.hypot(event.clientX - press.x, event.clientY - press.y) > 10) cancel();
    });
    // The finger lifting after the menu opened may land on one of its items: that is no choice.
    document.addEventListener('pointerup', () => {
      if (press?.opened) this.releaseUntil = Date.now() + 700;
      cancel();
    }, true);
    document.addEventListener('click', (event) => {
      if (Date.now() >= this.releaseUntil) return;
      this.releaseUntil = 0;
      event.preventDefault();
      event.stopPropagation();
    }, true);
    for (const type of ['pointercancel', 'scroll']) $('messages').addEventListener(type, cancel);
  }

  wire() {
    $('messages').addEventListener('click', (event) => {
      const target = event.target.closest('[data-action]');
      if (!target) return;
      const seq = Number(target.closest('[data-seq]')?.dataset.seq);
      switch (target.dataset.action) {
        case 'menu': return this.showMenu(target.closest('[data-seq]'));
        case 'jump': return this.jumpTo(Number(target.dataset.seq));
        case 'resend': return this.editAndResend(target.closest('[data-id]')?.dataset.id);
        case 'photo': {
          event.preventDefault();
          return this.showPhoto(target.getAttribute('href'));
        }
        case 'react': {
          const message = this.messageAt(seq);
          if (!message) return undefined;
          const on = !(message.reactions?.[target.dataset.emoji] || []).includes(this.me.username);
          return this.change({ type: 'react', room: message.room, seq, emoji: target.dataset.emoji, on });
        }
        default: return undefined;
      }
    });
    document.addEventListener('click', (event) => {
      // The path as dispatched: a click that swapped the menu's contents still counts as inside.
      const inside = event.composedPath().some((node) => node.id === 'message-actions' || node.dataset?.action === 'menu');
      if (!inside) this.hideMenu();
    });
    this.wireLongPress();
    document.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape') return;
      this.hideMenu();
      if (this.replyTo || this.editing) this.cancelCompose();
    });
    $('option-pin').addEventListener('click', () => this.changeSettings({ pinned: !this.rooms.get(this.current)?.settings?.pinned }));
    $('option-archive').addEventListener('click', () => this.changeSettings({ archived: !this.rooms.get(this.current)?.settings?.archived }));
    for (const button of document.querySelectorAll('[data-mute]')) {
      button.addEventListener('click', () => this.changeSettings({ mute: button.dataset.mute }));
    }
    $('compose-cancel').addEventListener('click', () => this.cancelCompose());
    $('viewer-previous').addEventListener('click', () => this.stepPhoto(-1));
    $('viewer-next').addEventListener('click', () => this.stepPhoto(1));
    $('viewer-close').addEventListener('click', () => {
      $('viewer').hidden = true;
    });
    document.addEventListener('keydown', (event) => {
      if ($('viewer').hidden) return;
      if (event.key === 'ArrowLeft') this.stepPhoto(-1);
      if (event.key === 'ArrowRight') this.stepPhoto(1);
    });
    $('open-group').addEventListener('click', () => {
      $('group').hidden = false;
      $('group-result').textContent = '';
      $('webhook-result').textContent = '';
      $('webhook-created').hidden = true;
      this.renderGroup();
      const room = this.rooms.get(this.current);
      if (room) showWebhooks(room, this.managesGroup(room));
    });
    initWebhooks();
    $('close-group').addEventListener('click', () => {
      $('group').hidden = true;
    });
    $('group-rename').addEventListener('submit', (event) => {
      event.preventDefault();
      this.groupAction('PATCH', '', { name: $('group-name').value });
    });
    $('group-add').addEventListener('submit', (event) => {
      event.preventDefault();
      const username = $('group-add-name').value.trim().toLowerCase();
      if (!username) return;
      $('group-add-name').value = '';
      this.groupAction('POST', '/members', { username });
    });
    $('group-leave').addEventListener('click', async () => {
      if (!confirm('Leave this group? You keep what you have, and get nothing new from it.')) return;
      await this.groupAction('DELETE', `/members/${this.me.username}`);
      if (!$('group-result').textContent) $('group').hidden = true;
    });
    $('room-list').addEventListener('click', (event) => {
      const button = event.target.closest('[data-room-id]');
      if (button) this.open(Number(button.dataset.roomId));
    });
    $('back').addEventListener('click', () => this.close());
    $('composer-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const composer = $('composer');
      this.send(composer.value);
      composer.value = '';
      composer.focus();
    });
    $('composer').addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        $('composer-form').requestSubmit();
      }
    });
    $('composer').addEventListener('input', () => this.suggestMentions());
    $('composer').addEventListener('keydown', (event) => {
      if ($('mention-list').hidden) return;
      if (event.key === 'Escape') {
        $('mention-list').hidden = true;
      } else if (event.key === 'Tab' || (event.key === 'Enter' && !event.shiftKey)) {
        const first = $('mention-list').querySelector('button');
        if (!first) return;
        event.preventDefault();
        event.stopImmediatePropagation();
        this.insertMention(first.dataset.username);
      }
    }, { capture: true });
    $('mention-list').addEventListener('click', (event) => {
      const button = event.target.closest('button[data-username]');
      if (button) this.insertMention(button.dataset.username);
    });
    $('composer').addEventListener('input', () => {
      if (this.current && Date.now() - this.lastTypingSent > 3000) {
        this.lastTypingSent = Date.now();
        this.connection.send({ type: 'typing', room: this.current });
      }
    });
    $('attach').addEventListener('change', (event) => {
      const files = [...event.target.files];
      event.target.value = '';
      if (files.length) this.attach(files);
    });
    const chat = $('chat');
    chat.addEventListener('dragover', (event) => event.preventDefault());
    chat.addEventListener('drop', (event) => {
      event.preventDefault();
      if (event.dataTransfer?.files.length) this.attach([...event.dataTransfer.files]);
    });
    $('messages').addEventListener('scroll', async () => {
      const box = $('messages');
      if (box.scrollTop > 80 || !this.current) return;
      const history = this.histories.get(this.current);
      if (!history || history.loadedAll || history.loading) return;
      const offset = box.scrollHeight - box.scrollTop;
      await this.loadOlder(this.current);
      this.renderMessages({ keepOffset: offset });
    });
    document.addEventListener('visibilitychange', () => this.markRead());
    window.addEventListener('pagehide', () => this.store.write('rooms', [...this.rooms.values()]));
    window.addEventListener('focus', () => this.markRead());
    this.wireNotifications();
    $('first-invite').addEventListener('click', () => this.makeInvite());
    $('first-invite-copy').addEventListener('click', () => navigator.clipboard?.writeText($('first-invite-url').textContent));
    $('first-notify').addEventListener('click', () => $('enable-notifications').click());
  }

  /**
   * "Turn on notifications" subscribes this device to pushes (they arrive with Hearth closed);
   * a device that already allowed them renews its subscription at every start. When the
   * browser says no, the button stays and says what to do instead of vanishing.
   */
  wireNotifications() {
    const button = $('enable-notifications');
    const show = (state) => {
      this.pushState = state;
      button.hidden = state === 'on' || state === 'unsupported';
      button.textContent = state === 'denied' ? 'Notifications are blocked: how to allow them' : 'Turn on notifications';
      $('push-state').textContent = describePush(state);
      $('first-notify').hidden = state === 'on' || state === 'unsupported';
      $('first-notify-state').textContent = state === 'on' ? 'On.' : (state === 'default' ? '' : describePush(state));
    };
    const subscribe = (ask) => subscribePush({ ask }).then(show, () => show('failed'));
    button.addEventListener('click', () => {
      if (this.pushState === 'denied') {
        $('open-settings').click();
        return;
      }
      subscribe(true);
    });
    subscribe(false);
  }
}
