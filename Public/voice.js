// Voice notes. Hold the mic button to record and let go to send; slide away from it (or press
// Escape) to throw the recording away. A quick tap (or Enter on the keyboard) starts a recording
// that the bar's Send and Cancel buttons end. MediaRecorder records Opus in WebM or Ogg where the
// browser can, AAC in MP4 on Safari; the server checks the file is what it says.
import { $ } from './views.js';

/** Containers to record in, best first. */
const TYPES = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/mp4', 'audio/webm'];
/** A press shorter than this is a tap (record until Send), longer a hold (record until let go). */
const HOLD_MS = 350;
/** Sliding this far from where the press began throws the recording away. */
const CANCEL_PX = 80;
/** The longest voice note: the recording stops and is sent then. */
export const VOICE_MAX_MS = 15 * 60 * 1000;

const clock = (ms) => {
  const seconds = Math.floor(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
};

export class VoiceRecorder {
  /** `onRecorded(file, durationMs)` gets each voice note to send; `onProblem(text)` says what went wrong. */
  constructor({ onRecorded, onProblem }) {
    this.onRecorded = onRecorded;
    this.onProblem = onProblem;
    this.recorder = null;
    this.press = null;
  }

  wire() {
    const button = $('voice');
    if (!navigator.mediaDevices?.getUserMedia || !window.MediaRecorder) {
      button.hidden = true;
      return;
    }
    button.addEventListener('pointerdown', (event) => {
      if (event.button !== 0 || this.recorder) return;
      event.preventDefault();
      button.setPointerCapture?.(event.pointerId);
      this.press = { x: event.clientX, y: event.clientY, at: performance.now(), away: false };
      this.start(true);
    });
    button.addEventListener('pointermove', (event) => {
      if (!this.press) return;
      this.press.away = Math.hypot(event.clientX - this.press.x, event.clientY - this.press.y) > CANCEL_PX;
      $('voice-hint').textContent = this.press.away ? 'Let go to throw it away' : 'Let go to send, slide away to cancel';
      $('voice-bar').classList.toggle('away', this.press.away);
    });
    const release = () => {
      const press = this.press;
      if (!press) return;
      this.press = null;
      if (press.away) this.cancel();
      else if (performance.now() - press.at < HOLD_MS) this.showTapControls();
      else this.finish();
    };
    button.addEventListener('pointerup', release);
    button.addEventListener('pointercancel', () => {
      this.press = null;
      this.cancel();
    });
    // Enter or Space on the button (no pointer): a recording that Send or Cancel ends.
    button.addEventListener('click', (event) => {
      if (event.detail !== 0 || this.recorder) return;
      this.start(false);
    });
    $('voice-send').addEventListener('click', () => this.finish());
    $('voice-cancel').addEventListener('click', () => this.cancel());
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && this.recorder) this.cancel();
    });
  }

  async start(holding) {
    const type = TYPES.find((candidate) => MediaRecorder.isTypeSupported(candidate));
    let stream;
    this.recorder = 'starting';
    this.showBar(holding);
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (error) {
      this.recorder = null;
      this.hideBar();
      this.onProblem(error?.name === 'NotFoundError'
        ? 'No microphone was found on this device.'
        : 'Hearth may not use the microphone: allow it in the site settings (the icon left of the address), then try again.');
      return;
    }
    if (this.recorder !== 'starting') {
      // Cancelled while the browser asked for the microphone.
      stream.getTracks().forEach((track) => track.stop());
      return;
    }
    const recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
    const chunks = [];
    recorder.addEventListener('dataavailable', (event) => {
      if (event.data.size > 0) chunks.push(event.data);
    });
    recorder.addEventListener('stop', () => {
      stream.getTracks().forEach((track) => track.stop());
      const durationMs = Math.max(1, Math.round(performance.now() - this.startedAt));
      if (recorder.discard || chunks.length === 0) return;
      const mime = (recorder.mimeType || type || 'audio/webm').split(';')[0];
      const extension = { 'audio/webm': 'webm', 'audio/ogg': 'ogg', 'audio/mp4': 'm4a' }[mime] || 'webm';
      const stamp = new Date().toISOString().slice(0, 19).replace(/[T:]/g, '-');
      this.onRecorded(new File(chunks, `voice-note-${stamp}.${extension}`, { type: mime }), durationMs);
    });
    this.recorder = recorder;
    this.startedAt = performance.now();
    recorder.start(1000);
    this.timer = setInterval(() => {
      const elapsed = performance.now() - this.startedAt;
      $('voice-time').textContent = clock(elapsed);
      if (elapsed >= VOICE_MAX_MS) this.finish();
    }, 250);
  }

  showBar(holding) {
    $('voice-time').textContent = '0:00';
    $('voice-hint').textContent = holding ? 'Let go to send, slide away to cancel' : 'Recording…';
    $('voice-bar').classList.remove('away');
    $('voice-send').hidden = holding;
    $('voice-cancel').hidden = holding;
    $('voice-bar').hidden = false;
    $('voice').setAttribute('aria-pressed', 'true');
  }

  /** After a tap: the recording goes on until Send or Cancel. */
  showTapControls() {
    $('voice-hint').textContent = 'Recording…';
    $('voice-send').hidden = false;
    $('voice-cancel').hidden = false;
    $('voice-send').focus();
  }

  hideBar() {
    clearInterval(this.timer);
    $('voice-bar').hidden = true;
    $('voice').setAttribute('aria-pressed', 'false');
  }

  finish() {
    const recorder = this.recorder;
    this.recorder = null;
    this.hideBar();
    if (recorder && recorder !== 'starting' && recorder.state !== 'inactive') recorder.stop();
  }

  cancel() {
    const recorder = this.recorder;
    this.recorder = null;
    this.hideBar();
    if (recorder && recorder !== 'starting' && recorder.state !== 'inactive') {
      recorder.discard = true;
      recorder.stop();
    }
  }
}
