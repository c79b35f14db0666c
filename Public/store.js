// What the client keeps between page loads, in localStorage, per signed-in user: the sync cursor
// (the highest seq seen) and the outbox of messages not yet acked, so nothing typed is lost to a
// reload or a dead connection.

export class Store {
  constructor(userId) {
    this.prefix = `hearth:${userId}:`;
  }

  read(key, fallback) {
    try {
      const value = localStorage.getItem(this.prefix + key);
      return value === null ? fallback : JSON.parse(value);
    } catch {
      return fallback;
    }
  }

  write(key, value) {
    try {
      localStorage.setItem(this.prefix + key, JSON.stringify(value));
    } catch {
      // Storage full or disabled: the session still works, it just forgets on reload.
    }
  }

  get cursor() { return this.read('cursor', 0); }

  /** Moves the cursor forward (never back). */
  advance(seq) {
    if (typeof seq === 'number' && seq > this.cursor) this.write('cursor', seq);
  }

  get outbox() { return this.read('outbox', []); }

  /** Queues a message until its ack arrives. */
  enqueue(entry) { this.write('outbox', [...this.outbox.filter((e) => e.id !== entry.id), entry]); }

  /** Drops a message from the outbox (acked, or refused for good). */
  settle(id) { this.write('outbox', this.outbox.filter((e) => e.id !== id)); }
}
