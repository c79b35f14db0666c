// The WebSocket to the relay: one per tab. Reconnects with exponential backoff and jitter, says
// whether it is online, and hands every frame to the app.

export class Connection {
  /**
   * @param {object} handlers onFrame(frame), onOpen(), onStatus('online'|'offline'|'reconnecting'),
   *   onRefused() when the server will not take the session any more.
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.socket = null;
    this.attempt = 0;
    this.stopped = false;
    this.timer = null;
    window.addEventListener('online', () => this.reconnectNow());
  }

  start() {
    this.stopped = false;
    this.open();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000);
    this.socket = null;
  }

  get isOpen() { return this.socket !== null && this.socket.readyState === WebSocket.OPEN; }

  /** Sends a frame if connected; false when it could not. */
  send(frame) {
    if (!this.isOpen) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /** Drops the connection as a network failure would (used by tests and the offline event). */
  drop() {
    if (this.socket) this.socket.close(4000);
  }

  reconnectNow() {
    if (this.stopped || this.isOpen) return;
    clearTimeout(this.timer);
    this.attempt = 0;
    this.open();
  }

  open() {
    if (this.stopped) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${scheme}://${location.host}/api/v1/ws`);
    this.socket = socket;
    let opened = false;
    socket.addEventListener('open', () => {
      opened = true;
      this.attempt = 0;
      this.handlers.onStatus('online');
      this.handlers.onOpen();
    });
    socket.addEventListener('message', (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      this.handlers.onFrame(frame);
    });
    socket.addEventListener('close', (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.stopped) return;
      // 4001: the session ended (signed out, revoked, disabled). A socket that never opened may
      // have been refused for the same reason: the app checks before we try again.
      if (event.code === 4001) {
        this.handlers.onRefused();
        return;
      }
      this.handlers.onStatus(navigator.onLine === false ? 'offline' : 'reconnecting');
      if (!opened && this.attempt >= 2) this.handlers.onCheckSession();
      this.schedule();
    });
  }

  schedule() {
    // 1 s, 2 s, 4 s … up to 30 s, each with up to 50% jitter so a house full of phones does not
    // reconnect in step after the router restarts.
    const base = Math.min(30000, 1000 * 2 ** this.attempt);
    this.attempt += 1;
    this.timer = setTimeout(() => this.open(), base * (0.5 + Math.random() * 0.5));
  }
}
