// Voice and video calls: WebRTC between the devices of a chat's members, signalled over the
// chat's socket (`call` and `rtc` frames, docs/PROTOCOL.md *Calls*). A direct chat calls one to
// one; a group up to 4 devices, each pair one RTCPeerConnection (a mesh). The one who joins a
// call makes the offers; the others answer. The call screen is an overlay of its own, so the
// chat behind it may change while the call goes on.
import { api } from './api.js';
import { $, el } from './views.js';
import { avatar, nameOf } from './people.js';

/** Why the camera or microphone could not be had, in words. */
function mediaProblem(error, video) {
  const what = video ? 'camera and microphone' : 'microphone';
  switch (error?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return `Hearth may not use your ${what}. Allow it in the browser's settings for this site, then call again.`;
    case 'NotFoundError':
    case 'OverconstrainedError':
      return video ? 'No camera or microphone was found on this device.' : 'No microphone was found on this device.';
    case 'NotReadableError':
      return `Your ${what} is in use by another app; close it and call again.`;
    default:
      return `The ${what} could not be started (${error?.message || error}).`;
  }
}

/** How long a call may take to connect before the screen says it cannot. */
const CONNECT_MS = 20000;

/** Minutes and seconds, "4:07". */
function clock(ms) {
  const seconds = Math.floor(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

export class Calls {
  /**
   * @param send sends a frame on the chat's socket
   * @param roomOf the room by id, or undefined
   * @param me the signed-in user
   */
  constructor({ send, roomOf, me }) {
    this.send = send;
    this.roomOf = roomOf;
    this.me = me;
    /** The call on this device: { id, room, video, state, peers: Map(deviceId → peer), started } */
    this.call = null;
    /** A ring waiting for an answer: the `ring` frame. */
    this.incoming = null;
    this.local = null;
    this.iceServers = null;
    this.iceExpires = 0;
    this.timer = null;
    this.frameCount = 0;
    // For tests and the curious: the peer connections of the call on now.
    window.hearthCall = this;
  }

  wire() {
    $('call-voice').addEventListener('click', () => this.start(false));
    $('call-video').addEventListener('click', () => this.start(true));
    $('call-accept').addEventListener('click', () => this.accept());
    $('call-decline').addEventListener('click', () => this.decline());
    $('call-hangup').addEventListener('click', () => this.hangup());
    $('call-mute').addEventListener('click', () => this.toggle('audio', 'call-mute', 'Unmute', 'Mute'));
    $('call-camera').addEventListener('click', () => this.toggle('video', 'call-camera', 'Camera on', 'Camera off'));
    $('call-switch').addEventListener('click', () => this.switchCamera());
    $('call-layout').addEventListener('click', () => {
      const videos = $('call-videos');
      const speaker = videos.classList.toggle('speaker');
      // The speaker view shows one person large (the first, until another tile is tapped).
      if (speaker && !videos.querySelector('.main')) videos.firstElementChild?.classList.add('main');
      $('call-layout').textContent = speaker ? 'Grid' : 'Speaker view';
    });
    $('call-close').addEventListener('click', () => this.close());
  }

  /** Shows the call buttons for `room` (hidden when nobody else is in it). */
  showFor(room) {
    const others = (room?.members || []).filter((m) => m.id !== this.me.id && !m.bot);
    const can = Boolean(room) && others.length > 0 && typeof RTCPeerConnection === 'function';
    $('call-voice').hidden = !can;
    $('call-video').hidden = !can;
    this.room = room;
  }

  newID(prefix) {
    this.frameCount += 1;
    return `${prefix}-${Date.now().toString(36)}-${this.frameCount}`;
  }

  // MARK: Starting and answering

  async start(video) {
    if (this.call || !this.room) return;
    const room = this.room;
    const id = crypto.randomUUID();
    this.call = { id, room: room.id, video, state: 'starting', peers: new Map(), started: 0 };
    this.showScreen(room, video);
    this.status(video ? 'Starting the camera…' : 'Starting the microphone…');
    if (!(await this.media(video))) return;
    this.status('Calling…');
    this.send({ type: 'call', id: this.newID('call'), call: id, room: room.id, action: 'ring', video });
  }

  async accept() {
    const ring = this.incoming;
    if (!ring) return;
    this.incoming = null;
    $('call-incoming').hidden = true;
    this.stopRinging();
    const room = this.roomOf(ring.room);
    this.call = { id: ring.call, room: ring.room, video: ring.video, state: 'joining', peers: new Map(), started: 0 };
    this.showScreen(room, ring.video);
    this.status('Connecting…');
    if (!(await this.media(ring.video))) {
      this.send({ type: 'call', id: this.newID('call'), call: ring.call, action: 'decline' });
      return;
    }
    this.send({ type: 'call', id: this.newID('call'), call: ring.call, action: 'accept' });
  }

  decline() {
    const ring = this.incoming;
    if (!ring) return;
    this.incoming = null;
    $('call-incoming').hidden = true;
    this.stopRinging();
    this.send({ type: 'call', id: this.newID('call'), call: ring.call, action: 'decline' });
  }

  hangup() {
    if (!this.call) return this.close();
    this.send({ type: 'call', id: this.newID('call'), call: this.call.id, action: 'hangup' });
    this.end('You hung up.');
  }

  /** Gets the microphone (and camera); false, with the reason on screen, when it cannot. */
  async media(video) {
    if (!navigator.mediaDevices?.getUserMedia) {
      this.fail('Calls need a secure connection: open Hearth over https (or on this computer as localhost).');
      return false;
    }
    try {
      this.local = await navigator.mediaDevices.getUserMedia({
        audio: true,
        video: video ? { facingMode: 'user', width: { ideal: 1280 }, height: { ideal: 720 } } : false,
      });
    } catch (error) {
      this.fail(mediaProblem(error, video));
      return false;
    }
    $('call-self').srcObject = video ? this.local : null;
    $('call-self').hidden = !video;
    if (video) {
      const cameras = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput');
      $('call-switch').hidden = cameras.length < 2;
    }
    return true;
  }

  /** The ICE servers for a new peer connection (STUN/TURN, fetched at most once per credential). */
  async ice() {
    if (this.iceServers && Date.now() < this.iceExpires) return this.iceServers;
    try {
      const { iceServers, ttl } = await api('GET', '/calls/ice');
      this.iceServers = iceServers;
      this.iceExpires = Date.now() + Math.max(60, (ttl || 3600) - 60) * 1000;
    } catch {
      this.iceServers = [];
    }
    return this.iceServers;
  }

  // MARK: Frames

  onError(frame) {
    if (!this.call) return;
    this.fail(frame.message);
    const call = this.call;
    if (call && frame.code !== 'rate_limited') {
      this.send({ type: 'call', id: this.newID('call'), call: call.id, action: 'hangup' });
    }
  }

  onFrame(frame) {
    if (frame.type === 'rtc') return this.onSignal(frame);
    const call = this.call;
    switch (frame.action) {
      case 'ring': return this.onRing(frame);
      case 'ringing':
        if (call?.id === frame.call) {
          call.state = 'ringing';
          this.status(frame.devices > 0 ? 'Ringing…' : 'Nobody is online to answer; ringing…');
        }
        return undefined;
      case 'joined':
        if (!call) return undefined;
        // A group's caller may join the call that was already on, under its id.
        call.id = frame.call;
        call.state = 'in-call';
        this.status(frame.participants.length ? 'Connecting…' : 'Waiting for the others…');
        for (const p of frame.participants) this.offer(p.device, p.user);
        this.watchConnecting();
        return undefined;
      case 'accept':
        if (call?.id !== frame.call) return undefined;
        call.state = 'in-call';
        this.status('Connecting…');
        this.peer(frame.fromDevice, frame.from);
        this.watchConnecting();
        return undefined;
      case 'answered_elsewhere':
        if (this.incoming?.call === frame.call) {
          this.incoming = null;
          $('call-incoming').hidden = true;
          this.stopRinging();
        }
        return undefined;
      case 'decline':
        if (call?.id === frame.call && this.roomOf(call.room)?.kind === 'direct') this.end(`${nameOf(frame.from)} declined.`);
        return undefined;
      case 'busy':
        if (call && (call.id === frame.call || call.state !== 'in-call')) this.end('They are in another call.');
        return undefined;
      case 'hangup':
        if (this.incoming?.call === frame.call) {
          this.incoming = null;
          $('call-incoming').hidden = true;
          this.stopRinging();
          return undefined;
        }
        if (call?.id !== frame.call) return undefined;
        if (frame.reason) return this.end(frame.reason === 'timeout' ? 'No answer.' : 'The call ended.');
        this.dropPeer(frame.fromDevice);
        if (call.peers.size === 0) this.status('Waiting for the others…');
        return undefined;
      default: return undefined;
    }
  }

  onRing(frame) {
    if (this.call || this.incoming) {
      this.send({ type: 'call', id: this.newID('call'), call: frame.call, action: 'busy' });
      return;
    }
    this.incoming = frame;
    const room = this.roomOf(frame.room);
    $('call-incoming-avatar').replaceChildren(avatar(frame.from, { size: 96 }));
    $('call-incoming-title').textContent = `${nameOf(frame.from)} is calling`;
    const where = room?.kind === 'group' ? ` · ${room.name}` : '';
    $('call-incoming-kind').textContent = (frame.video ? 'Video call' : 'Voice call') + where;
    $('call-incoming').hidden = false;
    this.startRinging();
  }

  // MARK: Peers

  /** The peer connection to `deviceId`, made on first use with this device's tracks. */
  async peer(deviceId, username) {
    const call = this.call;
    const known = call.peers.get(deviceId);
    if (known) return known;
    const peer = { deviceId, username, pc: null, pending: [], ready: null };
    call.peers.set(deviceId, peer);
    peer.ready = (async () => {
      const policy = localStorage.getItem('hearth-ice-policy') === 'relay' ? 'relay' : 'all';
      const pc = new RTCPeerConnection({ iceServers: await this.ice(), iceTransportPolicy: policy });
      peer.pc = pc;
      for (const track of this.local?.getTracks() || []) pc.addTrack(track, this.local);
      pc.onicecandidate = ({ candidate }) => {
        if (candidate) this.send({ type: 'rtc', call: call.id, to: deviceId, candidate: candidate.toJSON() });
      };
      pc.ontrack = ({ streams }) => this.showRemote(peer, streams[0]);
      pc.onconnectionstatechange = () => this.peerState(peer);
      return pc;
    })();
    await peer.ready;
    return peer;
  }

  async offer(deviceId, username) {
    const peer = await this.peer(deviceId, username);
    const offer = await peer.pc.createOffer();
    await peer.pc.setLocalDescription(offer);
    this.send({ type: 'rtc', call: this.call.id, to: deviceId, sdp: peer.pc.localDescription.toJSON() });
  }

  async onSignal(frame) {
    const call = this.call;
    if (!call || frame.call !== call.id) return;
    const peer = await this.peer(frame.fromDevice, frame.from);
    const pc = peer.pc;
    try {
      if (frame.sdp) {
        await pc.setRemoteDescription(frame.sdp);
        if (frame.sdp.type === 'offer') {
          await pc.setLocalDescription(await pc.createAnswer());
          this.send({ type: 'rtc', call: call.id, to: frame.fromDevice, sdp: pc.localDescription.toJSON() });
        }
        for (const candidate of peer.pending.splice(0)) await pc.addIceCandidate(candidate);
      } else if (frame.candidate) {
        if (pc.remoteDescription) await pc.addIceCandidate(frame.candidate);
        else peer.pending.push(frame.candidate);
      }
    } catch (error) {
      this.status(`The connection could not be set up (${error.message}).`);
    }
  }

  /** Says so when no one is connected `CONNECT_MS` after the call was taken. */
  watchConnecting() {
    clearTimeout(this.connectTimer);
    this.connectTimer = setTimeout(() => {
      const call = this.call;
      if (!call || call.started || call.peers.size === 0) return;
      this.status('The call could not connect. Across the internet it needs a TURN server: ask whoever runs Hearth (see its Calls guide).');
    }, CONNECT_MS);
  }

  peerState(peer) {
    const state = peer.pc.connectionState;
    peer.tile?.setAttribute('data-state', state);
    if (state === 'connected') {
      clearTimeout(this.connectTimer);
      if (!this.call.started) this.startClock();
      this.status('');
    } else if (state === 'failed') {
      this.status(`The connection to ${nameOf(peer.username)} failed.`);
    }
  }

  showRemote(peer, stream) {
    if (!peer.tile) {
      peer.tile = el('figure', 'call-tile');
      peer.tile.dataset.testid = 'call-tile';
      peer.video = el('video');
      peer.video.autoplay = true;
      peer.video.playsInline = true;
      const name = el('figcaption', null, nameOf(peer.username));
      peer.tile.append(peer.video, name);
      peer.tile.addEventListener('click', () => {
        for (const tile of $('call-videos').children) tile.classList.toggle('main', tile === peer.tile);
      });
      $('call-videos').append(peer.tile);
      this.layout();
    }
    peer.video.srcObject = stream;
  }

  dropPeer(deviceId) {
    const peer = this.call?.peers.get(deviceId);
    if (!peer) return;
    peer.pc?.close();
    peer.tile?.remove();
    this.call.peers.delete(deviceId);
    this.layout();
  }

  layout() {
    const tiles = $('call-videos').children.length;
    $('call-videos').dataset.count = String(tiles);
    $('call-layout').hidden = tiles < 2;
  }

  // MARK: Controls

  toggle(kind, button, offLabel, onLabel) {
    const tracks = this.local?.getTracks().filter((t) => t.kind === kind) || [];
    if (!tracks.length) return;
    const off = tracks[0].enabled;
    for (const track of tracks) track.enabled = !off;
    $(button).setAttribute('aria-pressed', String(off));
    $(button).textContent = off ? offLabel : onLabel;
  }

  async switchCamera() {
    const current = this.local?.getVideoTracks()[0];
    if (!current) return;
    const facing = current.getSettings().facingMode === 'environment' ? 'user' : 'environment';
    try {
      const fresh = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { exact: facing } } });
      const track = fresh.getVideoTracks()[0];
      for (const peer of this.call?.peers.values() || []) {
        const sender = peer.pc?.getSenders().find((s) => s.track?.kind === 'video');
        await sender?.replaceTrack(track);
      }
      this.local.removeTrack(current);
      current.stop();
      this.local.addTrack(track);
      $('call-self').srcObject = this.local;
    } catch (error) {
      this.status(mediaProblem(error, true));
    }
  }

  // MARK: The screen

  showScreen(room, video) {
    const title = room ? (room.kind === 'group' ? room.name : nameOf(room.members.find((m) => m.id !== this.me.id)?.username)) : '';
    $('call-title').textContent = `${video ? 'Video call' : 'Voice call'}${title ? ` · ${title}` : ''}`;
    $('call-screen').classList.toggle('voice', !video);
    $('call-camera').hidden = !video;
    $('call-switch').hidden = true;
    $('call-mute').textContent = 'Mute';
    $('call-mute').setAttribute('aria-pressed', 'false');
    $('call-camera').textContent = 'Camera off';
    $('call-duration').textContent = '';
    $('call-controls').hidden = false;
    $('call-close').hidden = true;
    $('call-videos').replaceChildren();
    $('call-videos').classList.remove('speaker');
    this.layout();
    $('call-screen').hidden = false;
  }

  status(text) {
    $('call-status').textContent = text;
  }

  startClock() {
    this.call.started = Date.now();
    clearInterval(this.timer);
    this.timer = setInterval(() => {
      if (this.call?.started) $('call-duration').textContent = clock(Date.now() - this.call.started);
    }, 1000);
    $('call-duration').textContent = '0:00';
  }

  /** Ends the call on this device, saying why; the screen stays until closed. */
  end(reason) {
    this.release();
    this.status(reason);
    $('call-controls').hidden = true;
    $('call-close').hidden = false;
    $('call-close').focus();
  }

  /** A problem before the call began: the screen says it, with a way out. */
  fail(text) {
    this.release();
    $('call-screen').hidden = false;
    this.status(text);
    $('call-controls').hidden = true;
    $('call-close').hidden = false;
  }

  release() {
    clearInterval(this.timer);
    clearTimeout(this.connectTimer);
    for (const peer of this.call?.peers.values() || []) peer.pc?.close();
    for (const track of this.local?.getTracks() || []) track.stop();
    this.local = null;
    this.call = null;
  }

  close() {
    this.release();
    $('call-screen').hidden = true;
  }

  // MARK: Ringing

  startRinging() {
    navigator.vibrate?.([400, 200, 400, 200, 400]);
    try {
      const context = new AudioContext();
      const beep = (at) => {
        const tone = context.createOscillator();
        const gain = context.createGain();
        tone.frequency.value = 440;
        gain.gain.value = 0.08;
        tone.connect(gain).connect(context.destination);
        tone.start(context.currentTime + at);
        tone.stop(context.currentTime + at + 0.4);
      };
      this.ringTone = { context, timer: setInterval(() => { beep(0); beep(0.6); }, 3000) };
      beep(0);
      beep(0.6);
    } catch {
      this.ringTone = null;
    }
  }

  stopRinging() {
    navigator.vibrate?.(0);
    if (this.ringTone) {
      clearInterval(this.ringTone.timer);
      this.ringTone.context.close().catch(() => {});
      this.ringTone = null;
    }
  }
}
