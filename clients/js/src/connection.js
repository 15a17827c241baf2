// One logical connection to `/ws` that survives the sockets under it: it authenticates with
// an `auth` frame (so the token never appears in a URL or a proxy's log), reconnects with
// exponential backoff and jitter after any loss, renews the token before it expires, and
// matches answers (ack, joined, error, pong) to requests by frame id. It knows the
// protocol's envelope, not what rooms or messages are: that is ChatClient's job.
//
// A socket can die without a close event: with the network gone, a browser may report it
// open for minutes. So liveness is checked, not assumed: while the page is visible a `ping`
// goes out every `probeEveryMs`, and any frame from the server within `probeTimeoutMs`
// proves the socket alive; silence drops it and the usual reconnect follows. A browser's
// `offline` event drops the socket at once and `online` retries at once. A socket that has
// not said hello within `helloTimeoutMs` is given up the same way.
//
// Events: 'state' {state, retryAt}, 'hello' (the hello frame), 'frame' (a frame that is not
// the answer to a request), 'lost' {code, greeted, attempt}, 'unauthenticated' {code}.

import { backoffDelay } from './backoff.js';
import { pageHidden, reportsOffline, watchEnvironment } from './environment.js';
import { ClientClosed, ConnectionLost, FrameError } from './errors.js';
import { currentToken, renewalDelay, tokenExpiry } from './token.js';

const ANSWERS = new Set(['ack', 'joined', 'error', 'pong']);
const OPEN = 1;
/** Close codes after which reconnecting cannot help: the user must sign in again. */
const SIGNED_OUT = new Set([4001, 4004]);

export const DEFAULTS = Object.freeze({
  baseDelayMs: 500,
  maxDelayMs: 10_000,
  probeEveryMs: 5_000,
  probeTimeoutMs: 5_000,
  helloTimeoutMs: 15_000,
  requestTimeoutMs: 20_000,
});

export class Connection extends EventTarget {
  #options;
  #ws = null;
  #attempt = 0;
  #timers = new Map();
  #stopped = true;
  #nextId = 0;
  #pending = new Map();
  #greeted = false;
  #unwatch = () => {};

  /**
   * @param {object} options
   * @param {string | URL} [options.url] the `/ws` address (default: this page's origin)
   * @param {string | (() => string | Promise<string>)} options.token
   * @param {typeof WebSocket} [options.WebSocket] the implementation (Node 20: `ws`)
   */
  constructor(options) {
    super();
    this.#options = { ...DEFAULTS, ...options };
    this.#options.WebSocket ??= globalThis.WebSocket;
    if (typeof this.#options.WebSocket !== 'function') {
      throw new TypeError('no WebSocket implementation: pass one as the WebSocket option (e.g. from the ws package)');
    }
    /** 'connecting' (also before start) | 'open' | 'reconnecting' | 'closed' */
    this.state = 'connecting';
    this.retryAt = null;
  }

  start() {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#unwatch = watchEnvironment({
      offline: () => this.#drop('the network went away'),
      online: () => {
        this.#attempt = 0;
        this.retryNow();
      },
      visible: () => this.#probe(),
    });
    this.#connect();
  }

  stop() {
    this.#stopped = true;
    this.#unwatch();
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#ws?.close(1000, 'bye');
    this.#ws = null;
    this.#failPending(new ClientClosed());
    this.#setState('closed');
  }

  /** Whether the runtime reports no network (reconnecting then waits for it). */
  get offline() {
    return reportsOffline();
  }

  /** Skips the rest of the backoff wait. */
  retryNow() {
    if (this.state !== 'reconnecting' || this.#ws) return;
    this.#clear('reconnect');
    this.#connect();
  }

  /** Sends a frame that expects no answer; false when not connected. */
  send(frame) {
    if (this.state !== 'open' || this.#ws?.readyState !== OPEN) return false;
    this.#ws.send(JSON.stringify(frame));
    return true;
  }

  /** A fresh frame id. */
  id() {
    this.#nextId += 1;
    return `c${this.#nextId}`;
  }

  /** Sends a frame with a new id; resolves with its answer, rejects with FrameError or ConnectionLost. */
  request(frame) {
    const id = this.id();
    return new Promise((resolve, reject) => {
      if (!this.send({ ...frame, id })) return reject(new ConnectionLost());
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new ConnectionLost());
      }, this.#options.requestTimeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      return undefined;
    });
  }

  async #connect() {
    this.#setState(this.#attempt === 0 && this.state !== 'reconnecting' ? 'connecting' : 'reconnecting');
    let token;
    try {
      token = await currentToken(this.#options.token);
    } catch {
      if (!this.#stopped) this.#scheduleReconnect(1006, false);
      return;
    }
    if (this.#stopped) return;
    const ws = new this.#options.WebSocket(String(this.#options.url ?? defaultUrl()));
    this.#ws = ws;
    this.#greeted = false;
    this.#after('hello', this.#options.helloTimeoutMs, () => this.#drop('no hello from the server'));
    ws.addEventListener('open', () => {
      if (this.#ws === ws) ws.send(JSON.stringify({ type: 'auth', token }));
    });
    ws.addEventListener('message', (e) => {
      if (this.#ws === ws) this.#onMessage(typeof e.data === 'string' ? e.data : String(e.data), token);
    });
    ws.addEventListener('close', (e) => {
      if (this.#ws !== ws) return;
      if (SIGNED_OUT.has(e.code)) {
        this.#detach();
        if (this.#stopped) return;
        this.#setState('closed');
        this.dispatchEvent(new CustomEvent('unauthenticated', { detail: { code: e.code } }));
        return;
      }
      this.#lost(e.code);
    });
    // Errors are followed by a close event, which does the work.
    ws.addEventListener('error', () => {});
  }

  #onMessage(text, token) {
    // Any frame at all shows the socket is alive.
    this.#clear('probe');
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (frame.type === 'hello') {
      this.#clear('hello');
      this.#greeted = true;
      this.#attempt = 0;
      this.#setState('open');
      this.#startProbing();
      this.#scheduleRenewal(token);
      this.dispatchEvent(new CustomEvent('hello', { detail: frame }));
    } else if (frame.type === 'pong' && !this.#pending.has(frame.id)) {
      // The answer to a probe: it has done its work above.
    } else {
      this.#onFrame(frame);
    }
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

  /** Sends a fresh token before this one expires, so the server does not close with 4003. */
  #scheduleRenewal(token) {
    const expiresAt = tokenExpiry(token);
    if (expiresAt == null || typeof this.#options.token !== 'function') return;
    this.#after('renew', renewalDelay(expiresAt), async () => {
      try {
        const fresh = await currentToken(this.#options.token);
        await this.request({ type: 'auth', token: fresh });
        this.#scheduleRenewal(fresh);
      } catch {
        // The server closes with 4003 at expiry; reconnecting asks the provider again.
      }
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
    if (!this.#stopped) this.#scheduleReconnect(code, greeted);
  }

  #detach() {
    this.#ws = null;
    for (const name of ['hello', 'probe', 'probing', 'renew']) this.#clear(name);
    this.#failPending(new ConnectionLost());
  }

  #startProbing() {
    const tick = () => {
      this.#probe();
      this.#after('probing', this.#options.probeEveryMs, tick);
    };
    this.#after('probing', this.#options.probeEveryMs, tick);
  }

  /** One ping, unless one is already out or the page is hidden. */
  #probe() {
    if (this.state !== 'open' || pageHidden() || this.#timers.has('probe')) return;
    if (this.offline) {
      this.#drop('the network is offline');
      return;
    }
    if (this.send({ type: 'ping', id: this.id() })) {
      this.#after('probe', this.#options.probeTimeoutMs, () => this.#drop('no answer to a ping'));
    }
  }

  #scheduleReconnect(code, greeted) {
    // A restarting gateway (1012) is worth one quick retry; after that, back off.
    const quick = greeted && (code === 1012 || code === 1001) && this.#attempt === 0;
    const delay = quick ? 100 : backoffDelay(this.#attempt, this.#options);
    this.#attempt += 1;
    // Without a network an attempt cannot succeed: wait for `online` (which retries at
    // once), but keep trying slowly in case the runtime is wrong about it.
    const wait = this.offline ? Math.max(delay, this.#options.maxDelayMs) : delay;
    this.#after('reconnect', wait, () => this.#connect());
    this.#setState('reconnecting', Date.now() + wait);
    this.dispatchEvent(new CustomEvent('lost', { detail: { code, greeted, attempt: this.#attempt } }));
  }

  #after(name, ms, action) {
    this.#clear(name);
    this.#timers.set(
      name,
      setTimeout(() => {
        this.#timers.delete(name);
        action();
      }, ms),
    );
  }

  #clear(name) {
    clearTimeout(this.#timers.get(name));
    this.#timers.delete(name);
  }

  #failPending(error) {
    for (const { reject, timer } of this.#pending.values()) {
      clearTimeout(timer);
      reject(error);
    }
    this.#pending.clear();
  }

  #setState(state, retryAt = null) {
    this.state = state;
    this.retryAt = retryAt;
    this.dispatchEvent(new CustomEvent('state', { detail: { state, retryAt } }));
  }
}

function defaultUrl() {
  if (!globalThis.location) throw new TypeError('no url: pass the server\'s /ws address as the url option');
  const url = new URL('/ws', globalThis.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url;
}
