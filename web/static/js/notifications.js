// Optional notices of new messages: a short sound and, where the browser allows it, a
// desktop notification, for a message in a room that is not open or while the page is
// hidden. Off until the person turns them on; the choice is kept per user in this browser.
// Permission for desktop notifications is asked only when they turn it on (a click), never
// on load. The sound is made with Web Audio (no file to fetch), and its AudioContext is
// created only on a click or key press, as browsers require.

import { loadNotify, saveNotify } from './session.js';

const SOUND_GAP_MS = 1500;

export class Notifier {
  #audio = null;
  #lastSound = 0;

  constructor(userId) {
    this.userId = userId;
    this.enabled = loadNotify(userId);
    // After a reload the sound can start only once the person interacts with the page.
    const unlock = () => {
      if (this.enabled) this.#audioContext();
    };
    window.addEventListener('pointerdown', unlock, { once: true, capture: true });
    window.addEventListener('keydown', unlock, { once: true, capture: true });
  }

  /** 'granted' | 'denied' | 'default' | 'unsupported' */
  static get permission() {
    return 'Notification' in window ? Notification.permission : 'unsupported';
  }

  /** Turns notices on; call it from a click (the permission prompt needs one). */
  async enable() {
    this.enabled = true;
    saveNotify(this.userId, true);
    this.#audioContext();
    if (Notifier.permission === 'default') {
      try {
        await Notification.requestPermission();
      } catch {
        // An old browser without the promise form: sound only.
      }
    }
  }

  disable() {
    this.enabled = false;
    saveNotify(this.userId, false);
  }

  /** Tells the person about `text` in `title`; `onOpen` runs when they click the notice. */
  notify(title, text, { tag, onOpen } = {}) {
    if (!this.enabled) return;
    this.#beep();
    if (Notifier.permission !== 'granted') return;
    try {
      // Silent: the page's own sound already played.
      const notice = new Notification(title, { body: text.slice(0, 200), tag, silent: true });
      notice.addEventListener('click', () => {
        window.focus();
        onOpen?.();
        notice.close();
      });
    } catch {
      // Some mobile browsers allow notifications only from a service worker: sound only.
    }
  }

  #audioContext() {
    if (!this.#audio && typeof AudioContext === 'function') this.#audio = new AudioContext();
    if (this.#audio?.state === 'suspended') this.#audio.resume().catch(() => {});
    return this.#audio;
  }

  /** Two short soft tones. */
  #beep() {
    const now = Date.now();
    const audio = this.#audio;
    if (!audio || audio.state !== 'running' || now - this.#lastSound < SOUND_GAP_MS) return;
    this.#lastSound = now;
    const t = audio.currentTime;
    for (const [offset, freq] of [[0, 880], [0.12, 1175]]) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t + offset);
      gain.gain.exponentialRampToValueAtTime(0.12, t + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + offset + 0.18);
      osc.connect(gain).connect(audio.destination);
      osc.start(t + offset);
      osc.stop(t + offset + 0.2);
    }
  }
}
