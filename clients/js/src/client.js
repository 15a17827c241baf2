// ChatClient: a signed-in user's live view of the rooms they follow, over a Connection that
// survives network losses. Every followed room's events are passed on once and in order,
// across reconnects to any gateway: after hello each room resumes from its cursor, a gap
// seen live (an event whose `prevSeq` is not the last seq passed on) is repaired with a
// resume, and repeats are dropped. Sends go through an outbox with an idempotency key, so a
// message retried after a reconnect is stored once. The client counts as up to date
// (`state === 'open'`) only once hello came and every room's resume was answered.
//
// Events (detail in parentheses): 'state' ({state}), 'hello' (the frame), 'event' ({roomId,
// seq, prevSeq, event}), 'reset' ({roomId, lastSeq}: too much was missed to replay; reload
// the room's history over HTTP), 'roomLost' ({roomId, code}: no longer a member), 'presence',
// 'roomPresence', 'typing' (the frames), the per-user inbox's 'roomAdded', 'roomRemoved',
// 'profile', 'readPosition' and 'receipt' (the frames; a server without the inbox simply
// never sends them), 'serverError' (an `error` frame not answering a request), 'frame' (any
// other frame, e.g. types newer than this SDK), 'unauthenticated'.

import { Connection } from './connection.js';
import { RoomCursors } from './cursors.js';
import { ConnectionLost, FrameError, NotConnected, ClientClosed } from './errors.js';
import { Outbox } from './outbox.js';
import { ResumeTracker } from './resume.js';

/** Errors after which a room cannot be resumed: the user is not (or no longer) in it. */
const ROOM_GONE = new Set(['not_a_member', 'room_not_found', 'room_private']);
const WATCH_BATCH = 1000;
const RETRY_RESUME_MS = 2_000;
/** Relayed as events of the same name. */
const RELAYED = new Set(['presence', 'roomPresence', 'typing', 'roomAdded', 'roomRemoved', 'profile', 'readPosition', 'receipt']);

export class ChatClient extends EventTarget {
  #conn;
  #cursors = new RoomCursors();
  #outbox = new Outbox();
  #resumes = new ResumeTracker();
  /** rooms whose gap repair is out: roomId → resume frame id */
  #repairing = new Map();
  #watched = new Set();
  #userId = null;
  #closed = false;

  /** @param {import('../types/index.js').ChatClientOptions} options */
  constructor(options) {
    super();
    this.#conn = new Connection(options);
    this.#conn.addEventListener('state', () => this.#changed());
    this.#conn.addEventListener('hello', (e) => this.#onHello(e.detail));
    this.#conn.addEventListener('frame', (e) => this.#onFrame(e.detail));
    this.#conn.addEventListener('lost', () => this.#onLost());
    this.#conn.addEventListener('unauthenticated', (e) => {
      this.#onLost();
      this.#emit('unauthenticated', e.detail);
    });
  }

  /** Opens the connection; it reconnects by itself until `close()`. */
  connect() {
    this.#closed = false;
    this.#conn.start();
    return this;
  }

  /** Closes the connection; sends still in the outbox are rejected with ClientClosed. */
  close() {
    this.#closed = true;
    this.#conn.stop();
    this.#outbox.failAll(new ClientClosed());
  }

  /**
   * Resolves once the client is connected and up to date (now, if it is); rejects with
   * ClientClosed if it closes or is signed out first.
   */
  ready() {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.state === 'open') resolve();
        else if (this.state === 'closed') reject(new ClientClosed());
        else return;
        this.removeEventListener('state', check);
      };
      this.addEventListener('state', check);
      check();
    });
  }

  /** 'connecting' | 'open' | 'reconnecting' | 'closed'; 'open' means up to date. */
  get state() {
    const state = this.#conn.state;
    return state === 'open' && this.#resumes.waiting > 0 ? 'reconnecting' : state;
  }

  /** When the next reconnect attempt is due (ms since the epoch), while reconnecting. */
  get retryAt() {
    return this.#conn.retryAt;
  }

  /** The signed-in user, from hello. */
  get userId() {
    return this.#userId;
  }

  /** Skips the rest of the backoff wait. */
  retryNow() {
    this.#conn.retryNow();
  }

  /** The last seq passed on in a room, or null. */
  lastSeq(roomId) {
    return this.#cursors.position(roomId);
  }

  /** Rooms this client follows. */
  rooms() {
    return this.#cursors.rooms();
  }

  /** Messages not yet acknowledged. */
  pendingSends() {
    return this.#outbox.list();
  }

  /**
   * Follows a room: its events arrive from now (or from `lastSeq`, replaying what came
   * after it) and after every reconnect. Resolves with the `joined` frame; when not
   * connected, the room is joined on connecting and this rejects with NotConnected.
   */
  async join(roomId, { lastSeq } = {}) {
    this.#cursors.follow(roomId, lastSeq ?? null);
    const from = this.#cursors.position(roomId);
    if (this.#conn.state !== 'open') throw new NotConnected();
    const joined = await this.#conn.request({ type: 'join', roomId, lastSeq: from ?? undefined });
    this.#cursors.reached(roomId, joined.lastSeq);
    return joined;
  }

  /** Leaves a room (membership ends) and stops following it. */
  async leave(roomId) {
    const ack = await this.#command({ type: 'leave', roomId });
    this.#cursors.unfollow(roomId);
    return ack;
  }

  /**
   * Sends a message; resolves with its ack once the server stored it, however many
   * reconnects that takes. Give `clientMsgId` to make a retry across page loads idempotent.
   */
  send(roomId, message, { clientMsgId } = {}) {
    const entry = this.#outbox.add(roomId, message, clientMsgId);
    this.#flushOutbox();
    return entry.promise;
  }

  edit(roomId, messageId, message) {
    return this.#command({ type: 'edit', roomId, messageId, message });
  }

  delete(roomId, messageId) {
    return this.#command({ type: 'delete', roomId, messageId });
  }

  /** Tells the room this user is typing (lapses after 5 s); false when not connected. */
  typing(roomId) {
    return this.#conn.send({ type: 'typing', roomId });
  }

  /**
   * Moves this user's read position in a room forward to `seq` (never back); the user's
   * other connections get `readPosition`, the room's other members a `receipt`.
   */
  read(roomId, seq) {
    return this.#command({ type: 'read', roomId, seq });
  }

  /** 'online' | 'away' | 'offline' */
  setStatus(status) {
    return this.#command({ type: 'status', status });
  }

  /** Receives these users' presence now and live, also after reconnects. */
  async watch(userIds) {
    const fresh = userIds.filter((id) => !this.#watched.has(id));
    fresh.forEach((id) => this.#watched.add(id));
    if (this.#conn.state === 'open') await this.#sendWatches(fresh);
  }

  #onHello(hello) {
    this.#userId = hello.userId;
    this.#resumes.clear();
    this.#repairing.clear();
    const { resume, join } = this.#cursors.split();
    if (resume.length) this.#resume(resume);
    for (const roomId of join) this.join(roomId).catch((e) => this.#roomFailed(roomId, e));
    this.#sendWatches([...this.#watched]).catch(() => {});
    this.#flushOutbox();
    this.#emit('hello', hello);
    this.#changed();
  }

  #onFrame(frame) {
    switch (frame.type) {
      case 'event':
        return this.#onEvent(frame);
      case 'resumed':
        return this.#onResumed(frame);
      case 'error':
        if (frame.id != null && this.#resumes.has(frame.id)) return this.#onResumeOutcome(this.#resumes.refused(frame.id, frame.code), frame);
        return this.#emit('serverError', frame);
      default:
        return this.#emit(RELAYED.has(frame.type) ? frame.type : 'frame', frame);
    }
  }

  #onEvent(frame) {
    const outcome = this.#cursors.accept(frame.roomId, frame.seq, frame.prevSeq);
    if (outcome === 'apply') this.#emit('event', frame);
    else if (outcome === 'gap' && !this.#repairing.has(frame.roomId)) {
      // The resume replays this event too, after the ones missed.
      this.#resume([{ roomId: frame.roomId, lastSeq: this.#cursors.position(frame.roomId) }]);
    }
  }

  #onResumed(frame) {
    this.#cursors.reached(frame.roomId, frame.lastSeq);
    if (!frame.recovered) {
      this.#cursors.reset(frame.roomId, frame.lastSeq);
      this.#emit('reset', { roomId: frame.roomId, lastSeq: frame.lastSeq });
    }
    if (this.#repairing.get(frame.roomId) === frame.id) this.#repairing.delete(frame.roomId);
    if (frame.id != null) this.#onResumeOutcome(this.#resumes.resumed(frame.id, frame.roomId), frame);
    this.#changed();
  }

  /** A resume batch finished: retry its refused rooms one per frame, drop rooms left. */
  #onResumeOutcome(outcome, frame) {
    this.#changed();
    if (!outcome || outcome.refused.length === 0) return;
    const single = outcome.refused.length === 1;
    for (const roomId of outcome.refused) {
      if (this.#repairing.get(roomId) === frame.id) this.#repairing.delete(roomId);
      if (single && ROOM_GONE.has(outcome.codes[0])) {
        this.#cursors.unfollow(roomId);
        this.#emit('roomLost', { roomId, code: outcome.codes[0] });
        continue;
      }
      const wait = frame.retryAfterMs ?? RETRY_RESUME_MS;
      setTimeout(() => {
        const lastSeq = this.#cursors.position(roomId);
        if (this.#conn.state === 'open' && lastSeq != null) this.#resume([{ roomId, lastSeq }]);
      }, wait);
    }
  }

  #resume(rooms) {
    const id = this.#conn.id();
    if (!this.#conn.send({ type: 'resume', id, rooms })) return;
    this.#resumes.start(
      id,
      rooms.map((r) => r.roomId),
    );
    if (rooms.length === 1) this.#repairing.set(rooms[0].roomId, id);
    this.#changed();
  }

  #roomFailed(roomId, error) {
    if (error instanceof FrameError && ROOM_GONE.has(error.code)) {
      this.#cursors.unfollow(roomId);
      this.#emit('roomLost', { roomId, code: error.code });
    }
    // Otherwise the connection went away: the next hello joins it again.
  }

  #flushOutbox() {
    if (this.#conn.state !== 'open') return;
    for (const entry of this.#outbox.takeQueued()) {
      const { roomId, message, clientMsgId } = entry;
      this.#conn.request({ type: 'send', roomId, message, clientMsgId }).then(
        (ack) => this.#outbox.settle(entry, ack),
        (error) => {
          if (error instanceof ConnectionLost && !this.#closed) this.#outbox.requeue(entry);
          else this.#outbox.fail(entry, error);
        },
      );
    }
  }

  async #sendWatches(userIds) {
    for (let i = 0; i < userIds.length; i += WATCH_BATCH) {
      await this.#conn.request({ type: 'watch', userIds: userIds.slice(i, i + WATCH_BATCH) });
    }
  }

  async #command(frame) {
    if (this.#conn.state !== 'open') throw new NotConnected();
    return this.#conn.request(frame);
  }

  #onLost() {
    this.#resumes.clear();
    this.#repairing.clear();
    this.#changed();
  }

  #changed() {
    this.#emit('state', { state: this.state });
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
