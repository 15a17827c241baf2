// The WebSocket to /ws: connecting with the token, reconnecting with exponential backoff
// (and jitter) after any loss, and matching answers (ack, joined, error, pong) to requests
// by frame id. It knows the protocol's envelope, not what rooms or messages are.
//
// A socket can die without a close event: with the network gone, the browser may keep
// reporting it open for minutes (until TCP gives up). So the state is checked, not assumed:
//   - the browser's `offline` event drops the socket at once, and `online` retries at once;
//   - while the page is visible, a `ping` frame goes out every PROBE_EVERY_MS and any frame
//     from the server within PROBE_TIMEOUT_MS proves the socket alive (a busy stream counts;
//     the `pong` is just the frame that always comes). Silence drops the socket, and the
//     usual reconnect and resume follow. Hidden pages do not probe (browsers throttle their
//     timers); they probe as soon as they are shown again;
//   - a socket that has not said hello within HELLO_TIMEOUT_MS is given up the same way.
//
// Events: 'state' (detail: {state, retryAt}), 'hello' (detail: the hello frame), 'frame'
// (detail: any frame that is not the answer to a request), 'lost', 'unauthenticated'.

const ANSWERS = new Set(['ack', 'joined', 'error', 'pong']);
const REQUEST_TIMEOUT_MS = 20_000;
const PROBE_EVERY_MS = 5_000;
const PROBE_TIMEOUT_MS = 5_000;
const HELLO_TIMEOUT_MS = 15_000;

/** A request whose connection went away before it was answered. */
export class ConnectionLost extends Error {
  constructor() {
    super('The connection to the server was lost.');
    this.code = 'connection_lost';
  }
}

/** The server answered a request with an `error` frame. */
export class FrameError extends Error {
  constructor(frame) {
    super(frame.message);
    this.code = frame.code;
  }
}

export class Connection extends EventTarget {
  #token;
  #ws = null;
  #attempt = 0;
  #timer = null;
  #stopped = false;
  #nextId = 0;
  #pending = new Map();
  #greeted = false;
  #probeTimer = null;
  #probeDeadline = null;
  #helloTimer = null;
  #listeners = [];

  constructor(token, { baseDelayMs = 500, maxDelayMs = 10_000 } = {}) {
    super();
    this.#token = token;
    this.baseDelayMs = baseDelayMs;
    this.maxDelayMs = maxDelayMs;
    /** 'connecting' | 'open' | 'reconnecting' | 'closed' */
    this.state = 'connecting';
    this.retryAt = null;
  }

  start() {
    this.#stopped = false;
    this.#listen(window, 'offline', () => this.#drop('the browser went offline'));
    this.#listen(window, 'online', () => {
      this.#attempt = 0;
      this.retryNow();
    });
    this.#listen(document, 'visibilitychange', () => {
      if (!document.hidden) this.#probe();
    });
    this.#connect();
  }

  stop() {
    this.#stopped = true;
    for (const [target, type, listener] of this.#listeners) target.removeEventListener(type, listener);
    this.#listeners = [];
    clearTimeout(this.#timer);
    clearTimeout(this.#helloTimer);
    this.#stopProbing();
    this.#ws?.close(1000, 'bye');
    this.#ws = null;
    this.#failPending();
    this.#setState('closed');
  }

  /** Whether the browser says it has no network (then reconnecting waits for `online`). */
  get offline() {
    return navigator.onLine === false;
  }

  /** Skips the rest of the backoff wait. */
  retryNow() {
    if (this.state !== 'reconnecting' || this.#ws) return;
    clearTimeout(this.#timer);
    this.#connect();
  }

  /** Sends a frame that expects no answer; false when not connected. */
  send(frame) {
    if (this.state !== 'open' || this.#ws?.readyState !== WebSocket.OPEN) return false;
    this.#ws.send(JSON.stringify(frame));
    return true;
  }

  /** A fresh frame id. */
  id() {
    this.#nextId += 1;
    return `w${this.#nextId}`;
  }

  /** Sends a frame with a new id; resolves with its answer, rejects with FrameError or ConnectionLost. */
  request(frame) {
    const id = this.id();
    return new Promise((resolve, reject) => {
      if (!this.send({ ...frame, id })) return reject(new ConnectionLost());
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new ConnectionLost());
      }, REQUEST_TIMEOUT_MS);
      this.#pending.set(id, { resolve, reject, timer });
    });
  }

  #connect() {
    this.#setState(this.#attempt === 0 && this.state === 'connecting' ? 'connecting' : 'reconnecting');
    const url = new URL('/ws', location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('token', this.#token);
    const ws = new WebSocket(url);
    this.#ws = ws;
    this.#greeted = false;
    clearTimeout(this.#helloTimer);
    this.#helloTimer = setTimeout(() => this.#drop('no hello from the server'), HELLO_TIMEOUT_MS);
    ws.addEventListener('message', (e) => {
      if (this.#ws !== ws) return;
      // Any frame at all shows the socket is alive.
      clearTimeout(this.#probeDeadline);
      this.#probeDeadline = null;
      let frame;
      try {
        frame = JSON.parse(e.data);
      } catch {
        return;
      }
      if (frame.type === 'hello') {
        clearTimeout(this.#helloTimer);
        this.#greeted = true;
        this.#attempt = 0;
        this.#setState('open');
        this.#startProbing();
        this.dispatchEvent(new CustomEvent('hello', { detail: frame }));
      } else if (frame.type === 'pong' && !this.#pending.has(frame.id)) {
        // The answer to a probe: it has done its work above.
      } else {
        this.#onFrame(frame);
      }
    });
    ws.addEventListener('close', (e) => {
      if (this.#ws !== ws) return;
      // 4001: the token was refused; 4004: the session ended (logged out or banned).
      if (e.code === 4001 || e.code === 4004) {
        this.#detach();
        if (this.#stopped) return;
        this.#setState('closed');
        this.dispatchEvent(new CustomEvent('unauthenticated'));
        return;
      }
      this.#lost(e.code);
    });
  }

  /** Gives up on the current socket (its close event, if it ever comes, is ignored). */
  #drop(reason) {
    const ws = this.#ws;
    if (!ws || this.#stopped) return;
    // 4000: a code of the application's own; the server may never see it.
    ws.close(4000, reason.slice(0, 100));
    this.#lost(1006);
  }

  #lost(code) {
    const greeted = this.#greeted;
    this.#detach();
    if (this.#stopped) return;
    this.#scheduleReconnect(code, greeted);
  }

  #detach() {
    this.#ws = null;
    clearTimeout(this.#helloTimer);
    this.#stopProbing();
    this.#failPending();
  }

  #startProbing() {
    this.#stopProbing();
    this.#probeTimer = setInterval(() => this.#probe(), PROBE_EVERY_MS);
  }

  #stopProbing() {
    clearInterval(this.#probeTimer);
    clearTimeout(this.#probeDeadline);
    this.#probeTimer = null;
    this.#probeDeadline = null;
  }

  /** One ping, unless one is already out or the page is hidden. */
  #probe() {
    if (this.state !== 'open' || document.hidden || this.#probeDeadline) return;
    if (this.offline) return this.#drop('the browser is offline');
    if (!this.send({ type: 'ping', id: this.id() })) return undefined;
    this.#probeDeadline = setTimeout(() => this.#drop('no answer to a ping'), PROBE_TIMEOUT_MS);
    return undefined;
  }

  #listen(target, type, listener) {
    target.addEventListener(type, listener);
    this.#listeners.push([target, type, listener]);
  }

  #onFrame(frame) {
    const waiter = frame.id != null && ANSWERS.has(frame.type) ? this.#pending.get(frame.id) : null;
    if (!waiter) {
      this.dispatchEvent(new CustomEvent('frame', { detail: frame }));
      return;
    }
    this.#pending.delete(frame.id);
    clearTimeout(waiter.timer);
    if (frame.type === 'error') waiter.reject(new FrameError(frame));
    else waiter.resolve(frame);
  }

  #scheduleReconnect(code, greeted) {
    // A restarting gateway (1012) is worth one quick retry; after that, back off.
    const quick = greeted && (code === 1012 || code === 1001);
    const base = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** this.#attempt);
    const delay = quick && this.#attempt === 0 ? 100 : Math.round(base * (0.5 + Math.random() / 2));
    this.#attempt += 1;
    clearTimeout(this.#timer);
    // Without a network an attempt cannot succeed: wait for `online` (which retries at once),
    // but keep trying slowly in case the browser is wrong about it.
    const wait = this.offline ? Math.max(delay, this.maxDelayMs) : delay;
    this.#timer = setTimeout(() => this.#connect(), wait);
    this.#setState('reconnecting', Date.now() + wait);
    this.dispatchEvent(new CustomEvent('lost', { detail: { code, greeted, attempt: this.#attempt } }));
  }

  #failPending() {
    for (const { reject, timer } of this.#pending.values()) {
      clearTimeout(timer);
      reject(new ConnectionLost());
    }
    this.#pending.clear();
  }

  #setState(state, retryAt = null) {
    this.state = state;
    this.retryAt = retryAt;
    this.dispatchEvent(new CustomEvent('state', { detail: { state, retryAt } }));
  }
}
