// The WebSocket to /ws: connecting with the token, reconnecting with exponential backoff
// (and jitter) after any loss, and matching answers (ack, joined, error, pong) to requests
// by frame id. It knows the protocol's envelope, not what rooms or messages are.
//
// Events: 'state' (detail: {state, retryAt}), 'hello' (detail: the hello frame), 'frame'
// (detail: any frame that is not the answer to a request), 'unauthenticated'.

const ANSWERS = new Set(['ack', 'joined', 'error', 'pong']);
const REQUEST_TIMEOUT_MS = 20_000;

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
    this.#connect();
  }

  stop() {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#ws?.close(1000, 'bye');
    this.#ws = null;
    this.#failPending();
    this.#setState('closed');
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
    let greeted = false;
    ws.addEventListener('message', (e) => {
      let frame;
      try {
        frame = JSON.parse(e.data);
      } catch {
        return;
      }
      if (frame.type === 'hello') {
        greeted = true;
        this.#attempt = 0;
        this.#setState('open');
        this.dispatchEvent(new CustomEvent('hello', { detail: frame }));
      } else {
        this.#onFrame(frame);
      }
    });
    ws.addEventListener('close', (e) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      this.#failPending();
      if (this.#stopped) return;
      // 4001: the token was refused; 4004: the session ended (logged out or banned).
      if (e.code === 4001 || e.code === 4004) {
        this.#setState('closed');
        this.dispatchEvent(new CustomEvent('unauthenticated'));
        return;
      }
      this.#scheduleReconnect(e.code, greeted);
    });
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
    this.#timer = setTimeout(() => this.#connect(), delay);
    this.#setState('reconnecting', Date.now() + delay);
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
