// Searching one's messages: the box above the chat list, its results in place of the list
// (`GET /api/v1/search`), each opening its room at the message.
import { api } from './api.js';
import { $, el, roomTitle, when } from './views.js';
import { nameOf } from './people.js';

/** A body with its matched words marked: text nodes and <mark>s, never HTML. */
export function highlighted(body, ranges) {
  const parts = [];
  let at = 0;
  for (const [start, end] of ranges) {
    if (start < at || end > body.length) continue;
    if (start > at) parts.push(document.createTextNode(body.slice(at, start)));
    parts.push(el('mark', null, body.slice(start, end)));
    at = end;
  }
  if (at < body.length) parts.push(document.createTextNode(body.slice(at)));
  return parts;
}

export class Search {
  /** `chat` gives the signed-in chat (a new one after each sign-in). */
  constructor(chat) {
    this.current = chat;
    this.asked = 0;
    this.timer = null;
  }

  wire() {
    const box = $('search');
    box.addEventListener('input', () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.run(box.value), 300);
    });
    $('search-form').addEventListener('submit', (event) => {
      event.preventDefault();
      clearTimeout(this.timer);
      this.run(box.value);
    });
    box.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape' || !box.value) return;
      event.stopPropagation();
      box.value = '';
      this.run('');
    });
  }

  /** Searches for `text` (an empty box shows the chat list again); `before` pages on. */
  async run(text, before = null) {
    const query = text.trim();
    const results = $('search-results');
    const status = $('search-status');
    const asked = ++this.asked;
    if (!query) {
      results.hidden = true;
      status.textContent = '';
      $('room-list').hidden = false;
      return;
    }
    try {
      const page = await api('GET', `/search?q=${encodeURIComponent(query)}${before ? `&before=${before}` : ''}`);
      if (asked !== this.asked) return; // a newer search is on its way
      const items = page.results.map((result) => this.item(result));
      if (before) results.querySelector('.more')?.remove();
      else results.replaceChildren();
      results.append(...items);
      if (page.next) {
        const more = el('li', 'more');
        const button = el('button', 'secondary small', 'More results');
        button.type = 'button';
        button.addEventListener('click', () => this.run(text, page.next));
        more.append(button);
        results.append(more);
      }
      const count = results.querySelectorAll('[data-testid=search-result]').length;
      status.textContent = count === 0 ? `Nothing found for “${query}”.` : `${count}${page.next ? '+' : ''} found`;
    } catch (error) {
      if (asked !== this.asked) return;
      results.replaceChildren();
      status.textContent = error.message;
    }
    results.hidden = false;
    $('room-list').hidden = true;
  }

  get chat() {
    return this.current();
  }

  item(result) {
    const room = this.chat.rooms.get(result.room);
    const item = el('li');
    const button = el('button', 'room result');
    button.type = 'button';
    button.dataset.testid = 'search-result';
    const text = el('span', 'room-text');
    const head = el('span', 'room-name', room ? roomTitle(room, this.chat.me.username) : 'A chat');
    const meta = el('span', 'hint', ` · ${result.from ? nameOf(result.from) : 'someone'}, ${when(result.ts)}`);
    head.append(meta);
    const body = el('span', 'result-body');
    body.append(...highlighted(result.body, result.highlights));
    text.append(head, body);
    button.append(text);
    button.addEventListener('click', () => this.chat.openAt(result.room, result.seq));
    item.append(button);
    return item;
  }
}
